//! `starling-load`: the whole-system load generator and the capacity model.
//!
//! Owns: `run` — registering a social graph's users and follows through the public HTTP API,
//! driving the DeathStarBench social-network mix and a `GET /health` baseline with closed-loop
//! clients, and reporting the numbers as markdown; `capacity` — the capacity model
//! ([`capacity`]): a key-level trace of the real app in process, scaled to a deployment profile.
//! Must never: let `run` reach the server other than over HTTP (it is a client like any other;
//! only `capacity` links the server's crates, to run the app in process with embedded
//! adapters), touch a server's data directory other than to measure it, or panic on a bad
//! answer (every answer is counted).

mod api;
mod capacity;
mod graph;
mod machine;
mod report;
mod setup;
mod stats;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::api::Api;
use crate::graph::Graph;
use crate::machine::{CpuSnapshot, Facts};
use crate::report::{PhaseReport, Report};
use crate::setup::SetupOptions;
use crate::workload::{Phase, Reads, Workload};

/// Starling's load generator and capacity model.
#[derive(Parser)]
#[command(name = "starling-load", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load a running server over HTTP with a social graph and the DeathStarBench mix.
    Run(LoadArgs),
    /// Record a key-level trace of the app in process and scale it to a deployment profile.
    Capacity(capacity::Args),
}

/// Load a Starling server with a real social graph and the DeathStarBench social-network mix.
///
/// Setup registers one account per node of the edge list and makes both directions of every
/// edge follow; then a `GET /health` baseline and the mix (60% home timeline, 30% user
/// timeline, 10% posts) each run with the same clients for the same duration.
#[derive(clap::Args)]
struct LoadArgs {
    /// Base URL of the server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    base: String,
    /// Edge list: `a b` per line, 0-based node ids.
    #[arg(long)]
    edges: PathBuf,
    /// Concurrent closed-loop clients in the baseline and the mix.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured time of each phase (e.g. 30s, 2m, 500ms).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured time before each phase.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    warmup: Duration,
    /// Where timeline reads start: a random `max_id` cursor (the mix's random offset) or the
    /// first page.
    #[arg(long, value_enum, default_value_t = Reads::RandomCursor)]
    reads: Reads,
    /// Also write the markdown report to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Concurrent sign-ups (each costs the server an argon2 hash).
    #[arg(long, default_value_t = 12)]
    register_concurrency: usize,
    /// Concurrent follow requests.
    #[arg(long, default_value_t = 32)]
    follow_concurrency: usize,
    /// Username prefix (letters, digits, `_`); a fresh one per run by default, so reruns
    /// against the same server do not collide.
    #[arg(long)]
    prefix: Option<String>,
    /// Seed of the clients' random choices (printed, so a run's request sequence can be replayed).
    #[arg(long)]
    seed: Option<u64>,
    /// The server's process id, to report its CPU use per phase.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server's data directory, to report its size after the run.
    #[arg(long)]
    server_data_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    match Cli::parse().command {
        Command::Run(args) => load(args).await.map(|()| std::process::ExitCode::SUCCESS),
        Command::Capacity(args) => {
            let fits = capacity::run(args).await?;
            Ok(if fits { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(3) })
        }
    }
}

