//! The AWS list-price table (loadgen/profiles/prices-us-east-1.toml) the monthly cost is
//! computed from; it states its own date and source.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub region: String,
    /// When the prices were taken.
    pub date: String,
    /// Where they come from.
    pub source: String,
    pub dynamodb: DynamoPrices,
    pub kinesis: KinesisPrices,
    pub elasticache: ElastiCachePrices,
    pub fargate: FargatePrices,
    pub opensearch: OpenSearchPrices,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamoPrices {
    /// Provisioned capacity, per WCU-hour.
    pub wcu_hour: f64,
    /// Provisioned capacity, per RCU-hour.
    pub rcu_hour: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KinesisPrices {
    pub shard_hour: f64,
    /// Per million PUT payload units (25 KB each).
    pub put_units_million: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElastiCachePrices {
    pub node_type: String,
    pub node_hour: f64,
    /// Usable memory per node, GiB.
    pub node_memory_gib: f64,
    /// Replicas per shard (a primary plus this many).
    pub replicas_per_shard: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FargatePrices {
    pub vcpu_hour: f64,
    pub gb_hour: f64,
    /// CPU utilisation tasks are sized for.
    pub target_utilisation: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenSearchPrices {
    pub node_type: String,
    pub node_hour: f64,
    /// Documents a data node indexes per second (an assumption; see the table).
    pub docs_per_node_per_sec: f64,
    /// Searches a data node answers per second (an assumption; see the table).
    pub searches_per_node_per_sec: f64,
    /// The smallest cluster (zone-aware).
    pub min_nodes: f64,
}

/// Hours in a month as AWS bills them.
pub const HOURS_PER_MONTH: f64 = 730.0;

impl Prices {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read price table {}", path.display()))?;
        let prices: Prices = toml::from_str(&text).with_context(|| format!("invalid price table {}", path.display()))?;
        let numbers = [
            ("dynamodb.wcu_hour", prices.dynamodb.wcu_hour),
            ("dynamodb.rcu_hour", prices.dynamodb.rcu_hour),
            ("kinesis.shard_hour", prices.kinesis.shard_hour),
            ("elasticache.node_hour", prices.elasticache.node_hour),
            ("elasticache.node_memory_gib", prices.elasticache.node_memory_gib),
            ("fargate.vcpu_hour", prices.fargate.vcpu_hour),
            ("fargate.target_utilisation", prices.fargate.target_utilisation),
            ("opensearch.node_hour", prices.opensearch.node_hour),
            ("opensearch.docs_per_node_per_sec", prices.opensearch.docs_per_node_per_sec),
            ("opensearch.searches_per_node_per_sec", prices.opensearch.searches_per_node_per_sec),
        ];
        for (field, value) in numbers {
            if !value.is_finite() || value <= 0.0 {
                bail!("price table {}: field `{field}` must be a positive number (got {value})", path.display());
            }
        }
        Ok(prices)
    }
}
