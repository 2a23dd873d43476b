//! The outbox relay's sink: events → `PutRecords`, at most 500 records a call, resending
//! only the records Kinesis refused, returning only when every record was accepted.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use core_ports::ports::{EventSink, LoggedEvent, SinkError};

use crate::{KinesisConfig, KinesisError, encode, partition_key};

/// Most records one `PutRecords` call carries (Kinesis's limit).
pub const MAX_RECORDS_PER_PUT: usize = 500;
/// Most bytes one `PutRecords` call carries (Kinesis's limit is 5 MiB including keys).
const MAX_BYTES_PER_PUT: usize = 4 * 1024 * 1024;
/// Attempts per chunk before the batch is given back to the relay (which retries it later).
const MAX_ATTEMPTS: u32 = 8;

/// One record to put: partition key and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRecord {
    /// Partition key.
    pub key: String,
    /// Data.
    pub data: Vec<u8>,
}

/// What a put call said about each record, in request order: `None` = accepted,
/// `Some(code)` = refused (throttled, internal failure) and to be sent again.
pub type PutOutcome = Vec<Option<String>>;

/// The one Kinesis call the publisher makes; a seam so the retry rules are tested without AWS.
#[async_trait]
pub trait RecordPutter: Send + Sync {
    /// Puts `records` (≤ 500) in one call.
    async fn put(&self, records: &[PendingRecord]) -> Result<PutOutcome, KinesisError>;
}

/// Puts every record, in chunks of at most 500 (and 4 MiB), resending only refused records
/// with exponential backoff; `Err` when some record was still refused after the last attempt
/// (the caller then keeps its checkpoint, so nothing is lost).
pub async fn put_all(putter: &dyn RecordPutter, records: Vec<PendingRecord>, base_backoff: Duration) -> Result<(), KinesisError> {
    for chunk in chunks(records) {
        let mut pending = chunk;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let refused = match putter.put(&pending).await {
                Ok(outcome) if outcome.len() == pending.len() => {
                    pending.into_iter().zip(outcome).filter_map(|(record, error)| error.map(|e| (record, e))).collect::<Vec<_>>()
                }
                Ok(outcome) => return Err(KinesisError::Api(format!("PutRecords answered {} results for {} records", outcome.len(), pending.len()))),
                Err(e) if attempt < MAX_ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "PutRecords failed; retrying");
                    tokio::time::sleep(base_backoff * 2u32.saturating_pow(attempt - 1)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if refused.is_empty() {
                break;
            }
            if attempt >= MAX_ATTEMPTS {
                return Err(KinesisError::Api(format!("{} records still refused after {attempt} attempts (last: {})", refused.len(), refused[0].1)));
            }
            tracing::debug!(refused = refused.len(), attempt, "PutRecords refused some records; resending those");
            pending = refused.into_iter().map(|(record, _)| record).collect();
            tokio::time::sleep(base_backoff * 2u32.saturating_pow(attempt - 1)).await;
        }
    }
    Ok(())
}

/// Splits into calls Kinesis accepts: ≤ 500 records and ≤ 4 MiB each, order kept.
fn chunks(records: Vec<PendingRecord>) -> Vec<Vec<PendingRecord>> {
    let mut out: Vec<Vec<PendingRecord>> = Vec::new();
    let mut bytes = 0;
    for record in records {
        let size = record.data.len() + record.key.len();
        match out.last_mut() {
            Some(current) if current.len() < MAX_RECORDS_PER_PUT && bytes + size <= MAX_BYTES_PER_PUT => {
                bytes += size;
                current.push(record);
            }
            _ => {
                bytes = size;
                out.push(vec![record]);
            }
        }
    }
    out
}

/// `PutRecords` on a real stream.
struct SdkPutter {
    client: aws_sdk_kinesis::Client,
    stream: String,
}

