//! The scheduled-status use cases over typed commands: scheduling (checked as the post itself
//! would be, within Mastodon's limits), reading, rescheduling and deleting (the owner's only:
//! the records are in the owner's partition, so anyone else's id is simply not found), and
//! publishing one that is due.

use shared::id::Id;
use shared::page::Window;
use shared::token::secret_digest;
use shared::wire;

use super::writes::{self, ChangeConflict, ScheduleConflict};
use crate::error::{ApiError, ApiResult};
use crate::media::service::FileUrls;
use crate::model::{self, Ref, ScheduledDue, ScheduledPollRecord, ScheduledRecord};
use crate::polls::service::PollInput;
use crate::ports::Query;
use crate::statuses::service::{self as statuses, PostStatus, Publishing};
use crate::{App, keys, now_ms};

/// Schedule a status.
pub struct Schedule {
    /// The post, as it would be made now.
    pub post: PostStatus,
    /// When to publish it (ms).
    pub at: u64,
    /// The OAuth application scheduling it.
    pub application_id: Id,
}

/// `scheduled_at` as a client sends it (ISO 8601), or 422.
pub fn parse_time(raw: &str) -> ApiResult<u64> {
    wire::parse_timestamp(raw).ok_or_else(|| ApiError::invalid("Validation failed: Scheduled at is not a valid ISO 8601 date and time"))
}

/// Refuses a time less than `[scheduled] min_lead_secs` ahead of `now_ms` (one in the past too).
fn check_lead(app: &App, at: u64, now_ms: u64) -> ApiResult<()> {
    let lead = app.config.scheduled.min_lead_secs;
    if at >= now_ms + lead * 1000 {
        return Ok(());
    }
    let ahead = if lead >= 60 && lead % 60 == 0 { format!("{} minutes", lead / 60) } else { format!("{lead} seconds") };
    Err(ApiError::invalid(format!("Validation failed: Scheduled at must be at least {ahead} in the future")))
}

/// Ids of `account`'s waiting scheduled statuses (of one UTC day, or all), at most `limit`, oldest first.
async fn waiting(app: &App, account: Id, day: Option<&str>, limit: usize) -> ApiResult<Vec<Id>> {
    let prefix = day.map_or_else(|| keys::SCHEDULED_DAYS_PREFIX.to_owned(), keys::scheduled_day_prefix);
    let query = Query { prefix: Some(prefix), ..Query::partition(keys::account_partition(account), limit) };
    let mut ids: Vec<Id> = app.store.query(&query).await?.iter().filter_map(|i| i.key.sk.rsplit('#').next().and_then(Id::from_sort_key)).collect();
    ids.sort_unstable();
    Ok(ids)
}

fn over_total(max: usize) -> ApiError {
    ApiError::invalid(format!("Validation failed: You have exceeded the limit of {max} scheduled posts"))
}

fn over_daily(max: usize) -> ApiError {
    ApiError::invalid(format!("Validation failed: You have exceeded the limit of {max} scheduled posts for that day"))
}

/// Whether `mine` is among the first `max` of `ids` (oldest first), or room is left for it.
fn fits(ids: &[Id], mine: Option<Id>, max: usize) -> bool {
    match mine {
        Some(mine) => ids.iter().position(|id| *id == mine).is_none_or(|at| at < max),
        None => ids.len() < max,
    }
}

