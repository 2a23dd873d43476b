//! Kinesis events: the production event stream.
//!
//! - [`KinesisPublisher`] is the outbox relay's sink: core tails its own outbox (the
//!   `EventLog`, written in the same transaction as each change) as the consumer
//!   `kinesis-relay` ([`RELAY_CONSUMER`]) and publishes with `PutRecords`. The relay's
//!   checkpoint moves only after Kinesis accepted every record of the batch, so an event
//!   committed just before core dies is published after the restart (at-least-once: each
//!   record carries its outbox `seq`, the idempotency key downstream).
//! - [`KinesisConsumer`] reads the stream's shards and hands the events to an
//!   [`EventSink`]. Per-shard checkpoints and shard leases live in the `Store` (DynamoDB in
//!   production), so several core instances split the shards and a crashed instance's shards
//!   are taken over when its lease expires.
//!   Each application reading the stream (fanout, search, notifications, analytics) has
//!   its own leases and checkpoints ([`ConsumerOptions::application`]).
//!
//! Owns: the record format, partition keys, PutRecords retries, shard leases. Must never:
//! move a checkpoint past a record that was not accepted / delivered.

mod consumer;
mod publisher;

use core_ports::events::Event;
use core_ports::ports::LoggedEvent;
use serde::{Deserialize, Serialize};

pub use crate::consumer::{ConsumerOptions, KinesisConsumer, LEGACY_APPLICATION, Lease};
pub use crate::publisher::{KinesisPublisher, MAX_RECORDS_PER_PUT, PutOutcome, RecordPutter, put_all};

/// The outbox relay's checkpoint name in the event log.
pub const RELAY_CONSUMER: &str = "kinesis-relay";

/// Where the stream is and how to reach it.
#[derive(Clone)]
pub struct KinesisConfig {
    /// Stream name.
    pub stream: String,
    /// AWS region.
    pub region: String,
    /// Endpoint override (moto, LocalStack, VPC endpoints); AWS's own when `None`.
    pub endpoint: Option<String>,
    /// Static credentials; the default provider chain (environment, ECS task role) when `None`.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for KinesisConfig {
    // The secret key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KinesisConfig")
            .field("stream", &self.stream)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials.as_ref().map(|(id, _)| (id, "***")))
            .finish()
    }
}

/// Why a Kinesis operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KinesisError {
    /// The API call failed or could not be sent.
    #[error("kinesis: {0}")]
    Api(String),
    /// The store holding checkpoints and leases failed.
    #[error(transparent)]
    Store(#[from] core_ports::ports::StoreError),
    /// The sink refused a batch.
    #[error(transparent)]
    Sink(#[from] core_ports::ports::SinkError),
}

/// Builds a Kinesis client for `config`.
pub async fn client(config: &KinesisConfig) -> aws_sdk_kinesis::Client {
    let sdk = core_aws::loader(&config.region, config.endpoint.as_deref(), core_aws::keys(config.credentials.as_ref())).load().await;
    aws_sdk_kinesis::Client::new(&sdk)
}

/// Checks that the stream exists and answers (startup fails fast otherwise).
pub async fn check_stream(client: &aws_sdk_kinesis::Client, stream: &str) -> Result<(), KinesisError> {
    client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .map_err(|e| KinesisError::Api(format!("stream {stream:?}: {}", aws_sdk_kinesis::error::DisplayErrorContext(e))))?;
    Ok(())
}

/// One event as a Kinesis record's data: the event and its outbox position.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    /// Outbox seq: the idempotency key of the event everywhere downstream.
    pub seq: u64,
    /// Outbox partition (absent in records written before the log had partitions: 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub partition: u32,
    /// The event.
    pub event: Event,
}

/// Encodes `logged` as record data (JSON).
pub fn encode(logged: &LoggedEvent) -> Vec<u8> {
    serde_json::to_vec(&Record { seq: logged.seq, partition: logged.partition, event: logged.event.clone() }).unwrap_or_default()
}

/// Decodes record data written by [`encode`].
pub fn decode(data: &[u8]) -> Option<LoggedEvent> {
    serde_json::from_slice::<Record>(data).ok().map(|r| LoggedEvent { seq: r.seq, partition: r.partition, event: r.event })
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The partition key of an event: [`Event::partition_key`], the account that acted (the
/// aggregate whose events must stay in order). All of one account's events land on one shard,
/// in outbox order.
pub fn partition_key(event: &Event) -> String {
    event.partition_key()
}

#[cfg(test)]
mod tests {
    use shared::id::Id;
    use shared::wire::Visibility;

    use super::*;

    #[test]
    fn records_round_trip_with_their_seq() {
        let event = Event::StatusCreated {
            status: Id::from_u64(9),
            author: Id::from_u64(7),
            visibility: Visibility::Public,
            reblog_of: None,
            in_reply_to_account: None,
            mentions: vec![],
        };
        let logged = LoggedEvent { seq: 42, partition: 0, event };
        let back = decode(&encode(&logged));
        assert_eq!(back, Some(logged.clone()));
        let partitioned = LoggedEvent { seq: (42 << 16) | 5, partition: 5, ..logged };
        assert_eq!(decode(&encode(&partitioned)), Some(partitioned));
        assert_eq!(decode(b"not json"), None);
    }

    #[test]
    fn partition_key_is_the_acting_account() {
        let a = Id::from_u64(7);
        assert_eq!(partition_key(&Event::Followed { follower: a, target: Id::from_u64(8) }), a.to_string());
        assert_eq!(partition_key(&Event::StatusUpdated { status: Id::from_u64(1), author: a }), a.to_string());
        assert_eq!(partition_key(&Event::Unfavourited { account: a, status: Id::from_u64(3) }), a.to_string());
    }
}
