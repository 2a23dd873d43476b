//! The block and mute use cases, and the reads the rest of the app asks of them.

use shared::id::Id;

use super::writes::{self, BlockConflict, MuteConflict};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, BlockRecord, MuteRecord};
use crate::relationships::service::unfollow;
use crate::transaction::RACE_RETRIES;
use crate::{App, keys, streaming};

/// Mute an account.
pub struct Mute {
    pub muter: Id,
    pub target: Id,
    /// Mute its notifications too (Mastodon's default: yes).
    pub notifications: bool,
    /// Seconds until the mute lifts by itself; `None`: never.
    pub duration_secs: Option<u64>,
}

/// Makes `blocker` block `target` (idempotent): the follows between them end both ways, and
/// from then on neither sees nor reaches the other.
pub async fn block(app: &App, blocker: Id, target: Id) -> ApiResult<()> {
    if blocker == target {
        return Err(ApiError::Forbidden("You cannot block yourself".into()));
    }
    app.account_record(target).await?;
    // The block first: from its commit on, no new follow between the two is accepted, so the
    // unfollows below leave none behind.
    for _ in 0..RACE_RETRIES {
        if block_record(app, blocker, target).await?.is_some() {
            break;
        }
        match writes::block(app, blocker, target, &BlockRecord { id: app.next_id()? }).await? {
            Ok(()) => break,
            Err(BlockConflict::Changed) => continue,
        }
    }
    streaming::relations_changed(app, blocker).await;
    streaming::relations_changed(app, target).await;
    // Unfollowing also withdraws a pending follow request.
    unfollow(app, blocker, target).await?;
    unfollow(app, target, blocker).await?;
    Ok(())
}

/// Makes `blocker` stop blocking `target` (idempotent).
pub async fn unblock(app: &App, blocker: Id, target: Id) -> ApiResult<()> {
    app.account_record(target).await?;
    for _ in 0..RACE_RETRIES {
        let Some(block) = block_record(app, blocker, target).await? else { return Ok(()) };
        match writes::unblock(app, blocker, target, &block).await? {
            Ok(()) => {
                streaming::relations_changed(app, blocker).await;
                streaming::relations_changed(app, target).await;
                return Ok(());
            }
            Err(BlockConflict::Changed) => continue,
        }
    }
    Ok(())
}

/// Makes `muter` mute `target`; muting again changes the options and the duration.
pub async fn mute(app: &App, cmd: Mute) -> ApiResult<()> {
    let Mute { muter, target, notifications, duration_secs } = cmd;
    if muter == target {
        return Err(ApiError::Forbidden("You cannot mute yourself".into()));
    }
    app.account_record(target).await?;
    let expires_at = duration_secs.map(|secs| crate::clock::now_ms().saturating_add(secs.saturating_mul(1000)));
    for _ in 0..RACE_RETRIES {
        let previous = mute_record(app, muter, target).await?;
        let id = match &previous {
            Some(p) => p.id,
            None => app.next_id()?,
        };
        let record = MuteRecord { id, notifications, expires_at };
        let ends = mute_ends(app, muter, expires_at).await?;
        match writes::mute(app, muter, target, &record, previous.as_ref(), &ends).await? {
            Ok(()) => {
                streaming::relations_changed(app, muter).await;
                return Ok(());
            }
            Err(MuteConflict::Changed) => continue,
        }
    }
    Ok(())
}

/// Makes `muter` stop muting `target` (idempotent).
pub async fn unmute(app: &App, muter: Id, target: Id) -> ApiResult<()> {
    app.account_record(target).await?;
    for _ in 0..RACE_RETRIES {
        let Some(mute) = mute_record(app, muter, target).await? else { return Ok(()) };
        match writes::unmute(app, muter, target, &mute).await? {
            Ok(()) => {
                streaming::relations_changed(app, muter).await;
                return Ok(());
            }
            Err(MuteConflict::Changed) => continue,
        }
    }
    Ok(())
}

/// When `muter`'s timed mutes end, with `new` added: the recorded ends still to come (the ones
/// past have lifted already and count no more).
async fn mute_ends(app: &App, muter: Id, new: Option<u64>) -> ApiResult<Vec<u64>> {
    let now = crate::clock::now_ms();
    let mut ends: Vec<u64> = app.store.get(&keys::mute_ends(muter)).await?.map(|item| model::decode(&item)).transpose()?.unwrap_or_default();
    ends.retain(|end| *end > now);
    ends.extend(new);
    ends.sort_unstable();
    ends.dedup();
    Ok(ends)
}

/// `blocker`'s block of `target`, if any.
pub async fn block_record(app: &App, blocker: Id, target: Id) -> ApiResult<Option<BlockRecord>> {
    app.store.get(&keys::block_edge(blocker, target)).await?.map(|item| model::decode(&item)).transpose()
}

/// `muter`'s mute of `target`, if any (expired ones too: see [`MuteRecord::active`]).
pub async fn mute_record(app: &App, muter: Id, target: Id) -> ApiResult<Option<MuteRecord>> {
    app.store.get(&keys::mute_edge(muter, target)).await?.map(|item| model::decode(&item)).transpose()
}
