//! The store writes of reports.

use crate::error::ApiResult;
use crate::model::{self, Ref, ReportRecord};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why a change to a report did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportConflict {
    /// The report changed since it was read (another moderator acted).
    Changed,
}

/// Files a new report and lists it among the open ones.
pub async fn file(app: &App, report: &ReportRecord) -> ApiResult<()> {
    let writes = vec![
        model::put(keys::report(report.id), report, Condition::NotExists)?,
        model::put(keys::report_listing(false, report.id), &Ref { id: report.id }, Condition::None)?,
    ];
    Ok(app.store.transact(writes, vec![]).await?)
}

/// Writes the report `after`. When `from` is the state it was read in (`true`: resolved) and
/// `after` is in the other, its listing moves too, on the condition that it is still listed
/// where it was read: of two moderators resolving at once, one commits and the other gets
/// [`ReportConflict::Changed`]. Other changes (assignment) are last-writer-wins.
pub async fn update(app: &App, from: bool, after: &ReportRecord) -> ApiResult<Result<(), ReportConflict>> {
    let mut tx = Transaction::new();
    let to = after.resolved.is_some();
    if from != to {
        tx.guard(Write::Delete { key: keys::report_listing(from, after.id), condition: Condition::Exists }, ReportConflict::Changed);
        tx.push(model::put(keys::report_listing(to, after.id), &Ref { id: after.id }, Condition::None)?);
    }
    tx.push(model::put(keys::report(after.id), after, Condition::Exists)?);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}
