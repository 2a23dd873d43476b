//! In-memory reference adapters for the ports whose production adapters live outside the
//! process and have no embedded counterpart ([`EventSink`], [`PushPublisher`]): what their
//! contract suites are checked against in every `cargo test`, and handy doubles for tests.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;

use crate::ports::{EventSink, LoggedEvent, PushError, PushMessage, PushPublisher, SinkError};

/// An [`EventSink`] keeping what it was given, keyed by `seq` like a warehouse loader.
#[derive(Debug, Default)]
pub struct MemoryEventSink {
    events: Mutex<BTreeMap<u64, LoggedEvent>>,
    deliveries: Mutex<usize>,
    failing: AtomicBool,
}

impl MemoryEventSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event handled, once per `seq`, in `seq` order.
    pub fn events(&self) -> Vec<LoggedEvent> {
        self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect()
    }

    /// How many batches were accepted.
    pub fn deliveries(&self) -> usize {
        *self.deliveries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes every delivery fail (an unreachable downstream) until set back.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

/// Why [`MemoryEventSink`] refused a batch.
#[derive(Debug, thiserror::Error)]
#[error("the sink is down")]
struct Down;

#[async_trait]
impl EventSink for MemoryEventSink {
    async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(SinkError::new("memory sink", Down));
        }
        let mut stored = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for event in events {
            stored.insert(event.seq, event.clone());
        }
        *self.deliveries.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
        Ok(())
    }
}

/// A [`PushPublisher`] keeping every message handed to it.
#[derive(Debug)]
pub struct MemoryPushPublisher {
    server_key: String,
    messages: Mutex<Vec<PushMessage>>,
    failing: AtomicBool,
}

impl MemoryPushPublisher {
    /// A publisher reporting `server_key` as its VAPID public key.
    pub fn new(server_key: impl Into<String>) -> Self {
        MemoryPushPublisher { server_key: server_key.into(), messages: Mutex::new(Vec::new()), failing: AtomicBool::new(false) }
    }

    /// Every message handed over, in order.
    pub fn messages(&self) -> Vec<PushMessage> {
        self.messages.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Makes every hand-over fail until set back.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

#[async_trait]
impl PushPublisher for MemoryPushPublisher {
    async fn publish(&self, message: &PushMessage) -> Result<(), PushError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PushError::new("memory push publisher", Down));
        }
        self.messages.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(message.clone());
        Ok(())
    }

    fn server_key(&self) -> String {
        self.server_key.clone()
    }
}
