//! What a committed transaction with events costs beyond the app's own writes, on the
//! production backends: the DynamoDB outbox items (adapter-internal, so no port sees them) and
//! the Kinesis records the relay publishes. This is the one place that knows the outbox layout:
//! change [`dynamodb_outbox`] when core/dynamodb/src/log.rs changes (a partitioned outbox).

use core_app::events::Event;

/// One DynamoDB item access the model adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxAccess {
    pub pk: String,
    pub sk: String,
    /// Item size in bytes.
    pub bytes: usize,
    /// A write inside the committing `TransactWriteItems` (else a strongly consistent read).
    pub write: bool,
}

/// The outbox items of one transaction appending `events` (serialised to `payload_bytes` of
/// JSON), as core/dynamodb/src/log.rs (`outbox_items`, `read_now`) writes and reads them today:
///
/// - `$HEAD` / `-`: the head, moved conditionally from `h` to `h + events` (an update in the
///   transaction: `pk`, `sk`, `n`);
/// - `$LOG` / `{last position, 20 digits}`: the events' item (`first`, `last`, `ev`, `expires_at`);
/// - the relay's read of that item (a strongly consistent `Query` of `$LOG`; a share of a
///   batch, counted per item since one item is at most a few KB).
pub fn dynamodb_outbox(events: &[Event], payload_bytes: usize) -> Vec<OutboxAccess> {
    if events.is_empty() {
        return Vec::new();
    }
    let position = "0".repeat(20);
    let head = OutboxAccess { pk: "$HEAD".into(), sk: "-".into(), bytes: 2 + 5 + 2 + 1 + 1 + 10, write: true };
    let log_bytes = 2 + 4 + 2 + position.len() + "first".len() + 8 + "last".len() + 8 + "ev".len() + payload_bytes + "expires_at".len() + 6;
    let log = OutboxAccess { pk: "$LOG".into(), sk: position, bytes: log_bytes, write: true };
    let relay_read = OutboxAccess { write: false, ..log.clone() };
    vec![head, log, relay_read]
}

/// One Kinesis record the relay puts for an event: partition key (the acting account) and
/// data (`{"seq":…,"event":…}`, core/kinesis's `encode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisRecord {
    pub partition_key: String,
    pub bytes: usize,
}

/// The records of `events`, one each.
pub fn kinesis_records(events: &[Event]) -> Vec<KinesisRecord> {
    events
        .iter()
        .map(|event| {
            let data = serde_json::to_vec(event).map_or(0, |v| v.len()) + r#"{"seq":12345678901,"event":}"#.len();
            let partition_key = event.partition_key();
            KinesisRecord { bytes: data + partition_key.len(), partition_key }
        })
        .collect()
}
