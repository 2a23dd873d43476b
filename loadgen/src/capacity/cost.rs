//! The trace turned into costs: DynamoDB capacity units by DynamoDB's rounding rules, Redis
//! commands, Kinesis records, search documents and CPU, per action kind (mean per action) and
//! per key family (ids replaced by placeholders).

use std::collections::BTreeMap;

use super::drive::{HotIds, Kind, Run};
use super::outbox::{dynamodb_outbox, kinesis_records};
use super::trace::{Op, Stage};

/// Read capacity units of a strongly consistent read of `bytes` (4 KB units, at least one).
pub fn read_units(bytes: usize) -> f64 {
    bytes.div_ceil(4096).max(1) as f64
}

/// Write capacity units of a write of `bytes` inside `TransactWriteItems` (1 KB units, at
/// least one, doubled for transactions). Every write the DynamoDB adapter makes is one.
pub fn transactional_write_units(bytes: usize) -> f64 {
    2.0 * bytes.div_ceil(1024).max(1) as f64
}

/// Which backend a key lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backend {
    DynamoDb,
    Redis,
}

/// How a key family's hottest key is rated (see docs/capacity.md, "Method").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// No id in the key: one key for the whole deployment.
    Global,
    /// The largest account's, the viral status's or the trending tag's key.
    Hot,
    /// One key per account, status, token…: the busiest ordinary one is rated.
    PerId,
    /// One of the shards of a deployment-wide key each access touches one of (the outbox's
    /// `{base}#{n}`, the bases in `outbox::SHARDED`): the whole rate divided by the profile's
    /// shard count of the base.
    Shard,
    /// One of the shards of a key written one shard at a time and read whole (merged): `PUB`,
    /// `T#{tag}`, `ACCTS`, `CELEB`, `META`, `SL#{status}#{kind}`, a celebrity's notifications
    /// `N#{account}` (shard 0 is the bare key) and status counters `S#{id}#{n}`. Writes: the
    /// rate over the profile's count; reads: every shard at the rate.
    /// `hot` when the base is a hot entity's (the trending tag, the viral status).
    Merged { hot: bool },
}

/// Bases sharded one write at a time and read whole, in the recorded run: the whole key is
/// `{base}` or `{base}#{n}` (`two` segments), or `{base}#{x}` / `{base}#{x}#{n}` (three).
const MERGED: &[(&str, usize)] = &[("PUB", 1), ("ACCTS", 1), ("CELEB", 1), ("META", 1), ("T", 2), ("SL", 3), ("N", 2)];

/// Prefix of the streaming channels the Redis stream hub spreads (profile `[shards]` entry of
/// that name).
pub const PUBLIC_CHANNELS: &str = "timeline:public";

/// Shards of each merged base in the recorded run (`[shards]` of its settings, drive.rs).
pub const RECORDED_SHARDS: u32 = 4;

/// A key family: the key with ids replaced by placeholders.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Family {
    pub backend: Backend,
    pub name: String,
    pub class: Class,
}