/// Schedules a status: checked as posting it now would be (text, reply, attachments, poll),
/// at least `[scheduled] min_lead_secs` ahead, within the limits per account and per day. Its
/// attachments are held for it. With an idempotency key, a retry returns the first one.
pub async fn schedule(app: &App, cmd: Schedule) -> ApiResult<ScheduledRecord> {
    let me = cmd.post.author;
    check_lead(app, cmd.at, now_ms())?;
    let ik = cmd.post.idempotency_key.as_deref().map(|k| keys::scheduled_idempotency(me, &secret_digest(k)));
    if let Some(key) = &ik
        && let Some(item) = app.store.get(key).await?
    {
        return earlier(app, me, model::decode::<Ref>(&item)?.id).await;
    }
    statuses::check(app, &cmd.post).await?;
    let limits = &app.config.scheduled;
    let day = wire::date(cmd.at);
    if !fits(&waiting(app, me, None, limits.max_per_account + 1).await?, None, limits.max_per_account) {
        return Err(over_total(limits.max_per_account));
    }
    if !fits(&waiting(app, me, Some(&day), limits.max_per_day + 1).await?, None, limits.max_per_day) {
        return Err(over_daily(limits.max_per_day));
    }
    let post = cmd.post;
    let visibility = match post.visibility {
        Some(v) => v,
        None => app.account_record(me).await?.default_visibility,
    };
    let record = ScheduledRecord {
        id: app.next_id()?,
        account: me,
        scheduled_at: cmd.at,
        text: post.text,
        spoiler_text: Some(post.spoiler_text).filter(|s| !s.is_empty()),
        sensitive: post.sensitive,
        visibility,
        language: post.language,
        in_reply_to: post.in_reply_to,
        media: app.attachable_media(me, &post.media).await?,
        poll: post.poll.map(|p| ScheduledPollRecord {
            options: p.options,
            expires_in: p.expires_in.unwrap_or_default(),
            multiple: p.multiple,
            hide_totals: p.hide_totals,
        }),
        idempotency: post.idempotency_key,
        application_id: cmd.application_id,
        application: post.client,
    };
    match writes::schedule(app, &record, ik.as_ref()).await? {
        Ok(()) => {}
        Err(ScheduleConflict::IdempotencyKeyTaken) => {
            // A concurrent retry with the same key committed first.
            let key = ik.as_ref().ok_or_else(|| ApiError::internal("idempotency key vanished"))?;
            let item = app.store.get(key).await?.ok_or_else(|| ApiError::Conflict("A request with this Idempotency-Key is in progress".into()))?;
            return earlier(app, me, model::decode::<Ref>(&item)?.id).await;
        }
        Err(ScheduleConflict::MediaAlreadyAttached) => {
            return Err(ApiError::invalid("Validation failed: Media attachments are already attached to another status"));
        }
    }
    // Concurrent requests may each have seen room for one more: the newest beyond a limit
    // steps back.
    let total = waiting(app, me, None, limits.max_per_account + 1).await?;
    let same_day = waiting(app, me, Some(&day), limits.max_per_day + 1).await?;
    let refusal = if !fits(&total, Some(record.id), limits.max_per_account) {
        Some(over_total(limits.max_per_account))
    } else if !fits(&same_day, Some(record.id), limits.max_per_day) {
        Some(over_daily(limits.max_per_day))
    } else {
        None
    };
    if let Some(refusal) = refusal {
        writes::remove(app, &record).await?.map_err(|ChangeConflict::Gone| ApiError::internal("a scheduled status vanished"))?;
        return Err(refusal);
    }
    Ok(record)
}

/// What an earlier request with the same idempotency key scheduled.
async fn earlier(app: &App, me: Id, id: Id) -> ApiResult<ScheduledRecord> {
    match find(app, me, id).await? {
        Some(record) => Ok(record),
        None => Err(ApiError::invalid("Validation failed: The status scheduled with this Idempotency-Key was already published or deleted")),
    }
}

async fn find(app: &App, me: Id, id: Id) -> ApiResult<Option<ScheduledRecord>> {
    app.store.get(&keys::scheduled_status(me, id)).await?.map(|item| model::decode(&item)).transpose()
}

/// One of `me`'s scheduled statuses, or 404 (also for anyone else's).
pub async fn show(app: &App, me: Id, id: Id) -> ApiResult<ScheduledRecord> {
    find(app, me, id).await?.ok_or(ApiError::NotFound)
}

/// A page of `me`'s scheduled statuses, newest first, with their ids (the cursors).
pub async fn list(app: &App, me: Id, window: &Window) -> ApiResult<Vec<ScheduledRecord>> {
    let mut items = app.store.query(&Query::window(keys::scheduled_statuses_partition(me), window)).await?;
    if window.oldest_first {
        items.reverse();
    }
    items.iter().map(model::decode).collect()
}

/// Moves one of `me`'s scheduled statuses to `at` (the same rules as scheduling); 404 when it
/// is not theirs, or was published or deleted meanwhile.
pub async fn reschedule(app: &App, me: Id, id: Id, at: u64) -> ApiResult<ScheduledRecord> {
    check_lead(app, at, now_ms())?;
    let before = show(app, me, id).await?;
    let day = wire::date(at);
    if day != wire::date(before.scheduled_at) {
        let max = app.config.scheduled.max_per_day;
        if !fits(&waiting(app, me, Some(&day), max + 1).await?, None, max) {
            return Err(over_daily(max));
        }
    }
    let after = ScheduledRecord { scheduled_at: at, ..before.clone() };
    match writes::reschedule(app, &before, &after).await? {
        Ok(()) => Ok(after),
        Err(ChangeConflict::Gone) => Err(ApiError::NotFound),
    }
}

