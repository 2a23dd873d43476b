//! Notifications: the event-log consumer that creates them, and the API that lists,
//! shows, dismisses and clears them.
//!
//! Every notification an event gives an account is keyed by (account, event position, type):
//! the dedupe item and the notification commit together under `NotExists`, so a replayed
//! event — the log is at-least-once — creates nothing twice. New notifications are also
//! published to the recipient's stream.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use serde::Deserialize;
use shared::id::Id;
use shared::wire::{self, Visibility};

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::events::Event;
use crate::http::{PageParams, Paged, Params, RequestUrl, path_id};
use crate::model::{self, NotificationRecord, Ref};
use crate::ports::{Condition, LoggedEvent, Query, StoreError, Write};
use crate::{App, keys, now_ms, streaming};

/// Name of this consumer's checkpoint.
const CONSUMER: &str = "notifications";
/// Events handled per batch.
const BATCH: usize = 256;
/// Items read per page of a partition.
const PAGE: usize = 500;
/// Partition pages scanned at most to fill one filtered page of notifications.
const MAX_SCAN_PAGES: usize = 10;

/// The notifications consumer.
pub struct Notifications;

#[async_trait::async_trait]
impl crate::consumer::Consumer for Notifications {
    const NAME: &'static str = CONSUMER;
    const BATCH: usize = BATCH;

    fn lock(app: &App) -> &tokio::sync::Mutex<()> {
        &app.notifications_lock
    }

    async fn handle(app: &App, batch: &[LoggedEvent]) -> ApiResult<()> {
        for logged in batch {
            handle(app, logged).await?;
        }
        Ok(())
    }
}

/// Who is told what about one event.
async fn handle(app: &App, logged: &LoggedEvent) -> ApiResult<()> {
    let seq = logged.seq;
    match &logged.event {
        Event::StatusCreated { author, reblog_of: Some(original), .. } => {
            let Some(original) = app.status_records(&[*original]).await?.remove(original) else { return Ok(()) };
            notify(app, seq, original.account_id, "reblog", *author, Some(original.id)).await?;
        }
        Event::StatusCreated { status, author, visibility, reblog_of: None, in_reply_to_account, mentions } => {
            for mentioned in mentions {
                notify(app, seq, *mentioned, "mention", *author, Some(*status)).await?;
            }
            // As Mastodon: posts, not boosts or replies to others, of accounts the follower
            // asked to hear about; direct posts reach only those mentioned.
            let reply_to_other = in_reply_to_account.is_some_and(|t| t != *author);
            if *visibility != Visibility::Direct && !reply_to_other {
                let mentioned: HashSet<Id> = mentions.iter().copied().collect();
                for subscriber in partition_refs(app, keys::notify_subscribers_partition(*author)).await? {
                    if !mentioned.contains(&subscriber) {
                        notify(app, seq, subscriber, "status", *author, Some(*status)).await?;
                    }
                }
            }
        }
        Event::StatusUpdated { status, author } => {
            // Everyone who boosted or favourited the status hears of the edit, once.
            let mut told = HashSet::new();
            for kind in ["rb", "fav"] {
                for account in partition_refs(app, keys::interaction_list_partition(*status, kind)).await? {
                    if told.insert(account) {
                        notify(app, seq, account, "update", *author, Some(*status)).await?;
                    }
                }
            }
        }
        Event::Followed { follower, target } => notify(app, seq, *target, "follow", *follower, None).await?,
        Event::Favourited { account, status, author } => notify(app, seq, *author, "favourite", *account, Some(*status)).await?,
        Event::AccountCreated { .. } | Event::AccountUpdated { .. } | Event::StatusDeleted { .. } | Event::Unfollowed { .. } | Event::Unfavourited { .. } => {}
    }
    Ok(())
}

/// Whether `recipient` wants to hear about what `from` did. Nobody is notified of their own
/// actions; blocks and mutes, when Starling has them, are checked here too.
fn wanted(recipient: Id, from: Id) -> bool {
    recipient != from
}

