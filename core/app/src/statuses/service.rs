//! The status use cases over typed commands: post, edit, delete, boost, favourite and
//! bookmark, and the reads they share. No HTTP type reaches here; the handlers build the
//! commands.

use std::collections::HashMap;

use shared::id::Id;
use shared::text::{self, MentionLink, MentionRef};
use shared::token::secret_digest;
use shared::wire::{QuotePolicy, Visibility};

pub use super::writes::Publishing;
use super::writes::{self, BoostConflict, EditConflict, PostConflict, RevokeConflict};
use crate::error::{ApiError, ApiResult};
pub use crate::keys::Interaction;
use crate::model::{self, MentionRecord, QuoteRecord, Ref, StatusRecord};
use crate::policy;
use crate::polls::service::{self as polls, PollInput};
use crate::ports::{Query, TimelineEntry};
use crate::transaction::RACE_RETRIES;
use crate::{App, keys, now_ms};

/// The application a status was posted with: its name and website.
pub type Client = Option<(String, Option<String>)>;

/// Post a status.
pub struct PostStatus {
    pub author: Id,
    pub client: Client,
    pub text: String,
    pub spoiler_text: String,
    /// `None`: the author's default.
    pub sensitive: Option<bool>,
    /// `None`: the author's default.
    pub visibility: Option<Visibility>,
    /// `None`: the author's default.
    pub language: Option<String>,
    pub in_reply_to: Option<Id>,
    /// Attachment ids as given (checked against the author's uploads).
    pub media: Vec<String>,
    /// A retry with the same key returns the first result.
    pub idempotency_key: Option<String>,
    /// A poll to attach (validated here).
    pub poll: Option<PollInput>,
    /// The status to quote, if any (the quoter must see it and its policy accept them).
    pub quoted_status: Option<Id>,
    /// Who may quote this status (`None`: the author's default).
    pub quote_policy: Option<QuotePolicy>,
}

/// Edit a status; `None` fields keep what the status has.
pub struct EditStatus {
    pub editor: Id,
    pub status: Id,
    pub text: Option<String>,
    pub spoiler_text: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
    /// `Some` replaces the attachments (an empty list removes them).
    pub media: Option<Vec<String>>,
    /// The poll after the edit: as Mastodon, none removes the status's poll, and changed
    /// options (or `multiple`) reset its votes.
    pub poll: Option<PollInput>,
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

    /// The author sees their own post at once; everyone else gets it through fanout.
    pub(crate) async fn show_in_own_home(&self, author: Id, entry: TimelineEntry) {
        let timeline = crate::timelines::home_key(author);
        if let Err(e) = self.timelines.fan_out(&[timeline], entry, self.config.timelines.cap).await {
            tracing::warn!(error = %e, "could not add own status to home; it arrives through fanout");
        }
    }

    /// Deletes a status or boost and everything indexing it, exactly once.
    pub async fn delete_status(&self, record: &StatusRecord) -> ApiResult<()> {
        match writes::delete(self, record).await? {
            Ok(()) | Err(writes::DeleteConflict::AlreadyDeleted) => Ok(()),
        }
    }

    /// Deletes a status at its author's request: when a concurrent request deleted it first,
    /// that one answered and this one is 404.
    pub async fn delete_own_status(&self, record: &StatusRecord) -> ApiResult<()> {
        match writes::delete(self, record).await? {
            Ok(()) => Ok(()),
            Err(writes::DeleteConflict::AlreadyDeleted) => Err(ApiError::NotFound),
        }
    }

    /// Loads a status the viewer may see, or 404.
    pub(crate) async fn visible_record(&self, viewer: Option<Id>, id: Id) -> ApiResult<StatusRecord> {
        let record = self.status_record(id).await?;
        policy::visibility::visible(self, viewer, vec![record]).await?.pop().ok_or(ApiError::NotFound)
    }

