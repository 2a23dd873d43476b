//! The HTTP endpoints: thin handlers that extract, call the service, and render.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use serde::Deserialize;
use shared::id::Id;
use shared::wire;

use super::service::{self, PolicyChange};
use super::writes::DismissConflict;
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{FlatInput, Input, PageParams, Paged, Params, RequestUrl, path_id, truthy};
use crate::model::{self, NotificationRecord, NotificationRequestRecord, PolicyAction};
use crate::ports::Condition;
use crate::{App, keys, now_ms};

/// Type and account filters shared by the list and the unread count, read from the query:
/// `types[]`, `exclude_types[]` (or without brackets), `account_id`, `include_filtered`
/// (notifications the policy filtered are left out unless it is true).
pub struct Filter {
    only: HashSet<String>,
    exclude: HashSet<String>,
    from: Option<Id>,
    include_filtered: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Filter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> =
            serde_html_form::from_str(parts.uri.query().unwrap_or("")).map_err(|e| ApiError::BadRequest(format!("Invalid query parameters: {e}")))?;
        let mut filter = Filter { only: HashSet::new(), exclude: HashSet::new(), from: None, include_filtered: false };
        for (key, value) in pairs {
            match key.as_str() {
                "types[]" | "types" if !value.is_empty() => {
                    filter.only.insert(value);
                }
                "exclude_types[]" | "exclude_types" if !value.is_empty() => {
                    filter.exclude.insert(value);
                }
                "account_id" if !value.trim().is_empty() => filter.from = Some(value.trim().parse().map_err(|_| ApiError::NotFound)?),
                "include_filtered" => filter.include_filtered = truthy(value.trim()),
                _ => {}
            }
        }
        Ok(filter)
    }
}

impl Filter {
    pub(crate) fn keeps(&self, r: &NotificationRecord) -> bool {
        (self.only.is_empty() || self.only.contains(&r.kind))
            && !self.exclude.contains(&r.kind)
            && self.from.is_none_or(|f| f == r.from)
            && (self.include_filtered || !r.filtered)
    }
}

/// `GET /api/v1/notifications`.
pub async fn list(
    State(app): State<App>,
    auth: Auth,
    Params(page): Params<PageParams>,
    filter: Filter,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Notification>> {
    let me = auth.user(Scope::ReadNotifications)?;
    let window = page.request(40, 80)?.window();
    let records = service::list(&app, me, &window, |r| filter.keeps(r)).await?;
    let rendered = app.render_notifications(me, records).await?;
    let cursors: Vec<Id> = rendered.iter().map(|n| n.id).collect();
    Ok(Paged::new(&app, &url, rendered, &cursors))
}

/// `GET /api/v1/notifications/:id`.
pub async fn show(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Notification>> {
    let me = auth.user(Scope::ReadNotifications)?;
    let record = service::notification(&app, me, path_id(&id)?).await?.ok_or(ApiError::NotFound)?;
    app.render_notifications(me, vec![record]).await?.pop().map(Json).ok_or(ApiError::NotFound)
}

/// `POST /api/v1/notifications/:id/dismiss`.
pub async fn dismiss(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteNotifications)?;
    match service::dismiss(&app, me, path_id(&id)?).await? {
        Ok(()) => Ok(Json(wire::Empty {})),
        Err(DismissConflict::NotFound) => Err(ApiError::NotFound),
    }
}

/// `POST /api/v1/notifications/clear`: deletes every notification of the caller, filtered ones
/// and their notification requests included.
pub async fn clear(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteNotifications)?;
    service::clear(&app, me).await?;
    Ok(Json(wire::Empty {}))
}

/// Query of `GET /api/v1/notifications/unread_count`.
#[derive(Deserialize)]
pub struct UnreadParams {
    #[serde(default)]
    limit: Option<String>,
}

/// `GET /api/v1/notifications/unread_count`: notifications newer than the caller's
/// notifications read marker, up to `limit` (default 100, at most 1000).
pub async fn unread_count(State(app): State<App>, auth: Auth, Params(p): Params<UnreadParams>, filter: Filter) -> ApiResult<Json<wire::UnreadCount>> {
    let me = auth.user(Scope::ReadNotifications)?;
    let limit = match p.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => raw.parse::<usize>().map_err(|_| ApiError::BadRequest("Invalid limit".into()))?.clamp(1, 1000),
        None => 100,
    };
    let count = service::unread_count(&app, me, limit, |r| filter.keeps(r)).await?;
    Ok(Json(wire::UnreadCount { count: count as u64 }))
}

