//! Filing a report, and the reads of reports.

use shared::id::Id;

use super::writes;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, ReportRecord};
use crate::{App, clock, keys};

/// Most characters of a report's comment (Mastodon's limit).
pub const MAX_COMMENT_CHARS: usize = 1000;

/// Report categories.
pub const CATEGORIES: [&str; 4] = ["spam", "legal", "violation", "other"];

/// File a report.
pub struct FileReport {
    pub reporter: Id,
    pub target: Id,
    pub status_ids: Vec<Id>,
    pub comment: String,
    pub category: Option<String>,
    pub rule_ids: Vec<String>,
}

/// Files a report; the statuses must be the reported account's and visible to the reporter,
/// and a `violation` names at least one of the instance's rules.
pub async fn file(app: &App, cmd: FileReport) -> ApiResult<ReportRecord> {
    let FileReport { reporter, target, status_ids, comment, category, rule_ids } = cmd;
    if reporter == target {
        return Err(ApiError::invalid("Validation failed: You cannot report yourself"));
    }
    app.account_record(target).await?;
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(ApiError::invalid(format!("Validation failed: Comment is too long (maximum is {MAX_COMMENT_CHARS} characters)")));
    }
    crate::http::extract::refuse_nul(&comment)?;
    let category = match category.as_deref().filter(|c| !c.is_empty()) {
        None if !rule_ids.is_empty() => "violation".to_owned(),
        None => "other".to_owned(),
        Some(c) if CATEGORIES.contains(&c) => c.to_owned(),
        Some(_) => return Err(ApiError::invalid("Validation failed: Category is not included in the list")),
    };
    let rules = app.config.instance.rules();
    let rule_ids = if category == "violation" {
        if rule_ids.is_empty() || !rule_ids.iter().all(|id| rules.iter().any(|r| &r.id == id)) {
            return Err(ApiError::invalid("Validation failed: Rule ids must name the rules broken"));
        }
        rule_ids
    } else {
        Vec::new()
    };
    let mut statuses = Vec::new();
    for id in status_ids {
        let record = app.visible_record(Some(reporter), id).await?;
        if record.account_id != target {
            return Err(ApiError::invalid("Validation failed: Statuses must be the reported account's"));
        }
        if !statuses.contains(&record.id) {
            statuses.push(record.id);
        }
    }
    let now = clock::now_ms();
    let report = ReportRecord {
        id: app.next_id()?,
        reporter,
        target,
        status_ids: statuses,
        comment,
        category,
        rule_ids,
        created_at: now,
        updated_at: now,
        assigned: None,
        resolved: None,
    };
    writes::file(app, &report).await?;
    Ok(report)
}

impl App {
    /// One report, or 404.
    pub async fn report_record(&self, id: Id) -> ApiResult<ReportRecord> {
        let item = self.store.get(&keys::report(id)).await?.ok_or(ApiError::NotFound)?;
        model::decode(&item)
    }
}
