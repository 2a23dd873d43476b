//! The status endpoints: thin handlers that extract, call [`service`], and render.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::id::Id;
use shared::wire::{self, QuotePolicy, Visibility};

use super::scheduled::{self, service::Schedule};
use super::service::{self, EditStatus, Interaction, PostStatus};
use crate::App;
use crate::auth::{Auth, MaybeAuth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{Input, PageParams, Paged, Params, RequestUrl, flag, path_id, string_list, whole_number};
use crate::keys;
use crate::media::service::FileUrls;
use crate::model::{self, RevisionRecord};
use crate::policy;
use crate::polls::service::PollInput;
use crate::ports::Query;

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
    /// `poll` as JSON sends it (an object).
    #[serde(default)]
    poll: Option<serde_json::Value>,
    #[serde(default, rename = "poll[options][]", deserialize_with = "string_list")]
    poll_options: Vec<String>,
    #[serde(default, rename = "poll[expires_in]", deserialize_with = "whole_number")]
    poll_expires_in: Option<u64>,
    #[serde(default, rename = "poll[multiple]", deserialize_with = "flag")]
    poll_multiple: Option<bool>,
    #[serde(default, rename = "poll[hide_totals]", deserialize_with = "flag")]
    poll_hide_totals: Option<bool>,
    #[serde(default)]
    quoted_status_id: Option<String>,
    #[serde(default)]
    quote_approval_policy: Option<String>,
}

/// A `quote_approval_policy` parameter; empty means none given.
fn quote_policy_param(raw: Option<&str>) -> ApiResult<Option<QuotePolicy>> {
    raw.filter(|v| !v.is_empty()).map(policy::quotes::parse_policy).transpose()
}

/// `poll` of a JSON body.
#[derive(Deserialize, Default)]
struct PollJson {
    #[serde(default, deserialize_with = "string_list")]
    options: Vec<String>,
    #[serde(default, deserialize_with = "whole_number")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "flag")]
    multiple: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    hide_totals: Option<bool>,
}

impl StatusParams {
    /// `media_ids[]` (forms) and `media_ids` (JSON), together.
    fn media_ids(&self) -> Vec<String> {
        self.media_ids_form.iter().chain(self.media_ids.iter().flatten()).cloned().collect()
    }

    /// The poll asked for, from a JSON object or form fields (`poll[options][]`, …); none when
    /// neither names options nor a duration.
    fn poll(&mut self) -> ApiResult<Option<PollInput>> {
        let json = match self.poll.take().filter(|v| !v.is_null()) {
            Some(value) => serde_json::from_value::<PollJson>(value).map_err(|e| ApiError::invalid(format!("Invalid poll: {e}")))?,
            None => PollJson::default(),
        };
        let options: Vec<String> = json.options.into_iter().chain(std::mem::take(&mut self.poll_options)).collect();
        let expires_in = json.expires_in.or(self.poll_expires_in);
        if options.is_empty() && expires_in.is_none() {
            return Ok(None);
        }
        Ok(Some(PollInput {
            options,
            expires_in,
            multiple: json.multiple.or(self.poll_multiple).unwrap_or(false),
            hide_totals: json.hide_totals.or(self.poll_hide_totals).unwrap_or(false),
        }))
    }

    /// Whether the request names attachments at all (an empty list in JSON removes them).
    fn names_media(&self) -> bool {
        self.media_ids.is_some() || !self.media_ids_form.is_empty()
    }
}

