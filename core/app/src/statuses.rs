//! Statuses: posting (idempotently), reading, editing with history, deleting, threads, and
//! the interactions on them (favourites, boosts, bookmarks).

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use shared::id::Id;
use shared::text::{self, MentionLink, MentionRef};
use shared::token::secret_digest;
use shared::wire::{self, Visibility};

use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiError, ApiResult};
use crate::events::Event;
use crate::http::{Input, PageParams, Paged, Params, RequestUrl, flag, path_id};
use crate::model::{self, AccountStatusEntry, MentionRecord, PublicEntry, Ref, RevisionRecord, StatusRecord};
use crate::policy::{self, FeedItem, feed};
use crate::ports::{Condition, Query, StoreError, TimelineEntry, Write};
use crate::{App, keys, now_ms};

/// Body of `POST /api/v1/statuses` and `PUT /api/v1/statuses/:id`.
#[derive(Deserialize, Default)]
pub struct StatusParams {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    in_reply_to_id: Option<String>,
    #[serde(default)]
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    sensitive: Option<bool>,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default, rename = "media_ids[]")]
    media_ids_form: Vec<String>,
    #[serde(default)]
    media_ids: Option<Vec<String>>,
    #[serde(default)]
    scheduled_at: Option<String>,
    #[serde(default)]
    poll: Option<serde_json::Value>,
}

/// Text, mentions and tags of a status, validated and rendered.
struct Composed {
    text: String,
    content: String,
    spoiler_text: String,
    mentions: Vec<MentionRecord>,
    tags: Vec<String>,
    language: Option<String>,
}

