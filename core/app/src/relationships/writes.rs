//! The store writes of the relationship use cases.

use shared::id::Id;

use crate::error::ApiResult;
use crate::events::Event;
use crate::model::{self, EndorsementRecord, FollowRecord, Ref};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why a follow did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowConflict {
    /// The edge exists (a concurrent follow won).
    AlreadyFollowing,
    /// The edge whose options were being changed is gone or replaced (a concurrent unfollow,
    /// maybe followed by a follow, won).
    EdgeReplaced,
}

/// Why an unfollow did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnfollowConflict {
    /// The edge read is gone or replaced (a concurrent unfollow, maybe followed by a follow,
    /// won).
    NotFollowing,
}

/// The item that subscribes `follower` to `target`'s posts, or removes it.
fn subscription(follower: Id, target: Id, notify: bool) -> ApiResult<Write> {
    Ok(if notify {
        model::put(keys::notify_subscriber(target, follower), &Ref { id: follower }, Condition::None)?
    } else {
        Write::Delete { key: keys::notify_subscriber(target, follower), condition: Condition::None }
    })
}

/// Why a follow request did not commit, or could not be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestConflict {
    /// The request read is gone or replaced, or one was made concurrently.
    Changed,
    /// The follow exists already (authorizing).
    AlreadyFollowing,
}

/// The writes that make `follower` follow `target`: the edge (both ways), both list entries, the
/// counters.
fn push_follow<C: Copy>(tx: &mut Transaction<C>, follower: Id, target: Id, edge: &FollowRecord, already: C) -> ApiResult<()> {
    tx.guard(model::put(keys::follow_edge(follower, target), edge, Condition::NotExists)?, already);
    tx.push(model::put(keys::following(follower, edge.id), &Ref { id: target }, Condition::NotExists)?);
    tx.push(model::put(keys::followers(target, edge.id), &Ref { id: follower }, Condition::NotExists)?);
    tx.push(model::put(keys::followed_by(target, follower), &Ref { id: edge.id }, Condition::None)?);
    tx.push(Write::Add { key: keys::account_counter(follower, keys::AccountCounter::Following), delta: 1 });
    tx.push(Write::Add { key: keys::account_counter(target, keys::AccountCounter::Followers), delta: 1 });
    if edge.notify {
        tx.push(subscription(follower, target, true)?);
    }
    Ok(())
}

/// The writes that remove the request `request` (as read) of `follower` to follow `target`.
fn push_close_request(tx: &mut Transaction<RequestConflict>, follower: Id, target: Id, request: &FollowRecord) {
    tx.guard(Write::Delete { key: keys::follow_request_edge(follower, target), condition: Condition::Exists }, RequestConflict::Changed);
    tx.guard(Write::Delete { key: keys::follow_request_listing(target, request.id), condition: Condition::Exists }, RequestConflict::Changed);
    tx.push(Write::Delete { key: keys::requested_by(target, follower), condition: Condition::None });
}

/// Creates the follow edge, both list entries and the counters.
pub async fn follow(app: &App, follower: Id, target: Id, edge: &FollowRecord) -> ApiResult<Result<(), FollowConflict>> {
    let mut tx = Transaction::new();
    push_follow(&mut tx, follower, target, edge, FollowConflict::AlreadyFollowing)?;
    Ok(tx.commit(app.store.as_ref(), vec![Event::Followed { follower, target }]).await?)
}