/// Classifies a partition key (DynamoDB) or key/channel (Redis): segments between `#` and `:`
/// that are ids become `{id}` (or `{largest}`, `{viral}`, `{trending}` for the hot entities),
/// tags `{tag}`, names and digests `{name}` / `{x}`.
pub fn family(backend: Backend, key: &str, hot: &HotIds) -> Family {
    // The public timeline channels: each spread over `[redis] public_channel_shards` Redis
    // channels (core/redis/src/stream.rs), a publish going to one of them.
    if backend == Backend::Redis && key.starts_with(PUBLIC_CHANNELS) {
        return Family { backend, name: format!("{key}#{{shard}}"), class: Class::Shard };
    }
    if let Some((base, n)) = key.split_once('#')
        && super::outbox::SHARDED.contains(&base)
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        return Family { backend, name: format!("{base}#{{shard}}"), class: Class::Shard };
    }
    if backend == Backend::DynamoDb {
        let segments: Vec<&str> = key.split('#').collect();
        let is_shard = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        for (base, width) in MERGED {
            if segments[0] != *base {
                continue;
            }
            let bare = match segments.len() {
                n if n == *width => Some(key),
                n if n == width + 1 && is_shard(segments[n - 1]) => key.rsplit_once('#').map(|(bare, _)| bare),
                _ => None,
            };
            if let Some(bare) = bare {
                let inner = family_of(backend, bare, hot);
                let name = format!("{}#{{shard}}", inner.name);
                // One ordinary status's list (`SL#{id}#…`) is a key per status, as its counter
                // shards are; an ordinary tag's stays rated as one shard of all tag traffic.
                if inner.class == Class::PerId && inner.name.contains("{id}") {
                    return Family { backend, name, class: Class::PerId };
                }
                return Family { backend, name, class: Class::Merged { hot: inner.class == Class::Hot } };
            }
        }
        // Status counter shards 1.. (shard 0 lives with the status record in `S#{id}`).
        if segments.len() == 3 && segments[0] == "S" && is_shard(segments[2]) {
            let inner = family_of(backend, &format!("S#{}", segments[1]), hot);
            if inner.class != Class::PerId {
                return Family { backend, name: format!("{}#{{shard}}", inner.name), class: Class::Merged { hot: inner.class == Class::Hot } };
            }
            return Family { backend, name: format!("{}#{{shard}}", inner.name), class: Class::PerId };
        }
    }
    family_of(backend, key, hot)
}

/// [`family`] of a key that is no shard.
fn family_of(backend: Backend, key: &str, hot: &HotIds) -> Family {
    let largest_hex = hex_of(&hot.largest);
    let viral_hex = hex_of(&hot.viral);
    let mut name = String::new();
    let (mut hot_part, mut other_part) = (false, false);
    let mut previous = "";
    for (index, segment) in key.split_inclusive(['#', ':']).enumerate() {
        let (word, separator) = match segment.strip_suffix(['#', ':']) {
            Some(word) => (word, &segment[word.len()..]),
            None => (segment, ""),
        };
        let replaced = if index == 0 {
            None
        } else if word == hot.largest || Some(word) == largest_hex.as_deref() {
            Some("{largest}")
        } else if word == hot.viral || Some(word) == viral_hex.as_deref() {
            Some("{viral}")
        } else if word.eq_ignore_ascii_case(&hot.tag) {
            Some("{trending}")
        } else if previous == "T" || previous == "hashtag" {
            Some("{tag}")
        } else if previous == "U" || previous == "E" {
            Some("{name}")
        } else if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) || (word.len() == 16 && word.bytes().all(|b| b.is_ascii_hexdigit())) {
            Some("{id}")
        } else if word.is_empty() || word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            None
        } else {
            Some("{x}")
        };
        match replaced {
            Some(placeholder) => {
                if matches!(placeholder, "{largest}" | "{viral}" | "{trending}") {
                    hot_part = true;
                } else {
                    other_part = true;
                }
                name.push_str(placeholder);
            }
            None => name.push_str(word),
        }
        name.push_str(separator);
        previous = word;
    }
    // A key naming a hot entity and another id (a notification of the largest account from
    // one favouriter) is a different key per action: only the hot entity's own keys are hot.
    let class = if other_part {
        Class::PerId
    } else if hot_part {
        Class::Hot
    } else {
        Class::Global
    };
    Family { backend, name, class }
}

fn hex_of(decimal: &str) -> Option<String> {
    decimal.parse::<u64>().ok().map(|n| format!("{n:016x}"))
}

/// Resource use of actions, summed (divide by the number of actions for a mean).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub ddb_items_read: f64,
    pub rcu: f64,
    pub ddb_items_written: f64,
    pub wcu: f64,
    pub transactions: f64,
    pub transaction_items: f64,
    pub largest_transaction: f64,
    pub events: f64,
    pub kinesis_records: f64,
    pub kinesis_bytes: f64,
    pub redis: BTreeMap<&'static str, f64>,
    pub fanout: f64,
    pub search_docs: f64,
    pub search_queries: f64,
    pub cpu_secs: f64,
}

