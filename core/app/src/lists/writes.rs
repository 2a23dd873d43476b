//! The store writes of lists and their members.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, ListOf, ListRecord, MembershipRecord, Ref};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why a change to a list did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListConflict {
    /// The list is gone (deleted meanwhile), or, creating, its id is taken.
    Gone,
}

/// Why adding or removing a member did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberConflict {
    /// Adding: the account is a member already (a concurrent add won). Removing: it is not
    /// (a concurrent removal won).
    Changed,
}

/// Creates `owner`'s list.
pub async fn create(app: &App, owner: Id, list: &ListRecord) -> ApiResult<Result<(), ListConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::list(owner, list.id), list, Condition::NotExists)?, ListConflict::Gone);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Replaces `owner`'s list as long as it still exists.
pub async fn update(app: &App, owner: Id, list: &ListRecord) -> ApiResult<Result<(), ListConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::list(owner, list.id), list, Condition::Exists)?, ListConflict::Gone);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Deletes `owner`'s list (its members are removed after, one by one).
pub async fn delete(app: &App, owner: Id, list: Id) -> ApiResult<Result<(), ListConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::list(owner, list), condition: Condition::Exists }, ListConflict::Gone);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Makes `account` a member of `owner`'s `list`: the membership, its listing entry, the
/// member's side (for fanout) and the count.
pub async fn add_member(app: &App, owner: Id, list: Id, account: Id, membership: &MembershipRecord) -> ApiResult<Result<(), MemberConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::list_member(list, account), membership, Condition::NotExists)?, MemberConflict::Changed);
    tx.push(model::put(keys::list_member_listing(list, membership.id), &Ref { id: account }, Condition::None)?);
    tx.push(model::put(keys::member_of(account, list), &ListOf { owner }, Condition::None)?);
    tx.push(Write::Add { key: keys::list_member_count(list), delta: 1 });
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Forgets a deleted list's member count (once its members are removed).
pub async fn forget_count(app: &App, list: Id) -> ApiResult<()> {
    Ok(app.store.transact(vec![Write::Delete { key: keys::list_member_count(list), condition: Condition::None }], vec![]).await?)
}

/// Removes the membership `membership` (as read) of `account` in `list`.
pub async fn remove_member(app: &App, list: Id, account: Id, membership: &MembershipRecord) -> ApiResult<Result<(), MemberConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::list_member(list, account), condition: Condition::Exists }, MemberConflict::Changed);
    tx.guard(Write::Delete { key: keys::list_member_listing(list, membership.id), condition: Condition::Exists }, MemberConflict::Changed);
    tx.push(Write::Delete { key: keys::member_of(account, list), condition: Condition::None });
    tx.push(Write::Add { key: keys::list_member_count(list), delta: -1 });
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}
