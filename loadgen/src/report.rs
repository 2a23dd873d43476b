//! The run's results as a markdown section: machine facts, setup, baseline and mix tables, and
//! how the mix was mapped onto the Mastodon API.

use std::fmt::Write as _;
use std::time::Duration;

use crate::machine::{CpuUse, Facts};
use crate::setup::Step;
use crate::stats::{Recorder, Summary};
use crate::workload::{Kind, PhaseRun, Reads};

/// One measured phase.
pub struct PhaseReport {
    pub title: String,
    pub run: PhaseRun,
    pub cpu: CpuUse,
}

/// Everything the report shows.
pub struct Report<'a> {
    pub facts: &'a Facts,
    pub command: String,
    pub base: &'a str,
    pub graph_name: String,
    pub nodes: usize,
    pub edges: usize,
    pub prefix: &'a str,
    pub seed: u64,
    pub reads: Reads,
    pub setup: &'a [Step],
    pub phases: &'a [PhaseReport],
    pub posted: usize,
    pub data_dir_bytes: Option<u64>,
}

impl Report<'_> {
    /// Renders the markdown.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let f = self.facts;
        let _ = writeln!(out, "## Whole-system load: DeathStarBench social-network mix ({})\n", f.date);
        let mut machine = format!("{} CPU{}", f.nproc, if f.nproc == 1 { "" } else { "s" });
        if let Some(model) = &f.cpu_model {
            let _ = write!(machine, " ({model})");
        }
        if let Some(gib) = f.memory_gib {
            let _ = write!(machine, ", {gib:.1} GiB RAM");
        }
        if let Some(kernel) = &f.kernel {
            let _ = write!(machine, ", Linux {kernel}");
        }
        let _ = writeln!(out, "- machine: {machine}; load average when the run started: {}", f.load_average.as_deref().unwrap_or("unknown"));
        let _ = writeln!(
            out,
            "- target: `{}`; graph `{}`: {} users, {} edges → {} follows",
            self.base,
            self.graph_name,
            thousands(self.nodes as u64),
            thousands(self.edges as u64),
            thousands(2 * self.edges as u64)
        );
        let _ = writeln!(out, "- run prefix `{}` (usernames `{}0`…), seed {}", self.prefix, self.prefix, self.seed);
        let _ = writeln!(out, "- command: `{}`", self.command);
        if let Some(bytes) = self.data_dir_bytes {
            let _ = writeln!(out, "- server data directory after the run: {:.1} MiB (apparent size of its files)", bytes as f64 / (1024.0 * 1024.0));
        }
        out.push('\n');

        out.push_str("### Setup\n\n");
        out.push_str("| step | concurrency | requests | errors | wall time (s) | rate (req/s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |\n");
        out.push_str("|---|--:|--:|---|--:|--:|--:|--:|--:|--:|\n");
        for step in self.setup {
            let r = &step.recorder;
            let s = r.summary();
            let secs = step.elapsed.as_secs_f64();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {secs:.1} | {} | {} |",
                step.name,
                step.concurrency,
                thousands(r.requests()),
                r.errors_by_cause(),
                rate(r.requests() as f64 / secs.max(1e-9)),
                latencies(&s)
            );
        }
        out.push_str("\nA sign-up and its `verify_credentials` run back to back on the same worker, so the two rows share one wall time.\n\n");

        for phase in self.phases {
            let _ = writeln!(out, "### {}\n", phase.title);
            out.push_str("| request | requests | share | throughput (req/s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | errors |\n");
            out.push_str("|---|--:|--:|--:|--:|--:|--:|--:|---|\n");
            let secs = phase.run.elapsed.as_secs_f64().max(1e-9);
            let mut all = Recorder::default();
            for recorder in phase.run.by_kind.values() {
                all.merge(recorder.clone());
            }
            let total = all.requests().max(1);
            let mut row = |label: &str, r: &Recorder| {
                let _ = writeln!(
                    out,
                    "| {label} | {} | {:.1}% | {} | {} | {} |",
                    thousands(r.requests()),
                    100.0 * r.requests() as f64 / total as f64,
                    rate(r.requests() as f64 / secs),
                    latencies(&r.summary()),
                    r.errors_by_cause()
                );
            };
            for (kind, recorder) in &phase.run.by_kind {
                row(kind.label(), recorder);
            }
            if phase.run.by_kind.len() > 1 {
                row("**all**", &all);
            }
            let cores = |c: Option<f64>| c.map_or_else(|| "unknown".to_owned(), |c| format!("{c:.2}"));
            let other = match (phase.cpu.machine, phase.cpu.server, phase.cpu.loadgen) {
                (Some(m), Some(s), Some(l)) => format!("; everything else {:.2}", (m - s - l).max(0.0)),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "\nMeasured over {:.1} s. CPU in cores busy (of {}): whole machine {}, server {}, load generator {}{other}.\n",
                secs,
                self.facts.nproc,
                cores(phase.cpu.machine),
                cores(phase.cpu.server),
                cores(phase.cpu.loadgen)
            );
            for (kind, recorder) in &phase.run.by_kind {
                if let Some((hits, misses)) = recorder.cache() {
                    let _ = writeln!(
                        out,
                        "Server-side cache (`x-starling-cache`) on {}: {} hits, {} misses ({:.1}% hits).\n",
                        kind.label(),
                        thousands(hits),
                        thousands(misses),
                        100.0 * hits as f64 / (hits + misses).max(1) as f64
                    );
                }
            }
            if phase.run.by_kind.contains_key(&Kind::Post) {
                let _ = writeln!(out, "Statuses posted during the run (warm-up included): {}.\n", thousands(self.posted as u64));
            }
        }

        out.push_str("### How the mix maps onto the Mastodon API\n\n");
        out.push_str(
            "- Each request draws its user uniformly from the graph's users and acts with that user's token: \
60% `GET /api/v1/timelines/home?limit=10`, 30% `GET /api/v1/accounts/:id/statuses?limit=10` of another \
uniformly drawn user, 10% `POST /api/v1/statuses`.\n",
        );
        match self.reads {
            Reads::RandomCursor => out.push_str(
                "- DeathStarBench reads 10 posts from a random offset in 0..100. The Mastodon API pages only by id \
cursors, so each read passes `max_id` drawn uniformly from the ids of statuses posted so far in this run (reads \
start at the first page until 10 exist). Ids are time-ordered, so this reads a random point in the run's history, \
which may be deeper than offset 100 late in a run, and almost every read has a query no one asked before.\n",
            ),
            Reads::FirstPage => out.push_str(
                "- `--reads first-page`: every read asks for the newest 10 statuses (no `max_id`), as a client \
refreshing its timeline does, instead of DeathStarBench's random offset in 0..100.\n",
            ),
        }
        out.push_str(
            "- A post is 256 random alphanumeric characters, 1–6 `@username` mentions of random users and 1–6 \
`https://` URLs of 64 random characters. No media (DeathStarBench's 1–5 media per post are \
left out; media processing has its own benchmark in docs/benchmarks.md).\n",
        );
        out.push_str(
            "- Clients are closed-loop: each waits for a whole answer before sending its next request, so \
throughput is what the server sustained at this concurrency and latencies exclude queueing a fixed-rate \
client would see (coordinated omission). Latency is send → last body byte, percentiles by nearest rank over \
every answered request, errors included. Errors are non-2xx answers by status, or transport failures.\n",
        );
        out.push_str(
            "- The load generator runs on the same machine and shares its CPUs with the server; the CPU line \
under each table says how they were split.\n",
        );
        out
    }
}

/// `p50 | p90 | p99 | max` cells in milliseconds.
fn latencies(s: &Summary) -> String {
    [s.p50, s.p90, s.p99, s.max].iter().map(|d| d.map_or_else(|| "–".to_owned(), millis)).collect::<Vec<_>>().join(" | ")
}

/// Milliseconds with precision that suits the size.
fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// Requests per second: whole and grouped from 100 up, one decimal below.
fn rate(per_sec: f64) -> String {
    if per_sec >= 100.0 { thousands(per_sec.round() as u64) } else { format!("{per_sec:.1}") }
}

/// `37624` → `37,624`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(962), "962");
        assert_eq!(thousands(37_624), "37,624");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(rate(26_251.9), "26,252");
        assert_eq!(rate(61.26), "61.3");
    }

    #[test]
    fn milliseconds_keep_three_significant_figures() {
        assert_eq!(millis(Duration::from_micros(1234)), "1.23");
        assert_eq!(millis(Duration::from_micros(12_345)), "12.3");
        assert_eq!(millis(Duration::from_micros(123_456)), "123");
    }
}
