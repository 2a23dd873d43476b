//! The contract between two handles on one hub as two core processes hold them: what one
//! publishes reaches the other's subscribers, `has_subscribers` sees the other's listeners, and
//! each event is claimed once. (A hub within one process passes with two clones of itself.)

use std::time::Duration;

use super::stream_hub::{next_message, nothing_more, stream_message, subscribers_turn};
use super::{fresh_seq, ns};
use crate::ports::StreamHub;

fn channel() -> String {
    format!("timeline:{}", ns("shared"))
}

/// Every promise in turn.
pub async fn all(a: &dyn StreamHub, b: &dyn StreamHub) {
    messages_reach_the_other_process_once(a, b).await;
    publishers_see_the_other_process_subscribers(a, b).await;
    exactly_one_process_claims_an_event(a, b).await;
}

pub async fn messages_reach_the_other_process_once(a: &dyn StreamHub, b: &dyn StreamHub) {
    let channel = channel();
    let mut on_b = b.subscribe(&channel).await.unwrap();
    let mut on_a = a.subscribe(&channel).await.unwrap();
    a.publish(&channel, stream_message("update", "from a")).await.unwrap();
    assert_eq!(next_message(&mut on_b, "a message from the other process").await.payload, "from a");
    assert_eq!(next_message(&mut on_a, "a message from the same process").await.payload, "from a");
    b.publish(&channel, stream_message("update", "from b")).await.unwrap();
    assert_eq!(next_message(&mut on_a, "a message back").await.payload, "from b");
    assert_eq!(next_message(&mut on_b, "a message back").await.payload, "from b");
    nothing_more(&mut on_a, "each message once").await;
    nothing_more(&mut on_b, "each message once").await;
}

pub async fn publishers_see_the_other_process_subscribers(a: &dyn StreamHub, b: &dyn StreamHub) {
    let channel = channel();
    assert!(!a.has_subscribers(&channel).await.unwrap());
    let on_b = b.subscribe(&channel).await.unwrap();
    assert!(a.has_subscribers(&channel).await.unwrap(), "a publisher sees subscribers of other processes");
    let on_a = a.subscribe(&channel).await.unwrap();
    drop(on_a);
    assert!(subscribers_turn(a, &channel, true, Duration::ZERO).await, "b still listens after a's listener left");
    drop(on_b);
}

pub async fn exactly_one_process_claims_an_event(a: &dyn StreamHub, b: &dyn StreamHub) {
    let seq = fresh_seq();
    let (first, second) = tokio::join!(a.claim(seq), b.claim(seq));
    assert!(first.unwrap() ^ second.unwrap(), "exactly one process claims an event");
    assert!(!a.claim(seq).await.unwrap() && !b.claim(seq).await.unwrap(), "a claimed event stays claimed");
}
