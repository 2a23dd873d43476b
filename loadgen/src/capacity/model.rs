//! Per-action costs scaled to a profile: request rates per kind, totals per AWS resource, the
//! hottest keys against their limits, and a monthly price.

use std::collections::BTreeMap;

use super::cost::{Backend, Class, Family, KindCost, Part, Usage};
use super::drive::Kind;
use super::prices::{HOURS_PER_MONTH, Prices};
use super::profile::Profile;

/// DynamoDB's per-partition limits, per second.
pub const PARTITION_WCU: f64 = 1_000.0;
pub const PARTITION_RCU: f64 = 3_000.0;
/// Kinesis's per-shard limits: in, and out shared by every reader not using enhanced fan-out.
pub const SHARD_IN_RECORDS: f64 = 1_000.0;
pub const SHARD_IN_BYTES: f64 = 1_048_576.0;
pub const SHARD_OUT_BYTES: f64 = 2_097_152.0;
/// Kinesis applications reading every record: fanout, search, notifications, analytics.
pub const STREAM_READERS: f64 = 4.0;
/// The share of a limit a key or resource may use.
pub const THRESHOLD: f64 = 0.8;
/// Bytes a home-timeline entry takes in Redis: the member (two 16-digit sort keys) plus the
/// sorted set's skiplist node and dict entry (an estimate of Redis's own overhead).
pub const HOME_ENTRY_BYTES: f64 = 33.0 + 64.0;

/// The profile's peak rate of `kind`, per second.
pub fn rate(profile: &Profile, kind: Kind) -> f64 {
    let r = &profile.rates;
    let h = &profile.hot;
    let reach = profile.largest_account_reach();
    match kind {
        Kind::SignUp => r.sign_ups,
        Kind::Follow => r.follows * (1.0 - h.largest_account_follow_share),
        Kind::FollowLargest => r.follows * h.largest_account_follow_share,
        Kind::Post => r.posts_peak * (1.0 - h.trending_tag_share),
        Kind::PostTrending => r.posts_peak * h.trending_tag_share,
        Kind::Home => r.home_reads * (1.0 - reach),
        Kind::HomeLargestFollower => r.home_reads * reach,
        Kind::UserTimeline => r.user_timeline_reads * (1.0 - h.largest_account_profile_share),
        Kind::UserTimelineLargest => r.user_timeline_reads * h.largest_account_profile_share,
        Kind::StatusRead => r.status_reads,
        Kind::StatusReadViral => h.viral_status_reads,
        Kind::Favourite => (r.favourites_and_boosts * (1.0 - r.boost_share) - h.viral_status_favourites).max(0.0),
        Kind::FavouriteViral => h.viral_status_favourites,
        Kind::Boost => (r.favourites_and_boosts * r.boost_share - h.viral_status_boosts).max(0.0),
        Kind::BoostViral => h.viral_status_boosts,
        Kind::Search => r.searches,
    }
}

/// How much more per-follower work an action does at the profile's mean follower count than
/// in the trace.
pub fn follower_scale(profile: &Profile, cost: &KindCost) -> f64 {
    if cost.fanout_per_action > 0.0 { profile.mean_followers / cost.fanout_per_action } else { 1.0 }
}

/// One key family's rate at the profile.
#[derive(Debug, Clone, PartialEq)]
pub struct HotKey {
    pub family: Family,
    pub rcu: f64,
    pub wcu: f64,
    pub redis_ops: f64,
    /// The largest share of a limit it uses.
    pub load: f64,
    /// Which limit that is.
    pub limit: &'static str,
    /// The action that puts the most load on it.
    pub top: Option<Kind>,
}