/// Creates the notification of event `seq` for `recipient`, unless it exists already.
async fn notify(app: &App, seq: u64, recipient: Id, kind: &'static str, from: Id, status: Option<Id>) -> ApiResult<()> {
    if !wanted(recipient, from) {
        return Ok(());
    }
    let record = NotificationRecord { id: app.next_id()?, kind: kind.to_owned(), from, status, created_at: now_ms() };
    let writes = vec![
        model::put(keys::notification_dedupe(recipient, seq, kind), &Ref { id: record.id }, Condition::NotExists)?,
        model::put(keys::notification(recipient, record.id), &record, Condition::NotExists)?,
    ];
    match app.store.transact(writes, vec![]).await {
        Ok(()) => {}
        // Made when this event was handled before.
        Err(StoreError::ConditionFailed { index: 0 }) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    if let Some(rendered) = app.render_notifications(recipient, vec![record]).await?.pop() {
        streaming::publish_notification(app, recipient, &rendered).await;
        crate::push::deliver(app, recipient, from, &rendered).await;
    }
    Ok(())
}

/// Every account id listed in a partition of [`Ref`]s.
async fn partition_refs(app: &App, partition: String) -> ApiResult<Vec<Id>> {
    let mut out = Vec::new();
    let mut query = Query::partition(partition, PAGE);
    loop {
        let page = app.store.query(&query).await?;
        for item in &page {
            out.push(model::decode::<Ref>(item)?.id);
        }
        match page.last() {
            Some(last) if page.len() == PAGE => query.after = Some(last.key.sk.clone()),
            _ => return Ok(out),
        }
    }
}

impl App {
    /// Renders notifications for `viewer`, dropping those whose account or status is gone
    /// (or no longer visible to the viewer).
    pub async fn render_notifications(&self, viewer: Id, records: Vec<NotificationRecord>) -> ApiResult<Vec<wire::Notification>> {
        let accounts = self.accounts(&records.iter().map(|r| r.from).collect::<Vec<_>>()).await?;
        let status_ids: Vec<Id> = records.iter().filter_map(|r| r.status).collect();
        let statuses: HashMap<Id, wire::Status> = self.statuses(Some(viewer), &status_ids).await?.into_iter().map(|s| (s.id, s)).collect();
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let Some(account) = accounts.get(&r.from) else { continue };
            let status = match r.status {
                Some(id) => match statuses.get(&id) {
                    Some(s) => Some(s.clone()),
                    None => continue,
                },
                None => None,
            };
            out.push(wire::Notification {
                id: r.id,
                kind: r.kind,
                created_at: wire::timestamp(r.created_at),
                group_key: format!("ungrouped-{}", r.id),
                account: account.clone(),
                status,
            });
        }
        Ok(out)
    }
}

/// Type and account filters shared by the list and the unread count, read from the query:
/// `types[]`, `exclude_types[]` (or without brackets), `account_id`.
pub struct Filter {
    only: HashSet<String>,
    exclude: HashSet<String>,
    from: Option<Id>,
}

impl<S: Send + Sync> FromRequestParts<S> for Filter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> =
            serde_html_form::from_str(parts.uri.query().unwrap_or("")).map_err(|e| ApiError::BadRequest(format!("Invalid query parameters: {e}")))?;
        let mut filter = Filter { only: HashSet::new(), exclude: HashSet::new(), from: None };
        for (key, value) in pairs {
            match key.as_str() {
                "types[]" | "types" if !value.is_empty() => {
                    filter.only.insert(value);
                }
                "exclude_types[]" | "exclude_types" if !value.is_empty() => {
                    filter.exclude.insert(value);
                }
                "account_id" if !value.trim().is_empty() => filter.from = Some(value.trim().parse().map_err(|_| ApiError::NotFound)?),
                _ => {}
            }
        }
        Ok(filter)
    }
}

