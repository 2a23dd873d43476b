//! The store writes of followed and featured tags.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, Ref, TagFollowRecord, TagName};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why a tag follow or feature change did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagConflict {
    /// The edge changed meanwhile (a concurrent request of the same account).
    Changed,
}

/// Follows `tag`: the edge, the follower's list entry and the tag's follower index entry.
pub async fn follow(app: &App, account: Id, tag: &str, follow: &TagFollowRecord) -> ApiResult<Result<(), TagConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::tag_follow_edge(account, tag), follow, Condition::NotExists)?, TagConflict::Changed);
    tx.push(model::put(keys::followed_tag_listing(account, follow.id), &TagName { name: tag.to_owned() }, Condition::None)?);
    tx.push(model::put(keys::tag_follower(tag, follow.id), &Ref { id: account }, Condition::None)?);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Ends the tag follow read (`Exists` on its edge) and its two index entries.
pub async fn unfollow(app: &App, account: Id, tag: &str, follow: &TagFollowRecord) -> ApiResult<Result<(), TagConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::tag_follow_edge(account, tag), condition: Condition::Exists }, TagConflict::Changed);
    // The list entry keyed by the follow's id names the exact follow read.
    tx.guard(Write::Delete { key: keys::followed_tag_listing(account, follow.id), condition: Condition::Exists }, TagConflict::Changed);
    tx.push(Write::Delete { key: keys::tag_follower(tag, follow.id), condition: Condition::None });
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Features `tag` on `account`'s profile.
pub async fn feature(app: &App, account: Id, tag: &str, featured: &TagFollowRecord) -> ApiResult<Result<(), TagConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::tag_feature_edge(account, tag), featured, Condition::NotExists)?, TagConflict::Changed);
    tx.push(model::put(keys::featured_tag_listing(account, featured.id), &TagName { name: tag.to_owned() }, Condition::None)?);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Stops featuring `tag` (the featured tag read).
pub async fn unfeature(app: &App, account: Id, tag: &str, featured: &TagFollowRecord) -> ApiResult<Result<(), TagConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::tag_feature_edge(account, tag), condition: Condition::Exists }, TagConflict::Changed);
    tx.guard(Write::Delete { key: keys::featured_tag_listing(account, featured.id), condition: Condition::Exists }, TagConflict::Changed);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}