impl Usage {
    pub fn redis_total(&self) -> f64 {
        self.redis.values().sum()
    }

    /// `self + other × factor`.
    pub fn add_scaled(&mut self, other: &Usage, factor: f64) {
        self.ddb_items_read += other.ddb_items_read * factor;
        self.rcu += other.rcu * factor;
        self.ddb_items_written += other.ddb_items_written * factor;
        self.wcu += other.wcu * factor;
        self.transactions += other.transactions * factor;
        self.transaction_items += other.transaction_items * factor;
        self.largest_transaction = self.largest_transaction.max(other.largest_transaction);
        self.events += other.events * factor;
        self.kinesis_records += other.kinesis_records * factor;
        self.kinesis_bytes += other.kinesis_bytes * factor;
        for (command, n) in &other.redis {
            *self.redis.entry(command).or_default() += n * factor;
        }
        self.fanout += other.fanout * factor;
        self.search_docs += other.search_docs * factor;
        self.search_queries += other.search_queries * factor;
        self.cpu_secs += other.cpu_secs * factor;
    }
}

/// Capacity one family uses (summed over a kind's actions).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KeyLoad {
    pub rcu: f64,
    pub wcu: f64,
    pub redis_ops: f64,
}

/// Which part of an action's cost grows with the actor's follower count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// Everything else.
    Fixed,
    /// Per-recipient work of the consumers (home timelines, their stream channels, follower lists).
    PerFollower,
}

/// Costs of one kind of action, summed over its actions.
#[derive(Debug, Clone, Default)]
pub struct KindCost {
    pub actions: usize,
    pub failed: usize,
    pub usage: BTreeMap<Part, Usage>,
    pub keys: BTreeMap<(Family, Part), KeyLoad>,
    /// For families with one key per id: the load on the single most used key of the family in
    /// each action, summed over the actions (per-follower keys are different keys, so this is
    /// not scaled with followers).
    pub single_key: BTreeMap<Family, KeyLoad>,
    /// Fanout deliveries per action in the trace (the followers reached).
    pub fanout_per_action: f64,
}

impl KindCost {
    /// Mean usage per action with the per-follower part multiplied by `scale`.
    pub fn per_action(&self, scale: f64) -> Usage {
        let mut out = Usage::default();
        let n = self.actions.max(1) as f64;
        for (part, usage) in &self.usage {
            out.add_scaled(usage, if *part == Part::PerFollower { scale } else { 1.0 } / n);
        }
        out.largest_transaction = self.usage.values().map(|u| u.largest_transaction).fold(0.0, f64::max);
        out
    }
}

/// What makes up the accesses of key family `name` in `run`: per action kind, operation and
/// sort key (ids replaced as in family names), the count per action and the mean size.
pub fn explain(run: &Run, name: &str) -> String {
    let mut rows: BTreeMap<(String, String, String), (usize, usize)> = BTreeMap::new();
    let mut actions: BTreeMap<String, usize> = BTreeMap::new();
    for record in &run.actions {
        *actions.entry(format!("{:?}", record.kind)).or_default() += 1;
    }
    for access in &run.accesses {
        let Some(cause) = access.cause else { continue };
        let Some(record) = run.actions.get(cause.action) else { continue };
        let backend = if matches!(access.op, Op::Redis(_)) { Backend::Redis } else { Backend::DynamoDb };
        if family(backend, &access.pk, &run.hot).name != name {
            continue;
        }
        let op = match &access.op {
            Op::Redis(command) => (*command).to_owned(),
            Op::Query { .. } => "Query".to_owned(),
            other => format!("{other:?}").split_whitespace().next().unwrap_or_default().to_owned(),
        };
        // A read filling a kept copy is rated per task, not per action (`refills`).
        let op = if access.filled { format!("{op} (fill)") } else { op };
        let sk = family_of(backend, &format!("x#{}", access.sk), &run.hot).name.trim_start_matches("x#").to_owned();
        let row = rows.entry((format!("{:?}", record.kind), op, sk)).or_default();
        row.0 += 1;
        row.1 += access.bytes;
    }
    let mut out = format!("capacity: accesses of `{name}` (per action of the kind; mean bytes):");
    if rows.is_empty() {
        out.push_str(" none");
    }
    for ((kind, op, sk), (count, bytes)) in rows {
        let n = actions.get(&kind).copied().unwrap_or(1).max(1);
        out.push_str(&format!("\n  {kind:<28} {op:<20} {sk:<40} {:>7.2} / action  {:>6} B", count as f64 / n as f64, bytes / count.max(1)));
    }
    out
}