/// Rates each family's hottest key (see docs/capacity.md, "Method"):
/// - a family without an id (one key deployment-wide) gets every kind's rate × its use;
/// - a hot entity's key (the largest account, the viral status, the trending tag) gets the
///   rates of the kinds aimed at it (the profile's hot figures) × their use;
/// - a per-id family gets the busiest ordinary account's rate × the most any kind uses it;
/// - one shard of a sharded key gets the deployment-wide rate divided by the profile's count;
/// - a key kept in process (`refills`: read units per refill) is also read once per core task
///   (`tasks`) and `hot_ttl_ms`, whatever the request rate.
pub fn hot_keys(profile: &Profile, costs: &BTreeMap<Kind, KindCost>, refills: &BTreeMap<Family, f64>, tasks: f64) -> Vec<HotKey> {
    let mut rated: BTreeMap<Family, (f64, f64, f64)> = BTreeMap::new();
    for (family, units) in refills {
        rated.entry(family.clone()).or_default().0 += units * refills_per_second(profile, tasks);
    }
    let mut top: BTreeMap<Family, (f64, Kind)> = BTreeMap::new();
    for (&kind, cost) in costs {
        let n = cost.actions.max(1) as f64;
        let scale = follower_scale(profile, cost);
        for ((family, part), load) in &cost.keys {
            let per_action = if *part == Part::PerFollower { scale } else { 1.0 } / n;
            let (rcu, wcu, ops) = (load.rcu * per_action, load.wcu * per_action, load.redis_ops * per_action);
            let entry = rated.entry(family.clone()).or_default();
            let (read_rate, write_rate) = shard_rates(profile, kind, family);
            let weight = match family.class {
                Class::PerId => profile.hot.busiest_account_actions * (rcu / PARTITION_RCU + wcu / PARTITION_WCU + ops / profile.redis.ops_per_shard),
                _ => read_rate * rcu / PARTITION_RCU + write_rate * (wcu / PARTITION_WCU + ops / profile.redis.ops_per_shard),
            };
            let best = top.entry(family.clone()).or_insert((0.0, kind));
            if weight > best.0 {
                *best = (weight, kind);
            }
            // Per-id families are rated below, from the single most used key.
            if family.class != Class::PerId {
                entry.0 += rcu * read_rate;
                entry.1 += wcu * write_rate;
                entry.2 += ops * write_rate;
            }
        }
        for (family, load) in &cost.single_key {
            let r = profile.hot.busiest_account_actions / n;
            let entry = rated.entry(family.clone()).or_default();
            let (rcu, wcu, ops) = (load.rcu * r, load.wcu * r, load.redis_ops * r);
            entry.0 = entry.0.max(rcu);
            entry.1 = entry.1.max(wcu);
            entry.2 = entry.2.max(ops);
            let weight = rcu / PARTITION_RCU + wcu / PARTITION_WCU + ops / profile.redis.ops_per_shard;
            let best = top.entry(family.clone()).or_insert((0.0, kind));
            if weight > best.0 {
                *best = (weight, kind);
            }
        }
    }
    let mut keys: Vec<HotKey> = rated
        .into_iter()
        .map(|(family, (rcu, wcu, redis_ops))| {
            let (load, limit) = match family.backend {
                Backend::DynamoDb => {
                    if rcu / PARTITION_RCU >= wcu / PARTITION_WCU {
                        (rcu / PARTITION_RCU, "3,000 RCU/s per partition")
                    } else {
                        (wcu / PARTITION_WCU, "1,000 WCU/s per partition")
                    }
                }
                Backend::Redis => (redis_ops / profile.redis.ops_per_shard, "one Redis shard's ops/s"),
            };
            let top = top.get(&family).filter(|(weight, _)| *weight > 0.0).map(|(_, kind)| *kind);
            HotKey { family, rcu, wcu, redis_ops, load, limit, top }
        })
        .collect();
    keys.sort_by(|a, b| b.load.total_cmp(&a.load));
    keys
}

/// The rates at which one key of `family` is read and written per unit of its recorded load of
/// a `kind` action (per-id families: unused):
/// - deployment-wide: the kind's rate, both;
/// - a hot entity's: the kind's rate when the kind aims at it, else nothing;
/// - one shard of an outbox key (`Class::Shard`): the rate over the profile's count, both (an
///   access touches one partition's items);
/// - one shard of a merged key (`Class::Merged`): written at the rate over the profile's count
///   (one shard per write), read at the rate over the recorded run's count (the recorded load
///   sums every shard a merged read touched; each is read at the full rate).
fn shard_rates(profile: &Profile, kind: Kind, family: &Family) -> (f64, f64) {
    let r = rate(profile, kind);
    match family.class {
        Class::Global => (r, r),
        Class::Hot => {
            let r = if kind.is_hot() { r } else { 0.0 };
            (r, r)
        }
        Class::Shard => {
            let r = r / profile.shard_count(&family.name);
            (r, r)
        }
        Class::Merged { hot } => {
            let r = if hot && !kind.is_hot() { 0.0 } else { r };
            (r / f64::from(super::cost::RECORDED_SHARDS), r / profile.shard_count(&family.name))
        }
        Class::PerId => (0.0, 0.0),
    }
}