/// Timelines that have read markers.
pub(crate) const MARKED: [&str; 2] = ["home", "notifications"];

/// Query of `GET /api/v1/markers`.
#[derive(Deserialize)]
pub struct MarkerParams {
    #[serde(default, rename = "timeline[]")]
    timeline_form: Vec<String>,
    #[serde(default)]
    timeline: Vec<String>,
}

/// `GET /api/v1/markers?timeline[]=home&timeline[]=notifications`.
pub async fn markers(State(app): State<App>, auth: Auth, Params(p): Params<MarkerParams>) -> ApiResult<Json<HashMap<String, wire::Marker>>> {
    let me = auth.user(Scope::ReadStatuses)?;
    let wanted: Vec<&str> = MARKED.into_iter().filter(|t| p.timeline_form.iter().chain(&p.timeline).any(|w| w == t)).collect();
    let items = app.store.get_many(&wanted.iter().map(|t| keys::marker(me, t)).collect::<Vec<_>>()).await?;
    let mut out = HashMap::new();
    for (timeline, item) in wanted.iter().zip(items) {
        if let Some(item) = item {
            let m: model::MarkerRecord = model::decode(&item)?;
            out.insert((*timeline).to_owned(), wire::Marker { last_read_id: m.last_read_id, version: m.version, updated_at: wire::timestamp(m.updated_at) });
        }
    }
    Ok(Json(out))
}

/// `POST /api/v1/markers` with `home[last_read_id]` and/or `notifications[last_read_id]`.
pub async fn save_markers(
    State(app): State<App>,
    auth: Auth,
    crate::http::FlatInput(pairs): crate::http::FlatInput,
) -> ApiResult<Json<HashMap<String, wire::Marker>>> {
    let me = auth.user(Scope::WriteStatuses)?;
    let mut out = HashMap::new();
    for timeline in MARKED {
        let field = format!("{timeline}[last_read_id]");
        let Some((_, raw)) = pairs.iter().find(|(k, _)| *k == field) else { continue };
        let last_read_id: Id = raw.trim().parse().map_err(|_| ApiError::invalid(format!("Validation failed: {field} is not a valid id")))?;
        let key = keys::marker(me, timeline);
        let version = match app.store.get(&key).await? {
            Some(item) => model::decode::<model::MarkerRecord>(&item)?.version + 1,
            None => 1,
        };
        let record = model::MarkerRecord { last_read_id, version, updated_at: now_ms() };
        app.store.transact(vec![model::put(key, &record, Condition::None)?], vec![]).await?;
        out.insert(timeline.to_owned(), wire::Marker { last_read_id, version, updated_at: wire::timestamp(record.updated_at) });
    }
    if out.is_empty() {
        return Err(ApiError::invalid("Validation failed: give home[last_read_id] or notifications[last_read_id]"));
    }
    Ok(Json(out))
}

/// `GET /api/v2/notifications/policy`.
pub async fn policy(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::NotificationPolicy>> {
    let me = auth.user(Scope::ReadNotifications)?;
    service::policy(&app, me).await.map(Json)
}

/// Body of `PATCH /api/v2/notifications/policy`: each field `accept`, `filter` or `drop`.
#[derive(Deserialize, Default)]
pub struct PolicyBody {
    #[serde(default)]
    for_not_following: Option<String>,
    #[serde(default)]
    for_not_followers: Option<String>,
    #[serde(default)]
    for_new_accounts: Option<String>,
    #[serde(default)]
    for_private_mentions: Option<String>,
    #[serde(default)]
    for_limited_accounts: Option<String>,
}

/// `PATCH /api/v2/notifications/policy`: 422 for a value other than `accept`, `filter`, `drop`.
pub async fn update_policy(State(app): State<App>, auth: Auth, Input(body): Input<PolicyBody>) -> ApiResult<Json<wire::NotificationPolicy>> {
    let me = auth.user(Scope::WriteNotifications)?;
    let parse = |field: &str, value: Option<String>| -> ApiResult<Option<PolicyAction>> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => PolicyAction::parse(raw)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("Validation failed: {field} is not included in the list (accept, filter, drop)"))),
        }
    };
    let change = PolicyChange {
        for_not_following: parse("for_not_following", body.for_not_following)?,
        for_not_followers: parse("for_not_followers", body.for_not_followers)?,
        for_new_accounts: parse("for_new_accounts", body.for_new_accounts)?,
        for_private_mentions: parse("for_private_mentions", body.for_private_mentions)?,
        for_limited_accounts: parse("for_limited_accounts", body.for_limited_accounts)?,
    };
    service::update_policy(&app, me, change).await.map(Json)
}

