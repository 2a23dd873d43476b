//! `starling-load capacity`: the capacity model. Records a key-level trace of the real app
//! (embedded adapters, in process) serving every kind of action ([`drive`], [`trace`]), turns
//! it into costs per action ([`cost`], with the DynamoDB outbox modelled in [`outbox`]), scales
//! them to a profile ([`profile`], [`model`]) and prices them ([`prices`]), then reports as
//! markdown ([`report`]). Exits non-zero naming the keys over 80% of their limit.
//!
//! Method and figures: docs/capacity.md.

pub mod cost;
pub mod drive;
pub mod model;
pub mod outbox;
pub mod prices;
pub mod profile;
pub mod report;
pub mod trace;

use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::graph::Graph;
use crate::machine::Facts;

/// Record a trace of the real app, scale it to deployment profiles, and report per AWS resource.
#[derive(clap::Args)]
pub struct Args {
    /// A deployment profile (loadgen/profiles/*.toml); repeat for several (one trace serves all).
    #[arg(long, required = true)]
    profile: Vec<PathBuf>,
    /// A profile (by `name`) whose keys over 80% are reported without making the command fail.
    #[arg(long)]
    report_only: Vec<String>,
    /// The AWS price table.
    #[arg(long, default_value = "loadgen/profiles/prices-us-east-1.toml")]
    prices: PathBuf,
    /// Edge list of the social graph (Reed98 by default).
    #[arg(long, default_value = "../shared/datasets/socfb-Reed98.edges")]
    edges: PathBuf,
    /// Users taken from the graph, highest degree first (each sign-up costs an argon2 hash).
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Actions of the mix after setup.
    #[arg(long, default_value_t = 2000)]
    actions: usize,
    /// Seed of the workload's random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the markdown report to this file (e.g. docs/capacity.md).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print what makes up a key family's accesses (e.g. `A#{largest}`): per action kind,
    /// operation and sort-key shape, how many and how large; repeat for several.
    #[arg(long)]
    explain: Vec<String>,
}

/// Runs the model; `Ok(false)` when a key of a gating profile is over its threshold (the
/// caller exits non-zero).
pub async fn run(args: Args) -> anyhow::Result<bool> {
    let facts = Facts::read();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let profiles = args.profile.iter().map(|path| profile::Profile::read(path)).collect::<anyhow::Result<Vec<_>>>()?;
    for name in &args.report_only {
        if !profiles.iter().any(|p| &p.name == name) {
            bail!("--report-only {name:?} names no profile given with --profile");
        }
    }
    let prices = prices::Prices::read(&args.prices)?;
    let graph = Graph::read(&args.edges)?;
    if args.actions == 0 {
        bail!("--actions must be at least 1");
    }
    eprintln!("capacity: recording {} users of {} and {} actions", args.users, args.edges.display(), args.actions);
    let run = drive::record(&graph, &drive::RunOptions { users: args.users, actions: args.actions, seed: args.seed }).await?;
    let trace_bytes = run.accesses.iter().map(|a| std::mem::size_of_val(a) + a.pk.len() + a.sk.len()).sum();
    eprintln!("capacity: {} actions, {} accesses in {:.1} s", run.actions.len(), run.accesses.len(), run.elapsed.as_secs_f64());
    for name in &args.explain {
        eprintln!("{}", cost::explain(&run, name));
    }
    let costs = cost::costs(&run);
    let refills = cost::refills(&run);
    let results: Vec<(Vec<model::HotKey>, model::Sizing)> = profiles
        .iter()
        .map(|p| {
            let sizing = model::size(p, &prices, &costs, &refills);
            (model::hot_keys(p, &costs, &refills, sizing.fargate_tasks), sizing)
        })
        .collect();
    let build = if cfg!(debug_assertions) { "debug (CPU figures are several times a release build's)" } else { "release" };
    let report = report::Report {
        facts: &facts,
        command,
        build,
        prices: &prices,
        run: &run,
        trace_bytes,
        costs: &costs,
        profiles: profiles
            .iter()
            .zip(&results)
            .map(|(profile, (keys, sizing))| report::ProfileReport { profile, keys, sizing, gating: !args.report_only.contains(&profile.name) })
            .collect(),
    };
    let markdown = report.render();
    println!("{markdown}");
    if let Some(path) = &args.report {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(path, &markdown).with_context(|| format!("cannot write the report to {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    let mut fits = true;
    for (profile, (keys, _)) in profiles.iter().zip(&results) {
        let gating = !args.report_only.contains(&profile.name);
        for key in model::over_threshold(keys) {
            fits &= !gating;
            eprintln!(
                "capacity: {}: key `{}` would use {:.0}% of {} ({} RCU/s, {} WCU/s, {} Redis ops/s){}",
                profile.name,
                key.family.name,
                key.load * 100.0,
                key.limit,
                key.rcu.round(),
                key.wcu.round(),
                key.redis_ops.round(),
                if gating { "" } else { " [report only]" }
            );
        }
    }
    Ok(fits)
}