    /// [`App::visible_record`] from the kept copy of a public or unlisted status where one is
    /// fresh (`[timelines] hot_ttl_ms`): for favourites, bookmarks and boosts, which every
    /// reader of a viral status may make at once and which change nothing of its record. (A
    /// status deleted on another process within the bound can still take one: its orphaned
    /// items are what the same race leaves without the copy.)
    pub(crate) async fn visible_record_kept(&self, viewer: Option<Id>, id: Id) -> ApiResult<StatusRecord> {
        let record = self.cached_status_records(&[id]).await?.remove(&id).ok_or(ApiError::NotFound)?;
        policy::visibility::visible(self, viewer, vec![record]).await?.pop().ok_or(ApiError::NotFound)
    }
}

/// Posts a status; returns its id (with an idempotency key, a retry returns the first one's).
pub async fn post(app: &App, cmd: PostStatus) -> ApiResult<Id> {
    let author = cmd.author;
    let ik = cmd.idempotency_key.as_deref().map(|k| keys::idempotency(author, &secret_digest(k)));
    if let Some(key) = &ik
        && let Some(item) = app.store.get(key).await?
    {
        return Ok(model::decode::<Ref>(&item)?.id);
    }
    let record = status_of(app, &cmd, app.next_id()?, now_ms()).await?;
    let id = record.id;
    match writes::post(app, &record, ik.as_ref(), None).await? {
        Ok(()) => {}
        Err(PostConflict::IdempotencyKeyTaken) => {
            // A concurrent retry with the same key committed first.
            let key = ik.as_ref().ok_or_else(|| ApiError::internal("idempotency key vanished"))?;
            let item = app.store.get(key).await?.ok_or_else(|| ApiError::Conflict("A request with this Idempotency-Key is in progress".into()))?;
            return Ok(model::decode::<Ref>(&item)?.id);
        }
        Err(PostConflict::MediaAlreadyAttached) => return Err(already_attached()),
        Err(PostConflict::NotScheduled) => return Err(ApiError::internal("a post from a request claimed no schedule")),
    }
    app.show_in_own_home(author, TimelineEntry { id, reblog_of: None }).await;
    Ok(id)
}

/// Checks `cmd` as posting it now would (text, mentions, the replied-to status, attachments,
/// poll), writing nothing: what scheduling a status checks first.
pub async fn check(app: &App, cmd: &PostStatus) -> ApiResult<()> {
    status_of(app, cmd, Id::MIN, now_ms()).await.map(drop)
}

/// Publishes a scheduled status now: `cmd` checked and posted as [`post`] would, in one
/// transaction with `publishing` (the scheduled status's removal, claiming it). Returns the new
/// status's id, or `None` when the scheduled status was published or deleted meanwhile.
pub async fn publish(app: &App, cmd: &PostStatus, publishing: &Publishing) -> ApiResult<Option<Id>> {
    let record = status_of(app, cmd, app.next_id()?, now_ms()).await?;
    let id = record.id;
    match writes::post(app, &record, None, Some(publishing)).await? {
        Ok(()) => {}
        Err(PostConflict::NotScheduled) => return Ok(None),
        Err(PostConflict::MediaAlreadyAttached | PostConflict::IdempotencyKeyTaken) => return Err(already_attached()),
    }
    app.show_in_own_home(record.account_id, TimelineEntry { id, reblog_of: None }).await;
    Ok(Some(id))
}

