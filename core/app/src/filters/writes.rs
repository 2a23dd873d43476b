//! The store writes of filters: each filter is one item whose sort key carries its version, so
//! an update is "delete the version read, create the next" and two concurrent updates of one
//! filter cannot both commit.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, FilterRecord};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why a filter write did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterConflict {
    /// The version read is gone (a concurrent update or deletion won), or a new filter's
    /// item already exists.
    Changed,
}

/// Writes `next` in place of `previous` (`None`: a new filter).
pub async fn save(app: &App, account: Id, previous: Option<&FilterRecord>, next: &FilterRecord) -> ApiResult<Result<(), FilterConflict>> {
    let mut tx = Transaction::new();
    if let Some(previous) = previous {
        tx.guard(Write::Delete { key: keys::filter(account, previous.id, previous.version), condition: Condition::Exists }, FilterConflict::Changed);
    }
    tx.guard(model::put(keys::filter(account, next.id, next.version), next, Condition::NotExists)?, FilterConflict::Changed);
    changed(&mut tx, account);
    let committed = tx.commit(app.store.as_ref(), vec![]).await?;
    app.hot.filters.forget(&account);
    Ok(committed)
}

/// Deletes the filter as read.
pub async fn delete(app: &App, account: Id, previous: &FilterRecord) -> ApiResult<Result<(), FilterConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::filter(account, previous.id, previous.version), condition: Condition::Exists }, FilterConflict::Changed);
    changed(&mut tx, account);
    let committed = tx.commit(app.store.as_ref(), vec![]).await?;
    app.hot.filters.forget(&account);
    Ok(committed)
}

/// What the home shows changes with the filters: the edge's cached pages follow the counter.
fn changed(tx: &mut Transaction<FilterConflict>, account: Id) {
    tx.push(Write::Add { key: keys::relations_counter(account), delta: 1 });
}
