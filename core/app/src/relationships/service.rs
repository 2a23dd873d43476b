//! The relationship use cases: follow and unfollow, and the reads of the graph.

use shared::id::Id;
use shared::wire;

use super::writes::{self, FollowConflict, RequestConflict, UnfollowConflict};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, FollowRecord, MuteRecord, Ref};
use crate::ports::Query;
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

/// Makes `follower` follow `target` (idempotent; repeated calls update the options). A locked
/// target gets a follow request instead, which it authorizes or rejects.
pub async fn follow(app: &App, cmd: Follow) -> ApiResult<()> {
    let Follow { follower, target, reblogs, notify } = cmd;
    if follower == target {
        return Err(ApiError::Forbidden("You cannot follow yourself".into()));
    }
    let target_record = app.account_record(target).await?;
    if crate::policy::visibility::blocked_between(app, follower, target).await? {
        return Err(ApiError::Forbidden("This action is not allowed".into()));
    }
    for _ in 0..RACE_RETRIES {
        let outcome = match app.follow_edge(follower, target).await? {
            Some(mut existing) => {
                existing.reblogs = reblogs.unwrap_or(existing.reblogs);
                existing.notify = notify.unwrap_or(existing.notify);
                writes::update_follow(app, follower, target, &existing).await?
            }
            None if target_record.locked => match request(app, follower, target, reblogs, notify).await? {
                Ok(()) => return Ok(()),
                Err(_) => continue,
            },
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

/// Asks `target` to be followed by `follower`; asking again updates the request's options.
async fn request(app: &App, follower: Id, target: Id, reblogs: Option<bool>, notify: Option<bool>) -> ApiResult<Result<(), RequestConflict>> {
    let previous = app.follow_request(follower, target).await?;
    let request = match &previous {
        Some(p) => FollowRecord { id: p.id, reblogs: reblogs.unwrap_or(p.reblogs), notify: notify.unwrap_or(p.notify) },
        None => FollowRecord { id: app.next_id()?, reblogs: reblogs.unwrap_or(true), notify: notify.unwrap_or(false) },
    };
    writes::request(app, follower, target, &request, previous.as_ref()).await
}

/// `target` accepts `follower`'s request: the follow begins (404 when there is none).
pub async fn authorize(app: &App, target: Id, follower: Id) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        let Some(request) = app.follow_request(follower, target).await? else { return Err(ApiError::NotFound) };
        match writes::authorize(app, follower, target, &request).await? {
            Ok(()) => return Ok(()),
            // Following already (the request was left over): the request just goes.
            Err(RequestConflict::AlreadyFollowing) => return close_request(app, follower, target).await,
            Err(RequestConflict::Changed) => continue,
        }
    }
    Ok(())
}

/// Drops `follower`'s request to follow `target`, if any (a rejection, or a withdrawal).
pub async fn close_request(app: &App, follower: Id, target: Id) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        let Some(request) = app.follow_request(follower, target).await? else { return Ok(()) };
        match writes::close_request(app, follower, target, &request).await? {
            Ok(()) => return Ok(()),
            Err(_) => continue,
        }
    }
    Ok(())
}

/// Authorizes every pending request to follow `target` (when it unlocks).
pub async fn authorize_all(app: &App, target: Id) -> ApiResult<()> {
    loop {
        let pending = app.store.query(&Query::partition(keys::follow_requests_partition(target), 100)).await?;
        if pending.is_empty() {
            return Ok(());
        }
        for item in &pending {
            let follower = model::decode::<Ref>(item)?.id;
            match authorize(app, target, follower).await {
                Ok(()) | Err(ApiError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Makes `follower` stop following `target` (idempotent); a pending request is withdrawn.
pub async fn unfollow(app: &App, follower: Id, target: Id) -> ApiResult<()> {
    close_request(app, follower, target).await?;
    for _ in 0..RACE_RETRIES {
        let Some(edge) = app.follow_edge(follower, target).await? else { return Ok(()) };
        // An endorsement needs the follow: it ends in the same commit.
        let endorsement = crate::endorsements::service::endorsement(app, follower, target).await?;
        match writes::unfollow(app, follower, target, &edge, endorsement.as_ref()).await? {
            // As Mastodon, a list holds followed accounts only.
            Ok(()) => return crate::lists::service::follow_ended(app, follower, target).await,
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

    /// `follower`'s pending request to follow `target`, if any.
    pub async fn follow_request(&self, follower: Id, target: Id) -> ApiResult<Option<FollowRecord>> {
        self.store.get(&keys::follow_request_edge(follower, target)).await?.map(|item| model::decode(&item)).transpose()
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
                keys::follow_request_edge(viewer, other),
                keys::requested_by(viewer, other),
                keys::endorse_edge(viewer, other),
                keys::note_edge(viewer, other),
            ])
            .await?;
        let note: Option<model::NoteRecord> = items[8].as_ref().map(model::decode).transpose()?;
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
            requested: items[5].is_some(),
            requested_by: items[6].is_some(),
            domain_blocking: false,
            endorsed: items[7].is_some(),
            note: note.map(|n| n.comment).unwrap_or_default(),
        })
    }
}