/// What the profile needs of each AWS resource.
#[derive(Debug, Clone, Default)]
pub struct Sizing {
    pub total: Usage,
    pub rcu: f64,
    pub wcu: f64,
    pub kinesis_records: f64,
    pub kinesis_bytes: f64,
    pub kinesis_shards: f64,
    pub redis_ops: f64,
    pub redis_memory_gib: f64,
    pub redis_shards_for_ops: f64,
    pub redis_shards_for_memory: f64,
    pub redis_shards: f64,
    pub vcpus: f64,
    pub fargate_tasks: f64,
    pub index_docs: f64,
    pub search_queries: f64,
    pub opensearch_nodes: f64,
    pub cost: BTreeMap<&'static str, f64>,
}

impl Sizing {
    pub fn monthly_cost(&self) -> f64 {
        self.cost.values().sum()
    }
}

/// How often each core task refills one kept key: once per `hot_ttl_ms`, in every task.
pub fn refills_per_second(profile: &Profile, tasks: f64) -> f64 {
    tasks * 1_000.0 / profile.hot_ttl_ms
}

/// Totals at the profile's peak, resources sized with [`THRESHOLD`] headroom, priced for a
/// month at that peak (an upper bound: nothing scales down at night). Refills of kept keys
/// (`refills`) add their reads once the task count is known.
pub fn size(profile: &Profile, prices: &Prices, costs: &BTreeMap<Kind, KindCost>, refills: &BTreeMap<Family, f64>) -> Sizing {
    let mut total = Usage::default();
    for (&kind, cost) in costs {
        total.add_scaled(&cost.per_action(follower_scale(profile, cost)), rate(profile, kind));
    }
    let mut s = Sizing { rcu: total.rcu, wcu: total.wcu, kinesis_records: total.kinesis_records, kinesis_bytes: total.kinesis_bytes, ..Sizing::default() };
    s.kinesis_shards = (s.kinesis_records / (SHARD_IN_RECORDS * THRESHOLD))
        .max(s.kinesis_bytes / (SHARD_IN_BYTES * THRESHOLD))
        .max(s.kinesis_bytes * STREAM_READERS / (SHARD_OUT_BYTES * THRESHOLD))
        .ceil()
        .max(1.0);
    s.redis_ops = total.redis_total();
    s.redis_memory_gib = profile.monthly_actives * profile.home_entries * HOME_ENTRY_BYTES / 1_073_741_824.0;
    s.redis_shards_for_ops = (s.redis_ops / (profile.redis.ops_per_shard * THRESHOLD)).ceil().max(1.0);
    s.redis_shards_for_memory = (s.redis_memory_gib / (prices.elasticache.node_memory_gib * THRESHOLD)).ceil().max(1.0);
    s.redis_shards = s.redis_shards_for_ops.max(s.redis_shards_for_memory);
    s.vcpus = total.cpu_secs;
    s.fargate_tasks = (s.vcpus / (profile.core.task_vcpu * prices.fargate.target_utilisation)).ceil().max(2.0);
    s.rcu += refills.values().sum::<f64>() * refills_per_second(profile, s.fargate_tasks);
    s.index_docs = total.search_docs;
    s.search_queries = total.search_queries;
    s.opensearch_nodes = (s.index_docs / prices.opensearch.docs_per_node_per_sec)
        .max(s.search_queries / prices.opensearch.searches_per_node_per_sec)
        .ceil()
        .max(prices.opensearch.min_nodes);
    let month = HOURS_PER_MONTH;
    let seconds = month * 3600.0;
    s.cost.insert(
        "DynamoDB (provisioned RCU + WCU at peak)",
        (s.rcu / THRESHOLD * prices.dynamodb.rcu_hour + s.wcu / THRESHOLD * prices.dynamodb.wcu_hour) * month,
    );
    s.cost.insert(
        "Kinesis (shard-hours + PUT units)",
        s.kinesis_shards * prices.kinesis.shard_hour * month + s.kinesis_records * seconds / 1e6 * prices.kinesis.put_units_million,
    );
    s.cost.insert(
        "ElastiCache Redis (shards × (1 + replicas))",
        s.redis_shards * (1.0 + prices.elasticache.replicas_per_shard) * prices.elasticache.node_hour * month,
    );
    s.cost.insert(
        "Fargate (core tasks)",
        s.fargate_tasks * (profile.core.task_vcpu * prices.fargate.vcpu_hour + profile.core.task_memory_gb * prices.fargate.gb_hour) * month,
    );
    s.cost.insert("OpenSearch (data nodes)", s.opensearch_nodes * prices.opensearch.node_hour * month);
    s.total = total;
    s
}