impl Filter {
    fn keeps(&self, r: &NotificationRecord) -> bool {
        (self.only.is_empty() || self.only.contains(&r.kind)) && !self.exclude.contains(&r.kind) && self.from.is_none_or(|f| f == r.from)
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
    let me = auth.user("read:notifications")?;
    let window = page.request(40, 80)?.window();
    // Scan newest first (oldest first for min_id), keeping what the filters accept.
    let mut records = Vec::new();
    let mut query = Query::window(keys::notifications_partition(me), &window);
    query.limit = window.limit.max(20);
    for _ in 0..MAX_SCAN_PAGES {
        let items = app.store.query(&query).await?;
        let exhausted = items.len() < query.limit;
        for item in &items {
            let record: NotificationRecord = model::decode(item)?;
            if records.len() < window.limit && filter.keeps(&record) {
                records.push(record);
            }
        }
        let Some(last) = items.last() else { break };
        if records.len() >= window.limit || exhausted {
            break;
        }
        if query.descending { query.before = Some(last.key.sk.clone()) } else { query.after = Some(last.key.sk.clone()) }
    }
    if window.oldest_first {
        records.reverse();
    }
    let rendered = app.render_notifications(me, records).await?;
    let cursors: Vec<Id> = rendered.iter().map(|n| n.id).collect();
    Ok(Paged::new(&app, &url, rendered, &cursors))
}

/// `GET /api/v1/notifications/:id`.
pub async fn show(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Notification>> {
    let me = auth.user("read:notifications")?;
    let item = app.store.get(&keys::notification(me, path_id(&id)?)).await?.ok_or(ApiError::NotFound)?;
    let record: NotificationRecord = model::decode(&item)?;
    app.render_notifications(me, vec![record]).await?.pop().map(Json).ok_or(ApiError::NotFound)
}

/// `POST /api/v1/notifications/:id/dismiss`.
pub async fn dismiss(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:notifications")?;
    let key = keys::notification(me, path_id(&id)?);
    match app.store.transact(vec![Write::Delete { key, condition: Condition::Exists }], vec![]).await {
        Ok(()) => Ok(Json(serde_json::json!({}))),
        Err(StoreError::ConditionFailed { .. }) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/notifications/clear`: deletes every notification of the caller.
pub async fn clear(State(app): State<App>, auth: Auth) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:notifications")?;
    let query = Query::partition(keys::notifications_partition(me), crate::ports::MAX_TRANSACTION_WRITES);
    loop {
        // Each round deletes what the last one read, so the partition's head moves on.
        let items = app.store.query(&query).await?;
        if items.is_empty() {
            break;
        }
        let writes = items.into_iter().map(|i| Write::Delete { key: i.key, condition: Condition::None }).collect();
        app.store.transact(writes, vec![]).await?;
    }
    Ok(Json(serde_json::json!({})))
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
    let me = auth.user("read:notifications")?;
    let limit = match p.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => raw.parse::<usize>().map_err(|_| ApiError::BadRequest("Invalid limit".into()))?.clamp(1, 1000),
        None => 100,
    };
    let last_read = app.last_read_notification(me).await?;
    let mut count = 0usize;
    let mut query = Query { descending: true, ..Query::partition(keys::notifications_partition(me), PAGE) };
    query.after = last_read.map(Id::sort_key);
    'pages: loop {
        let items = app.store.query(&query).await?;
        for item in &items {
            if filter.keeps(&model::decode(item)?) {
                count += 1;
                if count >= limit {
                    break 'pages;
                }
            }
        }
        match items.last() {
            Some(last) if items.len() == PAGE => query.before = Some(last.key.sk.clone()),
            _ => break,
        }
    }
    Ok(Json(wire::UnreadCount { count: count as u64 }))
}

/// Timelines that have read markers.
const MARKED: [&str; 2] = ["home", "notifications"];

impl App {
    /// The id of the newest notification the account has read, per its marker.
    async fn last_read_notification(&self, account: Id) -> ApiResult<Option<Id>> {
        match self.store.get(&keys::marker(account, "notifications")).await? {
            Some(item) => Ok(Some(model::decode::<model::MarkerRecord>(&item)?.last_read_id)),
            None => Ok(None),
        }
    }
}

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
    let me = auth.user("read:statuses")?;
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
    let me = auth.user("write:statuses")?;
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
