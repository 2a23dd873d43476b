//! The capacity report, as markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::cost::{Backend, Class, KindCost};
use super::drive::{Kind, Run};
use super::model::{self, HotKey, Sizing, THRESHOLD};
use super::prices::Prices;
use super::profile::Profile;
use crate::machine::Facts;

pub struct Report<'a> {
    pub facts: &'a Facts,
    pub command: String,
    pub build: &'static str,
    pub profile: &'a Profile,
    pub prices: &'a Prices,
    pub run: &'a Run,
    pub trace_bytes: usize,
    pub costs: &'a BTreeMap<Kind, KindCost>,
    pub keys: &'a [HotKey],
    pub sizing: &'a Sizing,
}

fn n(x: f64) -> String {
    if x >= 100.0 {
        let whole = x.round() as u64;
        let digits = whole.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

impl Report<'_> {
    pub fn render(&self) -> String {
        let mut o = String::new();
        let p = self.profile;
        let f = self.facts;
        let over = model::over_threshold(self.keys);
        let _ = writeln!(o, "# Capacity: `{}`\n", p.name);
        let verdict = if over.is_empty() {
            "**Fits**: every key is under 80% of its limit.".to_owned()
        } else {
            format!(
                "**Does not fit**: {} key famil{} over 80% of {} limit (the command exits non-zero): {}.",
                over.len(),
                if over.len() == 1 { "y is" } else { "ies are" },
                if over.len() == 1 { "its" } else { "their" },
                over.iter().map(|k| format!("`{}`", k.family.name)).collect::<Vec<_>>().join(", ")
            )
        };
        let _ = writeln!(o, "{verdict}\n");
        let _ = writeln!(
            o,
            "- date: {} · machine: {} × {} ({}), {} · build: {}",
            f.date,
            f.nproc,
            f.cpu_model.as_deref().unwrap_or("unknown CPU"),
            f.memory_gib.map_or_else(|| "? GiB".to_owned(), |g| format!("{g:.1} GiB")),
            f.kernel.as_deref().unwrap_or("unknown kernel"),
            self.build
        );
        let _ = writeln!(o, "- command: `{}`", self.command);
        let r = self.run;
        let _ = writeln!(
            o,
            "- trace: {} actions, {} recorded accesses ({} KB in memory), {} users + 3 celebrities, {} follows (the largest account followed by {}), recorded in {:.1} s",
            r.actions.len(),
            r.accesses.len(),
            self.trace_bytes / 1024,
            r.users,
            r.follows,
            r.largest_followers,
            r.elapsed.as_secs_f64()
        );
        let unattributed = r.accesses.iter().filter(|a| a.cause.is_none()).count();
        let failed: usize = self.costs.values().map(|c| c.failed).sum();
        let _ = writeln!(o, "- accesses outside any action (startup, home warm-up; not costed): {unattributed}; failed actions: {failed}");
        for e in r.errors.iter().take(5) {
            let _ = writeln!(o, "  - error: `{}`", e.replace('`', "'"));
        }
        let _ = writeln!(o, "- prices: {} ({}; {})\n", self.prices.region, self.prices.date, self.prices.source);

        let _ = writeln!(o, "## Hottest keys at the profile's peak\n");
        let _ = writeln!(o, "| key family | backend | how rated | RCU/s | WCU/s | Redis ops/s | share of limit | limit | mostly from |");
        let _ = writeln!(o, "|---|---|---|---:|---:|---:|---:|---|---|");
        for k in self.keys.iter().take(15) {
            let class = match k.family.class {
                Class::Global => "deployment-wide",
                Class::Hot => "hot entity",
                Class::PerId => "busiest account",
            };
            let backend = match k.family.backend {
                Backend::DynamoDb => "DynamoDB",
                Backend::Redis => "Redis",
            };
            let flag = if k.load > THRESHOLD { " **over 80%**" } else { "" };
            let _ = writeln!(
                o,
                "| `{}` | {backend} | {class} | {} | {} | {} | {:.0}%{flag} | {} | {} |",
                k.family.name,
                n(k.rcu),
                n(k.wcu),
                n(k.redis_ops),
                k.load * 100.0,
                k.limit,
                k.top.map_or("", Kind::label)
            );
        }

        let s = self.sizing;
        let _ = writeln!(o, "\n## Resources at the peak\n");
        let _ = writeln!(o, "| resource | need | sized |");
        let _ = writeln!(o, "|---|---|---|");
        let _ = writeln!(o, "| DynamoDB reads | {} RCU/s | {} RCU provisioned (80%) |", n(s.rcu), n(s.rcu / THRESHOLD));
        let _ = writeln!(o, "| DynamoDB writes | {} WCU/s | {} WCU provisioned (80%) |", n(s.wcu), n(s.wcu / THRESHOLD));
        let _ = writeln!(
            o,
            "| Kinesis | {} records/s, {} MB/s in, ×{} readers out | {} shards |",
            n(s.kinesis_records),
            n(s.kinesis_bytes / 1_048_576.0),
            model::STREAM_READERS,
            n(s.kinesis_shards)
        );
        let _ = writeln!(
            o,
            "| Redis Cluster | {} commands/s; {} GiB of home timelines ({} actives × {} entries × {} B) | {} shards ({} for ops at {} ops/s each, {} for memory at {} GiB per {}) |",
            n(s.redis_ops),
            n(s.redis_memory_gib),
            n(p.monthly_actives),
            n(p.home_entries),
            model::HOME_ENTRY_BYTES,
            n(s.redis_shards),
            n(s.redis_shards_for_ops),
            n(p.redis.ops_per_shard),
            n(s.redis_shards_for_memory),
            self.prices.elasticache.node_memory_gib,
            self.prices.elasticache.node_type
        );
        let _ = writeln!(
            o,
            "| Fargate (core) | {} vCPU busy | {} tasks of {} vCPU at {:.0}% |",
            n(s.vcpus),
            n(s.fargate_tasks),
            self.prices.fargate.task_vcpu,
            self.prices.fargate.target_utilisation * 100.0
        );
        let _ = writeln!(
            o,
            "| OpenSearch | {} documents/s indexed, {} searches/s | {} {} data nodes |",
            n(s.index_docs),
            n(s.search_queries),
            n(s.opensearch_nodes),
            self.prices.opensearch.node_type
        );
        let _ = writeln!(o, "\nRedis ops/s per shard: {} ({}).\n", n(p.redis.ops_per_shard), p.redis.measured);

        let _ = writeln!(o, "## Monthly cost (list prices, sized for the peak all month)\n");
        let _ = writeln!(o, "| resource | USD / month |");
        let _ = writeln!(o, "|---|---:|");
        for (name, usd) in &s.cost {
            let _ = writeln!(o, "| {name} | {} |", n(*usd));
        }
        let _ = writeln!(o, "| **total** | **{}** |\n", n(s.monthly_cost()));

        let _ = writeln!(o, "## Cost per action (trace means; per-follower work scaled to {} followers)\n", n(p.mean_followers));
        let _ = writeln!(
            o,
            "| action | traced | rate/s | items read | RCU | items written | WCU | transactions (largest) | events | Kinesis B | Redis cmds | fanout | search docs | CPU ms |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|");
        for (&kind, cost) in self.costs {
            let u = cost.per_action(model::follower_scale(p, cost));
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} |",
                kind.label(),
                cost.actions,
                n(model::rate(p, kind)),
                n(u.ddb_items_read),
                n(u.rcu),
                n(u.ddb_items_written),
                n(u.wcu),
                n(u.transactions),
                u.largest_transaction,
                n(u.events),
                n(u.kinesis_bytes),
                n(u.redis_total()),
                n(u.fanout),
                n(u.search_docs),
                n(u.cpu_secs * 1000.0)
            );
        }
        let mut commands: BTreeMap<&str, f64> = BTreeMap::new();
        for (name, count) in &s.total.redis {
            *commands.entry(name).or_default() += count;
        }
        let _ =
            writeln!(o, "\nRedis commands per second at the peak: {}.", commands.iter().map(|(c, x)| format!("{c} {}", n(*x))).collect::<Vec<_>>().join(", "));
        o
    }
}
