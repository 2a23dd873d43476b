//! The [`Store`] port: GetItem, BatchGetItem, Query and TransactWriteItems on the table.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, Delete, KeysAndAttributes, Put, TransactWriteItem, Update};
use core_ports::events::Event;
use core_ports::ports::{Condition, Item, Key, MAX_TRANSACTION_WRITES, Query, Store, StoreError, Value, Write};
use rand::Rng as _;

use crate::{DynamoStore, backend, sdk_error};

/// An item as the SDK carries it.
pub(crate) type Attrs = HashMap<String, AttributeValue>;

/// BatchGetItem's most keys per request.
const BATCH_GET_KEYS: usize = 100;
/// Query's page size cap (DynamoDB also stops a page at 1 MB).
const QUERY_PAGE: usize = 500;
/// Attempts of a transaction cancelled by a conflicting one, or of a BatchGetItem round
/// that left keys unprocessed, before giving up.
const ATTEMPTS: u32 = 30;

pub(crate) fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([("pk".to_owned(), AttributeValue::S(key.pk.clone())), ("sk".to_owned(), AttributeValue::S(key.sk.clone()))])
}

fn item_attrs(item: &Item) -> Attrs {
    let mut attrs = key_attrs(&item.key);
    match &item.value {
        Value::Doc(bytes) => attrs.insert("doc".to_owned(), AttributeValue::B(Blob::new(bytes.clone()))),
        Value::Count(n) => attrs.insert("n".to_owned(), AttributeValue::N(n.to_string())),
    };
    attrs
}

pub(crate) fn string(attrs: &Attrs, name: &str) -> Result<String, StoreError> {
    match attrs.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(backend(format!("item without string attribute {name}"))),
    }
}

pub(crate) fn number(attrs: &Attrs, name: &str) -> Result<Option<i64>, StoreError> {
    match attrs.get(name) {
        Some(AttributeValue::N(n)) => n.parse().map(Some).map_err(|_| backend(format!("attribute {name} is not an integer: {n}"))),
        Some(_) => Err(backend(format!("attribute {name} is not a number"))),
        None => Ok(None),
    }
}

fn parse_item(attrs: &Attrs) -> Result<Item, StoreError> {
    let key = Key { pk: string(attrs, "pk")?, sk: string(attrs, "sk")? };
    let value = match (attrs.get("doc"), number(attrs, "n")?) {
        (Some(AttributeValue::B(blob)), _) => Value::Doc(blob.clone().into_inner()),
        (None, Some(n)) => Value::Count(n),
        _ => return Err(backend(format!("item {key:?} holds neither a document nor a counter"))),
    };
    Ok(Item { key, value })
}

fn check_key(key: &Key) -> Result<(), StoreError> {
    // DynamoDB refuses empty key attributes; `$`-partitions belong to the event log.
    if key.pk.is_empty() || key.sk.is_empty() || key.pk.starts_with('$') {
        return Err(backend(format!("key {key:?} is not storable")));
    }
    Ok(())
}

fn condition_expression(condition: Condition) -> Option<&'static str> {
    match condition {
        Condition::None => None,
        Condition::NotExists => Some("attribute_not_exists(pk)"),
        Condition::Exists => Some("attribute_exists(pk)"),
    }
}

/// One app write as a TransactWriteItems element.
fn transact_item(table: &str, write: &Write) -> Result<TransactWriteItem, StoreError> {
    Ok(match write {
        Write::Put { item, condition } => {
            check_key(&item.key)?;
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item_attrs(item)))
                .set_condition_expression(condition_expression(*condition).map(str::to_owned))
                .build()
                .map_err(backend)?;
            TransactWriteItem::builder().put(put).build()
        }
        Write::Delete { key, condition } => {
            check_key(key)?;
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key_attrs(key)))
                .set_condition_expression(condition_expression(*condition).map(str::to_owned))
                .build()
                .map_err(backend)?;
            TransactWriteItem::builder().delete(delete).build()
        }
        Write::Add { key, delta } => {
            check_key(key)?;
            let update = Update::builder()
                .table_name(table)
                .set_key(Some(key_attrs(key)))
                .update_expression("ADD #n :d")
                .expression_attribute_names("#n", "n")
                .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
                .build()
                .map_err(backend)?;
            TransactWriteItem::builder().update(update).build()
        }
    })
}

