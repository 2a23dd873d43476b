//! Operational endpoints: `GET /ready` (every backend port pinged, JSON, 503 when one is down)
//! and `GET /metrics` (Prometheus text format), plus the middleware that counts requests.
//!
//! The counters are hand-rolled (a mutex-guarded map per route and atomics), which is all the
//! text format needs; gauges that live elsewhere (consumer lag, backend state) are read when
//! scraped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use shared::wire::{BackendState, Readiness};

use crate::App;
use crate::error::ApiError;

/// Upper bounds (seconds) of the request-duration histogram buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// How long a backend may take to answer a readiness ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The event-log consumers that keep checkpoints (their lag is exported).
pub const CONSUMERS: [&str; 3] = ["fanout", "search", "notifications"];

/// Counters the request path and the consumers update.
#[derive(Default)]
pub struct Metrics {
    /// Per (route template, method, status).
    requests: Mutex<HashMap<(String, &'static str, u16), Histogram>>,
    /// Home timelines that received a status from fanout.
    fanout_deliveries: AtomicU64,
    /// Statuses fanned out.
    fanout_statuses: AtomicU64,
}

#[derive(Default, Clone)]
struct Histogram {
    /// Observations per bucket (not cumulative; the last slot is above every bound).
    buckets: [u64; BUCKETS.len() + 1],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        let slot = BUCKETS.iter().position(|&bound| secs <= bound).unwrap_or(BUCKETS.len());
        self.buckets[slot] += 1;
        self.count += 1;
        self.sum += secs;
    }
}

impl Metrics {
    fn observe(&self, route: String, method: &'static str, status: u16, elapsed: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        requests.entry((route, method, status)).or_default().observe(elapsed.as_secs_f64());
    }

    /// Records one status fanned out to `delivered` home timelines.
    pub(crate) fn fanned_out(&self, delivered: usize) {
        self.fanout_statuses.fetch_add(1, Ordering::Relaxed);
        self.fanout_deliveries.fetch_add(u64::try_from(delivered).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    fn render(&self, backends: &[BackendState], log: &LogPositions) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let mut requests: Vec<_> = {
            let requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            requests.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        requests.sort_by(|a, b| a.0.cmp(&b.0));

        header_line(&mut out, "starling_http_requests_total", "counter", "HTTP requests answered, by route template, method and status.");
        for ((route, method, status), h) in &requests {
            let _ = writeln!(out, "starling_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {}", escape(route), h.count);
        }
        header_line(
            &mut out,
            "starling_http_request_duration_seconds",
            "histogram",
            "Time until the response head was ready, by route template, method and status.",
        );
        for ((route, method, status), h) in &requests {
            let labels = format!("route=\"{}\",method=\"{method}\",status=\"{status}\"", escape(route));
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(out, "starling_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(out, "starling_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "starling_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "starling_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }

        header_line(&mut out, "starling_fanout_deliveries_total", "counter", "Home timelines a status was pushed into by the fanout consumer.");
        let _ = writeln!(out, "starling_fanout_deliveries_total {}", self.fanout_deliveries.load(Ordering::Relaxed));
        header_line(&mut out, "starling_fanout_statuses_total", "counter", "Statuses the fanout consumer pushed to followers.");
        let _ = writeln!(out, "starling_fanout_statuses_total {}", self.fanout_statuses.load(Ordering::Relaxed));

        if let Some(head) = log.head {
            header_line(&mut out, "starling_event_log_head", "gauge", "Position of the newest event in the event log.");
            let _ = writeln!(out, "starling_event_log_head {head}");
            header_line(&mut out, "starling_consumer_lag_events", "gauge", "Events logged but not yet processed by a consumer (head - checkpoint).");
            for (consumer, checkpoint) in &log.checkpoints {
                let _ = writeln!(out, "starling_consumer_lag_events{{consumer=\"{consumer}\"}} {}", head.saturating_sub(*checkpoint));
            }
        }

        header_line(&mut out, "starling_backend_up", "gauge", "Whether a backend port answered its ping during this scrape (1) or not (0).");
        for b in backends {
            let _ = writeln!(out, "starling_backend_up{{backend=\"{}\"}} {}", b.name, u8::from(b.up));
        }
        header_line(&mut out, "starling_backend_ping_seconds", "gauge", "How long a backend port took to answer its ping during this scrape.");
        for b in backends {
            let _ = writeln!(out, "starling_backend_ping_seconds{{backend=\"{}\"}} {}", b.name, b.latency_ms / 1000.0);
        }
        out
    }
}

fn header_line(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Escapes a label value (backslash, double quote, newline).
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

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

/// `/ready` and `/metrics`.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/ready", get(ready)).route("/metrics", get(metrics))
}

/// `GET /ready`: 200 with every backend's state when all answer, 503 with the same body when
/// one does not (causes are logged, not sent).
async fn ready(State(app): State<App>) -> Response {
    let backends = ping_all(&app).await;
    let up = backends.iter().all(|b| b.up);
    let body = Readiness { status: if up { "ready" } else { "unavailable" }.into(), backends };
    (if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text format; bearer token required when `[metrics] token` is set.
async fn metrics(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = &app.config.metrics.token {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
        if !shared::token::secure_eq(given.trim().as_bytes(), token.as_bytes()) {
            return Err(ApiError::Unauthorized);
        }
    }
    let (backends, log) = tokio::join!(ping_all(&app), log_positions(&app));
    let text = app.metrics.render(&backends, &log);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

/// The event log's head and each consumer's checkpoint (absent when the log cannot be read).
struct LogPositions {
    head: Option<u64>,
    checkpoints: Vec<(&'static str, u64)>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_in_the_exposition() {
        let m = Metrics::default();
        m.observe("/a".into(), "GET", 200, Duration::from_micros(500));
        m.observe("/a".into(), "GET", 200, Duration::from_millis(30));
        m.observe("/a".into(), "GET", 200, Duration::from_secs(20));
        let text = m.render(&[], &LogPositions { head: Some(7), checkpoints: vec![("fanout", 5), ("search", 9)] });
        assert!(text.contains("starling_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",status=\"200\",le=\"0.001\"} 1\n"), "{text}");
        assert!(text.contains("le=\"0.05\"} 2\n"), "{text}");
        assert!(text.contains("le=\"10\"} 2\n"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 3\n"), "{text}");
        assert!(text.contains("starling_http_requests_total{route=\"/a\",method=\"GET\",status=\"200\"} 3\n"), "{text}");
        assert!(text.contains("starling_consumer_lag_events{consumer=\"fanout\"} 2\n"), "{text}");
        assert!(text.contains("starling_consumer_lag_events{consumer=\"search\"} 0\n"), "checkpoint past head saturates: {text}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
