//! Where events go besides core's in-process consumers: the Kinesis outbox relay and
//! consumer (`[events] type = "kinesis"`), the analytics loader (`[analytics] type = "redshift"`).
//!
//! - events embedded, analytics redshift: the loader tails the embedded log (consumer `analytics`).
//! - events kinesis: the relay tails the outbox into the stream (consumer `kinesis-relay`), each
//!   log partition relayed by one instance at a time (partition leases in the store).
//!   Fanout, search and notifications (unless `feed_app_consumers = false`) and the loader,
//!   when configured, are each fed by a Kinesis consumer of their own (application `fanout`,
//!   `search`, `notifications`, `analytics`; shard leases and checkpoints in the configured
//!   store), so core instances split the shards of each instead of all handling every event.

use std::sync::Arc;

use anyhow::Context as _;
use core_app::Backends;
use core_ports::ports::EventSink;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// The production event stream.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum EventsSettings {
    /// Only the embedded log (the zero-configuration default).
    #[default]
    Embedded,
    /// The outbox is relayed to a Kinesis stream, and read back from it.
    Kinesis {
        /// Stream name.
        stream: String,
        /// Region.
        #[serde(default = "super::default_region")]
        region: String,
        /// Endpoint override (moto, VPC endpoint); AWS's own when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        /// Static credentials; the default chain (environment, task role) when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_key_id: Option<String>,
        /// Secret of `access_key_id`.
        #[serde(default, skip_serializing)]
        secret_access_key: Option<SecretString>,
        /// Shard lease length in seconds.
        #[serde(default = "default_lease_secs")]
        lease_secs: u64,
        /// Feed fanout, search and notifications from the stream, shards split between
        /// instances (the default); `false` keeps every instance tailing its own outbox for
        /// them (each handles every event, idempotently).
        #[serde(default = "default_true")]
        feed_app_consumers: bool,
    },
}

/// How often the outbox relay looks for new events in its partitions when it found none.
const RELAY_POLL: std::time::Duration = std::time::Duration::from_millis(100);

fn default_lease_secs() -> u64 {
    30
}

fn default_true() -> bool {
    true
}

impl EventsSettings {
    /// Whether fanout, search and notifications are fed from the stream rather than by each
    /// instance's log tails.
    pub fn feeds_app_consumers(&self) -> bool {
        matches!(self, EventsSettings::Kinesis { feed_app_consumers: true, .. })
    }
}

/// The analytics warehouse.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum AnalyticsSettings {
    /// No analytics (the default).
    #[default]
    None,
    /// Redshift, or any PostgreSQL, over the PostgreSQL wire protocol.
    Redshift {
        /// `postgres://user:password@host:5439/db`. TLS is required (the certificate verified)
        /// unless the URL says `sslmode=disable` or `sslmode=prefer`.
        #[serde(skip_serializing)]
        url: SecretString,
        /// PEM file of a private CA the warehouse's certificate chains to (Amazon's CAs are
        /// trusted already).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_file: Option<std::path::PathBuf>,
    },
}

/// The running event pipelines; they stop when this is dropped.
pub struct Pipelines {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Pipelines {
    /// Stops the pipelines and waits (up to 10 s) for them to finish: the Kinesis consumers
    /// release their shard leases on the way out.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout(std::time::Duration::from_secs(10), task).await.is_err() {
                tracing::warn!("an event pipeline did not stop within 10s");
            }
        }
    }

    /// How many pipelines run.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