impl App {
    /// Validates and renders status text, resolving local mentions.
    async fn compose(&self, text: &str, spoiler: &str, language: Option<String>, has_media: bool) -> ApiResult<Composed> {
        let text = text.trim().to_owned();
        if text.is_empty() && !has_media {
            return Err(ApiError::invalid("Validation failed: Text can't be blank"));
        }
        let limit = self.config.limits.max_status_chars;
        if text::countable_length(&text) + text::countable_length(spoiler) > limit {
            return Err(ApiError::invalid(format!("Validation failed: Text character limit of {limit} exceeded")));
        }
        let language = match language.map(|l| l.trim().to_ascii_lowercase()).filter(|l| !l.is_empty()) {
            Some(l) if (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()) => Some(l),
            Some(_) => return Err(ApiError::invalid("Validation failed: Language is not a valid ISO 639 code")),
            None => None,
        };
        let extracted = text::extract(&text);
        let mut resolved: HashMap<String, MentionRecord> = HashMap::new();
        for mention in extracted.mentions.iter().take(50) {
            let local = mention.domain.as_deref().is_none_or(|d| d.eq_ignore_ascii_case(&self.config.instance.domain));
            if !local {
                continue;
            }
            if let Some(id) = self.account_id_by_username(&mention.username).await? {
                let record = self.account_record(id).await?;
                resolved.insert(mention.username.to_ascii_lowercase(), MentionRecord { id, username: record.username });
            }
        }
        let base = self.config.instance.base_url.clone();
        let domain = self.config.instance.domain.clone();
        let resolve = |m: &MentionRef| -> Option<MentionLink> {
            if m.domain.as_deref().is_some_and(|d| !d.eq_ignore_ascii_case(&domain)) {
                return None;
            }
            resolved.get(&m.username.to_ascii_lowercase()).map(|r| MentionLink { url: format!("{base}/@{}", r.username), username: r.username.clone() })
        };
        let content = text::render_html(&text, &base, &resolve);
        let mut mentions: Vec<MentionRecord> = Vec::new();
        for m in resolved.into_values() {
            if !mentions.iter().any(|x| x.id == m.id) {
                mentions.push(m);
            }
        }
        mentions.sort_by_key(|m| m.id);
        let mut tags: Vec<String> = Vec::new();
        for tag in extracted.hashtags {
            let tag = text::normalize_hashtag(&tag);
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags.truncate(self.config.limits.max_indexed_tags);
        Ok(Composed { text, content, spoiler_text: spoiler.trim().to_owned(), mentions, tags, language })
    }

    /// Posts a status for `author`; with an idempotency key, a retry returns the first result.
    async fn post_status(&self, author: Id, client: Option<(String, Option<String>)>, p: StatusParams, idempotency_key: Option<&str>) -> ApiResult<Id> {
        let ik = idempotency_key.map(|k| keys::idempotency(author, &secret_digest(k)));
        if let Some(key) = &ik
            && let Some(item) = self.store.get(key).await?
        {
            return Ok(model::decode::<Ref>(&item)?.id);
        }
        if p.scheduled_at.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(ApiError::invalid("Validation failed: Scheduled statuses are not supported"));
        }
        if p.poll.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(ApiError::invalid("Validation failed: Polls are not supported"));
        }
        let media = self.attachable_media(author, &p.media_ids()).await?;
        let account = self.account_record(author).await?;
        let visibility = match p.visibility.as_deref().filter(|v| !v.is_empty()) {
            Some(v) => Visibility::parse(v).ok_or_else(|| ApiError::invalid("Validation failed: Visibility is not included in the list"))?,
            None => account.default_visibility,
        };
        let parent = match p.in_reply_to_id.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => {
                let id: Id = raw.parse().map_err(|_| ApiError::NotFound)?;
                let parent = self.status_record(id).await?;
                if policy::visibility::visible(self, Some(author), vec![parent.clone()]).await?.is_empty() {
                    return Err(ApiError::NotFound);
                }
                // As Mastodon: a reply to a boost replies to the boosted status.
                Some(original_of(self, parent).await?)
            }
            None => None,
        };
        let composed = self
            .compose(
                p.status.as_deref().unwrap_or(""),
                p.spoiler_text.as_deref().unwrap_or(""),
                p.language.or(account.default_language.clone()),
                !media.is_empty(),
            )
            .await?;
        let id = self.next_id()?;
        let now = now_ms();
        let record = StatusRecord {
            id,
            account_id: author,
            text: composed.text,
            content: composed.content,
            sensitive: p.sensitive.unwrap_or(account.default_sensitive) || !composed.spoiler_text.is_empty(),
            spoiler_text: composed.spoiler_text,
            visibility,
            language: composed.language,
            in_reply_to_id: parent.as_ref().map(|s| s.id),
            in_reply_to_account_id: parent.as_ref().map(|s| s.account_id),
            reblog_of: None,
            mentions: composed.mentions,
            tags: composed.tags,
            application: client,
            created_at: now,
            edited_at: None,
            media: media.clone(),
        };
        let mut writes = Vec::new();
        if let Some(key) = &ik {
            writes.push(model::put(key.clone(), &Ref { id }, Condition::NotExists)?);
        }
        let claims = writes.len()..writes.len() + media.len();
        for m in &media {
            writes.push(model::put(keys::media_attachment(*m), &Ref { id }, Condition::NotExists)?);
        }
        let addressed = if visibility == Visibility::Direct { record.mentions.iter().map(|m| m.id).collect() } else { Vec::new() };
        let entry = AccountStatusEntry {
            reblog_of: None,
            in_reply_to_account: record.in_reply_to_account_id,
            media: !media.is_empty(),
            visibility,
            mentions: addressed,
        };
        writes.push(model::put(keys::status(id), &record, Condition::NotExists)?);
        writes.push(model::put(keys::account_status(author, id), &entry, Condition::None)?);
        writes.push(Write::Add { key: keys::account_counter(author, "statuses"), delta: 1 });
        writes.push(Write::Add { key: keys::status_count_shard(id), delta: 1 });
        writes.push(model::put(keys::last_status(author), &now, Condition::None)?);
        if let Some(parent) = &parent {
            writes.push(model::put(keys::reply(parent.id, id), &Ref { id: author }, Condition::None)?);
            writes.push(Write::Add { key: keys::status_counter(parent.id, "replies"), delta: 1 });
        }
        if feed::in_public(&FeedItem::record(&record, &[])) {
            let listed = PublicEntry { id: author, media: !media.is_empty() };
            writes.push(model::put(keys::public(id), &listed, Condition::None)?);
            for tag in &record.tags {
                writes.push(model::put(keys::tagged(tag, id), &listed, Condition::None)?);
            }
        }
        let event = Event::StatusCreated {
            status: id,
            author,
            visibility,
            reblog_of: None,
            in_reply_to_account: record.in_reply_to_account_id,
            mentions: record.mentions.iter().map(|m| m.id).collect(),
        };
        match self.store.transact(writes, vec![event]).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { index: 0 }) if ik.is_some() => {
                // A concurrent retry with the same key committed first.
                let key = ik.as_ref().ok_or_else(|| ApiError::internal("idempotency key vanished"))?;
                let item = self.store.get(key).await?.ok_or_else(|| ApiError::Conflict("A request with this Idempotency-Key is in progress".into()))?;
                return Ok(model::decode::<Ref>(&item)?.id);
            }
            Err(StoreError::ConditionFailed { index }) if claims.contains(&index) => return Err(already_attached()),
            Err(e) => return Err(e.into()),
        }
        self.show_in_own_home(author, TimelineEntry { id, reblog_of: None }).await;
        Ok(id)
    }

    /// The author sees their own post at once; everyone else gets it through fanout.
    async fn show_in_own_home(&self, author: Id, entry: TimelineEntry) {
        let timeline = crate::timelines::home_key(author);
        if let Err(e) = self.timelines.fan_out(&[timeline], entry, self.config.timelines.cap).await {
            tracing::warn!(error = %e, "could not add own status to home; it arrives through fanout");
        }
    }

    /// Deletes a status or boost and everything indexing it, exactly once.
    pub async fn delete_status(&self, record: &StatusRecord) -> ApiResult<()> {
        let id = record.id;
        let author = record.account_id;
        let mut writes = vec![
            Write::Delete { key: keys::status(id), condition: Condition::Exists },
            Write::Delete { key: keys::account_status(author, id), condition: Condition::None },
            Write::Add { key: keys::account_counter(author, "statuses"), delta: -1 },
            Write::Delete { key: keys::pinned(author, id), condition: Condition::None },
        ];
        for counter in ["replies", "reblogs", "favourites"] {
            writes.push(Write::Delete { key: keys::status_counter(id, counter), condition: Condition::None });
        }
        if let Some(parent) = record.in_reply_to_id {
            writes.push(Write::Delete { key: keys::reply(parent, id), condition: Condition::None });
            writes.push(Write::Add { key: keys::status_counter(parent, "replies"), delta: -1 });
        }
        if let Some(original) = record.reblog_of {
            writes.push(Write::Delete { key: keys::interaction(original, "rb", author), condition: Condition::None });
            writes.push(Write::Delete { key: keys::interaction_list(original, "rb", id), condition: Condition::None });
            writes.push(Write::Add { key: keys::status_counter(original, "reblogs"), delta: -1 });
        }
        if record.reblog_of.is_none() {
            writes.push(Write::Add { key: keys::status_count_shard(id), delta: -1 });
        }
        // As Mastodon: the files stay with their uploader (delete-and-redraft reattaches them).
        for m in &record.media {
            writes.push(Write::Delete { key: keys::media_attachment(*m), condition: Condition::None });
        }
        if feed::in_public(&FeedItem::record(record, &[])) {
            writes.push(Write::Delete { key: keys::public(id), condition: Condition::None });
            for tag in &record.tags {
                writes.push(Write::Delete { key: keys::tagged(tag, id), condition: Condition::None });
            }
        }
        let event = Event::StatusDeleted {
            status: id,
            author,
            visibility: record.visibility,
            reblog_of: record.reblog_of,
            mentions: record.mentions.iter().map(|m| m.id).collect(),
            tags: record.tags.clone(),
        };
        match self.store.transact(writes, vec![event]).await {
            Ok(()) | Err(StoreError::ConditionFailed { index: 0 }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Loads a status the viewer may see, or 404.
    async fn visible_record(&self, viewer: Option<Id>, id: Id) -> ApiResult<StatusRecord> {
        let record = self.status_record(id).await?;
        policy::visibility::visible(self, viewer, vec![record]).await?.pop().ok_or(ApiError::NotFound)
    }

    /// Boosts `original` (idempotent), returning the boost's id.
    async fn reblog(&self, me: Id, original: &StatusRecord, visibility: Visibility, client: Option<(String, Option<String>)>) -> ApiResult<Id> {
        if let Some(item) = self.store.get(&keys::interaction(original.id, "rb", me)).await? {
            return Ok(model::decode::<Ref>(&item)?.id);
        }
        if !policy::visibility::can_boost(me, original) {
            return Err(ApiError::Forbidden("This status cannot be boosted".into()));
        }
        let visibility = match (visibility, original.visibility) {
            (_, Visibility::Private) => Visibility::Private,
            (Visibility::Direct, _) => return Err(ApiError::invalid("Validation failed: Visibility is not included in the list")),
            (v, _) => v,
        };
        let id = self.next_id()?;
        let now = now_ms();
        let record = StatusRecord {
            id,
            account_id: me,
            text: String::new(),
            content: String::new(),
            spoiler_text: String::new(),
            sensitive: false,
            visibility,
            language: None,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            reblog_of: Some(original.id),
            mentions: Vec::new(),
            tags: Vec::new(),
            application: client,
            created_at: now,
            edited_at: None,
            media: Vec::new(),
        };
        let entry = AccountStatusEntry { reblog_of: Some(original.id), in_reply_to_account: None, media: false, visibility, mentions: Vec::new() };
        let writes = vec![
            model::put(keys::interaction(original.id, "rb", me), &Ref { id }, Condition::NotExists)?,
            model::put(keys::status(id), &record, Condition::NotExists)?,
            model::put(keys::account_status(me, id), &entry, Condition::None)?,
            model::put(keys::interaction_list(original.id, "rb", id), &Ref { id: me }, Condition::None)?,
            Write::Add { key: keys::status_counter(original.id, "reblogs"), delta: 1 },
            Write::Add { key: keys::account_counter(me, "statuses"), delta: 1 },
            model::put(keys::last_status(me), &now, Condition::None)?,
        ];
        let event = Event::StatusCreated { status: id, author: me, visibility, reblog_of: Some(original.id), in_reply_to_account: None, mentions: Vec::new() };
        match self.store.transact(writes, vec![event]).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { index: 0 }) => {
                let item = self.store.get(&keys::interaction(original.id, "rb", me)).await?.ok_or(ApiError::NotFound)?;
                return Ok(model::decode::<Ref>(&item)?.id);
            }
            Err(e) => return Err(e.into()),
        }
        self.show_in_own_home(me, TimelineEntry { id, reblog_of: Some(original.id) }).await;
        Ok(id)
    }

    /// Records a favourite or bookmark (`kind` = `fav` | `bm`), idempotently.
    async fn interact(&self, me: Id, status: &StatusRecord, kind: &'static str) -> ApiResult<()> {
        let id = self.next_id()?;
        let mut writes = vec![
            model::put(keys::interaction(status.id, kind, me), &Ref { id }, Condition::NotExists)?,
            model::put(keys::account_list(me, kind, id), &Ref { id: status.id }, Condition::None)?,
        ];
        let mut events = Vec::new();
        if kind == "fav" {
            writes.push(model::put(keys::interaction_list(status.id, kind, id), &Ref { id: me }, Condition::None)?);
            writes.push(Write::Add { key: keys::status_counter(status.id, "favourites"), delta: 1 });
            events.push(Event::Favourited { account: me, status: status.id, author: status.account_id });
        }
        match self.store.transact(writes, events).await {
            Ok(()) | Err(StoreError::ConditionFailed { index: 0 }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Takes back a favourite or bookmark, idempotently.
    async fn uninteract(&self, me: Id, status: Id, kind: &'static str) -> ApiResult<()> {
        let Some(item) = self.store.get(&keys::interaction(status, kind, me)).await? else { return Ok(()) };
        let id = model::decode::<Ref>(&item)?.id;
        let mut writes = vec![
            Write::Delete { key: keys::interaction(status, kind, me), condition: Condition::Exists },
            Write::Delete { key: keys::account_list(me, kind, id), condition: Condition::None },
        ];
        let mut events = Vec::new();
        if kind == "fav" {
            writes.push(Write::Delete { key: keys::interaction_list(status, kind, id), condition: Condition::None });
            writes.push(Write::Add { key: keys::status_counter(status, "favourites"), delta: -1 });
            events.push(Event::Unfavourited { account: me, status });
        }
        match self.store.transact(writes, events).await {
            Ok(()) | Err(StoreError::ConditionFailed { index: 0 }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn already_attached() -> ApiError {
    ApiError::invalid("Validation failed: Media attachments are already attached to another status")
}

impl StatusParams {
    /// `media_ids[]` (forms) and `media_ids` (JSON), together.
    fn media_ids(&self) -> Vec<String> {
        self.media_ids_form.iter().chain(self.media_ids.iter().flatten()).cloned().collect()
    }

    /// Whether the request names attachments at all (an empty list in JSON removes them).
    fn names_media(&self) -> bool {
        self.media_ids.is_some() || !self.media_ids_form.is_empty()
    }
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let v = v.to_str().map_err(|_| ApiError::BadRequest("Idempotency-Key must be ASCII".into()))?.trim();
            if v.is_empty() || v.len() > 256 {
                return Err(ApiError::BadRequest("Idempotency-Key must be 1 to 256 characters".into()));
            }
            Ok(Some(v.to_owned()))
        }
    }
}

async fn client_of(app: &App, auth: &Auth) -> Option<(String, Option<String>)> {
    app.app_record_by_id(auth.app).await.ok().map(|a| (a.name, a.website))
}

/// `POST /api/v1/statuses`.
pub async fn create(State(app): State<App>, auth: Auth, headers: HeaderMap, Input(p): Input<StatusParams>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user("write:statuses")?;
    let key = idempotency_key(&headers)?;
    let client = client_of(&app, &auth).await;
    let id = app.post_status(me, client, p, key.as_deref()).await?;
    app.status(Some(me), id).await.map(Json)
}

/// `GET /api/v1/statuses/:id`.
pub async fn show(State(app): State<App>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    let viewer = auth.viewer("read:statuses")?;
    app.status(viewer, path_id(&id)?).await.map(Json)
}

/// `PUT /api/v1/statuses/:id`.
pub async fn edit(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<StatusParams>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user("write:statuses")?;
    let mut record = app.visible_record(Some(me), path_id(&id)?).await?;
    if record.account_id != me {
        return Err(ApiError::not_owner());
    }
    if record.reblog_of.is_some() {
        return Err(ApiError::invalid("Validation failed: Boosts cannot be edited"));
    }
    // Attachments change only when the edit names them (Mastodon.py sends none to keep them).
    let media = if p.names_media() { app.attachable_media(me, &p.media_ids()).await? } else { record.media.clone() };
    let composed = app
        .compose(
            p.status.as_deref().unwrap_or(&record.text),
            p.spoiler_text.as_deref().unwrap_or(&record.spoiler_text),
            p.language.or(record.language.clone()),
            !media.is_empty(),
        )
        .await?;
    let now = now_ms();
    let mut writes = Vec::new();
    if record.edited_at.is_none() {
        let original = RevisionRecord {
            content: record.content.clone(),
            spoiler_text: record.spoiler_text.clone(),
            sensitive: record.sensitive,
            created_at: record.created_at,
            media: record.media.clone(),
        };
        writes.push(model::put(keys::revision(record.id, Id::floor_of_millis(record.created_at)), &original, Condition::None)?);
    }
    let claims = writes.len()..writes.len() + media.iter().filter(|m| !record.media.contains(m)).count();
    for added in media.iter().filter(|m| !record.media.contains(m)) {
        writes.push(model::put(keys::media_attachment(*added), &Ref { id: record.id }, Condition::NotExists)?);
    }
    for removed in record.media.iter().filter(|m| !media.contains(m)) {
        writes.push(Write::Delete { key: keys::media_attachment(*removed), condition: Condition::None });
    }
    if media != record.media {
        let addressed = if record.visibility == Visibility::Direct { record.mentions.iter().map(|m| m.id).collect() } else { Vec::new() };
        let entry = AccountStatusEntry {
            reblog_of: None,
            in_reply_to_account: record.in_reply_to_account_id,
            media: !media.is_empty(),
            visibility: record.visibility,
            mentions: addressed,
        };
        writes.push(model::put(keys::account_status(me, record.id), &entry, Condition::None)?);
    }
    let old_tags: HashSet<String> = record.tags.iter().cloned().collect();
    let new_tags: HashSet<String> = composed.tags.iter().cloned().collect();
    if feed::in_public(&FeedItem::record(&record, &[])) {
        let listed = PublicEntry { id: me, media: !media.is_empty() };
        let flag_changed = media.is_empty() != record.media.is_empty();
        for gone in old_tags.difference(&new_tags) {
            writes.push(Write::Delete { key: keys::tagged(gone, record.id), condition: Condition::None });
        }
        for tag in new_tags.iter().filter(|t| flag_changed || !old_tags.contains(*t)) {
            writes.push(model::put(keys::tagged(tag, record.id), &listed, Condition::None)?);
        }
        if flag_changed {
            writes.push(model::put(keys::public(record.id), &listed, Condition::None)?);
        }
    }
    record.text = composed.text;
    record.content = composed.content;
    record.sensitive = p.sensitive.unwrap_or(record.sensitive) || !composed.spoiler_text.is_empty();
    record.spoiler_text = composed.spoiler_text;
    record.mentions = composed.mentions;
    record.tags = composed.tags;
    record.language = composed.language;
    record.edited_at = Some(now);
    record.media = media;
    let revision = RevisionRecord {
        content: record.content.clone(),
        spoiler_text: record.spoiler_text.clone(),
        sensitive: record.sensitive,
        created_at: now,
        media: record.media.clone(),
    };
    writes.push(model::put(keys::revision(record.id, app.next_id()?), &revision, Condition::None)?);
    writes.push(model::put(keys::status(record.id), &record, Condition::Exists)?);
    let writes_len = writes.len();
    match app.store.transact(writes, vec![Event::StatusUpdated { status: record.id, author: me }]).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index }) if index + 1 == writes_len => return Err(ApiError::NotFound),
        Err(StoreError::ConditionFailed { index }) if claims.contains(&index) => return Err(already_attached()),
        Err(e) => return Err(e.into()),
    }
    app.status(Some(me), record.id).await.map(Json)
}

/// `DELETE /api/v1/statuses/:id`: returns the status with its source, for delete-and-redraft.
pub async fn delete(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user("write:statuses")?;
    let record = app.visible_record(Some(me), path_id(&id)?).await?;
    if record.account_id != me {
        return Err(ApiError::not_owner());
    }
    let mut rendered = app.status(Some(me), record.id).await?;
    app.delete_status(&record).await?;
    rendered.text = Some(record.text.clone());
    Ok(Json(rendered))
}

/// `GET /api/v1/statuses/:id/history`.
pub async fn history(State(app): State<App>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<Vec<wire::StatusEdit>>> {
    let viewer = auth.viewer("read:statuses")?;
    let record = app.visible_record(viewer, path_id(&id)?).await?;
    let account = app.account(record.account_id).await?;
    let query = Query { prefix: Some("edit#".into()), ..Query::partition(format!("S#{}", record.id), 1000) };
    let mut revisions: Vec<RevisionRecord> = Vec::new();
    for item in app.store.query(&query).await? {
        revisions.push(model::decode(&item)?);
    }
    if revisions.is_empty() {
        revisions.push(RevisionRecord {
            content: record.content.clone(),
            spoiler_text: record.spoiler_text.clone(),
            sensitive: record.sensitive,
            created_at: record.created_at,
            media: record.media.clone(),
        });
    }
    let media_ids: Vec<Id> = revisions.iter().flat_map(|r| r.media.iter().copied()).collect();
    let media = app.media_records(&media_ids).await?;
    let edits = revisions
        .into_iter()
        .map(|r| wire::StatusEdit {
            media_attachments: r.media.iter().filter_map(|m| media.get(m)).map(|m| app.media_entity(m)).collect(),
            content: r.content,
            spoiler_text: r.spoiler_text,
            sensitive: r.sensitive,
            created_at: wire::timestamp(r.created_at),
            account: account.clone(),
            poll: None,
            emojis: Vec::new(),
        })
        .collect();
    Ok(Json(edits))
}

/// `GET /api/v1/statuses/:id/source` (owner only).
pub async fn source(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::StatusSource>> {
    let me = auth.user("read:statuses")?;
    let record = app.visible_record(Some(me), path_id(&id)?).await?;
    if record.account_id != me {
        return Err(ApiError::not_owner());
    }
    Ok(Json(wire::StatusSource { id: record.id, text: record.text, spoiler_text: record.spoiler_text }))
}

/// Most ancestors and descendants a context returns.
const MAX_ANCESTORS: usize = 40;
const MAX_DESCENDANTS: usize = 60;

/// `GET /api/v1/statuses/:id/context`.
pub async fn context(State(app): State<App>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<wire::Context>> {
    let viewer = auth.viewer("read:statuses")?;
    let record = app.visible_record(viewer, path_id(&id)?).await?;
    let mut ancestors = Vec::new();
    let mut cursor = record.in_reply_to_id;
    while let Some(parent) = cursor {
        if ancestors.len() >= MAX_ANCESTORS {
            break;
        }
        let Some(parent) = app.status_records(&[parent]).await?.remove(&parent) else { break };
        cursor = parent.in_reply_to_id;
        ancestors.push(parent.id);
    }
    ancestors.reverse();
    // Depth-first, in posting order, as Mastodon presents threads.
    let mut descendants = Vec::new();
    let mut stack = vec![record.id];
    while let Some(parent) = stack.pop() {
        if parent != record.id {
            descendants.push(parent);
        }
        if descendants.len() >= MAX_DESCENDANTS {
            break;
        }
        let replies = app.store.query(&Query::partition(keys::replies_partition(parent), MAX_DESCENDANTS)).await?;
        stack.extend(replies.iter().rev().filter_map(|i| Id::from_sort_key(&i.key.sk)));
    }
    Ok(Json(wire::Context { ancestors: app.statuses(viewer, &ancestors).await?, descendants: app.statuses(viewer, &descendants).await? }))
}

/// `POST /api/v1/statuses/:id/favourite`.
pub async fn favourite(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    toggle(app, auth, &id, "write:favourites", "fav", true).await
}

/// `POST /api/v1/statuses/:id/unfavourite`.
pub async fn unfavourite(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    toggle(app, auth, &id, "write:favourites", "fav", false).await
}

/// `POST /api/v1/statuses/:id/bookmark`.
pub async fn bookmark(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    toggle(app, auth, &id, "write:bookmarks", "bm", true).await
}

/// `POST /api/v1/statuses/:id/unbookmark`.
pub async fn unbookmark(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    toggle(app, auth, &id, "write:bookmarks", "bm", false).await
}

/// Sets or clears the caller's favourite or bookmark on a visible status (or the status a
/// boost boosts), returning the status as the caller now sees it.
async fn toggle(app: App, auth: Auth, id: &str, scope: &str, kind: &'static str, on: bool) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(scope)?;
    let record = app.visible_record(Some(me), path_id(id)?).await?;
    let target = original_of(&app, record).await?;
    if on {
        app.interact(me, &target, kind).await?;
    } else {
        app.uninteract(me, target.id, kind).await?;
    }
    app.status(Some(me), target.id).await.map(Json)
}

/// Interactions with a boost apply to the boosted status.
async fn original_of(app: &App, record: StatusRecord) -> ApiResult<StatusRecord> {
    match record.reblog_of {
        Some(original) => app.status_record(original).await,
        None => Ok(record),
    }
}

/// Body of `POST /api/v1/statuses/:id/reblog`.
#[derive(Deserialize, Default)]
pub struct ReblogParams {
    #[serde(default)]
    visibility: Option<String>,
}

/// `POST /api/v1/statuses/:id/reblog`: returns the boost, wrapping the original.
pub async fn reblog(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<ReblogParams>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user("write:statuses")?;
    let record = app.visible_record(Some(me), path_id(&id)?).await?;
    let original = original_of(&app, record).await?;
    let visibility = match p.visibility.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => Visibility::parse(v).ok_or_else(|| ApiError::invalid("Validation failed: Visibility is not included in the list"))?,
        None => Visibility::Public,
    };
    let client = client_of(&app, &auth).await;
    let boost = app.reblog(me, &original, visibility, client).await?;
    app.status(Some(me), boost).await.map(Json)
}

/// `POST /api/v1/statuses/:id/unreblog`: returns the original.
pub async fn unreblog(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user("write:statuses")?;
    let record = app.visible_record(Some(me), path_id(&id)?).await?;
    let original = original_of(&app, record).await?;
    if let Some(item) = app.store.get(&keys::interaction(original.id, "rb", me)).await? {
        let boost = model::decode::<Ref>(&item)?.id;
        if let Some(boost) = app.status_records(&[boost]).await?.remove(&boost) {
            app.delete_status(&boost).await?;
        }
    }
    app.status(Some(me), original.id).await.map(Json)
}

/// `GET /api/v1/statuses/:id/favourited_by`.
pub async fn favourited_by(
    State(app): State<App>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Account>> {
    interactors(app, auth, id, "fav", page, url).await
}

/// `GET /api/v1/statuses/:id/reblogged_by`.
pub async fn reblogged_by(
    State(app): State<App>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Account>> {
    interactors(app, auth, id, "rb", page, url).await
}

async fn interactors(app: App, auth: MaybeAuth, id: String, kind: &str, page: PageParams, url: RequestUrl) -> ApiResult<Paged<wire::Account>> {
    let viewer = auth.viewer("read:accounts")?;
    let record = app.visible_record(viewer, path_id(&id)?).await?;
    let window = page.request(40, 80)?.window();
    let (cursors, accounts) = app.ref_page(keys::interaction_list_partition(record.id, kind), &window).await?;
    let rendered = app.account_list(&accounts).await?;
    Ok(Paged::new(&app, &url, rendered, &cursors))
}

impl App {
    /// Reads an id-keyed list partition of [`Ref`]s through a window: (cursors, referenced
    /// ids), newest first.
    pub async fn ref_page(&self, partition: String, window: &shared::page::Window) -> ApiResult<(Vec<Id>, Vec<Id>)> {
        let mut items = self.store.query(&Query::window(partition, window)).await?;
        if window.oldest_first {
            items.reverse();
        }
        let mut cursors = Vec::with_capacity(items.len());
        let mut refs = Vec::with_capacity(items.len());
        for item in &items {
            cursors.push(Id::from_sort_key(&item.key.sk).ok_or_else(|| ApiError::internal("bad list sort key"))?);
            refs.push(model::decode::<Ref>(item)?.id);
        }
        Ok((cursors, refs))
    }
}

/// `GET /api/v1/bookmarks`.
pub async fn bookmarks(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Status>> {
    let me = auth.user("read:bookmarks")?;
    own_list(app, me, "bm", page, url).await
}

/// `GET /api/v1/favourites`.
pub async fn favourites(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Status>> {
    let me = auth.user("read:favourites")?;
    own_list(app, me, "fav", page, url).await
}

async fn own_list(app: App, me: Id, kind: &str, page: PageParams, url: RequestUrl) -> ApiResult<Paged<wire::Status>> {
    let window = page.request(20, 40)?.window();
    let (cursors, ids) = app.ref_page(keys::account_list_partition(me, kind), &window).await?;
    let statuses = app.statuses(Some(me), &ids).await?;
    // Keep cursors aligned with what survived (deleted or hidden statuses drop out).
    let kept: HashSet<Id> = statuses.iter().map(|s| s.id).collect();
    let cursors: Vec<Id> = cursors.into_iter().zip(ids).filter(|(_, id)| kept.contains(id)).map(|(c, _)| c).collect();
    Ok(Paged::new(&app, &url, statuses, &cursors))
}