/// A ClientRequestToken for one logical attempt. Random, not derived from the content: two
/// identical transactions (two `+1`s on a counter) are two changes and must both apply, and
/// DynamoDB would answer the second as a replay of the first for ten minutes. The SDK resends
/// the same request (same token) on its own retries, so a commit whose answer was lost is
/// acknowledged instead of applied twice.
fn request_token() -> String {
    let bytes: [u8; 16] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a TransactWriteItems did not commit.
pub(crate) enum Cancelled {
    /// The condition of this element failed.
    Condition(usize),
    /// A concurrent transaction on one of the items (retry).
    Conflict,
}

impl DynamoStore {
    /// Sends one TransactWriteItems; `Ok(Err(_))` when DynamoDB cancelled it.
    pub(crate) async fn send_transaction(&self, items: Vec<TransactWriteItem>) -> Result<Result<(), Cancelled>, StoreError> {
        let sent = self.client.transact_write_items().set_transact_items(Some(items)).client_request_token(request_token()).send().await;
        let error = match sent {
            Ok(_) => return Ok(Ok(())),
            Err(error) => error,
        };
        if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            error.as_service_error()
        {
            let reasons: &[CancellationReason] = cancelled.cancellation_reasons();
            if let Some(index) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
                return Ok(Err(Cancelled::Condition(index)));
            }
            if reasons.iter().any(|r| matches!(r.code(), Some("TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"))) {
                return Ok(Err(Cancelled::Conflict));
            }
            return Err(backend(format!("transaction cancelled: {:?}", reasons.iter().map(|r| r.code().unwrap_or("?")).collect::<Vec<_>>())));
        }
        if error.as_service_error().is_some_and(|e| e.is_transaction_in_progress_exception()) {
            return Ok(Err(Cancelled::Conflict));
        }
        Err(sdk_error("TransactWriteItems", error))
    }

    async fn transact_writes(&self, writes: &[Write]) -> Result<(), StoreError> {
        let items = writes.iter().map(|w| transact_item(&self.table, w)).collect::<Result<Vec<_>, _>>()?;
        for attempt in 0..ATTEMPTS {
            match self.send_transaction(items.clone()).await? {
                Ok(()) => return Ok(()),
                Err(Cancelled::Condition(index)) => return Err(StoreError::ConditionFailed { index }),
                Err(Cancelled::Conflict) => backoff(attempt).await,
            }
        }
        Err(backend("transaction kept conflicting with concurrent ones"))
    }

    /// The app's writes plus the outbox: per log partition its events go to, the head moves
    /// from `head` to `head + events` under the condition that it still is `head`, and the
    /// events are stored at those positions.
    async fn transact_with_events(&self, writes: &[Write], events: &[Event]) -> Result<(), StoreError> {
        let mut items = writes.iter().map(|w| transact_item(&self.table, w)).collect::<Result<Vec<_>, _>>()?;
        let mut groups: std::collections::BTreeMap<u32, Vec<&Event>> = std::collections::BTreeMap::new();
        for event in events {
            groups.entry(event.partition(self.partitions)).or_default().push(event);
        }
        let groups: Vec<(u32, u64, Vec<u8>)> = groups
            .into_iter()
            .map(|(p, events)| Ok((p, events.len() as u64, serde_json::to_vec(&events).map_err(backend)?)))
            .collect::<Result<_, StoreError>>()?;
        // Ascending partition order: two transactions spanning the same partitions cannot
        // each hold the turn the other waits for.
        let mut turns = Vec::with_capacity(groups.len());
        for (p, _, _) in &groups {
            turns.push(self.outbox_turns[*p as usize].lock().await);
        }
        let mut heads: Vec<u64> = groups.iter().map(|(p, _, _)| self.head_hints[*p as usize].load(Ordering::Relaxed)).collect();
        for attempt in 0..ATTEMPTS {
            items.truncate(writes.len());
            for ((p, count, payload), head) in groups.iter().zip(&heads) {
                items.extend(self.outbox_items(*p, *head, *count, payload)?);
            }
            match self.send_transaction(items.clone()).await? {
                Ok(()) => {
                    for ((p, count, _), head) in groups.iter().zip(&heads) {
                        self.head_hints[*p as usize].fetch_max(head + count, Ordering::Relaxed);
                    }
                    self.appended.notify_waiters();
                    return Ok(());
                }
                Err(Cancelled::Condition(index)) if index < writes.len() => return Err(StoreError::ConditionFailed { index }),
                // Another transaction moved a head: take the new one and go again.
                Err(Cancelled::Condition(index)) => {
                    self.head_retries.fetch_add(1, Ordering::Relaxed);
                    let group = ((index - writes.len()) / 2).min(groups.len() - 1);
                    let p = groups[group].0;
                    heads[group] = self.read_head(p).await?;
                    self.head_hints[p as usize].fetch_max(heads[group], Ordering::Relaxed);
                    if attempt > 2 {
                        backoff(attempt - 2).await;
                    }
                }
                Err(Cancelled::Conflict) => backoff(attempt).await,
            }
        }
        Err(backend("the event log head kept moving under this transaction (too much contention)"))
    }
}

