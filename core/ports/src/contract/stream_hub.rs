//! The [`StreamHub`] contract for one handle on a hub.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::Receiver;

use super::{fresh_seq, ns};
use crate::ports::{StreamHub, StreamMessage};

/// How long the stream suites wait for a message that should come.
pub(crate) const STREAM_WAIT: Duration = Duration::from_secs(5);

pub(crate) fn stream_message(event: &str, payload: &str) -> StreamMessage {
    StreamMessage { event: event.to_owned(), payload: payload.to_owned() }
}

pub(crate) async fn next_message(rx: &mut Receiver<Arc<StreamMessage>>, what: &str) -> StreamMessage {
    match tokio::time::timeout(STREAM_WAIT, rx.recv()).await {
        Ok(Ok(message)) => (*message).clone(),
        Ok(Err(e)) => panic!("{what}: the subscription failed: {e}"),
        Err(_) => panic!("{what}: nothing arrived within {STREAM_WAIT:?}"),
    }
}

/// Asserts nothing (more) arrives on `rx` within a short wait.
pub(crate) async fn nothing_more(rx: &mut Receiver<Arc<StreamMessage>>, what: &str) {
    if let Ok(received) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        panic!("{what}: got {received:?}");
    }
}

/// Polls `has_subscribers` until it says `want` (a hub across processes may notice a departure
/// late, never an arrival).
pub(crate) async fn subscribers_turn(hub: &dyn StreamHub, channel: &str, want: bool, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if hub.has_subscribers(channel).await.unwrap() == want {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn channel(tag: &str) -> String {
    format!("timeline:{}", ns(tag))
}

/// Every promise in turn.
pub async fn all(hub: &dyn StreamHub) {
    a_fresh_channel_has_no_subscribers(hub).await;
    every_subscriber_receives_exactly_what_is_published(hub).await;
    one_publishers_messages_arrive_in_order(hub).await;
    large_payloads_arrive_whole(hub).await;
    channels_may_have_non_ascii_names(hub).await;
    channels_can_be_subscribed_again_after_everyone_left(hub).await;
    each_event_is_claimed_once(hub).await;
}

pub async fn a_fresh_channel_has_no_subscribers(hub: &dyn StreamHub) {
    let home = channel("home");
    assert!(!hub.has_subscribers(&home).await.unwrap(), "a fresh channel has no subscribers");
    hub.publish(&home, stream_message("update", "to no one")).await.unwrap();
    let mut late = hub.subscribe(&home).await.unwrap();
    assert!(hub.has_subscribers(&home).await.unwrap(), "a channel has subscribers once subscribed");
    nothing_more(&mut late, "a message published before subscribing").await;
}

pub async fn every_subscriber_receives_exactly_what_is_published(hub: &dyn StreamHub) {
    let (home, other) = (channel("home"), channel("other"));
    let mut first = hub.subscribe(&home).await.unwrap();
    let mut second = hub.subscribe(&home).await.unwrap();
    let mut elsewhere = hub.subscribe(&other).await.unwrap();
    let payload = "{\"id\":\"1\",\"content\":\"<p>caf\u{e9} \u{1f426} \\\"quoted\\\"\\nline</p>\"}";
    hub.publish(&home, stream_message("update", payload)).await.unwrap();
    assert_eq!(next_message(&mut first, "the first subscriber").await, stream_message("update", payload), "event and payload arrive exactly");
    assert_eq!(next_message(&mut second, "the second subscriber").await, stream_message("update", payload), "every subscriber of a channel receives");
    nothing_more(&mut elsewhere, "a subscriber of another channel").await;
    nothing_more(&mut first, "each message once").await;
}

pub async fn one_publishers_messages_arrive_in_order(hub: &dyn StreamHub) {
    let home = channel("home");
    let mut rx = hub.subscribe(&home).await.unwrap();
    for i in 0..50 {
        hub.publish(&home, stream_message("status.update", &i.to_string())).await.unwrap();
    }
    for i in 0..50 {
        assert_eq!(next_message(&mut rx, "a run of messages").await.payload, i.to_string(), "one publisher's messages arrive in order");
    }
}

pub async fn large_payloads_arrive_whole(hub: &dyn StreamHub) {
    let other = channel("other");
    let mut rx = hub.subscribe(&other).await.unwrap();
    let big = "x".repeat(200_000);
    hub.publish(&other, stream_message("delete", &big)).await.unwrap();
    assert_eq!(next_message(&mut rx, "a large payload").await.payload.len(), big.len(), "large payloads arrive whole");
}

pub async fn channels_may_have_non_ascii_names(hub: &dyn StreamHub) {
    let tag = format!("timeline:hashtag:{}caf\u{e9}:local", ns("t").replace('#', ""));
    let mut tagged = hub.subscribe(&tag).await.unwrap();
    hub.publish(&tag, stream_message("update", "tagged")).await.unwrap();
    assert_eq!(next_message(&mut tagged, "a channel with non-ASCII characters").await.payload, "tagged");
}

pub async fn channels_can_be_subscribed_again_after_everyone_left(hub: &dyn StreamHub) {
    let home = channel("home");
    let first = hub.subscribe(&home).await.unwrap();
    let second = hub.subscribe(&home).await.unwrap();
    drop(first);
    drop(second);
    assert!(subscribers_turn(hub, &home, false, Duration::from_secs(10)).await, "a channel whose subscribers all left has none, eventually");
    let mut again = hub.subscribe(&home).await.unwrap();
    assert!(hub.has_subscribers(&home).await.unwrap(), "subscribing again after everyone left");
    hub.publish(&home, stream_message("notification", "back")).await.unwrap();
    assert_eq!(next_message(&mut again, "a re-subscription").await.payload, "back", "a channel can be subscribed again after everyone left");
}

pub async fn each_event_is_claimed_once(hub: &dyn StreamHub) {
    let seq = fresh_seq();
    assert!(hub.claim(seq).await.unwrap(), "the first claim of an event wins");
    assert!(!hub.claim(seq).await.unwrap(), "a second claim of the same event loses");
    assert!(hub.claim(seq + 1).await.unwrap(), "events are claimed independently");
}
