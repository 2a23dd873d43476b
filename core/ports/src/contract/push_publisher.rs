//! The [`PushPublisher`] contract. The probe reads what reached the sender (the SNS topic's
//! subscriber queue).

use async_trait::async_trait;
use shared::id::Id;

use super::fresh_seq;
use crate::ports::{PushMessage, PushPublisher};
use crate::reference::MemoryPushPublisher;

/// Reads what the sender behind a [`PushPublisher`] received.
#[async_trait]
pub trait PushProbe: Send + Sync {
    /// The messages received for `subscription` so far, waiting a few seconds for at least
    /// `expected` of them.
    async fn received(&self, subscription: Id, expected: usize) -> Vec<PushMessage>;
}

#[async_trait]
impl PushProbe for MemoryPushPublisher {
    async fn received(&self, subscription: Id, _expected: usize) -> Vec<PushMessage> {
        self.messages().into_iter().filter(|m| m.subscription == subscription).collect()
    }
}

fn message(subscription: Id, notification_id: u64) -> PushMessage {
    PushMessage {
        subscription,
        account: Id::from_u64(77),
        endpoint: format!("https://push.example/send/{subscription}?token=a%2Fb"),
        p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM".into(),
        auth: "tBHItJI5svbpez7KI4CCXg".into(),
        standard: true,
        notification_type: "mention".into(),
        notification_id: notification_id.to_string(),
        notification: format!("{{\"id\":\"{notification_id}\",\"type\":\"mention\"}}"),
    }
}

/// A base64url (no padding) decoder for the key check.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// Every promise in turn.
pub async fn all(publisher: &dyn PushPublisher, probe: &dyn PushProbe) {
    a_published_message_arrives_whole(publisher, probe).await;
    each_publish_arrives_once(publisher, probe).await;
    the_server_key_is_a_vapid_public_key(publisher, probe).await;
}

pub async fn a_published_message_arrives_whole(publisher: &dyn PushPublisher, probe: &dyn PushProbe) {
    let sent = message(Id::from_u64(fresh_seq()), 1);
    publisher.publish(&sent).await.unwrap();
    assert_eq!(probe.received(sent.subscription, 1).await, vec![sent], "endpoint, keys and notification arrive exactly");
}

pub async fn each_publish_arrives_once(publisher: &dyn PushPublisher, probe: &dyn PushProbe) {
    let (one, two) = (Id::from_u64(fresh_seq()), Id::from_u64(fresh_seq()));
    for sent in [message(one, 1), message(one, 2), message(two, 3)] {
        publisher.publish(&sent).await.unwrap();
    }
    let mut to_one: Vec<String> = probe.received(one, 2).await.into_iter().map(|m| m.notification_id).collect();
    to_one.sort();
    assert_eq!(to_one, vec!["1", "2"], "each publish arrives once, for its own subscription");
    assert_eq!(probe.received(two, 1).await.len(), 1, "another subscription's deliveries are its own");
}

pub async fn the_server_key_is_a_vapid_public_key(publisher: &dyn PushPublisher, _probe: &dyn PushProbe) {
    let key = publisher.server_key();
    let bytes = base64url(&key).unwrap_or_else(|| panic!("the server key is base64url: {key:?}"));
    assert!(bytes.len() == 65 && bytes[0] == 4, "the server key is an uncompressed P-256 point (65 bytes, 0x04 first): {key:?}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64url_decodes_without_padding() {
        assert_eq!(super::base64url("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(super::base64url("_-8"), Some(vec![0xff, 0xef]));
        assert_eq!(super::base64url("a=b"), None);
    }
}