/// Jittered exponential backoff, 5 ms doubling to at most 320 ms.
pub(crate) async fn backoff(attempt: u32) {
    let cap = 5u64 << attempt.min(6);
    let ms = rand::thread_rng().gen_range(cap / 2..=cap);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Whether `sk` lies inside the query's bounds and prefix.
fn in_range(q: &Query, sk: &str) -> bool {
    q.after.as_deref().is_none_or(|a| sk > a) && q.before.as_deref().is_none_or(|b| sk < b) && q.prefix.as_deref().is_none_or(|p| sk.starts_with(p))
}

/// Whether the scan, going in its direction, is past everything the query can match.
fn past_range(q: &Query, sk: &str) -> bool {
    if q.descending {
        q.after.as_deref().is_some_and(|a| sk <= a) || q.prefix.as_deref().is_some_and(|p| sk < p)
    } else {
        q.before.as_deref().is_some_and(|b| sk >= b) || q.prefix.as_deref().is_some_and(|p| sk > p && !sk.starts_with(p))
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&*self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        out.item().map(parse_item).transpose()
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        // BatchGetItem refuses duplicate keys in one request: ask for each key once.
        let mut unique: Vec<&Key> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let mut found: HashMap<Key, Item> = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_KEYS) {
            let mut pending: Vec<Attrs> = chunk.iter().map(|k| key_attrs(k)).collect();
            let mut attempt = 0;
            while !pending.is_empty() {
                if attempt == ATTEMPTS {
                    return Err(backend("BatchGetItem kept leaving keys unprocessed"));
                }
                if attempt > 0 {
                    backoff(attempt).await;
                }
                attempt += 1;
                let request = KeysAndAttributes::builder().set_keys(Some(std::mem::take(&mut pending))).consistent_read(true).build().map_err(backend)?;
                let out = self.client.batch_get_item().request_items(&*self.table, request).send().await.map_err(|e| sdk_error("BatchGetItem", e))?;
                for attrs in out.responses().and_then(|r| r.get(&*self.table)).map(Vec::as_slice).unwrap_or_default() {
                    let item = parse_item(attrs)?;
                    found.insert(item.key.clone(), item);
                }
                // Throttled or over 16 MB: DynamoDB hands back what it did not read.
                if let Some(rest) = out.unprocessed_keys().and_then(|u| u.get(&*self.table)) {
                    pending = rest.keys().to_vec();
                }
            }
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn query(&self, q: &Query) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(q.limit.min(1024));
        if q.limit == 0 || q.pk.is_empty() {
            return Ok(out);
        }
        if let (Some(a), Some(b)) = (&q.after, &q.before)
            && a >= b
        {
            return Ok(out);
        }
        // One key condition narrows the scan (DynamoDB takes one per query); the rest of the
        // bounds are checked here, and the scan stops once past them.
        let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(q.pk.clone()))]);
        let condition = match (&q.after, &q.before, &q.prefix) {
            (Some(a), Some(b), _) => {
                values.insert(":a".into(), AttributeValue::S(a.clone()));
                values.insert(":b".into(), AttributeValue::S(b.clone()));
                "pk = :pk AND sk BETWEEN :a AND :b"
            }
            (Some(a), None, _) => {
                values.insert(":a".into(), AttributeValue::S(a.clone()));
                "pk = :pk AND sk > :a"
            }
            (None, Some(b), _) => {
                values.insert(":b".into(), AttributeValue::S(b.clone()));
                "pk = :pk AND sk < :b"
            }
            (None, None, Some(p)) => {
                values.insert(":p".into(), AttributeValue::S(p.clone()));
                "pk = :pk AND begins_with(sk, :p)"
            }
            (None, None, None) => "pk = :pk",
        };
        let mut start: Option<Attrs> = None;
        loop {
            // A little over what is missing: BETWEEN includes both (excluded) ends.
            let page = (q.limit - out.len()).saturating_add(2).min(QUERY_PAGE);
            let result = self
                .client
                .query()
                .table_name(&*self.table)
                .key_condition_expression(condition)
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!q.descending)
                .consistent_read(true)
                .limit(i32::try_from(page).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            for attrs in result.items() {
                let sk = string(attrs, "sk")?;
                if past_range(q, &sk) {
                    return Ok(out);
                }
                if in_range(q, &sk) {
                    out.push(parse_item(attrs)?);
                    if out.len() >= q.limit {
                        return Ok(out);
                    }
                }
            }
            match result.last_evaluated_key() {
                Some(last) => start = Some(last.clone()),
                None => return Ok(out),
            }
        }
    }

    async fn transact(&self, writes: Vec<Write>, events: Vec<Event>) -> Result<(), StoreError> {
        // The outbox takes two items of the transaction (the head and the events) per log
        // partition its events go to.
        let outbox = 2 * events.iter().map(|e| e.partition(self.partitions)).collect::<std::collections::BTreeSet<_>>().len();
        if writes.len() > MAX_TRANSACTION_WRITES || writes.len() + outbox > MAX_TRANSACTION_WRITES {
            return Err(StoreError::TooLarge { writes: writes.len() });
        }
        match (writes.is_empty(), events.is_empty()) {
            (true, true) => Ok(()),
            (_, true) => self.transact_writes(&writes).await,
            _ => self.transact_with_events(&writes, &events).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(after: Option<&str>, before: Option<&str>, prefix: Option<&str>, descending: bool) -> Query {
        Query { pk: "p".into(), after: after.map(Into::into), before: before.map(Into::into), prefix: prefix.map(Into::into), descending, limit: 10 }
    }

    #[test]
    fn bounds_are_exclusive_and_prefixes_narrow() {
        let between = q(Some("b"), Some("d"), None, false);
        assert!(!in_range(&between, "b") && in_range(&between, "c") && !in_range(&between, "d"));
        let edits = q(None, None, Some("edit#"), false);
        assert!(in_range(&edits, "edit#1") && !in_range(&edits, "edit") && !in_range(&edits, "fav#1"));
    }

    #[test]
    fn scans_stop_once_past_the_range_in_their_direction() {
        let up = q(None, Some("d"), Some("c"), false);
        assert!(!past_range(&up, "c1") && !past_range(&up, "cz~") && past_range(&up, "d"));
        assert!(past_range(&q(None, None, Some("edit#"), false), "fav#1"), "ascending past the prefix");
        assert!(!past_range(&q(None, None, Some("edit#"), true), "fav#1"), "descending, not reached the prefix yet");
        assert!(past_range(&q(None, None, Some("edit#"), true), "a"), "descending below the prefix");
        assert!(past_range(&q(Some("b"), None, None, true), "b") && !past_range(&q(Some("b"), None, None, true), "c"));
    }

    #[test]
    fn items_round_trip_through_attributes() {
        for value in [Value::Doc(b"{\"a\":1}".to_vec()), Value::Doc(Vec::new()), Value::Count(-7)] {
            let item = Item { key: Key::new("A#1", "profile"), value };
            assert_eq!(parse_item(&item_attrs(&item)).unwrap(), item);
        }
    }

    #[test]
    fn unstorable_keys_are_refused_before_sending() {
        let put = |pk: &str, sk: &str| Write::Put { item: Item { key: Key::new(pk, sk), value: Value::Count(1) }, condition: Condition::None };
        assert!(transact_item("t", &put("A#1", "x")).is_ok());
        for (pk, sk) in [("", "x"), ("A#1", ""), ("$LOG", "x")] {
            assert!(matches!(transact_item("t", &put(pk, sk)), Err(StoreError::Backend(_))), "{pk:?}/{sk:?}");
        }
    }

    #[test]
    fn request_tokens_fit_dynamodb_and_differ() {
        let (a, b) = (request_token(), request_token());
        assert_eq!(a.len(), 32, "ClientRequestToken takes 1..=36 characters");
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b, "two identical transactions are two changes");
    }
}