/// A `visibility` parameter; empty means none given.
fn visibility_param(raw: Option<&str>) -> ApiResult<Option<Visibility>> {
    match raw.filter(|v| !v.is_empty()) {
        Some(v) => Visibility::parse(v).map(Some).ok_or_else(|| ApiError::invalid("Validation failed: Visibility is not included in the list")),
        None => Ok(None),
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

/// `POST /api/v1/statuses`: posts the status, or with `scheduled_at` schedules it (answering
/// the `ScheduledStatus`).
pub async fn create(State(app): State<App>, auth: Auth, headers: HeaderMap, Input(mut p): Input<StatusParams>) -> ApiResult<Response> {
    let me = auth.user(Scope::WriteStatuses)?;
    let idempotency_key = idempotency_key(&headers)?;
    let scheduled_at = p.scheduled_at.take().filter(|s| !s.trim().is_empty()).map(|raw| scheduled::service::parse_time(&raw)).transpose()?;
    let in_reply_to = match p.in_reply_to_id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(raw.parse::<Id>().map_err(|_| ApiError::NotFound)?),
        None => None,
    };
    let quoted_status = match p.quoted_status_id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(raw.parse::<Id>().map_err(|_| ApiError::NotFound)?),
        None => None,
    };
    if quoted_status.is_some() && scheduled_at.is_some() {
        return Err(ApiError::invalid("Validation failed: Quote posts cannot be scheduled"));
    }
    let command = PostStatus {
        quoted_status,
        quote_policy: quote_policy_param(p.quote_approval_policy.as_deref())?,
        poll: p.poll()?,
        author: me,
        client: client_of(&app, &auth).await,
        media: p.media_ids(),
        visibility: visibility_param(p.visibility.as_deref())?,
        text: p.status.unwrap_or_default(),
        spoiler_text: p.spoiler_text.unwrap_or_default(),
        sensitive: p.sensitive,
        language: p.language,
        in_reply_to,
        idempotency_key,
    };
    if let Some(at) = scheduled_at {
        let record = scheduled::service::schedule(&app, Schedule { post: command, at, application_id: auth.app }).await?;
        return Ok(Json(scheduled::service::entity(&app, &record).await?).into_response());
    }
    let id = service::post(&app, command).await?;
    Ok(Json(app.status(Some(me), id).await?).into_response())
}

/// `GET /api/v1/statuses/:id`.
pub async fn show(State(app): State<App>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    let viewer = auth.viewer(Scope::ReadStatuses)?;
    app.status(viewer, path_id(&id)?).await.map(Json)
}

/// Query of `GET /api/v1/statuses` and `GET /api/v1/accounts`: the ids wanted.
#[derive(Deserialize)]
pub struct IdsParams {
    #[serde(default, rename = "id[]")]
    ids: Vec<String>,
    #[serde(default)]
    id: Vec<String>,
}

impl IdsParams {
    /// The ids given (malformed ones name nothing), first [`MAX_IDS`], without repeats.
    pub fn ids(&self) -> Vec<Id> {
        let mut seen = HashSet::new();
        self.ids.iter().chain(&self.id).filter_map(|s| s.parse().ok()).filter(|id| seen.insert(*id)).take(MAX_IDS).collect()
    }
}

/// Most ids one `GET /api/v1/statuses` or `GET /api/v1/accounts` takes (Mastodon's limit).
pub const MAX_IDS: usize = 20;

/// `GET /api/v1/statuses?id[]=`: several statuses at once, in the order asked, leaving out
/// those missing or not visible to the caller.
pub async fn show_many(State(app): State<App>, auth: MaybeAuth, Params(p): Params<IdsParams>) -> ApiResult<Json<Vec<wire::Status>>> {
    let viewer = auth.viewer(Scope::ReadStatuses)?;
    app.statuses(viewer, &p.ids()).await.map(Json)
}

/// `POST /api/v1/statuses/:id/pin`: features one of the caller's own statuses on their profile.
pub async fn pin(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(Scope::WriteAccounts)?;
    let record = app.visible_record(Some(me), path_id(&id)?).await?;
    service::pin(&app, me, &record, true).await?;
    app.status(Some(me), record.id).await.map(Json)
}

/// `POST /api/v1/statuses/:id/unpin`.
pub async fn unpin(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(Scope::WriteAccounts)?;
    let record = app.visible_record(Some(me), path_id(&id)?).await?;
    service::pin(&app, me, &record, false).await?;
    app.status(Some(me), record.id).await.map(Json)
}

/// `PUT /api/v1/statuses/:id`.
pub async fn edit(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(mut p): Input<StatusParams>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(Scope::WriteStatuses)?;
    let command = EditStatus {
        poll: p.poll()?,
        editor: me,
        status: path_id(&id)?,
        media: p.names_media().then(|| p.media_ids()),
        text: p.status,
        spoiler_text: p.spoiler_text,
        sensitive: p.sensitive,
        language: p.language,
    };
    let id = service::edit(&app, command).await?;
    app.status(Some(me), id).await.map(Json)
}

/// `DELETE /api/v1/statuses/:id`: returns the status with its source, for delete-and-redraft.
pub async fn delete(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(Scope::WriteStatuses)?;
    let record = service::own_status(&app, me, path_id(&id)?).await?;
    let mut rendered = app.status(Some(me), record.id).await?;
    app.delete_own_status(&record).await?;
    rendered.text = Some(record.text.clone());
    Ok(Json(rendered))
}

