//! Moderation use cases: act on an account, undo it, grant a role, handle a report; and the
//! admin views of accounts and reports.

use std::collections::HashMap;

use shared::id::Id;
use shared::wire;

use super::writes;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccountRecord, CredentialsRecord, ModerationRecord, ReportRecord, Role};
use crate::ports::Key;
use crate::reports::writes::{self as report_writes, ReportConflict};
use crate::transaction::RACE_RETRIES;
use crate::{App, clock, keys, revocation};

/// What a moderator does to an account (`POST /api/v1/admin/accounts/:id/action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing (a warning; resolves the report given).
    None,
    /// Its media always show as sensitive.
    Sensitive,
    /// No session of it works; the profile stays.
    Disable,
    /// Out of public feeds; reaches only its followers.
    Silence,
    /// Gone: profile, statuses and sessions, everywhere at once.
    Suspend,
}

impl Action {
    /// Parses Mastodon's `type`.
    pub fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "none" => Action::None,
            "sensitive" => Action::Sensitive,
            "disable" => Action::Disable,
            "silence" => Action::Silence,
            "suspend" => Action::Suspend,
            _ => return None,
        })
    }
}

/// Taking an action back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undo {
    Enable,
    Unsensitive,
    Unsilence,
    Unsuspend,
}

/// A moderator acts on an account, maybe on behalf of a report (which is then resolved).
pub struct Moderate {
    pub moderator: Staff,
    pub target: Id,
    pub action: Action,
    pub report: Option<Id>,
}

/// A staff member (moderator, admin or owner), as checked once per request: the use cases
/// that need one take it, so none acts for an unchecked caller and none checks twice.
#[derive(Debug, Clone, Copy)]
pub struct Staff {
    pub account: Id,
    pub role: Role,
}

impl Staff {
    /// `account` as staff, refusing anyone who is not.
    pub async fn of(app: &App, account: Id) -> ApiResult<Staff> {
        let role = app.moderation(account).await?.role;
        if role.is_staff() { Ok(Staff { account, role }) } else { Err(not_allowed()) }
    }

    /// Refuses acting on an account whose role is not below this one's (nobody moderates
    /// their peers or superiors, nor themselves).
    fn outranks(self, target: &ModerationRecord) -> ApiResult<()> {
        if self.role > target.role { Ok(()) } else { Err(not_allowed()) }
    }
}

fn not_allowed() -> ApiError {
    ApiError::Forbidden("This action is not allowed".into())
}

/// Applies a moderator's action; its effects hold everywhere from the moment it commits:
/// sessions of a suspended or disabled account end (open streams too), a suspended account's
/// profile and statuses are no longer rendered anywhere, a silenced one leaves public feeds.
pub async fn moderate(app: &App, cmd: Moderate) -> ApiResult<()> {
    let Moderate { moderator, target, action, report } = cmd;
    app.account_exists(target).await?;
    let mut record = app.moderation(target).await?;
    moderator.outranks(&record)?;
    if let Some(report) = report {
        let report = app.report_record(report).await?;
        if report.target != target {
            return Err(ApiError::invalid("Validation failed: the report is about another account"));
        }
    }
    let now = clock::now_ms();
    match action {
        Action::None => {}
        Action::Sensitive => record.sensitized = true,
        Action::Disable => record.disabled = true,
        Action::Silence => record.silenced_at = record.silenced_at.or(Some(now)),
        Action::Suspend => record.suspended_at = record.suspended_at.or(Some(now)),
    }
    writes::put_moderation(app, target, &record).await?;
    if !record.may_sign_in() {
        revocation::close_account_streams(app, target).await;
    }
    if let Some(report) = report {
        resolve(app, moderator.account, report, true).await?;
    }
    Ok(())
}

/// Takes an action back.
pub async fn undo(app: &App, moderator: Staff, target: Id, undo: Undo) -> ApiResult<()> {
    app.account_exists(target).await?;
    let mut record = app.moderation(target).await?;
    moderator.outranks(&record)?;
    match undo {
        Undo::Enable => record.disabled = false,
        Undo::Unsensitive => record.sensitized = false,
        Undo::Unsilence => record.silenced_at = None,
        Undo::Unsuspend => record.suspended_at = None,
    }
    writes::put_moderation(app, target, &record).await
}

/// A moderator (any staff: the `Staff` is the proof) approves (`true`) or rejects a pending
/// sign-up. A rejected account is suspended: it never signs in and is never shown (its username
/// stays taken).
pub async fn decide_sign_up(app: &App, _moderator: Staff, account: Id, approve: bool) -> ApiResult<()> {
    app.account_exists(account).await?;
    let mut record = app.moderation(account).await?;
    if !record.pending {
        return Err(ApiError::Forbidden("This account is not awaiting approval".into()));
    }
    record.pending = false;
    if !approve {
        record.suspended_at = Some(clock::now_ms());
    }
    writes::put_moderation(app, account, &record).await
}

/// Grants `account` a role (the command line's `accounts modify --role`).
pub async fn set_role(app: &App, account: Id, role: Role) -> ApiResult<()> {
    app.account_exists(account).await?;
    let mut record = app.moderation(account).await?;
    record.role = role;
    writes::put_moderation(app, account, &record).await
}

/// Marks a report resolved (`true`) or open again, answering with it as it ends up; a
/// concurrent change by another moderator is retried against what it left.
pub async fn resolve(app: &App, moderator: Id, report: Id, resolved: bool) -> ApiResult<ReportRecord> {
    for _ in 0..RACE_RETRIES {
        let before = app.report_record(report).await?;
        if before.resolved.is_some() == resolved {
            return Ok(before);
        }
        let mut after = before.clone();
        after.resolved = resolved.then(|| (clock::now_ms(), moderator));
        after.updated_at = clock::now_ms();
        match report_writes::update(app, before.resolved.is_some(), &after).await? {
            Ok(()) => return Ok(after),
            Err(ReportConflict::Changed) => continue,
        }
    }
    app.report_record(report).await
}