/// Refills of in-process copies of hot data (`Access::filled`, families other than per-id
/// ones): per family, the read units one refill of its busiest key costs (each distinct item
/// once). Each core task refills a key at most once per `hot_ttl_ms`, whatever the request
/// rate, so the model rates these from the task count, not per action.
pub fn refills(run: &Run) -> BTreeMap<Family, f64> {
    let mut items: BTreeMap<(Family, String), BTreeMap<String, f64>> = BTreeMap::new();
    for access in run.accesses.iter().filter(|a| a.filled && a.cause.is_some()) {
        let fam = family(Backend::DynamoDb, &access.pk, &run.hot);
        if fam.class == Class::PerId {
            continue;
        }
        let units = items.entry((fam, access.pk.clone())).or_default().entry(access.sk.clone()).or_default();
        *units = units.max(read_units(access.bytes));
    }
    let mut out: BTreeMap<Family, f64> = BTreeMap::new();
    for ((fam, _), per_item) in items {
        let units: f64 = per_item.values().sum();
        let best = out.entry(fam).or_default();
        *best = best.max(units);
    }
    out
}

/// Costs per kind, from a run.
pub fn costs(run: &Run) -> BTreeMap<Kind, KindCost> {
    let mut out: BTreeMap<Kind, KindCost> = BTreeMap::new();
    let mut per_key: std::collections::HashMap<(usize, Family, String), KeyLoad> = std::collections::HashMap::new();
    for record in &run.actions {
        let cost = out.entry(record.kind).or_default();
        cost.actions += 1;
        cost.failed += usize::from(!record.ok);
        cost.usage.entry(Part::Fixed).or_default().cpu_secs += record.cpu_request.as_secs_f64();
        cost.usage.entry(Part::PerFollower).or_default().cpu_secs += record.cpu_consumers.as_secs_f64();
    }
    for access in &run.accesses {
        let Some(cause) = access.cause else { continue };
        let Some(record) = run.actions.get(cause.action) else { continue };
        let cost = out.entry(record.kind).or_default();
        let backend = if matches!(access.op, Op::Redis(_)) { Backend::Redis } else { Backend::DynamoDb };
        let fam = family(backend, &access.pk, &run.hot);
        if access.filled && fam.class != Class::PerId {
            // Rated from the task count instead (`refills`): not per action.
            continue;
        }
        let part =
            if cause.stage == Stage::Consumers && fam.class == Class::PerId && per_follower(&access.op, &access.pk) { Part::PerFollower } else { Part::Fixed };
        let usage = cost.usage.entry(part).or_default();
        let mut load = KeyLoad::default();
        match &access.op {
            Op::Get => {
                usage.ddb_items_read += 1.0;
                load.rcu = read_units(access.bytes);
            }
            Op::Query { items } => {
                usage.ddb_items_read += *items as f64;
                load.rcu = read_units(access.bytes);
            }
            Op::Put | Op::Delete | Op::Add => {
                usage.ddb_items_written += 1.0;
                load.wcu = transactional_write_units(access.bytes);
            }
            Op::Commit { writes, events } => {
                usage.transactions += 1.0;
                let outbox = dynamodb_outbox(events, access.bytes);
                let outbox_writes = outbox.iter().filter(|o| o.write).count();
                let items = (writes + outbox_writes) as f64;
                usage.transaction_items += items;
                usage.largest_transaction = usage.largest_transaction.max(items);
                usage.events += events.len() as f64;
                for record in kinesis_records(events) {
                    usage.kinesis_records += 1.0;
                    usage.kinesis_bytes += record.bytes as f64;
                }
                for item in outbox {
                    let fam = family(Backend::DynamoDb, &item.pk, &run.hot);
                    let mut outbox_load = KeyLoad::default();
                    if item.write {
                        usage.ddb_items_written += 1.0;
                        outbox_load.wcu = transactional_write_units(item.bytes);
                    } else {
                        usage.ddb_items_read += 1.0;
                        outbox_load.rcu = read_units(item.bytes);
                    }
                    usage.rcu += outbox_load.rcu;
                    usage.wcu += outbox_load.wcu;
                    let key = cost.keys.entry((fam, Part::Fixed)).or_default();
                    key.rcu += outbox_load.rcu;
                    key.wcu += outbox_load.wcu;
                }
                continue;
            }
            Op::Log => continue,
            Op::Redis(command) => {
                *usage.redis.entry(command).or_default() += 1.0;
                if *command == "EVALSHA add (fanout)" {
                    usage.fanout += 1.0;
                }
                load.redis_ops = 1.0;
            }
            Op::SearchIndex { docs } => {
                usage.search_docs += *docs as f64;
                continue;
            }
            Op::SearchQuery => {
                usage.search_queries += 1.0;
                continue;
            }
        }
        usage.rcu += load.rcu;
        usage.wcu += load.wcu;
        if fam.class == Class::PerId {
            let one = per_key.entry((cause.action, fam.clone(), access.pk.clone())).or_default();
            one.rcu += load.rcu;
            one.wcu += load.wcu;
            one.redis_ops += load.redis_ops;
        }
        let key = cost.keys.entry((fam, part)).or_default();
        key.rcu += load.rcu;
        key.wcu += load.wcu;
        key.redis_ops += load.redis_ops;
    }
    // The most used key of each per-id family in each action, summed per kind.
    let mut busiest: BTreeMap<(usize, Family), KeyLoad> = BTreeMap::new();
    for ((action, fam, _), load) in per_key {
        let best = busiest.entry((action, fam)).or_default();
        best.rcu = best.rcu.max(load.rcu);
        best.wcu = best.wcu.max(load.wcu);
        best.redis_ops = best.redis_ops.max(load.redis_ops);
    }
    for ((action, fam), load) in busiest {
        let Some(record) = run.actions.get(action) else { continue };
        let single = out.entry(record.kind).or_default().single_key.entry(fam).or_default();
        single.rcu += load.rcu;
        single.wcu += load.wcu;
        single.redis_ops += load.redis_ops;
    }
    for cost in out.values_mut() {
        let fanout: f64 = cost.usage.values().map(|u| u.fanout).sum();
        cost.fanout_per_action = fanout / cost.actions.max(1) as f64;
    }
    out
}