/// Records `follower`'s request to follow `target` (with the follow's options), or, with
/// `previous`, new options for the request read.
pub async fn request(app: &App, follower: Id, target: Id, request: &FollowRecord, previous: Option<&FollowRecord>) -> ApiResult<Result<(), RequestConflict>> {
    let mut tx = Transaction::new();
    if let Some(previous) = previous {
        tx.guard(model::put(keys::follow_request_edge(follower, target), request, Condition::Exists)?, RequestConflict::Changed);
        tx.guard(model::put(keys::follow_request_listing(target, previous.id), &Ref { id: follower }, Condition::Exists)?, RequestConflict::Changed);
        return Ok(tx.commit(app.store.as_ref(), vec![]).await?);
    }
    tx.guard(model::put(keys::follow_request_edge(follower, target), request, Condition::NotExists)?, RequestConflict::Changed);
    tx.push(model::put(keys::requested_by(target, follower), &Ref { id: follower }, Condition::None)?);
    tx.push(model::put(keys::follow_request_listing(target, request.id), &Ref { id: follower }, Condition::None)?);
    Ok(tx.commit(app.store.as_ref(), vec![Event::FollowRequested { follower, target }]).await?)
}

/// Turns the request read into the follow it asked for (keeping its id and options).
pub async fn authorize(app: &App, follower: Id, target: Id, request: &FollowRecord) -> ApiResult<Result<(), RequestConflict>> {
    let mut tx = Transaction::new();
    push_close_request(&mut tx, follower, target, request);
    push_follow(&mut tx, follower, target, request, RequestConflict::AlreadyFollowing)?;
    Ok(tx.commit(app.store.as_ref(), vec![Event::FollowRequestClosed { follower, target, authorized: true }]).await?)
}

/// Drops the request read (rejected by `target`, or withdrawn by `follower`).
pub async fn close_request(app: &App, follower: Id, target: Id, request: &FollowRecord) -> ApiResult<Result<(), RequestConflict>> {
    let mut tx = Transaction::new();
    push_close_request(&mut tx, follower, target, request);
    Ok(tx.commit(app.store.as_ref(), vec![Event::FollowRequestClosed { follower, target, authorized: false }]).await?)
}

/// Changes an existing follow's options: the edge must still be the one read (its `following`
/// entry, keyed by the edge's id, still there).
pub async fn update_follow(app: &App, follower: Id, target: Id, edge: &FollowRecord) -> ApiResult<Result<(), FollowConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::follow_edge(follower, target), edge, Condition::Exists)?, FollowConflict::EdgeReplaced);
    tx.guard(model::put(keys::following(follower, edge.id), &Ref { id: target }, Condition::Exists)?, FollowConflict::EdgeReplaced);
    tx.push(subscription(follower, target, edge.notify)?);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Removes the follow edge (both ways), both list entries, the counters, the post subscription and the
/// endorsement read (`endorsement`), if any. The edge
/// must still be the one read (its `following` entry, keyed by the edge's id, still there), or
/// a replacing follow's list entries would be orphaned.
pub async fn unfollow(
    app: &App,
    follower: Id,
    target: Id,
    edge: &FollowRecord,
    endorsement: Option<&EndorsementRecord>,
) -> ApiResult<Result<(), UnfollowConflict>> {
    let mut tx = Transaction::new();
    // The endorsement as read goes too (or, none read, none may have appeared meanwhile).
    crate::endorsements::writes::push_unendorse(&mut tx, follower, target, endorsement, UnfollowConflict::NotFollowing);
    tx.guard(Write::Delete { key: keys::follow_edge(follower, target), condition: Condition::Exists }, UnfollowConflict::NotFollowing);
    tx.guard(Write::Delete { key: keys::following(follower, edge.id), condition: Condition::Exists }, UnfollowConflict::NotFollowing);
    tx.push(Write::Delete { key: keys::followers(target, edge.id), condition: Condition::None });
    tx.push(Write::Delete { key: keys::followed_by(target, follower), condition: Condition::None });
    tx.push(Write::Add { key: keys::account_counter(follower, keys::AccountCounter::Following), delta: -1 });
    tx.push(Write::Add { key: keys::account_counter(target, keys::AccountCounter::Followers), delta: -1 });
    tx.push(Write::Delete { key: keys::notify_subscriber(target, follower), condition: Condition::None });
    Ok(tx.commit(app.store.as_ref(), vec![Event::Unfollowed { follower, target }]).await?)
}