/// `GET /api/v1/notifications/requests`: pending requests, newest first.
pub async fn requests(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::NotificationRequest>> {
    let me = auth.user(Scope::ReadNotifications)?;
    let window = page.request(40, 80)?.window();
    let (listed, senders) = app.ref_page(keys::notification_requests_partition(me), &window).await?;
    let items = app.store.get_many(&senders.iter().map(|s| keys::notification_request(me, *s)).collect::<Vec<_>>()).await?;
    let mut records: Vec<NotificationRequestRecord> = Vec::with_capacity(items.len());
    for (id, item) in listed.iter().zip(items) {
        // A listing entry whose request was closed (and maybe reopened) meanwhile is skipped.
        let Some(item) = item else { continue };
        let record: NotificationRequestRecord = model::decode(&item)?;
        if record.id == *id {
            records.push(record);
        }
    }
    let rendered = service::render_requests(&app, me, &records).await?;
    let cursors: Vec<Id> = rendered.iter().map(|r| r.id).collect();
    Ok(Paged::new(&app, &url, rendered, &cursors))
}

/// `GET /api/v1/notifications/requests/:id`.
pub async fn request(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::NotificationRequest>> {
    let me = auth.user(Scope::ReadNotifications)?;
    let record = service::request(&app, me, path_id(&id)?).await?.ok_or(ApiError::NotFound)?;
    service::render_requests(&app, me, &[record]).await?.pop().map(Json).ok_or(ApiError::NotFound)
}

/// `POST /api/v1/notifications/requests/:id/accept`.
pub async fn accept_request(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteNotifications)?;
    let record = service::request(&app, me, path_id(&id)?).await?.ok_or(ApiError::NotFound)?;
    service::accept_request(&app, me, &record).await?;
    Ok(Json(wire::Empty {}))
}

/// `POST /api/v1/notifications/requests/:id/dismiss`.
pub async fn dismiss_request(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteNotifications)?;
    let record = service::request(&app, me, path_id(&id)?).await?.ok_or(ApiError::NotFound)?;
    service::dismiss_request(&app, me, &record).await?;
    Ok(Json(wire::Empty {}))
}

/// The `id[]` of a bulk request body (form `id[]=…` or `id=…`, JSON `{"id": […]}`); ids that
/// are not pending requests of the caller are skipped, as Mastodon does.
async fn bulk_requests(app: &App, me: Id, pairs: &[(String, String)]) -> ApiResult<Vec<NotificationRequestRecord>> {
    let mut out = Vec::new();
    for (key, value) in pairs {
        if key == "id" || key.starts_with("id[") {
            let Ok(id) = value.trim().parse::<Id>() else { continue };
            if let Some(record) = service::request(app, me, id).await? {
                out.push(record);
            }
        }
    }
    Ok(out)
}

/// `POST /api/v1/notifications/requests/accept` with `id[]`.
pub async fn accept_requests(State(app): State<App>, auth: Auth, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteNotifications)?;
    for record in bulk_requests(&app, me, &pairs).await? {
        service::accept_request(&app, me, &record).await?;
    }
    Ok(Json(wire::Empty {}))
}

/// `POST /api/v1/notifications/requests/dismiss` with `id[]`.
pub async fn dismiss_requests(State(app): State<App>, auth: Auth, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteNotifications)?;
    for record in bulk_requests(&app, me, &pairs).await? {
        service::dismiss_request(&app, me, &record).await?;
    }
    Ok(Json(wire::Empty {}))
}

/// `GET /api/v1/notifications/requests/merged`: accepting merges before it answers, so
/// always true.
pub async fn requests_merged(auth: Auth) -> ApiResult<Json<wire::Merged>> {
    auth.user(Scope::ReadNotifications)?;
    Ok(Json(wire::Merged { merged: true }))
}
