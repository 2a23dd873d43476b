//! Operational endpoints: `GET /ready` (every backend port pinged, JSON, 503 when one is down)
//! and `GET /metrics` (Prometheus text format), plus the middleware that counts requests.
//!
//! The counters are hand-rolled (a mutex-guarded map per route and atomics), which is all the
//! text format needs; gauges that live elsewhere (consumer lag, backend state) are read when
//! scraped.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::wire::{BackendState, Readiness};

use crate::App;
use crate::error::ApiError;
use crate::metrics::LogPositions;

/// How long a backend may take to answer a readiness ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The event-log consumers that keep checkpoints (their lag is exported).
pub const CONSUMERS: [&str; 4] = ["fanout", "search", "notifications", "conversations"];

/// A bounded label for the method (anything unusual is `other`).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts every response and its latency under the matched route template
/// (`unmatched` for paths no route knows, so scanners cannot inflate the label set).
pub(crate) async fn track(State(app): State<App>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = method_label(req.method());
    let start = Instant::now();
    let response = next.run(req).await;
    app.metrics.observe(route, method, response.status().as_u16(), start.elapsed());
    response
}

/// `GET /ready`: 200 with every backend's state when all answer, 503 with the same body when
/// one does not (causes are logged, not sent).
pub(crate) async fn ready(State(app): State<App>) -> Response {
    let backends = ping_all(&app).await;
    let up = backends.iter().all(|b| b.up);
    let body = Readiness { status: if up { "ready" } else { "unavailable" }.into(), backends };
    (if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text format; bearer token required when `[metrics] token` is set.
pub(crate) async fn metrics(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = &app.config.metrics.token {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
        if !shared::token::secure_eq(given.trim().as_bytes(), token.as_bytes()) {
            return Err(ApiError::Unauthorized);
        }
    }
    let (backends, log) = tokio::join!(ping_all(&app), log_positions(&app));
    let mut text = app.metrics.render(&backends, &log);
    text.push_str(&app.decodes.exposition());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

async fn log_positions(app: &App) -> LogPositions {
    let read = async {
        let head = app.events.head().await?;
        let mut checkpoints = Vec::with_capacity(CONSUMERS.len());
        // Fed from Kinesis, their log checkpoints stand still: their lag is the stream's
        // iterator age (CloudWatch `GetRecords.IteratorAgeMilliseconds`), not a log lag.
        let tailing = if app.runs_external_consumers() { &[][..] } else { &CONSUMERS[..] };
        for consumer in tailing {
            checkpoints.push((*consumer, app.events.checkpoint(consumer).await?));
        }
        Ok::<_, crate::ports::StoreError>(LogPositions { head: Some(head), checkpoints })
    };
    match tokio::time::timeout(PING_TIMEOUT, read).await {
        Ok(Ok(positions)) => positions,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: cannot read event-log positions");
            LogPositions { head: None, checkpoints: Vec::new() }
        }
        Err(_) => {
            tracing::warn!("metrics: reading event-log positions timed out");
            LogPositions { head: None, checkpoints: Vec::new() }
        }
    }
}

/// Pings every backend port concurrently.
async fn ping_all(app: &App) -> Vec<BackendState> {
    // The node lease reports unready once half of it is left unrenewed: the load balancer
    // drains this task well before its ids would be refused.
    let lease_margin_ms = app.config.node_lease.lease_secs.saturating_mul(500);
    let (store, events, timelines, rate_limits, search, media, streams, node_lease) = tokio::join!(
        probe("store", app.store.ping()),
        probe("events", async { app.events.head().await.map(|_| ()) }),
        probe("timelines", app.timelines.ping()),
        probe("rate_limits", app.rate_limits.ping()),
        probe("search", app.search.ping()),
        probe("media", app.media.ping()),
        probe("streams", app.streams.ping()),
        probe("node_lease", async { app.ids.check(crate::now_ms(), lease_margin_ms) }),
    );
    vec![store, events, timelines, rate_limits, search, media, streams, node_lease]
}

async fn probe<E: std::fmt::Display>(name: &'static str, ping: impl Future<Output = Result<(), E>>) -> BackendState {
    let start = Instant::now();
    let up = match tokio::time::timeout(PING_TIMEOUT, ping).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(backend = name, error = %e, "backend ping failed");
            false
        }
        Err(_) => {
            tracing::warn!(backend = name, "backend ping timed out");
            false
        }
    };
    BackendState { name: name.into(), up, latency_ms: start.elapsed().as_secs_f64() * 1000.0 }
}