/// The status `cmd` posts as `id` at `created_at`, checked (not written).
async fn status_of(app: &App, cmd: &PostStatus, id: Id, created_at: u64) -> ApiResult<StatusRecord> {
    let author = cmd.author;
    let media = app.attachable_media(author, &cmd.media).await?;
    let account = app.account_record(author).await?;
    let visibility = cmd.visibility.unwrap_or(account.default_visibility);
    let parent = match cmd.in_reply_to {
        Some(id) => {
            let parent = app.status_record(id).await?;
            if policy::visibility::visible(app, Some(author), vec![parent.clone()]).await?.is_empty() {
                return Err(ApiError::NotFound);
            }
            // As Mastodon: a reply to a boost replies to the boosted status.
            Some(original_of(app, parent).await?)
        }
        None => None,
    };
    let quote = match cmd.quoted_status {
        Some(id) => {
            let quoted = app.status_record(id).await?;
            policy::quotes::check(app, author, &quoted).await?;
            Some(QuoteRecord { status: quoted.id, account: quoted.account_id })
        }
        None => None,
    };
    let language = cmd.language.clone().or(account.default_language.clone());
    let composed = app.compose(&cmd.text, &cmd.spoiler_text, language, !media.is_empty()).await?;
    let poll = cmd.poll.clone().map(|p| polls::validate(app, p, !media.is_empty(), created_at)).transpose()?;
    Ok(StatusRecord {
        id,
        account_id: author,
        text: composed.text,
        content: composed.content,
        sensitive: cmd.sensitive.unwrap_or(account.default_sensitive) || !composed.spoiler_text.is_empty(),
        spoiler_text: composed.spoiler_text,
        visibility,
        language: composed.language,
        in_reply_to_id: parent.as_ref().map(|s| s.id),
        in_reply_to_account_id: parent.as_ref().map(|s| s.account_id),
        reblog_of: None,
        mentions: composed.mentions,
        tags: composed.tags,
        application: cmd.client.clone(),
        created_at,
        edited_at: None,
        media,
        conversation: parent.as_ref().map(StatusRecord::thread),
        poll,
        quote,
        quote_policy: Some(cmd.quote_policy.or(account.default_quote_policy).unwrap_or(QuotePolicy::Public)),
    })
}

/// Edits a status of the editor's (not a boost), keeping its history; returns its id.
pub async fn edit(app: &App, cmd: EditStatus) -> ApiResult<Id> {
    let me = cmd.editor;
    let before = app.visible_record(Some(me), cmd.status).await?;
    if before.account_id != me {
        return Err(ApiError::not_owner());
    }
    if before.reblog_of.is_some() {
        return Err(ApiError::invalid("Validation failed: Boosts cannot be edited"));
    }
    // Attachments change only when the edit names them (Mastodon.py sends none to keep them).
    let media = match &cmd.media {
        Some(ids) => app.attachable_media(me, ids).await?,
        None => before.media.clone(),
    };
    let composed = app
        .compose(
            cmd.text.as_deref().unwrap_or(&before.text),
            cmd.spoiler_text.as_deref().unwrap_or(&before.spoiler_text),
            cmd.language.or(before.language.clone()),
            !media.is_empty(),
        )
        .await?;
    let edited_at = now_ms();
    let poll = cmd.poll.map(|p| polls::validate(app, p, !media.is_empty(), edited_at)).transpose()?;
    let mut after = before.clone();
    after.poll = polls::edited(before.poll.as_ref(), poll);
    after.text = composed.text;
    after.content = composed.content;
    after.sensitive = cmd.sensitive.unwrap_or(before.sensitive) || !composed.spoiler_text.is_empty();
    after.spoiler_text = composed.spoiler_text;
    after.mentions = composed.mentions;
    after.tags = composed.tags;
    after.language = composed.language;
    after.edited_at = Some(edited_at);
    after.media = media;
    match writes::edit(app, &before, &after, app.next_id()?).await? {
        Ok(()) => Ok(after.id),
        Err(EditConflict::StatusGone) => Err(ApiError::NotFound),
        Err(EditConflict::MediaAlreadyAttached) => Err(already_attached()),
    }
}

/// A status of `me`'s (visible to them), or 404 / 403.
pub async fn own_status(app: &App, me: Id, status: Id) -> ApiResult<StatusRecord> {
    let record = app.visible_record(Some(me), status).await?;
    if record.account_id != me {
        return Err(ApiError::not_owner());
    }
    Ok(record)
}

