//! A deployment profile (loadgen/profiles/*.toml): the load to size for, and the measured
//! capacity of one Redis shard. Every figure is validated here, and an invalid one is refused
//! with a message naming its field.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// The load a deployment must carry at its peak.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    /// Registered accounts.
    pub accounts: f64,
    /// Accounts active on a day.
    pub daily_actives: f64,
    /// Accounts active in the last 30 days (their home timelines are kept in Redis).
    pub monthly_actives: f64,
    /// Entries kept per home timeline.
    pub home_entries: f64,
    /// Mean followers of a posting account (fanout deliveries per post).
    pub mean_followers: f64,
    /// Followers of the largest account.
    pub max_followers: f64,
    pub rates: Rates,
    pub hot: Hot,
    pub redis: RedisShard,
    /// How many shards the deployment splits each sharded key into (by partition-key base:
    /// `"$HEAD"`, `"$LOG"`, `"$CKPT"` = `[store] log_partitions`, …); a base not named is one
    /// key.
    #[serde(default)]
    pub shards: std::collections::BTreeMap<String, f64>,
    /// `[timelines] hot_ttl_ms` of the deployment: how long each core task trusts its
    /// in-process copies of hot public data (a hot key is refilled at most once per task and
    /// bound). The recorded run uses 1,000.
    #[serde(default = "default_hot_ttl_ms")]
    pub hot_ttl_ms: f64,
    /// The size of the core service's tasks.
    #[serde(default)]
    pub core: CoreTasks,
}

fn default_hot_ttl_ms() -> f64 {
    1_000.0
}

/// The size of one core task (infra/core.yaml `TaskCpu`, `TaskMemory`). Copies kept in process
/// are per task, and each task refills a hot key once per `hot_ttl_ms`: fewer, larger tasks put
/// fewer reads on a hot key for the same CPU (Fargate bills vCPU and memory linearly, so the
/// size does not change the cost).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreTasks {
    /// vCPU per task: one of Fargate's sizes (0.25, 0.5, 1, 2, 4, 8, 16).
    pub task_vcpu: f64,
    /// GB of memory per task, within Fargate's range for that vCPU.
    pub task_memory_gb: f64,
}

impl Default for CoreTasks {
    fn default() -> Self {
        CoreTasks { task_vcpu: 1.0, task_memory_gb: 2.0 }
    }
}

/// Fargate's task sizes: vCPU, and the memory range (GB) each allows.
const FARGATE_SIZES: [(f64, f64, f64); 7] =
    [(0.25, 0.5, 2.0), (0.5, 1.0, 4.0), (1.0, 2.0, 8.0), (2.0, 4.0, 16.0), (4.0, 8.0, 30.0), (8.0, 16.0, 60.0), (16.0, 32.0, 120.0)];

/// Requests per second at the peak the deployment is sized for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    pub posts_average: f64,
    pub posts_peak: f64,
    pub home_reads: f64,
    pub user_timeline_reads: f64,
    pub status_reads: f64,
    /// Favourites and boosts together.
    pub favourites_and_boosts: f64,
    /// Share of [`Rates::favourites_and_boosts`] that are boosts.
    pub boost_share: f64,
    pub follows: f64,
    pub searches: f64,
    pub sign_ups: f64,
}

/// The hottest entities: one viral status, the largest account, a trending tag, the busiest
/// ordinary account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hot {
    pub viral_status_reads: f64,
    pub viral_status_favourites: f64,
    pub viral_status_boosts: f64,
    /// Share of all follows that go to the largest account.
    pub largest_account_follow_share: f64,
    /// Share of user-timeline reads that read the largest account's.
    pub largest_account_profile_share: f64,
    /// Share of posts carrying the most used (trending) tag.
    pub trending_tag_share: f64,
    /// Requests per second of the busiest ordinary account (its own partitions' load).
    pub busiest_account_actions: f64,
}

/// One Redis shard's measured capacity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisShard {
    /// Commands per second one shard (one primary) serves, measured with redis-benchmark.
    pub ops_per_shard: f64,
    /// Where and when that was measured.
    pub measured: String,
}

impl Profile {
    /// The shard count of the sharded family `name` (`{base}#{shard}`): 1 when not sharded.
    pub fn shard_count(&self, name: &str) -> f64 {
        // Every public timeline channel is spread over the same count.
        let base =
            if name.starts_with(super::cost::PUBLIC_CHANNELS) { super::cost::PUBLIC_CHANNELS } else { name.split_once('#').map_or(name, |(base, _)| base) };
        let count = self.shards.get(base).copied().unwrap_or(1.0);
        // Status counters (`S`) sharded k ways write k − 1 partitions of their own, never the
        // status's (`keys::status_counter`).
        if base == "S" && count > 1.0 { count - 1.0 } else { count }
    }

