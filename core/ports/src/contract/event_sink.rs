//! The [`EventSink`] contract: what the outbox relay and the warehouse loader promise the log
//! tail. The probe reads back what the sink handled (the stream's records, the warehouse rows).

use std::collections::BTreeSet;

use async_trait::async_trait;
use shared::id::Id;
use shared::wire::Visibility;

use super::fresh_seq;
use crate::events::Event;
use crate::ports::{EventSink, LoggedEvent};
use crate::reference::MemoryEventSink;

/// Reads back what an [`EventSink`] handled.
#[async_trait]
pub trait SinkProbe: Send + Sync {
    /// Every handling of the events at these positions, as (seq, event type name), repeats
    /// included (delivery is at-least-once).
    async fn handled(&self, seqs: &[u64]) -> Vec<(u64, String)>;
}

#[async_trait]
impl SinkProbe for MemoryEventSink {
    async fn handled(&self, seqs: &[u64]) -> Vec<(u64, String)> {
        self.events().into_iter().filter(|e| seqs.contains(&e.seq)).map(|e| (e.seq, e.event.type_name().to_owned())).collect()
    }
}

/// `n` events of mixed kinds at fresh positions.
fn batch(n: u64) -> Vec<LoggedEvent> {
    let base = fresh_seq();
    (0..n)
        .map(|i| {
            let (a, b) = (Id::from_u64(1000 + i % 7), Id::from_u64(2000 + i));
            let event = match i % 4 {
                0 => {
                    Event::StatusCreated { status: b, author: a, visibility: Visibility::Public, reblog_of: None, in_reply_to_account: None, mentions: vec![] }
                }
                1 => Event::Followed { follower: a, target: b },
                2 => Event::Favourited { account: a, status: b, author: a },
                _ => Event::AccountUpdated { account: a },
            };
            LoggedEvent { seq: base + i, partition: 0, event }
        })
        .collect()
}

fn seqs(events: &[LoggedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

fn distinct(handled: &[(u64, String)]) -> BTreeSet<(u64, String)> {
    handled.iter().cloned().collect()
}

fn expected(events: &[LoggedEvent]) -> BTreeSet<(u64, String)> {
    events.iter().map(|e| (e.seq, e.event.type_name().to_owned())).collect()
}

/// Every promise in turn.
pub async fn all(sink: &dyn EventSink, probe: &dyn SinkProbe) {
    every_event_of_an_accepted_batch_is_handled_as_what_it_is(sink, probe).await;
    a_redelivered_batch_is_accepted_and_keyed_by_seq(sink, probe).await;
    an_empty_batch_is_accepted(sink, probe).await;
    a_large_batch_is_handled_whole(sink, probe).await;
}

pub async fn every_event_of_an_accepted_batch_is_handled_as_what_it_is(sink: &dyn EventSink, probe: &dyn SinkProbe) {
    let events = batch(4);
    sink.deliver(&events).await.unwrap();
    assert_eq!(distinct(&probe.handled(&seqs(&events)).await), expected(&events), "every event of an accepted batch is handled, with its seq and kind");
}

pub async fn a_redelivered_batch_is_accepted_and_keyed_by_seq(sink: &dyn EventSink, probe: &dyn SinkProbe) {
    let events = batch(3);
    sink.deliver(&events).await.unwrap();
    sink.deliver(&events).await.expect("a batch delivered again (after a crash before the checkpoint) is accepted");
    sink.deliver(&events[1..]).await.expect("so is part of it");
    let handled = probe.handled(&seqs(&events)).await;
    assert_eq!(distinct(&handled), expected(&events), "redelivery changes nothing but repeats: each seq is still its one event");
}

pub async fn an_empty_batch_is_accepted(sink: &dyn EventSink, _probe: &dyn SinkProbe) {
    sink.deliver(&[]).await.expect("an empty batch is accepted");
}

pub async fn a_large_batch_is_handled_whole(sink: &dyn EventSink, probe: &dyn SinkProbe) {
    let events = batch(1200);
    sink.deliver(&events).await.unwrap();
    assert_eq!(distinct(&probe.handled(&seqs(&events)).await), expected(&events), "a batch beyond any backend's request limit is handled whole");
}