/// Deletes one of `me`'s scheduled statuses (its attachments are free again); 404 when it is
/// not theirs, or was published or deleted meanwhile.
pub async fn delete(app: &App, me: Id, id: Id) -> ApiResult<()> {
    let record = show(app, me, id).await?;
    match writes::remove(app, &record).await? {
        Ok(()) => Ok(()),
        Err(ChangeConflict::Gone) => Err(ApiError::NotFound),
    }
}

/// The wire entity of a scheduled status (its owner is the only reader: attachments' URLs
/// are signed).
pub async fn entity(app: &App, r: &ScheduledRecord) -> ApiResult<wire::ScheduledStatus> {
    let media = app.media_records(&r.media).await?;
    let mut media_attachments = Vec::with_capacity(r.media.len());
    for record in r.media.iter().filter_map(|m| media.get(m)) {
        media_attachments.push(app.media_entity(record, FileUrls::Signed).await?);
    }
    let params = wire::ScheduledStatusParams {
        text: r.text.clone(),
        poll: r.poll.as_ref().map(|p| wire::ScheduledPoll {
            options: p.options.clone(),
            expires_in: p.expires_in,
            multiple: p.multiple,
            hide_totals: p.hide_totals,
        }),
        media_ids: (!r.media.is_empty()).then(|| r.media.iter().map(Id::to_string).collect()),
        sensitive: r.sensitive,
        spoiler_text: r.spoiler_text.clone(),
        visibility: r.visibility,
        in_reply_to_id: r.in_reply_to.map(Id::as_u64),
        language: r.language.clone(),
        idempotency: r.idempotency.clone(),
        application_id: r.application_id.as_u64(),
        with_rate_limit: false,
        scheduled_at: None,
    };
    Ok(wire::ScheduledStatus { id: r.id, scheduled_at: wire::timestamp(r.scheduled_at), params, media_attachments })
}

/// Publishes the scheduled status `due` names, due at `at`: posted as a request would post it
/// now, in the transaction that removes it (claiming its schedule entry, so one process posts
/// it). One that can no longer be posted (its author suspended or disabled, the status it
/// replies to gone, its text over a lowered limit) is dropped, as Mastodon does. Returns whether
/// this call did either; an unavailable store leaves it for the next scan.
pub async fn publish(app: &App, at: u64, due: ScheduledDue) -> ApiResult<bool> {
    let Some(record) = find(app, due.account, due.id).await? else {
        // Removed with its entry in one commit, so this entry was just claimed elsewhere.
        return Ok(false);
    };
    if record.scheduled_at != at {
        // Rescheduled meanwhile: its entry moved with it.
        return Ok(false);
    }
    let moderation = app.moderation(record.account).await?;
    if moderation.suspended_at.is_some() || moderation.disabled {
        return drop_unpublishable(app, &record, "its author can no longer post").await;
    }
    let post = PostStatus {
        author: record.account,
        client: record.application.clone(),
        text: record.text.clone(),
        spoiler_text: record.spoiler_text.clone().unwrap_or_default(),
        sensitive: record.sensitive,
        visibility: Some(record.visibility),
        language: record.language.clone(),
        in_reply_to: record.in_reply_to,
        media: record.media.iter().map(Id::to_string).collect(),
        idempotency_key: None,
        quoted_status: None,
        quote_policy: None,
        poll: record.poll.clone().map(|p| PollInput { options: p.options, expires_in: Some(p.expires_in), multiple: p.multiple, hide_totals: p.hide_totals }),
    };
    let publishing = Publishing { claim: keys::scheduled_due(at, record.id), retire: writes::items_of(&record) };
    match statuses::publish(app, &post, &publishing).await {
        Ok(published) => Ok(published.is_some()),
        Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_) | ApiError::TooManyRequests { .. })) => Err(e),
        Err(refused) => drop_unpublishable(app, &record, &format!("{refused:?}")).await,
    }
}

async fn drop_unpublishable(app: &App, record: &ScheduledRecord, why: &str) -> ApiResult<bool> {
    tracing::warn!(scheduled = %record.id, account = %record.account, why, "dropping a scheduled status that cannot be posted");
    Ok(writes::remove(app, record).await?.is_ok())
}