/// Boosts `original` (idempotent) with `visibility` (`None`: public), returning the boost (`me`'s
/// existing one, if any).
pub async fn boost(app: &App, me: Id, original: &StatusRecord, visibility: Option<Visibility>, client: Client) -> ApiResult<StatusRecord> {
    if let Some(existing) = existing_boost(app, me, original.id).await? {
        return Ok(existing);
    }
    if !policy::visibility::can_boost(me, original) {
        return Err(ApiError::Forbidden("This status cannot be boosted".into()));
    }
    let visibility = match (visibility.unwrap_or(Visibility::Public), original.visibility) {
        (_, Visibility::Private) => Visibility::Private,
        (Visibility::Direct, _) => return Err(ApiError::invalid("Validation failed: Visibility is not included in the list")),
        (v, _) => v,
    };
    let id = app.next_id()?;
    let record = StatusRecord { reblog_of: Some(original.id), application: client, ..StatusRecord::empty(id, me, visibility, now_ms()) };
    for _ in 0..RACE_RETRIES {
        match writes::boost(app, &record, original.id).await? {
            Ok(()) => {
                app.show_in_own_home(me, TimelineEntry { id, reblog_of: Some(original.id) }).await;
                return Ok(record);
            }
            // A concurrent boost won: it is the answer, unless a concurrent unboost took it
            // back meanwhile (then try again).
            Err(BoostConflict::AlreadyBoosted) => {
                if let Some(existing) = existing_boost(app, me, original.id).await? {
                    return Ok(existing);
                }
            }
        }
    }
    // Lost every race: answer with a boost only if one stands.
    existing_boost(app, me, original.id).await?.ok_or(ApiError::NotFound)
}

/// `me`'s boost of `original`, if any (and not deleted meanwhile).
async fn existing_boost(app: &App, me: Id, original: Id) -> ApiResult<Option<StatusRecord>> {
    let Some(item) = app.store.get(&keys::interaction(original, keys::Interaction::Reblog, me)).await? else { return Ok(None) };
    let boost = model::decode::<Ref>(&item)?.id;
    Ok(app.status_records(&[boost]).await?.remove(&boost))
}

/// Takes back `me`'s boost of `original`, if any.
pub async fn unboost(app: &App, me: Id, original: &StatusRecord) -> ApiResult<()> {
    if let Some(boost) = existing_boost(app, me, original.id).await? {
        app.delete_status(&boost).await?;
    }
    Ok(())
}

/// Sets (`on`) or clears `me`'s favourite or bookmark of `status`, idempotently (boosts are
/// statuses of their own: [`boost`]).
pub async fn set_interaction(app: &App, me: Id, status: &StatusRecord, kind: Interaction, on: bool) -> ApiResult<()> {
    if on {
        return match writes::interact(app, me, status, kind, app.next_id()?).await? {
            Ok(()) | Err(writes::InteractionConflict::Unchanged) => Ok(()),
        };
    }
    for _ in 0..RACE_RETRIES {
        let Some(item) = app.store.get(&keys::interaction(status.id, kind, me)).await? else { return Ok(()) };
        match writes::uninteract(app, me, status.id, kind, model::decode::<Ref>(&item)?.id).await? {
            Ok(()) => return Ok(()),
            // A concurrent undo (and maybe a redo after it) won: look again.
            Err(writes::InteractionConflict::Unchanged) => continue,
        }
    }
    Ok(())
}

/// Interactions with a boost apply to the boosted status.
pub async fn original_of(app: &App, record: StatusRecord) -> ApiResult<StatusRecord> {
    match record.reblog_of {
        Some(original) => app.status_record(original).await,
        None => Ok(record),
    }
}

fn already_attached() -> ApiError {
    ApiError::invalid("Validation failed: Media attachments are already attached to another status")
}

/// A status's thread: ancestors (oldest first) and descendants (depth-first, in posting order),
/// bounded.
pub async fn thread(app: &App, record: &StatusRecord) -> ApiResult<(Vec<Id>, Vec<Id>)> {
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
    Ok((ancestors, descendants))
}

/// Most ancestors and descendants a context returns.
const MAX_ANCESTORS: usize = 40;
const MAX_DESCENDANTS: usize = 60;

