//! Process metrics: hand-rolled counters (a mutex-guarded map per route and atomics) and
//! their Prometheus text exposition. The request middleware and the fanout consumer update
//! them; `ops` renders them when scraped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::cursor::Cursor;
use shared::wire::BackendState;

/// Upper bounds (seconds) of the request-duration histogram buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

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
    pub(crate) fn observe(&self, route: String, method: &'static str, status: u16, elapsed: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        requests.entry((route, method, status)).or_default().observe(elapsed.as_secs_f64());
    }

    /// Records one status fanned out to `delivered` home timelines.
    pub(crate) fn fanned_out(&self, delivered: usize) {
        self.fanout_statuses.fetch_add(1, Ordering::Relaxed);
        self.fanout_deliveries.fetch_add(u64::try_from(delivered).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub(crate) fn render(&self, backends: &[BackendState], log: &LogPositions) -> String {
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

        if let Some(head) = &log.head {
            header_line(&mut out, "starling_event_log_head", "gauge", "Position of the newest event in the event log (its furthest partition).");
            let _ = writeln!(out, "starling_event_log_head {}", head.last());
            header_line(&mut out, "starling_consumer_lag_events", "gauge", "Events logged but not yet processed by a consumer (head - checkpoint).");
            for (consumer, checkpoint) in &log.checkpoints {
                let _ = writeln!(out, "starling_consumer_lag_events{{consumer=\"{consumer}\"}} {}", checkpoint.lag(head));
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

/// The event log's head and each consumer's checkpoint (absent when the log cannot be read).
pub(crate) struct LogPositions {
    pub(crate) head: Option<Cursor>,
    pub(crate) checkpoints: Vec<(&'static str, Cursor)>,
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
        let text =
            m.render(&[], &LogPositions { head: Some(Cursor::single(7)), checkpoints: vec![("fanout", Cursor::single(5)), ("search", Cursor::single(9))] });
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
