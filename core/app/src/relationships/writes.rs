//! The store writes of the relationship use cases.

use shared::id::Id;

use crate::error::ApiResult;
use crate::events::Event;
use crate::model::{self, FollowRecord, Ref};
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

/// Creates the follow edge, both list entries and the counters.
pub async fn follow(app: &App, follower: Id, target: Id, edge: &FollowRecord) -> ApiResult<Result<(), FollowConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::follow_edge(follower, target), edge, Condition::NotExists)?, FollowConflict::AlreadyFollowing);
    tx.push(model::put(keys::following(follower, edge.id), &Ref { id: target }, Condition::NotExists)?);
    tx.push(model::put(keys::followers(target, edge.id), &Ref { id: follower }, Condition::NotExists)?);
    tx.push(Write::Add { key: keys::account_counter(follower, keys::AccountCounter::Following), delta: 1 });
    tx.push(Write::Add { key: keys::account_counter(target, keys::AccountCounter::Followers), delta: 1 });
    if edge.notify {
        tx.push(subscription(follower, target, true)?);
    }
    Ok(tx.commit(app.store.as_ref(), vec![Event::Followed { follower, target }]).await?)
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

/// Removes the follow edge, both list entries, the counters and the post subscription. The edge
/// must still be the one read (its `following` entry, keyed by the edge's id, still there), or
/// a replacing follow's list entries would be orphaned.
pub async fn unfollow(app: &App, follower: Id, target: Id, edge: &FollowRecord) -> ApiResult<Result<(), UnfollowConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::follow_edge(follower, target), condition: Condition::Exists }, UnfollowConflict::NotFollowing);
    tx.guard(Write::Delete { key: keys::following(follower, edge.id), condition: Condition::Exists }, UnfollowConflict::NotFollowing);
    tx.push(Write::Delete { key: keys::followers(target, edge.id), condition: Condition::None });
    tx.push(Write::Add { key: keys::account_counter(follower, keys::AccountCounter::Following), delta: -1 });
    tx.push(Write::Add { key: keys::account_counter(target, keys::AccountCounter::Followers), delta: -1 });
    tx.push(Write::Delete { key: keys::notify_subscriber(target, follower), condition: Condition::None });
    Ok(tx.commit(app.store.as_ref(), vec![Event::Unfollowed { follower, target }]).await?)
}
