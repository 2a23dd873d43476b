//! The [`EventLog`] port: the outbox partitions `$HEAD`, `$LOG` and `$CKPT` of the table (one
//! of each per log partition when the log is split), and `$LOGMETA`, its partition count.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use core_ports::cursor::{self, Cursor};
use core_ports::events::Event;
use core_ports::ports::{EventLog, Item, Key, LoggedEvent, Store as _, StoreError, Value};

use crate::store::{Attrs, key_attrs, number, string};
use crate::{DynamoStore, backend, sdk_error};

/// Partition of the log head (sort key `-`) of a one-partition log; `$HEAD#{p}` when split.
const HEAD: &str = "$HEAD";
/// Partition of the logged transactions, by last position; `$LOG#{p}` when split.
const LOG: &str = "$LOG";
/// Partition of consumer checkpoints, by consumer name; `$CKPT#{p}` when split.
const CHECKPOINTS: &str = "$CKPT";
/// The log's partition count, recorded by the first process (sort key `-`, `n`).
const LAYOUT: &str = "$LOGMETA";

/// How long outbox items are kept: DynamoDB's TTL deletes them after this (the table's TTL
/// attribute is [`TTL_ATTRIBUTE`]). As long as the Kinesis stream's retention in infra/: the
/// relay, the outbox's one consumer in production, is minutes behind at worst.
pub const OUTBOX_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The attribute DynamoDB's TTL reads (epoch seconds); only outbox items carry it.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Sort key of the log item whose last position is `position`: zero-padded, so byte order is
/// numeric order.
fn log_sk(position: u64) -> String {
    format!("{position:020}")
}

/// The name of partition `p`'s item collection `base` in a log of `partitions`: the base
/// itself for one partition (the layout before partitions existed), `base#p` otherwise.
fn split(base: &str, partitions: u32, p: u32) -> String {
    if partitions <= 1 { base.to_owned() } else { format!("{base}#{p}") }
}

/// The DynamoDB items a transaction with events writes besides the app's own, given the
/// log's partition count: per partition its events go to, the head (updated) and one log
/// item (put). What the capacity model charges a transaction with events.
pub fn outbox_keys(partitions: u32, events: &[Event]) -> Vec<Key> {
    let touched: std::collections::BTreeSet<u32> = events.iter().map(|e| e.partition(partitions)).collect();
    touched.into_iter().flat_map(|p| [Key::new(split(HEAD, partitions, p), "-"), Key::new(split(LOG, partitions, p), "{position}")]).collect()
}

fn number_of(attrs: &Attrs, name: &str) -> Result<u64, StoreError> {
    let n = number(attrs, name)?.ok_or_else(|| backend(format!("log item without {name}")))?;
    u64::try_from(n).map_err(|_| backend(format!("negative log position {n}")))
}