/// How many events a second the deployment could log, at the profile's mix of actions, before
/// its busiest deployment-wide key reaches 100% of its limit (every deployment-wide key's load
/// grows with the whole request rate), and that key; `None` without events or such keys.
pub fn event_write_ceiling(keys: &[HotKey], sizing: &Sizing) -> Option<(f64, String)> {
    // Shards grow with the whole rate too.
    let busiest = keys.iter().filter(|k| matches!(k.family.class, Class::Global | Class::Shard) && k.load > 0.0).max_by(|a, b| a.load.total_cmp(&b.load))?;
    (sizing.total.events > 0.0).then(|| (sizing.total.events / busiest.load, busiest.family.name.clone()))
}

/// The keys over [`THRESHOLD`] of their limit.
pub fn over_threshold(keys: &[HotKey]) -> Vec<&HotKey> {
    keys.iter().filter(|k| k.load > THRESHOLD).collect()
}

#[cfg(test)]
mod tests {
    use super::super::cost::KeyLoad;
    use super::super::profile::{Profile, tests::VALID};
    use super::*;

    fn family(name: &str, class: Class) -> Family {
        Family { backend: Backend::DynamoDb, name: name.into(), class }
    }

    fn one_kind(kind: Kind, actions: usize, keys: &[(Family, KeyLoad)]) -> BTreeMap<Kind, KindCost> {
        let mut cost = KindCost { actions, ..KindCost::default() };
        for (f, load) in keys {
            cost.keys.insert((f.clone(), Part::Fixed), *load);
            if f.class == Class::PerId {
                cost.single_key.insert(f.clone(), *load);
            }
        }
        BTreeMap::from([(kind, cost)])
    }

    #[test]
    fn a_deployment_wide_key_takes_the_whole_rate_times_its_use_per_action() {
        let profile = Profile::parse(VALID).unwrap();
        // Two actions wrote 8 WCU on `$HEAD` in all: 4 per post, at 10 posts/s × (1 − 1% trending).
        let costs = one_kind(Kind::Post, 2, &[(family("$HEAD", Class::Global), KeyLoad { wcu: 8.0, ..KeyLoad::default() })]);
        let keys = hot_keys(&profile, &costs, &BTreeMap::new(), 10.0);
        assert!((keys[0].wcu - 4.0 * 9.9).abs() < 1e-9, "{keys:?}");
        assert!((keys[0].load - 4.0 * 9.9 / 1000.0).abs() < 1e-9);
    }

    #[test]
    fn one_shard_takes_the_whole_rate_divided_by_the_profiles_count() {
        let mut profile = Profile::parse(VALID).unwrap();
        profile.shards.insert("$HEAD".into(), 4.0);
        let costs = one_kind(Kind::Post, 2, &[(family("$HEAD#{shard}", Class::Shard), KeyLoad { wcu: 8.0, ..KeyLoad::default() })]);
        let keys = hot_keys(&profile, &costs, &BTreeMap::new(), 10.0);
        assert!((keys[0].wcu - 4.0 * 9.9 / 4.0).abs() < 1e-9, "{keys:?}");
    }

    #[test]
    fn a_hot_entity_takes_only_the_actions_aimed_at_it() {
        let profile = Profile::parse(VALID).unwrap();
        let viral = family("S#{viral}", Class::Hot);
        let mut costs = one_kind(Kind::FavouriteViral, 1, &[(viral.clone(), KeyLoad { wcu: 4.0, ..KeyLoad::default() })]);
        costs.extend(one_kind(Kind::Favourite, 1, &[(viral, KeyLoad { wcu: 4.0, ..KeyLoad::default() })]));
        let keys = hot_keys(&profile, &costs, &BTreeMap::new(), 10.0);
        assert_eq!(keys[0].wcu, 4.0 * 3.0, "3 viral favourites/s, the ordinary ones left out");
    }