/// Assigns a report to `moderator`, or (`None`) to no one.
pub async fn assign(app: &App, report: Id, moderator: Option<Id>) -> ApiResult<ReportRecord> {
    let before = app.report_record(report).await?;
    let mut after = before.clone();
    after.assigned = moderator;
    after.updated_at = clock::now_ms();
    match report_writes::update(app, before.resolved.is_some(), &after).await? {
        Ok(()) => Ok(after),
        Err(ReportConflict::Changed) => app.report_record(report).await,
    }
}

impl App {
    /// 404 unless `account` exists (suspended or not).
    pub(crate) async fn account_exists(&self, account: Id) -> ApiResult<()> {
        self.store.get(&keys::account(account)).await?.map(|_| ()).ok_or(ApiError::NotFound)
    }

    /// The admin views of `ids` (suspended accounts included), missing ones absent.
    pub async fn admin_accounts(&self, ids: &[Id]) -> ApiResult<HashMap<Id, wire::AdminAccount>> {
        const PER_ACCOUNT: usize = 3;
        let keys: Vec<Key> = ids.iter().flat_map(|id| [keys::account(*id), keys::credentials(*id), keys::moderation(*id)]).collect();
        let items = self.store.get_many(&keys).await?;
        let rendered = self.accounts(ids).await?;
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in items.chunks(PER_ACCOUNT) {
            let [Some(profile), credentials, moderation] = chunk else { continue };
            let profile: AccountRecord = model::decode(profile)?;
            let email = credentials.as_ref().map(model::decode::<CredentialsRecord>).transpose()?.map(|c| c.email).unwrap_or_default();
            let moderation: ModerationRecord = moderation.as_ref().map(model::decode).transpose()?.unwrap_or_default();
            out.insert(
                profile.id,
                wire::AdminAccount {
                    id: profile.id.to_string(),
                    username: profile.username.clone(),
                    domain: None,
                    created_at: wire::timestamp(profile.created_at),
                    email,
                    ip: None,
                    ips: Vec::new(),
                    locale: profile.default_language.clone().unwrap_or_else(|| "en".into()),
                    invite_request: moderation.invite_request.clone(),
                    role: crate::render::role_entity(moderation.role),
                    confirmed: true,
                    approved: !moderation.pending,
                    disabled: moderation.disabled,
                    silenced: moderation.silenced_at.is_some(),
                    suspended: moderation.suspended_at.is_some(),
                    sensitized: moderation.sensitized,
                    account: rendered.get(&profile.id).cloned(),
                    created_by_application_id: None,
                    invited_by_account_id: None,
                },
            );
        }
        Ok(out)
    }

    /// One admin view of an account, or 404.
    pub async fn admin_account(&self, id: Id) -> ApiResult<wire::AdminAccount> {
        self.admin_accounts(&[id]).await?.remove(&id).ok_or(ApiError::NotFound)
    }

    /// The admin view of a report.
    pub async fn admin_report(&self, report: &ReportRecord) -> ApiResult<wire::AdminReport> {
        let mut ids = vec![report.reporter, report.target];
        ids.extend(report.assigned);
        ids.extend(report.resolved.map(|(_, by)| by));
        let accounts = self.admin_accounts(&ids).await?;
        let account = |id: Id| accounts.get(&id).cloned().ok_or(ApiError::NotFound);
        // Moderators see the reported statuses whatever their visibility.
        let records = self.status_records(&report.status_ids).await?;
        let ordered: Vec<_> = report.status_ids.iter().filter_map(|id| records.get(id).cloned()).collect();
        let statuses = self.render_statuses(None, ordered).await?;
        let rules = self.config.instance.rules().into_iter().filter(|r| report.rule_ids.contains(&r.id)).collect();
        Ok(wire::AdminReport {
            id: report.id.to_string(),
            action_taken: report.resolved.is_some(),
            action_taken_at: report.resolved.map(|(at, _)| wire::timestamp(at)),
            category: report.category.clone(),
            comment: report.comment.clone(),
            forwarded: false,
            created_at: wire::timestamp(report.created_at),
            updated_at: wire::timestamp(report.updated_at),
            account: account(report.reporter)?,
            target_account: account(report.target)?,
            assigned_account: report.assigned.and_then(|id| accounts.get(&id).cloned()),
            action_taken_by_account: report.resolved.and_then(|(_, by)| accounts.get(&by).cloned()),
            statuses,
            rules,
        })
    }
}

/// An operator creates an account with a role (`starling accounts create`), e.g. the first
/// admin of a server whose sign-ups are closed.
pub async fn create_account(app: &App, username: &str, email: &str, password: &str, role: Role) -> ApiResult<Id> {
    let username = shared::handle::Username::parse(username)?;
    let email = shared::handle::Email::parse(email)?;
    let password = shared::handle::Password::parse(password)?;
    let id = crate::accounts::service::create(app, &username, &email, &password, None, None).await?;
    set_role(app, id, role).await?;
    Ok(id)
}

/// An operator grants the account named `username` a role (`starling accounts modify`).
pub async fn set_role_of(app: &App, username: &str, role: Role) -> ApiResult<Id> {
    let id = app.account_id_by_username(username).await?.ok_or(ApiError::NotFound)?;
    set_role(app, id, role).await?;
    Ok(id)
}

/// A password for an account an operator creates without giving one: 24 random characters.
pub fn random_password() -> String {
    crate::auth::random_secret(18)
}
