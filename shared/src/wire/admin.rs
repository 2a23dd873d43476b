//! The admin API's entities (`/api/v1/admin/*`), as Mastodon's documentation gives them.

use serde::{Deserialize, Serialize};

use super::{Account, Role, Rule, Status};

/// An account as moderators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminAccount {
    /// The account's id.
    pub id: String,
    /// Its username.
    pub username: String,
    /// Its domain (`null`: local).
    pub domain: Option<String>,
    /// When it signed up.
    pub created_at: String,
    /// Its e-mail address.
    pub email: String,
    /// The address it last signed in from (not recorded here).
    pub ip: Option<String>,
    /// Addresses it used (not recorded here).
    pub ips: Vec<serde_json::Value>,
    /// Its locale.
    pub locale: String,
    /// Why it asked to join (approval-mode sign-ups).
    pub invite_request: Option<String>,
    /// Its role.
    pub role: Role,
    /// E-mail confirmed.
    pub confirmed: bool,
    /// Sign-up approved.
    pub approved: bool,
    /// Logins disabled.
    pub disabled: bool,
    /// Silenced.
    pub silenced: bool,
    /// Suspended.
    pub suspended: bool,
    /// Media forced sensitive.
    pub sensitized: bool,
    /// The public account (`null` for a suspended one, whose profile is gone).
    pub account: Option<Account>,
    /// The application it signed up through.
    pub created_by_application_id: Option<String>,
    /// Who invited it.
    pub invited_by_account_id: Option<String>,
}

/// A report as moderators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminReport {
    /// Its id.
    pub id: String,
    /// Resolved.
    pub action_taken: bool,
    /// When it was resolved.
    pub action_taken_at: Option<String>,
    /// `spam`, `legal`, `violation` or `other`.
    pub category: String,
    /// The reporter's comment.
    pub comment: String,
    /// Forwarded to another server (never: all accounts are local).
    pub forwarded: bool,
    /// When it was filed.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// The reporter.
    pub account: AdminAccount,
    /// The reported account.
    pub target_account: AdminAccount,
    /// The moderator handling it.
    pub assigned_account: Option<AdminAccount>,
    /// The moderator who resolved it.
    pub action_taken_by_account: Option<AdminAccount>,
    /// The reported statuses (those still there).
    pub statuses: Vec<Status>,
    /// The rules broken.
    pub rules: Vec<Rule>,
}
