//! Filters (`/api/v2/filters`, and the `/api/v1/filters` Mastodon still serves) and the
//! `filtered` results a status carries for its reader.

use serde::{Deserialize, Serialize};

/// Where a filter applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterContext {
    /// The home timeline and lists.
    Home,
    /// Notifications.
    Notifications,
    /// The public and hashtag timelines.
    Public,
    /// A status and its conversation.
    Thread,
    /// An account's statuses.
    Account,
}

impl FilterContext {
    /// Every context, in Mastodon's order.
    pub const ALL: [FilterContext; 5] =
        [FilterContext::Home, FilterContext::Notifications, FilterContext::Public, FilterContext::Thread, FilterContext::Account];

    /// Parses Mastodon's name of a context.
    pub fn parse(name: &str) -> Option<Self> {
        FilterContext::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Mastodon's name of the context.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterContext::Home => "home",
            FilterContext::Notifications => "notifications",
            FilterContext::Public => "public",
            FilterContext::Thread => "thread",
            FilterContext::Account => "account",
        }
    }
}

/// What happens to a status a filter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterAction {
    /// Shown behind a warning naming the filter.
    Warn,
    /// Not shown at all.
    Hide,
    /// Shown with its media blurred.
    Blur,
}

impl FilterAction {
    /// Parses Mastodon's name of an action.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "warn" => Some(FilterAction::Warn),
            "hide" => Some(FilterAction::Hide),
            "blur" => Some(FilterAction::Blur),
            _ => None,
        }
    }
}

/// A filter (v2): keywords and statuses grouped under one title, contexts and action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// Filter id.
    pub id: String,
    /// The user's name for it.
    pub title: String,
    /// Where it applies.
    pub context: Vec<FilterContext>,
    /// When it stops applying (null: never).
    pub expires_at: Option<String>,
    /// What happens to matches.
    pub filter_action: FilterAction,
    /// Its keywords (omitted inside a [`FilterResult`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<FilterKeyword>>,
    /// Its statuses (omitted inside a [`FilterResult`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<FilterStatus>>,
}

/// A keyword of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterKeyword {
    /// Keyword id.
    pub id: String,
    /// The phrase matched.
    pub keyword: String,
    /// Matched only at word boundaries.
    pub whole_word: bool,
}

/// A status a filter names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterStatus {
    /// Id of this entry.
    pub id: String,
    /// The status filtered.
    pub status_id: String,
}

/// A filter that matched a status, and what of it matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterResult {
    /// The filter (without keywords and statuses).
    pub filter: Filter,
    /// The text its keywords matched.
    pub keyword_matches: Option<Vec<String>>,
    /// The status ids it names that matched.
    pub status_matches: Option<Vec<String>>,
}

/// A v1 filter: one keyword of a v2 filter, with its filter's contexts and expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct V1Filter {
    /// The keyword's id.
    pub id: String,
    /// The keyword.
    pub phrase: String,
    /// Where it applies.
    pub context: Vec<FilterContext>,
    /// Matched only at word boundaries.
    pub whole_word: bool,
    /// When it stops applying.
    pub expires_at: Option<String>,
    /// Matches are dropped (the filter's action is `hide`).
    pub irreversible: bool,
}
