//! The admin endpoints: thin handlers over [`super::service`]. Each checks its `admin:*` scope,
//! then the caller's staff role.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::id::Id;
use shared::wire;

use super::service::{self, Action, Moderate, Staff, Undo};
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{Input, PageParams, Paged, Params, RequestUrl, flag, path_id};
use crate::model::{self, ReportRecord};
use crate::scan::RefScan;
use crate::{App, keys};

/// Pages of a listing scanned at most to fill one filtered page, and their least size.
const MAX_SCAN_PAGES: usize = 20;
const MIN_SCAN_PAGE: usize = 50;

/// What a filtered listing keeps, in scan order, up to the window's limit.
struct Kept<T> {
    limit: usize,
    oldest_first: bool,
    cursors: Vec<Id>,
    items: Vec<T>,
}

impl<T> Kept<T> {
    fn new(window: &shared::page::Window) -> Self {
        Kept { limit: window.limit, oldest_first: window.oldest_first, cursors: Vec::new(), items: Vec::new() }
    }

    fn full(&self) -> bool {
        self.items.len() >= self.limit
    }

    fn push(&mut self, cursor: Id, item: T) {
        if !self.full() {
            self.cursors.push(cursor);
            self.items.push(item);
        }
    }

    /// The page, newest first, with its Link header.
    fn page(mut self, app: &App, url: &RequestUrl) -> Paged<T> {
        if self.oldest_first {
            self.cursors.reverse();
            self.items.reverse();
        }
        Paged::new(app, url, self.items, &self.cursors)
    }
}

/// The caller, when its token has `scope` and its role is staff.
async fn staff(app: &App, auth: &Auth, scope: Scope) -> ApiResult<Staff> {
    Staff::of(app, auth.user(scope)?).await
}

/// Which accounts a listing keeps: v1's flags and v2's `origin` / `status` / `permissions`
/// (`GET /api/v1/admin/accounts`, `GET /api/v2/admin/accounts`).
#[derive(Deserialize, Default)]
pub struct AccountFilters {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flag")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    active: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    pending: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    silenced: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    suspended: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    sensitized: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    staff: Option<bool>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    permissions: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

impl AccountFilters {
    /// The v2 parameters as v1's flags (one set of rules), refusing unknown values.
    fn normalise(mut self) -> ApiResult<Self> {
        match self.origin.as_deref() {
            None | Some("") | Some("local") => {}
            Some("remote") => self.remote = Some(true),
            Some(_) => return Err(ApiError::invalid("origin must be local or remote")),
        }
        match self.status.as_deref() {
            None | Some("") => {}
            Some("active") => self.active = Some(true),
            Some("pending") => self.pending = Some(true),
            Some("disabled") => self.disabled = Some(true),
            Some("silenced") => self.silenced = Some(true),
            Some("suspended") => self.suspended = Some(true),
            Some(_) => return Err(ApiError::invalid("status must be active, pending, disabled, silenced or suspended")),
        }
        match self.permissions.as_deref() {
            None | Some("") => {}
            Some("staff") => self.staff = Some(true),
            Some(_) => return Err(ApiError::invalid("permissions must be staff")),
        }
        Ok(self)
    }

