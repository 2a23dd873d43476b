//! What a committed transaction with events costs beyond the app's own writes, on the
//! production backends: the DynamoDB outbox items (adapter-internal, so no port sees them) and
//! the Kinesis records the relay publishes. The outbox's keys come from core-dynamodb itself
//! (`outbox_keys`), so the model follows its layout.

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

/// Partitions of the event log in the recorded run: any count above one gives the split
/// layout's keys (`$HEAD#p`, `$LOG#p`); the profile's own count (`[shards]` `"$HEAD"`) rates them.
pub const RECORDED_LOG_PARTITIONS: u32 = 64;

/// Partition-key bases the recorded run splits into `{base}#{n}` shards, rated as one
/// deployment-wide key divided by the profile's count (`[shards]`).
pub const SHARDED: &[&str] = &["$HEAD", "$LOG", "$CKPT"];

/// The outbox items of one transaction appending `events` (serialised to `payload_bytes` of
/// JSON), as core/dynamodb writes and reads them — the keys from `core_dynamodb::outbox_keys`,
/// per log partition the events go to (the acting account's):
///
/// - `$HEAD#p` / `-`: the partition's head, moved conditionally (an update in the transaction:
///   `pk`, `sk`, `n`);
/// - `$LOG#p` / `{last position, 20 digits}`: the events' item (`first`, `last`, `ev`,
///   `expires_at`);
/// - the relay's read of that item (a strongly consistent `Query` of `$LOG#p`; a share of a
///   batch, counted per item since one item is at most a few KB).
pub fn dynamodb_outbox(events: &[Event], payload_bytes: usize) -> Vec<OutboxAccess> {
    let keys = core_dynamodb::outbox_keys(RECORDED_LOG_PARTITIONS, events);
    let partitions = keys.len() / 2;
    let mut out = Vec::with_capacity(keys.len() + partitions);
    let position = "0".repeat(20);
    for pair in keys.chunks(2) {
        let [head, log] = pair else { continue };
        out.push(OutboxAccess { pk: head.pk.clone(), sk: head.sk.clone(), bytes: head.pk.len() + 5 + 2 + 1 + 1 + 10, write: true });
        // The payload is split between the partitions the events go to.
        let share = payload_bytes / partitions.max(1);
        let log_bytes = log.pk.len() + 2 + position.len() + "first".len() + 8 + "last".len() + 8 + "ev".len() + share + "expires_at".len() + 6;
        let item = OutboxAccess { pk: log.pk.clone(), sk: position.clone(), bytes: log_bytes, write: true };
        out.push(OutboxAccess { write: false, ..item.clone() });
        out.push(item);
    }
    out
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