impl Drop for Pipelines {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Connects what `[events]` and `[analytics]` configure (failing fast when unreachable) and
/// starts it; `app` is what the stream feeds when [`EventsSettings::feeds_app_consumers`].
pub async fn start(events: &EventsSettings, analytics: &AnalyticsSettings, node_id: u8, backends: &Backends, app: &core_app::App) -> anyhow::Result<Pipelines> {
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let loader: Option<Arc<dyn EventSink>> = match analytics {
        AnalyticsSettings::None => None,
        AnalyticsSettings::Redshift { url, ca_file } => Some(Arc::new(
            core_analytics::AnalyticsLoader::connect(
                url.expose_secret(),
                ca_file.as_deref(),
                Arc::new(crate::app_ports::StoredStatusFacts(backends.store.clone())),
            )
            .await
            .context("the analytics warehouse is unusable (check [analytics] url and ca_file)")?,
        )),
    };
    match events {
        EventsSettings::Embedded => {
            if let Some(loader) = loader {
                tasks.push(tokio::spawn(core_ports::sink::tail(backends.events.clone(), core_analytics::CONSUMER.into(), loader, 500, stop_rx)));
            }
        }
        EventsSettings::Kinesis { stream, region, endpoint, access_key_id, secret_access_key, lease_secs, feed_app_consumers } => {
            let credentials = access_key_id.clone().zip(secret_access_key.as_ref().map(|s| s.expose_secret().to_owned()));
            let config = core_kinesis::KinesisConfig { stream: stream.clone(), region: region.clone(), endpoint: endpoint.clone(), credentials };
            let client = core_kinesis::client(&config).await;
            core_kinesis::check_stream(&client, stream).await.context("the kinesis stream is unreachable (check [events])")?;
            let publisher = Arc::new(core_kinesis::KinesisPublisher::with_client(client.clone(), stream.clone()));
            // The node id is held by one live process (ids rely on it too), so it names the
            // lease holder: a process restarted after a crash resumes its own shards and log
            // partitions at once instead of waiting for its old leases to expire.
            let owner = format!("core-{node_id}");
            // One publisher per log partition across the deployment (not every process
            // relaying everything): the partitions are leased like the stream's shards.
            let relay_leases = core_ports::leases::Leases::new(
                backends.store.clone(),
                core_ports::keys::relay_lease_prefix(core_kinesis::RELAY_CONSUMER),
                core_ports::keys::relay_instances_partition(core_kinesis::RELAY_CONSUMER),
                owner.clone(),
                std::time::Duration::from_secs((*lease_secs).max(2)),
                Arc::new(core_ports::SystemClock),
            );
            tasks.push(tokio::spawn(core_ports::sink::relay(
                backends.events.clone(),
                core_kinesis::RELAY_CONSUMER.into(),
                publisher,
                relay_leases,
                core_kinesis::MAX_RECORDS_PER_PUT,
                RELAY_POLL,
                stop_rx.clone(),
            )));
            let mut sinks = if *feed_app_consumers { core_app::consumer::sinks(app) } else { Vec::new() };
            sinks.extend(loader.map(|loader| (core_kinesis::LEGACY_APPLICATION, loader)));
            for (application, sink) in sinks {
                // The warehouse loads best in large batches; fanout & co. checkpoint more often so
                // a slow stretch (a big fanout) never outlasts the lease.
                let chunk = if application == core_kinesis::LEGACY_APPLICATION { 1000 } else { 100 };
                let options = core_kinesis::ConsumerOptions {
                    lease: std::time::Duration::from_secs((*lease_secs).max(2)),
                    chunk,
                    ..core_kinesis::ConsumerOptions::new(application, owner.clone())
                };
                let consumer = core_kinesis::KinesisConsumer::new(client.clone(), stream.clone(), backends.store.clone(), sink, options);
                tasks.push(tokio::spawn(consumer.run(stop_rx.clone())));
            }
        }
    }
    Ok(Pipelines { stop, tasks })
}

/// Where Web Push deliveries go.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum PushSettings {
    /// Subscriptions are kept, nothing is sent (the default).
    #[default]
    None,
    /// Published to an SNS topic whose subscriber sends the Web Push requests.
    Sns {
        /// Topic ARN.
        topic_arn: String,
        /// Region.
        #[serde(default = "super::default_region")]
        region: String,
        /// Endpoint override (moto, VPC endpoint).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        /// Static credentials; the default chain when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_key_id: Option<String>,
        /// Secret of `access_key_id`.
        #[serde(default, skip_serializing)]
        secret_access_key: Option<SecretString>,
        /// The VAPID public key the sender signs with (clients get it as `server_key`).
        #[serde(default)]
        vapid_public_key: String,
    },
}

/// The configured push publisher (checking the topic exists).
pub async fn push_publisher(settings: &PushSettings) -> anyhow::Result<Option<Arc<dyn core_ports::ports::PushPublisher>>> {
    match settings {
        PushSettings::None => Ok(None),
        PushSettings::Sns { topic_arn, region, endpoint, access_key_id, secret_access_key, vapid_public_key } => {
            let config = core_sns::SnsConfig {
                topic_arn: topic_arn.clone(),
                region: region.clone(),
                endpoint: endpoint.clone(),
                credentials: access_key_id.clone().zip(secret_access_key.as_ref().map(|s| s.expose_secret().to_owned())),
                vapid_public_key: vapid_public_key.clone(),
            };
            let publisher =
                core_sns::SnsPushPublisher::connect(&config).await.map_err(|e| anyhow::anyhow!("the SNS push topic is unreachable (check [push]): {e}"))?;
            Ok(Some(Arc::new(publisher)))
        }
    }
}
