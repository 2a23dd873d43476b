//! The reporting endpoint.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::wire;

use super::service::{self, FileReport};
use crate::App;
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{Input, flag, path_id, string_list};

/// Body of `POST /api/v1/reports`.
#[derive(Deserialize)]
pub struct ReportParams {
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    status_ids: Vec<String>,
    #[serde(default, rename = "status_ids[]", deserialize_with = "string_list")]
    status_ids_form: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
    /// Forwarding to the account's server: all accounts are local, so there is nothing to do.
    #[serde(default, deserialize_with = "flag")]
    #[allow(dead_code)]
    forward: Option<bool>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    rule_ids: Vec<String>,
    #[serde(default, rename = "rule_ids[]", deserialize_with = "string_list")]
    rule_ids_form: Vec<String>,
}

/// `POST /api/v1/reports`.
pub async fn file(State(app): State<App>, auth: Auth, Input(p): Input<ReportParams>) -> ApiResult<Json<wire::Report>> {
    let me = auth.user(Scope::WriteReports)?;
    let target = p.account_id.as_deref().filter(|a| !a.is_empty()).ok_or_else(|| ApiError::invalid("Validation failed: Account is required"))?;
    let target = path_id(target)?;
    let status_ids = p.status_ids.iter().chain(&p.status_ids_form).map(|s| path_id(s)).collect::<ApiResult<Vec<_>>>()?;
    let cmd = FileReport {
        reporter: me,
        target,
        status_ids,
        comment: p.comment.unwrap_or_default(),
        category: p.category,
        rule_ids: p.rule_ids.into_iter().chain(p.rule_ids_form).collect(),
    };
    let report = service::file(&app, cmd).await?;
    let target_account = app.account(report.target).await?;
    Ok(Json(wire::Report {
        id: report.id.to_string(),
        action_taken: false,
        action_taken_at: None,
        category: report.category,
        comment: report.comment,
        forwarded: false,
        created_at: wire::timestamp(report.created_at),
        status_ids: Some(report.status_ids.iter().map(ToString::to_string).collect()),
        rule_ids: Some(report.rule_ids),
        target_account,
    }))
}
