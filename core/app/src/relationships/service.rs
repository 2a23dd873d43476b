//! The relationship use cases: follow and unfollow, and the reads of the graph.

use shared::id::Id;
use shared::wire;

use super::writes::{self, FollowConflict, UnfollowConflict};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, FollowRecord, MuteRecord};
use crate::transaction::RACE_RETRIES;
use crate::{App, keys};

/// Follow an account; `None` options keep an existing follow's (or take the defaults).
pub struct Follow {
    pub follower: Id,
    pub target: Id,
    /// Show the target's boosts in the follower's home.
    pub reblogs: Option<bool>,
    /// Notify the follower of the target's posts.
    pub notify: Option<bool>,
}

/// Makes `follower` follow `target` (idempotent; repeated calls update the options).
pub async fn follow(app: &App, cmd: Follow) -> ApiResult<()> {
    let Follow { follower, target, reblogs, notify } = cmd;
    if follower == target {
        return Err(ApiError::Forbidden("You cannot follow yourself".into()));
    }
    app.account_record(target).await?;
    if crate::safety::service::blocked_either_way(app, follower, target).await? {
        return Err(ApiError::Forbidden("This action is not allowed".into()));
    }
    for _ in 0..RACE_RETRIES {
        let outcome = match app.follow_edge(follower, target).await? {
            Some(mut existing) => {
                existing.reblogs = reblogs.unwrap_or(existing.reblogs);
                existing.notify = notify.unwrap_or(existing.notify);
                writes::update_follow(app, follower, target, &existing).await?
            }
            None => {
                let edge = FollowRecord { id: app.next_id()?, reblogs: reblogs.unwrap_or(true), notify: notify.unwrap_or(false) };
                writes::follow(app, follower, target, &edge).await?
            }
        };
        match outcome {
            Ok(()) => return Ok(()),
            // A concurrent follow or unfollow won: try again against what it left.
            Err(FollowConflict::AlreadyFollowing | FollowConflict::EdgeReplaced) => continue,
        }
    }
    // Lost every race: the caller is answered with the relationship the winners left.
    Ok(())
}

/// Makes `follower` stop following `target` (idempotent).
pub async fn unfollow(app: &App, follower: Id, target: Id) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        let Some(edge) = app.follow_edge(follower, target).await? else { return Ok(()) };
        match writes::unfollow(app, follower, target, &edge).await? {
            Ok(()) => return Ok(()),
            // A concurrent unfollow (and maybe a follow after it) won: look again.
            Err(UnfollowConflict::NotFollowing) => continue,
        }
    }
    Ok(())
}

impl App {
    /// The follow edge from `follower` to `target`, if any.
    pub async fn follow_edge(&self, follower: Id, target: Id) -> ApiResult<Option<FollowRecord>> {
        match self.store.get(&keys::follow_edge(follower, target)).await? {
            Some(item) => model::decode(&item).map(Some),
            None => Ok(None),
        }
    }

    /// The viewer's relationship to `other`.
    pub async fn relationship(&self, viewer: Id, other: Id) -> ApiResult<wire::Relationship> {
        let items = self
            .store
            .get_many(&[
                keys::follow_edge(viewer, other),
                keys::follow_edge(other, viewer),
                keys::block_edge(viewer, other),
                keys::blocked_by(viewer, other),
                keys::mute_edge(viewer, other),
            ])
            .await?;
        let outgoing: Option<FollowRecord> = items[0].as_ref().map(model::decode).transpose()?;
        let mute: Option<MuteRecord> = items[4].as_ref().map(model::decode::<MuteRecord>).transpose()?.filter(|m| m.active(crate::clock::now_ms()));
        Ok(wire::Relationship {
            id: other,
            following: outgoing.is_some(),
            showing_reblogs: outgoing.is_some_and(|f| f.reblogs),
            notifying: outgoing.is_some_and(|f| f.notify),
            languages: None,
            followed_by: items[1].is_some(),
            blocking: items[2].is_some(),
            blocked_by: items[3].is_some(),
            muting: mute.is_some(),
            muting_notifications: mute.is_some_and(|m| m.notifications),
            requested: false,
            requested_by: false,
            domain_blocking: false,
            endorsed: false,
            note: String::new(),
        })
    }
}