/// Most statuses an account pins (advertised as `max_pinned_statuses`).
pub const MAX_PINNED: usize = 5;

/// Pins (`on`) or unpins one of `account`'s own statuses (idempotent both ways). Boosts,
/// others' statuses and direct ones cannot be pinned, nor more than [`MAX_PINNED`].
pub async fn pin(app: &App, account: Id, status: &StatusRecord, on: bool) -> ApiResult<()> {
    if !on {
        return writes::pin(app, account, status.id, false).await;
    }
    if status.account_id != account || status.reblog_of.is_some() {
        return Err(ApiError::invalid("Validation failed: You can only pin your own posts"));
    }
    if status.visibility == Visibility::Direct {
        return Err(ApiError::invalid("Validation failed: Direct posts cannot be pinned"));
    }
    let pinned = || async { Ok::<_, ApiError>(app.store.query(&Query::partition(keys::pinned_partition(account), MAX_PINNED + 2)).await?) };
    let before = pinned().await?;
    if before.iter().any(|i| Id::from_sort_key(&i.key.sk) == Some(status.id)) {
        return Ok(());
    }
    let too_many = || ApiError::invalid(format!("Validation failed: You can pin at most {MAX_PINNED} posts"));
    if before.len() >= MAX_PINNED {
        return Err(too_many());
    }
    writes::pin(app, account, status.id, true).await?;
    if app.past_limit(keys::pinned_partition(account), status.id, MAX_PINNED).await? {
        writes::pin(app, account, status.id, false).await?;
        return Err(too_many());
    }
    Ok(())
}

/// Mutes (`on`) or unmutes the thread starting with status `thread` for `account`: its
/// notifications stop (idempotent both ways).
pub async fn mute_thread(app: &App, account: Id, thread: Id, on: bool) -> ApiResult<()> {
    writes::mute_thread(app, account, thread, on).await
}

/// The quotes of `quoted` (one of `me`'s statuses: only its author lists them, as Mastodon)
/// that stand, in the window: (cursors, quoting status ids).
pub async fn quotes(app: &App, me: Id, quoted: Id, window: &shared::page::Window) -> ApiResult<(Vec<Id>, Vec<Id>)> {
    own_status(app, me, quoted).await?;
    // The listing is keyed by the quoting status (its value names the quoting author).
    let (cursors, _) = app.ref_page(keys::quotes_partition(quoted), window).await?;
    Ok((cursors.clone(), cursors))
}

/// `me` revokes `quoting`'s quote of `quoted` (one of `me`'s statuses): the quote no longer
/// shows it (idempotent). 404 unless `me` may see both and `quoting` quotes `quoted`.
pub async fn revoke_quote(app: &App, me: Id, quoted: Id, quoting: Id) -> ApiResult<()> {
    let quoted = own_status(app, me, quoted).await?;
    let quoting = app.visible_record(Some(me), quoting).await?;
    let Some(quote) = quoting.quote.filter(|q| q.status == quoted.id) else { return Err(ApiError::NotFound) };
    match writes::revoke_quote(app, quote.status, quoting.id).await? {
        Ok(()) | Err(RevokeConflict::NotStanding) => Ok(()),
    }
}

/// The author of `status` changes who may quote it from now on (quotes made stand).
pub async fn set_quote_policy(app: &App, me: Id, status: Id, policy: QuotePolicy) -> ApiResult<()> {
    let mut record = own_status(app, me, status).await?;
    if record.reblog_of.is_some() {
        return Err(ApiError::invalid("Validation failed: Boosts have no quote policy"));
    }
    if record.quote_policy == Some(policy) {
        return Ok(());
    }
    record.quote_policy = Some(policy);
    match writes::set_quote_policy(app, &record).await? {
        Ok(()) => Ok(()),
        Err(EditConflict::StatusGone | EditConflict::MediaAlreadyAttached) => Err(ApiError::NotFound),
    }
}