fn count_of(item: Option<&Item>) -> u64 {
    match item.map(|i| &i.value) {
        Some(Value::Count(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

impl DynamoStore {
    fn head_key(&self, p: u32) -> Key {
        Key::new(split(HEAD, self.partitions, p), "-")
    }

    fn checkpoint_key(&self, consumer: &str, p: u32) -> Key {
        Key::new(split(CHECKPOINTS, self.partitions, p), consumer)
    }

    /// Records the partition count in a new table, or checks it against the recorded one: a
    /// log split differently by two processes would lose its per-account order. A table whose
    /// log predates the record counts as one partition.
    pub(crate) async fn check_layout(&self) -> Result<(), StoreError> {
        let key = Key::new(LAYOUT, "-");
        let recorded = match self.get(&key).await? {
            Some(item) => Some(count_of(Some(&item))),
            None if self.get(&Key::new(HEAD, "-")).await?.is_some() => Some(1),
            None => None,
        };
        match recorded {
            Some(n) if n == u64::from(self.partitions) => Ok(()),
            Some(n) => Err(backend(format!(
                "the event log of table {:?} has {n} partition(s) but [store] log_partitions = {}: changing it needs a drained, emptied log (docs/dynamodb.md)",
                self.table, self.partitions
            ))),
            None => {
                let mut item = key_attrs(&key);
                item.insert("n".to_owned(), AttributeValue::N(self.partitions.to_string()));
                let put = self.client.put_item().table_name(&*self.table).set_item(Some(item)).condition_expression("attribute_not_exists(pk)").send().await;
                match put {
                    Ok(_) => Ok(()),
                    // Another process recorded it first: check what it wrote.
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Box::pin(self.check_layout()).await,
                    Err(e) => Err(sdk_error("PutItem", e)),
                }
            }
        }
    }

    /// Partition `p`'s head position, read consistently (0 for an empty partition).
    pub(crate) async fn read_head(&self, p: u32) -> Result<u64, StoreError> {
        Ok(count_of(self.get(&self.head_key(p)).await?.as_ref()))
    }

    /// The head positions of `partitions`, in one batched read.
    async fn read_heads(&self, partitions: &[u32]) -> Result<Vec<u64>, StoreError> {
        let keys: Vec<Key> = partitions.iter().map(|p| self.head_key(*p)).collect();
        Ok(self.get_many(&keys).await?.iter().map(|i| count_of(i.as_ref())).collect())
    }

    /// The two outbox elements of a transaction appending `count` events (serialised in
    /// `payload`) to partition `p` after position `head`: the head moved under the condition
    /// that it has not moved since, and the events' item.
    pub(crate) fn outbox_items(&self, p: u32, head: u64, count: u64, payload: &[u8]) -> Result<[TransactWriteItem; 2], StoreError> {
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
            .set_key(Some(key_attrs(&self.head_key(p))))
            .update_expression("SET #n = :next")
            .condition_expression(condition)
            .expression_attribute_names("#n", "n")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(backend)?;
        let mut item = key_attrs(&Key::new(split(LOG, self.partitions, p), log_sk(last)));
        item.insert("first".to_owned(), AttributeValue::N((head + 1).to_string()));
        item.insert("last".to_owned(), AttributeValue::N(last.to_string()));
        item.insert("ev".to_owned(), AttributeValue::B(Blob::new(payload.to_vec())));
        let expires_at = self.clock.now_ms() / 1000 + OUTBOX_RETENTION.as_secs();
        item.insert(TTL_ATTRIBUTE.to_owned(), AttributeValue::N(expires_at.to_string()));
        let put = Put::builder().table_name(&*self.table).set_item(Some(item)).build().map_err(backend)?;
        Ok([TransactWriteItem::builder().update(update).build(), TransactWriteItem::builder().put(put).build()])
    }

    /// Events of partition `p` after seq `after`, at most `limit`, without waiting.
    async fn read_partition(&self, p: u32, after: u64, limit: usize) -> Result<Vec<LoggedEvent>, StoreError> {
        let after = cursor::position(self.partitions, after);
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
                .expression_attribute_values(":pk", AttributeValue::S(split(LOG, self.partitions, p)))
                .expression_attribute_values(":after", AttributeValue::S(log_sk(after)))
                .consistent_read(true)
                .limit(i32::try_from(limit.clamp(1, 100)).unwrap_or(100))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            for attrs in page.items() {
                let first = number_of(attrs, "first")?;
                let events: Vec<Event> = match attrs.get("ev") {
                    Some(AttributeValue::B(blob)) => serde_json::from_slice(blob.as_ref()).map_err(backend)?,
                    _ => return Err(backend(format!("log item {} without events", string(attrs, "sk")?))),
                };
                for (position, event) in (first..).zip(events) {
                    if position > after {
                        out.push(LoggedEvent { seq: cursor::seq(self.partitions, p, position), partition: p, event });
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

    /// Events after `after` without waiting: one partition is queried directly; several have
    /// their heads read in one batch first, and only those with something new are queried,
    /// starting from a rotating partition so a busy one cannot starve the others.
    async fn read_now(&self, after: &Cursor, limit: usize) -> Result<Vec<LoggedEvent>, StoreError> {
        let parts: Vec<(u32, u64)> = after.parts().collect();
        if let [(p, seq)] = parts[..] {
            return self.read_partition(p, seq, limit).await;
        }
        let partitions: Vec<u32> = parts.iter().map(|(p, _)| *p).collect();
        let heads = self.read_heads(&partitions).await?;
        let mut behind: Vec<(u32, u64)> =
            parts.iter().zip(heads).filter(|((p, seq), head)| cursor::seq(self.partitions, *p, *head) > *seq).map(|(part, _)| *part).collect();
        if behind.is_empty() {
            return Ok(Vec::new());
        }
        let turn = self.read_turn.fetch_add(1, Ordering::Relaxed) % behind.len();
        behind.rotate_left(turn);
        let mut out = Vec::new();
        for (p, seq) in behind {
            if out.len() >= limit {
                break;
            }
            out.extend(self.read_partition(p, seq, limit - out.len()).await?);
        }
        Ok(out)
    }
}

#[async_trait]
impl EventLog for DynamoStore {
    fn partitions(&self) -> u32 {
        self.partitions
    }

    async fn read(&self, after: &Cursor, limit: usize, wait: Duration) -> Result<Vec<LoggedEvent>, StoreError> {
        // No push from DynamoDB (Streams would be one, at the price of another moving part):
        // poll until something arrives or the wait is over, waking at once when this process
        // appends (registered before reading, so an append in between is not missed).
        let deadline = Instant::now() + wait;
        loop {
            let appended = self.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let events = self.read_now(after, limit).await?;
            let now = Instant::now();
            if !events.is_empty() || limit == 0 || now >= deadline {
                return Ok(events);
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll.min(deadline - now)) => {}
                () = appended => {}
            }
        }
    }

    async fn checkpoint(&self, consumer: &str) -> Result<Cursor, StoreError> {
        let keys: Vec<Key> = (0..self.partitions).map(|p| self.checkpoint_key(consumer, p)).collect();
        let items = self.get_many(&keys).await?;
        Ok(Cursor::from_parts(self.partitions, (0..self.partitions).zip(items.iter().map(|i| count_of(i.as_ref())))))
    }

    async fn save_checkpoint(&self, consumer: &str, at: &Cursor) -> Result<(), StoreError> {
        for (p, seq) in at.parts() {
            let mut item = key_attrs(&self.checkpoint_key(consumer, p));
            item.insert("n".to_owned(), AttributeValue::N(seq.to_string()));
            self.client.put_item().table_name(&*self.table).set_item(Some(item)).send().await.map_err(|e| sdk_error("PutItem", e))?;
        }
        Ok(())
    }

    async fn head(&self) -> Result<Cursor, StoreError> {
        let partitions: Vec<u32> = (0..self.partitions).collect();
        let heads = self.read_heads(&partitions).await?;
        Ok(Cursor::from_parts(self.partitions, partitions.into_iter().zip(heads).map(|(p, h)| (p, cursor::seq(self.partitions, p, h)))))
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
