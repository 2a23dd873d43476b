//! The scheduled-status endpoints (`/api/v1/scheduled_statuses`): thin handlers that extract,
//! call [`service`], and render. Scheduling itself is `scheduled_at` on `POST /api/v1/statuses`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::wire;

use super::service;
use crate::App;
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{Input, PageParams, Paged, Params, RequestUrl, path_id};

/// `GET /api/v1/scheduled_statuses`: the caller's, newest first, paginated.
pub async fn index(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::ScheduledStatus>> {
    let me = auth.user(Scope::ReadStatuses)?;
    let window = page.request(20, 40)?.window();
    let records = service::list(&app, me, &window).await?;
    let mut entities = Vec::with_capacity(records.len());
    for record in &records {
        entities.push(service::entity(&app, record).await?);
    }
    let cursors: Vec<_> = records.iter().map(|r| r.id).collect();
    Ok(Paged::new(&app, &url, entities, &cursors))
}

/// `GET /api/v1/scheduled_statuses/:id`.
pub async fn show(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::ScheduledStatus>> {
    let me = auth.user(Scope::ReadStatuses)?;
    let record = service::show(&app, me, path_id(&id)?).await?;
    service::entity(&app, &record).await.map(Json)
}

/// Body of `PUT /api/v1/scheduled_statuses/:id`.
#[derive(Deserialize, Default)]
pub struct RescheduleParams {
    #[serde(default)]
    scheduled_at: Option<String>,
}

/// `PUT /api/v1/scheduled_statuses/:id`: a new time.
pub async fn update(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<RescheduleParams>) -> ApiResult<Json<wire::ScheduledStatus>> {
    let me = auth.user(Scope::WriteStatuses)?;
    let id = path_id(&id)?;
    let raw = p.scheduled_at.filter(|s| !s.trim().is_empty()).ok_or_else(|| ApiError::invalid("Validation failed: Scheduled at can't be blank"))?;
    let record = service::reschedule(&app, me, id, service::parse_time(&raw)?).await?;
    service::entity(&app, &record).await.map(Json)
}

/// `DELETE /api/v1/scheduled_statuses/:id`.
pub async fn delete(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteStatuses)?;
    service::delete(&app, me, path_id(&id)?).await?;
    Ok(Json(wire::Empty {}))
}
