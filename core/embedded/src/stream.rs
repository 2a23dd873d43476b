//! The streaming hub in process memory: one tokio broadcast channel per named channel,
//! created on first subscription and dropped once its last subscriber has gone. It reaches one
//! process, so with several core processes each one's streams hear only what it publishes
//! (core-redis has the hub for several).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use core_ports::ports::{CacheError, StreamHub, StreamMessage};
use tokio::sync::broadcast;

/// Messages a subscriber may fall behind by before it skips the oldest.
const CHANNEL_CAPACITY: usize = 256;
/// Claimed event positions remembered (the newest); the process's one publisher claims in log
/// order, so older ones are never asked for again.
const CLAIMS_KEPT: usize = 4096;

/// In-process pub/sub for one core process.
#[derive(Clone, Default)]
pub struct MemoryStreamHub {
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<StreamMessage>>>>>,
    claims: Arc<Mutex<BTreeSet<u64>>>,
}

impl MemoryStreamHub {
    /// An empty hub.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl StreamHub for MemoryStreamHub {
    async fn publish(&self, channel: &str, message: StreamMessage) -> Result<(), CacheError> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = channels.get(channel) {
            if sender.send(Arc::new(message)).is_err() {
                // Every subscriber has gone.
                channels.remove(channel);
            }
        }
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> Result<broadcast::Receiver<Arc<StreamMessage>>, CacheError> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if channels.len() > 1024 {
            channels.retain(|_, sender| sender.receiver_count() > 0);
        }
        Ok(channels.entry(channel.to_owned()).or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0).subscribe())
    }

    async fn has_subscribers(&self, channel: &str) -> Result<bool, CacheError> {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(channels.get(channel).is_some_and(|s| s.receiver_count() > 0))
    }

    async fn claim(&self, seq: u64) -> Result<bool, CacheError> {
        let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        let first = claims.insert(seq);
        if claims.len() > CLAIMS_KEPT {
            claims.pop_first();
        }
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn message(text: &str) -> StreamMessage {
        StreamMessage { event: "update".into(), payload: text.into() }
    }

    #[tokio::test]
    async fn subscribers_receive_what_is_published_on_their_channel_only() {
        let hub = MemoryStreamHub::new();
        let mut a = hub.subscribe("timeline:1").await.unwrap();
        let mut b = hub.subscribe("timeline:2").await.unwrap();
        assert!(hub.has_subscribers("timeline:1").await.unwrap());
        hub.publish("timeline:1", message("one")).await.unwrap();
        assert_eq!(a.recv().await.unwrap().payload, "one");
        assert!(b.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_channel_without_subscribers_is_forgotten() {
        let hub = MemoryStreamHub::new();
        let a = hub.subscribe("timeline:1").await.unwrap();
        drop(a);
        assert!(!hub.has_subscribers("timeline:1").await.unwrap());
        hub.publish("timeline:1", message("lost")).await.unwrap();
        assert!(hub.channels.lock().unwrap().is_empty());
    }
}