/// Consumer work done once per recipient: home-timeline writes, the recipients' stream
/// channels, the follower lists read to find them.
fn per_follower(op: &Op, key: &str) -> bool {
    match op {
        Op::Redis(command) => command.starts_with("EVALSHA add") || key.starts_with("timeline:") || key.starts_with("home:"),
        Op::Query { .. } => key.starts_with("FR#") || key.starts_with("FG#"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hot() -> HotIds {
        HotIds { largest: "111".into(), viral: "222".into(), tag: "capacitytrend".into() }
    }

    fn run_of(actions: Vec<super::super::drive::ActionRecord>, accesses: Vec<super::super::trace::Access>) -> Run {
        Run { actions, accesses, hot: hot(), users: 2, follows: 1, largest_followers: 0, elapsed: std::time::Duration::ZERO, errors: Vec::new() }
    }

    #[test]
    fn a_traced_action_is_costed_with_its_outbox_and_kinesis_records() {
        use super::super::drive::ActionRecord;
        use super::super::trace::{Access, Cause};
        use core_app::events::Event;
        use shared::id::Id;
        use std::time::Duration;

        let cause = |stage| Some(Cause { action: 0, stage });
        let event = Event::Followed { follower: Id::from_u64(5), target: Id::from_u64(6) };
        let access = |op, pk: &str, bytes, stage| Access { cause: cause(stage), op, pk: pk.into(), sk: String::new(), bytes, filled: false };
        let run = run_of(
            vec![ActionRecord { kind: Kind::Follow, cpu_request: Duration::from_millis(3), cpu_consumers: Duration::from_millis(1), ok: true }],
            vec![
                access(Op::Get, "A#6", 5000, Stage::Request),
                access(Op::Put, "A#5", 1500, Stage::Request),
                access(Op::Commit { writes: 1, events: vec![event] }, "", 80, Stage::Request),
                access(Op::Redis("EVALSHA add"), "home:5", 33, Stage::Consumers),
                Access { cause: None, op: Op::Get, pk: "META".into(), sk: String::new(), bytes: 10, filled: false },
            ],
        );
        let costs = costs(&run);
        let follow = &costs[&Kind::Follow];
        let u = follow.per_action(1.0);
        assert_eq!(u.rcu, 2.0 + 1.0, "5,000 B read = 2 RCU, plus the relay's read of the log item");
        assert_eq!(u.wcu, 4.0 + 2.0 + 2.0, "1,500 B = 2 KB × 2, then $HEAD and $LOG at 1 KB × 2");
        assert_eq!((u.transactions, u.largest_transaction), (1.0, 3.0), "the write plus two outbox items");
        assert_eq!((u.events, u.kinesis_records), (1.0, 1.0));
        assert_eq!(u.redis_total(), 1.0);
        assert!((u.cpu_secs - 0.004).abs() < 1e-9);
        let head = Family { backend: Backend::DynamoDb, name: "$HEAD#{shard}".into(), class: Class::Shard };
        assert_eq!(follow.keys[&(head, Part::Fixed)].wcu, 2.0, "the head of the actor's log partition");
        assert!(!follow.keys.keys().any(|(f, _)| f.name == "META"), "accesses outside an action are not costed");
    }

    #[test]
    fn explain_breaks_a_family_down_by_kind_operation_and_sort_key_shape() {
        use super::super::drive::ActionRecord;
        use super::super::trace::{Access, Cause};
        use std::time::Duration;

        let access = |action, op, pk: &str, sk: &str| Access {
            cause: Some(Cause { action, stage: Stage::Request }),
            op,
            pk: pk.into(),
            sk: sk.into(),
            bytes: 300,
            filled: false,
        };
        let record = |kind| ActionRecord { kind, cpu_request: Duration::ZERO, cpu_consumers: Duration::ZERO, ok: true };
        let run = run_of(
            vec![record(Kind::StatusReadViral), record(Kind::StatusReadViral), record(Kind::Follow)],
            vec![
                access(0, Op::Get, "A#111", "profile"),
                access(1, Op::Get, "A#111", "profile"),
                access(1, Op::Get, "A#111", "blocks#12345"),
                access(2, Op::Get, "A#5", "profile"),
            ],
        );
        let text = explain(&run, "A#{largest}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[1].contains("StatusReadViral") && lines[1].contains("blocks#{id}") && lines[1].contains("0.50 / action"), "{text}");
        assert!(lines[2].contains("profile") && lines[2].contains("1.00 / action") && lines[2].contains("300 B"), "{text}");
        assert!(explain(&run, "A#{nothing}").ends_with("none"));
    }

    #[test]
    fn reads_round_up_to_4_kb_and_cost_at_least_one_unit() {
        assert_eq!(read_units(0), 1.0);
        assert_eq!(read_units(1), 1.0);
        assert_eq!(read_units(4096), 1.0);
        assert_eq!(read_units(4097), 2.0);
    }

    #[test]
    fn transactional_writes_round_up_to_1_kb_and_count_twice() {
        assert_eq!(transactional_write_units(0), 2.0);
        assert_eq!(transactional_write_units(1024), 2.0);
        assert_eq!(transactional_write_units(1025), 4.0);
        assert_eq!(transactional_write_units(3000), 6.0);
    }

    #[test]
    fn families_replace_ids_and_mark_hot_entities() {
        let h = hot();
        let f = |k: &str| family(Backend::DynamoDb, k, &h);
        assert_eq!(f("PUB"), Family { backend: Backend::DynamoDb, name: "PUB#{shard}".into(), class: Class::Merged { hot: false } }, "shard 0");
        assert_eq!(f("PUB#3").name, "PUB#{shard}");
        assert_eq!(f("META#1").class, Class::Merged { hot: false });
        assert_eq!(f("T#capacitytrend#2"), Family { backend: Backend::DynamoDb, name: "T#{trending}#{shard}".into(), class: Class::Merged { hot: true } });
        assert_eq!(f("S#222#5").name, "S#{viral}#{shard}");
        assert_eq!(f("S#12345#5").class, Class::PerId, "an ordinary status's counter shard");
        assert_eq!(f("$HEAD").class, Class::Global);
        assert_eq!(f("$HEAD#17"), Family { backend: Backend::DynamoDb, name: "$HEAD#{shard}".into(), class: Class::Shard });
        assert_eq!(f("$LOG#0").class, Class::Shard);
        assert_eq!(f("A#12345").name, "A#{id}");
        assert_eq!(f("A#12345").class, Class::PerId);
        assert_eq!(f("A#111").name, "A#{largest}");
        assert_eq!(f("A#111").class, Class::Hot);
        assert_eq!(f("S#222").name, "S#{viral}");
        assert_eq!(
            f("SL#222#fav"),
            Family { backend: Backend::DynamoDb, name: "SL#{viral}#fav#{shard}".into(), class: Class::Merged { hot: true } },
            "shard 0"
        );
        assert_eq!(f("SL#222#rb#3").name, "SL#{viral}#rb#{shard}");
        assert_eq!(f("SL#12345#fav#3").class, Class::PerId, "an ordinary status's list");
        assert_eq!(f("SL#12345#fav").class, Class::PerId);
        assert_eq!(f("AS#000000000000006f").name, "AS#{largest}", "ids as sort keys (hex) too");
        assert_eq!(f("T#capacitytrend").name, "T#{trending}#{shard}");
        assert_eq!(f("T#rust").name, "T#{tag}#{shard}");
        assert_eq!(f("U#alice").name, "U#{name}");
        let r = |k: &str| family(Backend::Redis, k, &h);
        assert_eq!(r("timeline:public"), Family { backend: Backend::Redis, name: "timeline:public#{shard}".into(), class: Class::Shard });
        assert_eq!(r("timeline:public:local:media").name, "timeline:public:local:media#{shard}");
        assert_eq!(r("timeline:hashtag:rust").name, "timeline:hashtag:{tag}");
        assert_eq!(r("home:5").name, "home:{id}");
        assert_eq!(r("home:111").class, Class::Hot);
        assert_eq!(f("NA#111#favourite#5#222").class, Class::PerId, "one key per favouriter");
        assert_eq!(
            f("N#111"),
            Family { backend: Backend::DynamoDb, name: "N#{largest}#{shard}".into(), class: Class::Merged { hot: true } },
            "a celebrity's notifications: shard 0"
        );
        assert_eq!(f("N#111#3").name, "N#{largest}#{shard}");
        assert_eq!(f("N#12345").class, Class::PerId, "an ordinary account's notifications");
        assert_eq!(f("N#12345#2").class, Class::PerId);
        assert_eq!(f("NF#111#5").class, Class::PerId, "not a shard of N#");
    }
}