/// `GET /api/v1/statuses/:id/history`.
pub async fn history(State(app): State<App>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<Vec<wire::StatusEdit>>> {
    let viewer = auth.viewer(Scope::ReadStatuses)?;
    let record = app.visible_record(viewer, path_id(&id)?).await?;
    let account = app.account(record.account_id).await?;
    let query = Query { prefix: Some(keys::REVISION_PREFIX.into()), ..Query::partition(keys::status_partition(record.id), 1000) };
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
    // Attachments the status still holds get its URLs; ones an edit removed are held by no
    // status any more, so they are only served on signed URLs.
    let current = FileUrls::of(Some(&record));
    let mut edits = Vec::with_capacity(revisions.len());
    for r in revisions {
        let mut media_attachments = Vec::with_capacity(r.media.len());
        for m in r.media.iter().filter_map(|m| media.get(m)) {
            let urls = if record.media.contains(&m.id) { current } else { FileUrls::Signed };
            media_attachments.push(app.media_entity(m, urls).await?);
        }
        edits.push(wire::StatusEdit {
            media_attachments,
            content: r.content,
            spoiler_text: r.spoiler_text,
            sensitive: r.sensitive,
            created_at: wire::timestamp(r.created_at),
            account: account.clone(),
            poll: None,
            emojis: Vec::new(),
        });
    }
    Ok(Json(edits))
}

/// `GET /api/v1/statuses/:id/source` (owner only).
pub async fn source(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::StatusSource>> {
    let me = auth.user(Scope::ReadStatuses)?;
    let record = service::own_status(&app, me, path_id(&id)?).await?;
    Ok(Json(wire::StatusSource { id: record.id, text: record.text, spoiler_text: record.spoiler_text }))
}

/// `GET /api/v1/statuses/:id/context`.
pub async fn context(State(app): State<App>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<wire::Context>> {
    let viewer = auth.viewer(Scope::ReadStatuses)?;
    let record = app.visible_record(viewer, path_id(&id)?).await?;
    let (ancestors, descendants) = service::thread(&app, &record).await?;
    // One render (and one read of the viewer's filters) for both sides; ancestors come first.
    let mut ancestors_shown = app.statuses_in(viewer, &[ancestors.as_slice(), descendants.as_slice()].concat(), wire::FilterContext::Thread).await?;
    let split = ancestors_shown.iter().position(|s| !ancestors.contains(&s.id)).unwrap_or(ancestors_shown.len());
    let descendants_shown = ancestors_shown.split_off(split);
    Ok(Json(wire::Context { ancestors: ancestors_shown, descendants: descendants_shown }))
}

/// `POST /api/v1/statuses/:id/favourite`.
pub async fn favourite(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    toggle(app, auth, &id, Scope::WriteFavourites, Interaction::Favourite, true).await
}

/// `POST /api/v1/statuses/:id/unfavourite`.
pub async fn unfavourite(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    toggle(app, auth, &id, Scope::WriteFavourites, Interaction::Favourite, false).await
}

/// `POST /api/v1/statuses/:id/bookmark`.
pub async fn bookmark(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    toggle(app, auth, &id, Scope::WriteBookmarks, Interaction::Bookmark, true).await
}

/// `POST /api/v1/statuses/:id/unbookmark`.
pub async fn unbookmark(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    toggle(app, auth, &id, Scope::WriteBookmarks, Interaction::Bookmark, false).await
}

/// `POST /api/v1/statuses/:id/mute`: no more notifications from the status's thread.
pub async fn mute(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    mute_thread(app, auth, &id, true).await
}

/// `POST /api/v1/statuses/:id/unmute`.
pub async fn unmute(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    mute_thread(app, auth, &id, false).await
}

async fn mute_thread(app: App, auth: Auth, id: &str, on: bool) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(Scope::WriteMutes)?;
    let record = app.visible_record(Some(me), path_id(id)?).await?;
    let target = service::original_of(&app, record).await?;
    service::mute_thread(&app, me, target.thread(), on).await?;
    app.status(Some(me), target.id).await.map(Json)
}

/// Sets or clears the caller's favourite or bookmark on a visible status (or the status a
/// boost boosts), returning the status as the caller now sees it.
async fn toggle(app: App, auth: Auth, id: &str, scope: Scope, interaction: Interaction, on: bool) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(scope)?;
    let record = app.visible_record_kept(Some(me), path_id(id)?).await?;
    let target = service::original_of(&app, record).await?;
    service::set_interaction(&app, me, &target, interaction, on).await?;
    app.status(Some(me), target.id).await.map(Json)
}

/// Body of `POST /api/v1/statuses/:id/reblog`.
#[derive(Deserialize, Default)]
pub struct ReblogParams {
    #[serde(default)]
    visibility: Option<String>,
}

/// `POST /api/v1/statuses/:id/reblog`: returns the boost, wrapping the original.
pub async fn reblog(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<ReblogParams>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(Scope::WriteStatuses)?;
    let record = app.visible_record_kept(Some(me), path_id(&id)?).await?;
    let original = service::original_of(&app, record).await?;
    let visibility = visibility_param(p.visibility.as_deref())?;
    let client = client_of(&app, &auth).await;
    let boost = service::boost(&app, me, &original, visibility, client).await?;
    app.render_statuses(Some(me), vec![boost]).await?.pop().map(Json).ok_or(ApiError::NotFound)
}

/// `POST /api/v1/statuses/:id/unreblog`: returns the original.
pub async fn unreblog(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(Scope::WriteStatuses)?;
    let record = app.visible_record_kept(Some(me), path_id(&id)?).await?;
    let original = service::original_of(&app, record).await?;
    service::unboost(&app, me, &original).await?;
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
    interactors(app, auth, id, Interaction::Favourite, page, url).await
}

/// `GET /api/v1/statuses/:id/reblogged_by`.
pub async fn reblogged_by(
    State(app): State<App>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Account>> {
    interactors(app, auth, id, Interaction::Reblog, page, url).await
}

async fn interactors(app: App, auth: MaybeAuth, id: String, kind: Interaction, page: PageParams, url: RequestUrl) -> ApiResult<Paged<wire::Account>> {
    let viewer = auth.viewer(Scope::ReadAccounts)?;
    let record = app.visible_record(viewer, path_id(&id)?).await?;
    Paged::accounts_of(&app, keys::interaction_list_partitions(record.id, kind, app.config.shards.interactions), &page, &url).await
}

/// `GET /api/v1/bookmarks`.
pub async fn bookmarks(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Status>> {
    let me = auth.user(Scope::ReadBookmarks)?;
    own_list(app, me, Interaction::Bookmark, page, url).await
}

/// `GET /api/v1/favourites`.
pub async fn favourites(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Status>> {
    let me = auth.user(Scope::ReadFavourites)?;
    own_list(app, me, Interaction::Favourite, page, url).await
}

async fn own_list(app: App, me: Id, kind: Interaction, page: PageParams, url: RequestUrl) -> ApiResult<Paged<wire::Status>> {
    let window = page.request(20, 40)?.window();
    let (cursors, ids) = app.ref_page(keys::account_list_partition(me, kind), &window).await?;
    Paged::statuses_listed(&app, me, cursors, ids, &url).await
}

/// `GET /api/v1/statuses/:id/quotes`: the quotes of one of the caller's statuses that stand
/// (only its author may list them, as Mastodon), newest first, those the caller may see.
pub async fn quotes(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Status>> {
    let me = auth.user(Scope::ReadStatuses)?;
    let window = page.request(20, 40)?.window();
    let (cursors, ids) = service::quotes(&app, me, path_id(&id)?, &window).await?;
    Paged::statuses_listed(&app, me, cursors, ids, &url).await
}

/// `POST /api/v1/statuses/:id/quotes/:quoting_status_id/revoke`: the author of `id` revokes
/// the quote; answers the quoting status, which no longer shows `id`.
pub async fn revoke_quote(State(app): State<App>, auth: Auth, Path((id, quoting)): Path<(String, String)>) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(Scope::WriteStatuses)?;
    let quoting = path_id(&quoting)?;
    service::revoke_quote(&app, me, path_id(&id)?, quoting).await?;
    app.status(Some(me), quoting).await.map(Json)
}

/// Body of `PUT /api/v1/statuses/:id/interaction_policy`.
#[derive(Deserialize, Default)]
pub struct InteractionPolicyParams {
    #[serde(default)]
    quote_approval_policy: Option<String>,
}

/// `PUT /api/v1/statuses/:id/interaction_policy`: the author changes who may quote the status
/// from now on.
pub async fn interaction_policy(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
    Input(p): Input<InteractionPolicyParams>,
) -> ApiResult<Json<wire::Status>> {
    let me = auth.user(Scope::WriteStatuses)?;
    let id = path_id(&id)?;
    match quote_policy_param(p.quote_approval_policy.as_deref())? {
        Some(policy) => service::set_quote_policy(&app, me, id, policy).await?,
        None => drop(service::own_status(&app, me, id).await?),
    }
    app.status(Some(me), id).await.map(Json)
}