#[async_trait]
impl RecordPutter for SdkPutter {
    async fn put(&self, records: &[PendingRecord]) -> Result<PutOutcome, KinesisError> {
        let entries = records
            .iter()
            .map(|r| {
                PutRecordsRequestEntry::builder().partition_key(&r.key).data(Blob::new(r.data.clone())).build().map_err(|e| KinesisError::Api(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .put_records()
            .stream_name(&self.stream)
            .set_records(Some(entries))
            .send()
            .await
            .map_err(|e| KinesisError::Api(aws_sdk_kinesis::error::DisplayErrorContext(e).to_string()))?;
        Ok(out.records().iter().map(|r| r.error_code().map(str::to_owned)).collect())
    }
}

/// Publishes events to a Kinesis stream: the sink of the outbox relay.
pub struct KinesisPublisher {
    putter: Box<dyn RecordPutter>,
    backoff: Duration,
}

impl KinesisPublisher {
    /// A publisher to `config`'s stream.
    pub async fn new(config: &KinesisConfig) -> Self {
        let client = crate::client(config).await;
        Self::with_client(client, config.stream.clone())
    }

    /// A publisher using an existing client.
    pub fn with_client(client: aws_sdk_kinesis::Client, stream: String) -> Self {
        KinesisPublisher { putter: Box::new(SdkPutter { client, stream }), backoff: Duration::from_millis(100) }
    }

    /// A publisher over any putter (tests).
    pub fn with_putter(putter: Box<dyn RecordPutter>, backoff: Duration) -> Self {
        KinesisPublisher { putter, backoff }
    }
}

#[async_trait]
impl EventSink for KinesisPublisher {
    async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError> {
        let records = events.iter().map(|e| PendingRecord { key: partition_key(&e.event), data: encode(e) }).collect();
        put_all(self.putter.as_ref(), records, self.backoff).await.map_err(|e| SinkError::new("kinesis PutRecords", e))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Refuses every record whose data is in `flaky` the first `fails` times it sees it.
    struct Flaky {
        calls: Mutex<Vec<Vec<PendingRecord>>>,
        flaky: Vec<Vec<u8>>,
        fails: usize,
    }

    #[async_trait]
    impl RecordPutter for Flaky {
        async fn put(&self, records: &[PendingRecord]) -> Result<PutOutcome, KinesisError> {
            let mut calls = self.calls.lock().unwrap();
            calls.push(records.to_vec());
            let outcome = records
                .iter()
                .map(|r| {
                    let seen = calls.iter().flatten().filter(|c| c.data == r.data).count();
                    (self.flaky.contains(&r.data) && seen <= self.fails).then(|| "ProvisionedThroughputExceededException".to_owned())
                })
                .collect();
            Ok(outcome)
        }
    }

    fn records(n: usize) -> Vec<PendingRecord> {
        (0..n).map(|i| PendingRecord { key: format!("k{i}"), data: i.to_string().into_bytes() }).collect()
    }

    #[tokio::test]
    async fn only_refused_records_are_resent() {
        let putter = Flaky { calls: Mutex::new(vec![]), flaky: vec![b"3".to_vec(), b"7".to_vec()], fails: 2 };
        put_all(&putter, records(10), Duration::ZERO).await.unwrap();
        let calls = putter.calls.lock().unwrap();
        assert_eq!(calls.len(), 3);
        assert_eq!(calls[0].len(), 10);
        let resent: Vec<&[u8]> = calls[1].iter().map(|r| r.data.as_slice()).collect();
        assert_eq!(resent, vec![b"3".as_slice(), b"7".as_slice()]);
        assert_eq!(calls[2].len(), 2);
    }

    #[tokio::test]
    async fn gives_up_with_an_error_when_a_record_keeps_failing() {
        let putter = Flaky { calls: Mutex::new(vec![]), flaky: vec![b"1".to_vec()], fails: usize::MAX };
        assert!(put_all(&putter, records(3), Duration::ZERO).await.is_err());
        assert_eq!(putter.calls.lock().unwrap().len(), MAX_ATTEMPTS as usize);
    }

    #[tokio::test]
    async fn batches_hold_at_most_500_records() {
        let putter = Flaky { calls: Mutex::new(vec![]), flaky: vec![], fails: 0 };
        put_all(&putter, records(1201), Duration::ZERO).await.unwrap();
        let sizes: Vec<usize> = putter.calls.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![500, 500, 201]);
    }
}