async fn load(cli: LoadArgs) -> anyhow::Result<()> {
    let facts = Facts::read();
    let command = std::env::args().map(|a| if a.contains(' ') { format!("'{a}'") } else { a }).collect::<Vec<_>>().join(" ");
    if cli.clients == 0 || cli.register_concurrency == 0 || cli.follow_concurrency == 0 {
        bail!("--clients, --register-concurrency and --follow-concurrency must be at least 1");
    }
    let graph = Graph::read(&cli.edges)?;
    let seed = cli.seed.unwrap_or_else(rand::random);
    let prefix = match cli.prefix.clone() {
        Some(p) => p,
        None => run_prefix(seed),
    };
    let longest = format!("{prefix}{}", graph.nodes.saturating_sub(1));
    if prefix.is_empty() || longest.len() > 30 || !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        bail!("prefix {prefix:?} must be letters, digits and `_`, short enough that {longest:?} fits in 30 characters");
    }
    let api = Arc::new(Api::new(&cli.base, cli.clients.max(cli.follow_concurrency).max(cli.register_concurrency))?);
    let health = api.send(api.request(reqwest::Method::GET, "/health", None), false).await;
    if !health.outcome.is_success() {
        bail!("{} is not answering GET /health: {}", cli.base, health.describe());
    }
    eprintln!(
        "starling-load: {} users, {} edges ({} follows) from {}; prefix {prefix}, seed {seed}",
        graph.nodes,
        graph.edges.len(),
        2 * graph.edges.len(),
        cli.edges.display()
    );

    eprintln!("setup: registering {} users ({} at a time), then following ({} at a time)", graph.nodes, cli.register_concurrency, cli.follow_concurrency);
    let started = Instant::now();
    let options = SetupOptions { prefix: prefix.clone(), register_concurrency: cli.register_concurrency, follow_concurrency: cli.follow_concurrency };
    let setup = setup::run(api.clone(), &graph, &options).await?;
    eprintln!("setup: done in {:.1} s", started.elapsed().as_secs_f64());

    let workload = Arc::new(Workload::new(api.clone(), setup.users, cli.reads));
    let secs = cli.duration.as_secs_f64();
    let warm = if cli.warmup.is_zero() { String::new() } else { format!(" (after {} s warm-up)", cli.warmup.as_secs_f64()) };
    let phases = [
        (Phase::Baseline, format!("Baseline: `GET /health`, {} clients, {secs} s{warm}", cli.clients)),
        (Phase::Mix, format!("Mix: DeathStarBench social network, {} clients, {secs} s{warm}", cli.clients)),
    ];
    let mut reports = Vec::new();
    for (index, (phase, title)) in phases.into_iter().enumerate() {
        let phase_seed = seed.wrapping_add(index as u64 + 1);
        if !cli.warmup.is_zero() {
            eprintln!("{phase:?}: warming up for {} s", cli.warmup.as_secs_f64());
            workload.run(phase, cli.clients, cli.warmup, phase_seed.rotate_left(17)).await;
        }
        eprintln!("{phase:?}: measuring for {secs} s with {} clients", cli.clients);
        let before = CpuSnapshot::take(cli.server_pid);
        let run = workload.run(phase, cli.clients, cli.duration, phase_seed).await;
        let cpu = CpuSnapshot::take(cli.server_pid).since(&before);
        let total: u64 = run.by_kind.values().map(stats::Recorder::requests).sum();
        let errors: u64 = run.by_kind.values().map(stats::Recorder::errors).sum();
        eprintln!("{phase:?}: {total} requests ({errors} errors), {:.0} req/s", total as f64 / run.elapsed.as_secs_f64().max(1e-9));
        reports.push(PhaseReport { title, run, cpu });
    }

    let data_dir_bytes = match &cli.server_data_dir {
        Some(dir) => Some(machine::dir_size(dir).with_context(|| format!("cannot measure {}", dir.display()))?),
        None => None,
    };
    let report = Report {
        facts: &facts,
        command,
        base: &cli.base,
        graph_name: cli.edges.file_name().map_or_else(|| cli.edges.display().to_string(), |n| n.to_string_lossy().into_owned()),
        nodes: graph.nodes,
        edges: graph.edges.len(),
        prefix: &prefix,
        seed,
        reads: cli.reads,
        setup: &setup.steps,
        phases: &reports,
        posted: workload.posted(),
        data_dir_bytes,
    };
    let markdown = report.render();
    println!("{markdown}");
    if let Some(path) = &cli.report {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(path, &markdown).with_context(|| format!("cannot write the report to {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(())
}

/// `l` + five base-36 characters from the seed + `_`: short, so `@mentions` keep posts under
/// the 500-character limit.
fn run_prefix(seed: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = seed;
    let mut prefix = String::from("l");
    for _ in 0..5 {
        prefix.push(char::from(DIGITS[(n % 36) as usize]));
        n /= 36;
    }
    prefix.push('_');
    prefix
}

/// `30s`, `2m`, `500ms`, `1h` or bare seconds (`30`, `1.5`).
fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{raw:?} is not a duration like 30s, 2m or 500ms"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} in {raw:?} (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{raw:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_common_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("30 parsecs").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn run_prefixes_are_short_valid_usernames() {
        let p = run_prefix(u64::MAX);
        assert_eq!(p.len(), 7);
        assert!(p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        assert_ne!(run_prefix(1), run_prefix(2));
    }
}