    #[test]
    fn a_per_id_key_takes_the_busiest_account_rate() {
        let profile = Profile::parse(VALID).unwrap();
        let costs = one_kind(Kind::Home, 4, &[(family("A#{id}", Class::PerId), KeyLoad { rcu: 8.0, ..KeyLoad::default() })]);
        let keys = hot_keys(&profile, &costs, &BTreeMap::new(), 10.0);
        assert_eq!(keys[0].rcu, 2.0, "2 RCU per action × 1 action/s");
    }

    #[test]
    fn a_key_kept_in_process_is_read_once_per_task_and_bound_whatever_the_rate() {
        let mut profile = Profile::parse(VALID).unwrap();
        profile.hot_ttl_ms = 2_000.0;
        let viral = family("S#{viral}", Class::Hot);
        // Reads for the request (the viewer's flags) at the viral rate, plus refills of 3 RCU.
        let costs = one_kind(Kind::StatusReadViral, 1, &[(viral.clone(), KeyLoad { rcu: 2.0, ..KeyLoad::default() })]);
        let refills = BTreeMap::from([(viral, 3.0), (family("A#{id}", Class::PerId), 0.0)]);
        let keys = hot_keys(&profile, &costs, &refills, 400.0);
        let viral_rate = rate(&profile, Kind::StatusReadViral);
        assert!((keys[0].rcu - (2.0 * viral_rate + 3.0 * 400.0 / 2.0)).abs() < 1e-9, "{keys:?}");
        assert_eq!(refills_per_second(&profile, 400.0), 200.0, "400 tasks, one refill each per 2 s");
        let prices = Prices::read(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/prices-us-east-1.toml")).unwrap();
        let sized = size(&profile, &prices, &costs, &refills);
        let unrefilled = size(&profile, &prices, &costs, &BTreeMap::new());
        assert!((sized.rcu - unrefilled.rcu - 3.0 * refills_per_second(&profile, sized.fargate_tasks)).abs() < 1e-9, "refills add their reads to the total");
    }

    #[test]
    fn the_event_write_ceiling_is_where_the_busiest_deployment_wide_key_is_full() {
        let head = HotKey { family: family("$HEAD", Class::Global), rcu: 0.0, wcu: 2000.0, redis_ops: 0.0, load: 2.0, limit: "", top: None };
        let viral = HotKey { family: family("S#{viral}", Class::Hot), load: 50.0, ..head.clone() };
        let mut sizing = Sizing::default();
        sizing.total.events = 1000.0;
        assert_eq!(event_write_ceiling(&[viral, head], &sizing), Some((500.0, "$HEAD".to_owned())));
    }

    #[test]
    fn keys_over_80_percent_of_a_limit_are_flagged() {
        let over = HotKey { family: family("$HEAD", Class::Global), rcu: 0.0, wcu: 801.0, redis_ops: 0.0, load: 0.801, limit: "", top: None };
        let under = HotKey { load: 0.8, ..over.clone() };
        let keys = [under, over];
        let flagged = over_threshold(&keys);
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].load, 0.801);
    }

    #[test]
    fn rates_split_the_profile_between_ordinary_and_hot_actions() {
        let profile = Profile::parse(VALID).unwrap();
        assert_eq!(rate(&profile, Kind::HomeLargestFollower), 100.0 * 0.5);
        assert_eq!(rate(&profile, Kind::Home), 100.0 * 0.5);
        assert_eq!(rate(&profile, Kind::FavouriteViral), 3.0);
        assert!((rate(&profile, Kind::Favourite) - (30.0 * 0.7 - 3.0)).abs() < 1e-9);
        let total: f64 = Kind::ALL.iter().map(|&k| rate(&profile, k)).sum();
        assert!((total - (10.0 + 100.0 + 50.0 + 20.0 + 10.0 + 30.0 + 2.0 + 5.0 + 1.0)).abs() < 1e-9, "{total}");
    }

    #[test]
    fn per_follower_work_scales_to_the_profile_mean() {
        let profile = Profile::parse(VALID).unwrap();
        let cost = KindCost { actions: 1, fanout_per_action: 5.0, ..KindCost::default() };
        assert_eq!(follower_scale(&profile, &cost), 4.0, "20 followers in the profile, 5 in the trace");
    }
}