    /// Reads and validates a profile file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read profile {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid profile {}", path.display()))
    }

    /// Parses and validates profile TOML.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let profile: Profile = toml::from_str(text)?;
        profile.validate()?;
        Ok(profile)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let r = &self.rates;
        let h = &self.hot;
        let counts = [
            ("accounts", self.accounts),
            ("daily_actives", self.daily_actives),
            ("monthly_actives", self.monthly_actives),
            ("home_entries", self.home_entries),
            ("mean_followers", self.mean_followers),
            ("max_followers", self.max_followers),
            ("rates.posts_average", r.posts_average),
            ("rates.posts_peak", r.posts_peak),
            ("rates.home_reads", r.home_reads),
            ("rates.user_timeline_reads", r.user_timeline_reads),
            ("rates.status_reads", r.status_reads),
            ("rates.favourites_and_boosts", r.favourites_and_boosts),
            ("rates.follows", r.follows),
            ("rates.searches", r.searches),
            ("rates.sign_ups", r.sign_ups),
            ("hot.viral_status_reads", h.viral_status_reads),
            ("hot.viral_status_favourites", h.viral_status_favourites),
            ("hot.viral_status_boosts", h.viral_status_boosts),
            ("hot.busiest_account_actions", h.busiest_account_actions),
        ];
        if !self.hot_ttl_ms.is_finite() || self.hot_ttl_ms < 1.0 {
            bail!("profile field `hot_ttl_ms` must be a number of milliseconds ≥ 1 (got {})", self.hot_ttl_ms);
        }
        let core = &self.core;
        let Some(&(_, least, most)) = FARGATE_SIZES.iter().find(|(vcpu, _, _)| *vcpu == core.task_vcpu) else {
            bail!("profile field `core.task_vcpu` must be one of Fargate's task sizes 0.25, 0.5, 1, 2, 4, 8, 16 (got {})", core.task_vcpu);
        };
        if !(least..=most).contains(&core.task_memory_gb) {
            bail!("profile field `core.task_memory_gb` must be from {least} to {most} with {} vCPU (got {})", core.task_vcpu, core.task_memory_gb);
        }
        for (base, count) in &self.shards {
            if !count.is_finite() || *count < 1.0 || count.fract() != 0.0 || *count > 65_536.0 {
                bail!("profile field `shards.{base}` must be a whole number from 1 to 65536 (got {count})");
            }
        }
        for (field, value) in counts {
            if !value.is_finite() || value < 0.0 {
                bail!("profile field `{field}` must be a finite number ≥ 0 (got {value})");
            }
        }
        let shares = [
            ("rates.boost_share", r.boost_share),
            ("hot.largest_account_follow_share", h.largest_account_follow_share),
            ("hot.largest_account_profile_share", h.largest_account_profile_share),
            ("hot.trending_tag_share", h.trending_tag_share),
        ];
        for (field, value) in shares {
            if !(0.0..=1.0).contains(&value) {
                bail!("profile field `{field}` is a share and must be between 0 and 1 (got {value})");
            }
        }
        if self.name.trim().is_empty() {
            bail!("profile field `name` must not be empty");
        }
        if self.accounts < 1.0 {
            bail!("profile field `accounts` must be at least 1 (got {})", self.accounts);
        }
        for (field, value) in [("daily_actives", self.daily_actives), ("monthly_actives", self.monthly_actives), ("max_followers", self.max_followers)] {
            if value > self.accounts {
                bail!("profile field `{field}` ({value}) cannot exceed `accounts` ({})", self.accounts);
            }
        }
        if self.daily_actives > self.monthly_actives {
            bail!("profile field `daily_actives` ({}) cannot exceed `monthly_actives` ({})", self.daily_actives, self.monthly_actives);
        }
        if r.posts_average > r.posts_peak {
            bail!("profile field `rates.posts_average` ({}) cannot exceed `rates.posts_peak` ({})", r.posts_average, r.posts_peak);
        }
        if h.viral_status_favourites + h.viral_status_boosts > r.favourites_and_boosts {
            bail!(
                "profile fields `hot.viral_status_favourites` + `hot.viral_status_boosts` ({}) cannot exceed `rates.favourites_and_boosts` ({})",
                h.viral_status_favourites + h.viral_status_boosts,
                r.favourites_and_boosts
            );
        }
        if !self.redis.ops_per_shard.is_finite() || self.redis.ops_per_shard <= 0.0 {
            bail!("profile field `redis.ops_per_shard` must be a positive number (got {})", self.redis.ops_per_shard);
        }
        Ok(())
    }

    /// Share of home reads made by followers of the largest account (followers read as often
    /// as anyone).
    pub fn largest_account_reach(&self) -> f64 {
        self.max_followers / self.accounts
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const VALID: &str = r#"
name = "test"
accounts = 1000
daily_actives = 400
monthly_actives = 600
home_entries = 800
mean_followers = 20
max_followers = 500
[rates]
posts_average = 5
posts_peak = 10
home_reads = 100
user_timeline_reads = 50
status_reads = 20
favourites_and_boosts = 30
boost_share = 0.3
follows = 2
searches = 5
sign_ups = 1
[hot]
viral_status_reads = 10
viral_status_favourites = 3
viral_status_boosts = 1
largest_account_follow_share = 0.1
largest_account_profile_share = 0.05
trending_tag_share = 0.01
busiest_account_actions = 1
[redis]
ops_per_shard = 100000
measured = "test"
"#;

    #[test]
    fn a_valid_profile_parses() {
        let p = Profile::parse(VALID).unwrap();
        assert_eq!(p.rates.posts_peak, 10.0);
        assert_eq!(p.largest_account_reach(), 0.5);
    }

    #[test]
    fn a_negative_rate_is_refused_naming_its_field() {
        let err = Profile::parse(&VALID.replace("home_reads = 100", "home_reads = -1")).unwrap_err();
        assert!(format!("{err:#}").contains("rates.home_reads"), "{err:#}");
    }

    #[test]
    fn a_share_above_one_is_refused_naming_its_field() {
        let err = Profile::parse(&VALID.replace("trending_tag_share = 0.01", "trending_tag_share = 1.5")).unwrap_err();
        assert!(format!("{err:#}").contains("hot.trending_tag_share"), "{err:#}");
    }

    #[test]
    fn a_fractional_or_zero_shard_count_is_refused_naming_its_key() {
        for bad in ["0", "2.5", "70000"] {
            let err = Profile::parse(&format!("{VALID}\n[shards]\n\"$HEAD\" = {bad}\n")).unwrap_err();
            assert!(format!("{err:#}").contains("shards.$HEAD"), "{err:#}");
        }
        let ok = Profile::parse(&format!("{VALID}\n[shards]\n\"$HEAD\" = 4096\n\"S\" = 32\n")).unwrap();
        assert_eq!(ok.shard_count("$HEAD#{shard}"), 4096.0);
        assert_eq!(ok.shard_count("PUB"), 1.0);
        assert_eq!(ok.shard_count("S#{viral}#{shard}"), 31.0, "status counters write every shard but the status's own");
    }

    #[test]
    fn a_task_size_fargate_does_not_offer_is_refused_naming_its_field() {
        let default = Profile::parse(VALID).unwrap().core;
        assert_eq!((default.task_vcpu, default.task_memory_gb), (1.0, 2.0), "the default");
        let sized = |vcpu: &str, gb: &str| Profile::parse(&format!("{VALID}\n[core]\ntask_vcpu = {vcpu}\ntask_memory_gb = {gb}\n"));
        assert_eq!(sized("8", "16").unwrap().core.task_vcpu, 8.0);
        let err = sized("3", "8").unwrap_err();
        assert!(format!("{err:#}").contains("core.task_vcpu"), "{err:#}");
        let err = sized("8", "4").unwrap_err();
        assert!(format!("{err:#}").contains("core.task_memory_gb"), "{err:#}");
    }

    #[test]
    fn more_followers_than_accounts_is_refused() {
        let err = Profile::parse(&VALID.replace("max_followers = 500", "max_followers = 5000")).unwrap_err();
        assert!(format!("{err:#}").contains("max_followers"), "{err:#}");
    }

    #[test]
    fn a_missing_or_unknown_field_is_named() {
        let err = Profile::parse(&VALID.replace("searches = 5\n", "")).unwrap_err();
        assert!(format!("{err:#}").contains("searches"), "{err:#}");
        let err = Profile::parse(&VALID.replace("searches = 5\n", "searches = 5\nsearchs = 1\n")).unwrap_err();
        assert!(format!("{err:#}").contains("searchs"), "{err:#}");
    }
}