    fn keeps(&self, a: &wire::AdminAccount) -> bool {
        let contains = |field: &str, wanted: &Option<String>| wanted.as_deref().is_none_or(|w| field.to_lowercase().contains(&w.to_lowercase()));
        let display_name = a.account.as_ref().map_or("", |acc| acc.display_name.as_str());
        let on = |flag: Option<bool>| flag == Some(true);
        // Every account is local: `remote` lists none.
        !on(self.remote)
            && (!on(self.pending) || !a.approved)
            && (!on(self.active) || (!a.suspended && !a.disabled && a.approved))
            && (!on(self.disabled) || a.disabled)
            && (!on(self.silenced) || a.silenced)
            && (!on(self.suspended) || a.suspended)
            && (!on(self.sensitized) || a.sensitized)
            && (!on(self.staff) || a.role.highlighted)
            && contains(&a.username, &self.username)
            && contains(display_name, &self.display_name)
            && contains(&a.email, &self.email)
    }
}

/// `GET /api/v1/admin/accounts` and `GET /api/v2/admin/accounts`: newest first.
pub async fn accounts(State(app): State<App>, auth: Auth, Params(filters): Params<AccountFilters>, url: RequestUrl) -> ApiResult<Paged<wire::AdminAccount>> {
    staff(&app, &auth, Scope::AdminReadAccounts).await?;
    let filters = filters.normalise()?;
    let window = filters.page.request(100, 200)?.window();
    let mut scan = RefScan::window(keys::account_listing_partitions(app.config.shards.accounts), &window, MIN_SCAN_PAGE, MAX_SCAN_PAGES);
    let mut kept = Kept::new(&window);
    while !kept.full()
        && let Some(ids) = scan.next(&app).await?
    {
        let mut views = app.admin_accounts(&ids).await?;
        for id in ids {
            if let Some(view) = views.remove(&id).filter(|v| filters.keeps(v)) {
                kept.push(id, view);
            }
        }
    }
    Ok(kept.page(&app, &url))
}

/// `GET /api/v1/admin/accounts/:id`.
pub async fn account(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminAccount>> {
    staff(&app, &auth, Scope::AdminReadAccounts).await?;
    app.admin_account(path_id(&id)?).await.map(Json)
}

/// Body of `POST /api/v1/admin/accounts/:id/action`.
#[derive(Deserialize, Default)]
pub struct ActionParams {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    report_id: Option<String>,
}

/// `POST /api/v1/admin/accounts/:id/action`: answers `{}` as Mastodon does.
pub async fn action(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<ActionParams>) -> ApiResult<Json<wire::Empty>> {
    let me = staff(&app, &auth, Scope::AdminWriteAccounts).await?;
    let action =
        Action::parse(p.kind.as_deref().unwrap_or("none")).ok_or_else(|| ApiError::invalid("type must be none, sensitive, disable, silence or suspend"))?;
    let report = match p.report_id.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(path_id(r)?),
        None => None,
    };
    service::moderate(&app, Moderate { moderator: me, target: path_id(&id)?, action, report }).await?;
    Ok(Json(wire::Empty {}))
}

async fn undo(app: App, auth: Auth, id: String, undo: Undo) -> ApiResult<Json<wire::AdminAccount>> {
    let me = staff(&app, &auth, Scope::AdminWriteAccounts).await?;
    let target = path_id(&id)?;
    service::undo(&app, me, target, undo).await?;
    app.admin_account(target).await.map(Json)
}

/// `POST /api/v1/admin/accounts/:id/enable`.
pub async fn enable(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminAccount>> {
    undo(app, auth, id, Undo::Enable).await
}

/// `POST /api/v1/admin/accounts/:id/unsensitive`.
pub async fn unsensitive(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminAccount>> {
    undo(app, auth, id, Undo::Unsensitive).await
}

/// `POST /api/v1/admin/accounts/:id/unsilence`.
pub async fn unsilence(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminAccount>> {
    undo(app, auth, id, Undo::Unsilence).await
}

/// `POST /api/v1/admin/accounts/:id/unsuspend`.
pub async fn unsuspend(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminAccount>> {
    undo(app, auth, id, Undo::Unsuspend).await
}

/// `POST /api/v1/admin/accounts/:id/approve`: a pending sign-up may sign in.
pub async fn approve(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminAccount>> {
    let me = staff(&app, &auth, Scope::AdminWriteAccounts).await?;
    let account = path_id(&id)?;
    service::decide_sign_up(&app, me, account, true).await?;
    app.admin_account(account).await.map(Json)
}

/// `POST /api/v1/admin/accounts/:id/reject`: a pending sign-up is refused for good.
pub async fn reject(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminAccount>> {
    let me = staff(&app, &auth, Scope::AdminWriteAccounts).await?;
    let account = path_id(&id)?;
    service::decide_sign_up(&app, me, account, false).await?;
    app.admin_account(account).await.map(Json)
}

/// Query of `GET /api/v1/admin/reports`.
#[derive(Deserialize, Default)]
pub struct ReportFilters {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flag")]
    resolved: Option<bool>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    target_account_id: Option<String>,
}

/// `GET /api/v1/admin/reports`: open ones unless `resolved=true`, newest first.
pub async fn reports(State(app): State<App>, auth: Auth, Params(p): Params<ReportFilters>, url: RequestUrl) -> ApiResult<Paged<wire::AdminReport>> {
    staff(&app, &auth, Scope::AdminReadReports).await?;
    let account = p.account_id.as_deref().filter(|a| !a.is_empty()).map(path_id).transpose()?;
    let target = p.target_account_id.as_deref().filter(|a| !a.is_empty()).map(path_id).transpose()?;
    let window = p.page.request(100, 200)?.window();
    let mut scan = RefScan::window(vec![keys::reports_partition(p.resolved == Some(true))], &window, MIN_SCAN_PAGE, MAX_SCAN_PAGES);
    let mut kept = Kept::new(&window);
    while !kept.full()
        && let Some(ids) = scan.next(&app).await?
    {
        let records = app.store.get_many(&ids.iter().map(|id| keys::report(*id)).collect::<Vec<_>>()).await?;
        for item in records.into_iter().flatten() {
            let report: ReportRecord = model::decode(&item)?;
            if account.is_none_or(|a| report.reporter == a) && target.is_none_or(|t| report.target == t) {
                kept.push(report.id, app.admin_report(&report).await?);
            }
        }
    }
    Ok(kept.page(&app, &url))
}

/// `GET /api/v1/admin/reports/:id`.
pub async fn report(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminReport>> {
    staff(&app, &auth, Scope::AdminReadReports).await?;
    let report = app.report_record(path_id(&id)?).await?;
    app.admin_report(&report).await.map(Json)
}

/// `POST /api/v1/admin/reports/:id/assign_to_self`.
pub async fn assign_to_self(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminReport>> {
    let me = staff(&app, &auth, Scope::AdminWriteReports).await?;
    let report = service::assign(&app, path_id(&id)?, Some(me.account)).await?;
    app.admin_report(&report).await.map(Json)
}

/// `POST /api/v1/admin/reports/:id/unassign`.
pub async fn unassign(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminReport>> {
    staff(&app, &auth, Scope::AdminWriteReports).await?;
    let report = service::assign(&app, path_id(&id)?, None).await?;
    app.admin_report(&report).await.map(Json)
}

/// `POST /api/v1/admin/reports/:id/resolve`.
pub async fn resolve(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminReport>> {
    let me = staff(&app, &auth, Scope::AdminWriteReports).await?;
    let report = service::resolve(&app, me.account, path_id(&id)?, true).await?;
    app.admin_report(&report).await.map(Json)
}

/// `POST /api/v1/admin/reports/:id/reopen`.
pub async fn reopen(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::AdminReport>> {
    let me = staff(&app, &auth, Scope::AdminWriteReports).await?;
    let report = service::resolve(&app, me.account, path_id(&id)?, false).await?;
    app.admin_report(&report).await.map(Json)
}
