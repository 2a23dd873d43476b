//! The [`EventLog`] port: the outbox partitions `$HEAD`, `$LOG` and `$CKPT` of the table.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use core_ports::events::Event;
use core_ports::ports::{EventLog, Key, LoggedEvent, StoreError};

use crate::store::{Attrs, key_attrs, number, string};
use crate::{DynamoStore, backend, sdk_error};

/// Partition of the log head (sort key `-`).
const HEAD: &str = "$HEAD";
/// Partition of the logged transactions, by last position.
const LOG: &str = "$LOG";
/// Partition of consumer checkpoints, by consumer name.
const CHECKPOINTS: &str = "$CKPT";

/// How long outbox items are kept: DynamoDB's TTL deletes them after this (the table's TTL
/// attribute is [`TTL_ATTRIBUTE`]). As long as the Kinesis stream's retention in infra/: the
/// relay, the outbox's one consumer in production, is minutes behind at worst.
pub const OUTBOX_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The attribute DynamoDB's TTL reads (epoch seconds); only outbox items carry it.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Sort key of the log item whose last position is `seq`: zero-padded, so byte order is
/// numeric order.
fn log_sk(seq: u64) -> String {
    format!("{seq:020}")
}

fn head_key() -> Key {
    Key::new(HEAD, "-")
}

fn seq_of(attrs: &Attrs, name: &str) -> Result<u64, StoreError> {
    let n = number(attrs, name)?.ok_or_else(|| backend(format!("log item without {name}")))?;
    u64::try_from(n).map_err(|_| backend(format!("negative log position {n}")))
}

impl DynamoStore {
    /// The log head, read consistently (0 for an empty log).
    pub(crate) async fn read_head(&self) -> Result<u64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&*self.table)
            .set_key(Some(key_attrs(&head_key())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        match out.item() {
            Some(attrs) => seq_of(attrs, "n"),
            None => Ok(0),
        }
    }

    /// The two outbox elements of a transaction appending `count` events (serialised in
    /// `payload`) after position `head`: the head moved under the condition that it has not
    /// moved since, and the events' item.
    pub(crate) fn outbox_items(&self, head: u64, count: u64, payload: &[u8]) -> Result<[TransactWriteItem; 2], StoreError> {
        let last = head + count;
        let mut values = HashMap::from([(":next".to_owned(), AttributeValue::N(last.to_string()))]);
        let condition = if head == 0 {
            "attribute_not_exists(#n)"
        } else {
            values.insert(":head".to_owned(), AttributeValue::N(head.to_string()));
            "#n = :head"
        };
        let update = Update::builder()
            .table_name(&*self.table)
            .set_key(Some(key_attrs(&head_key())))
            .update_expression("SET #n = :next")
            .condition_expression(condition)
            .expression_attribute_names("#n", "n")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(backend)?;
        let mut item = key_attrs(&Key::new(LOG, log_sk(last)));
        item.insert("first".to_owned(), AttributeValue::N((head + 1).to_string()));
        item.insert("last".to_owned(), AttributeValue::N(last.to_string()));
        item.insert("ev".to_owned(), AttributeValue::B(Blob::new(payload.to_vec())));
        let expires_at = self.clock.now_ms() / 1000 + OUTBOX_RETENTION.as_secs();
        item.insert(TTL_ATTRIBUTE.to_owned(), AttributeValue::N(expires_at.to_string()));
        let put = Put::builder().table_name(&*self.table).set_item(Some(item)).build().map_err(backend)?;
        Ok([TransactWriteItem::builder().update(update).build(), TransactWriteItem::builder().put(put).build()])
    }

    /// Events after `after`, at most `limit`, without waiting.
    async fn read_now(&self, after: u64, limit: usize) -> Result<Vec<LoggedEvent>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            // Items are keyed by their last position: the first one past `after` may also
            // hold positions up to `after`, skipped below.
            let page = self
                .client
                .query()
                .table_name(&*self.table)
                .key_condition_expression("pk = :pk AND sk > :after")
                .expression_attribute_values(":pk", AttributeValue::S(LOG.to_owned()))
                .expression_attribute_values(":after", AttributeValue::S(log_sk(after)))
                .consistent_read(true)
                .limit(i32::try_from(limit.clamp(1, 100)).unwrap_or(100))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            for attrs in page.items() {
                let first = seq_of(attrs, "first")?;
                let events: Vec<Event> = match attrs.get("ev") {
                    Some(AttributeValue::B(blob)) => serde_json::from_slice(blob.as_ref()).map_err(backend)?,
                    _ => return Err(backend(format!("log item {} without events", string(attrs, "sk")?))),
                };
                for (seq, event) in (first..).zip(events) {
                    if seq > after {
                        out.push(LoggedEvent { seq, event });
                        if out.len() >= limit {
                            return Ok(out);
                        }
                    }
                }
            }
            match page.last_evaluated_key() {
                Some(last) => start = Some(last.clone()),
                None => return Ok(out),
            }
        }
    }
}

#[async_trait]
impl EventLog for DynamoStore {
    async fn read(&self, after: u64, limit: usize, wait: Duration) -> Result<Vec<LoggedEvent>, StoreError> {
        // No push from DynamoDB (Streams would be one, at the price of another moving part):
        // poll until something arrives or the wait is over.
        let deadline = Instant::now() + wait;
        loop {
            let events = self.read_now(after, limit).await?;
            let now = Instant::now();
            if !events.is_empty() || limit == 0 || now >= deadline {
                return Ok(events);
            }
            tokio::time::sleep(self.poll.min(deadline - now)).await;
        }
    }

    async fn checkpoint(&self, consumer: &str) -> Result<u64, StoreError> {
        let key = Key::new(CHECKPOINTS, consumer);
        let out = self
            .client
            .get_item()
            .table_name(&*self.table)
            .set_key(Some(key_attrs(&key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        match out.item() {
            Some(attrs) => seq_of(attrs, "n"),
            None => Ok(0),
        }
    }

    async fn save_checkpoint(&self, consumer: &str, seq: u64) -> Result<(), StoreError> {
        let mut item = key_attrs(&Key::new(CHECKPOINTS, consumer));
        item.insert("n".to_owned(), AttributeValue::N(seq.to_string()));
        self.client.put_item().table_name(&*self.table).set_item(Some(item)).send().await.map_err(|e| sdk_error("PutItem", e))?;
        Ok(())
    }

    async fn head(&self) -> Result<u64, StoreError> {
        self.read_head().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sort_keys_order_like_positions() {
        let seqs = [0u64, 1, 9, 10, 99, 100, 12_345, u64::MAX];
        let sks: Vec<String> = seqs.iter().map(|s| log_sk(*s)).collect();
        let mut sorted = sks.clone();
        sorted.sort();
        assert_eq!(sks, sorted, "byte order of sort keys is numeric order");
        assert!(sks.iter().all(|s| s.len() == 20));
    }
}
