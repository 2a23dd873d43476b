//! The event-log consumers and their registration: the one loop ([`runner`]) and the
//! consumers it runs — [`fanout`] (home timelines), [`indexer`] (search), [`notifier`]
//! (notifications), [`conversations`] (direct conversations). Only the application wiring (`lib.rs`) and the external feeds (through
//! [`sinks`]) use this module; the loop itself names no consumer.

pub mod conversations;
pub mod fanout;
pub mod indexer;
pub mod notifier;
pub mod runner;

use std::sync::Arc;

use tokio::sync::watch;

pub use self::runner::{Consumer, drain, run, sink};
use crate::App;
use crate::error::ApiResult;
use crate::ports::{EventSink, LoggedEvent, SinkError};

/// Fanout, search and notifications as sinks, by checkpoint name: what an external feed
/// runs instead of the log tails (see `Application::external_consumers`). Fanout's sink also
/// publishes each batch to the streams once the homes have it, so live streams need no log
/// tail of their own (and no extra reader of the feed); the notifications sink then keeps the
/// conversations (no fifth reader of a shard's five `GetRecords` a second; both idempotent, so
/// a batch redelivered because conversations failed changes nothing twice).
pub fn sinks(app: &App) -> Vec<(&'static str, Arc<dyn EventSink>)> {
    let fanout_then_streams = Arc::new(ThenStreams { first: sink::<fanout::Fanout>(app), app: app.clone() });
    vec![
        (fanout::Fanout::NAME, fanout_then_streams),
        (indexer::Indexer::NAME, sink::<indexer::Indexer>(app)),
        (notifier::Notifications::NAME, Arc::new(Then { first: sink::<notifier::Notifications>(app), then: sink::<conversations::Conversations>(app) })),
    ]
}

/// One sink, then another, on the same batches.
struct Then {
    first: Arc<dyn EventSink>,
    then: Arc<dyn EventSink>,
}

#[async_trait::async_trait]
impl EventSink for Then {
    async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError> {
        self.first.deliver(events).await?;
        self.then.deliver(events).await
    }
}

/// A sink, then the streams: each event of a delivered batch is published to its stream
/// channels by whichever process wins its claim (best effort: a failure is logged, never
/// handed back, so it cannot hold the first sink's feed back).
struct ThenStreams {
    first: Arc<dyn EventSink>,
    app: App,
}

#[async_trait::async_trait]
impl EventSink for ThenStreams {
    async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError> {
        self.first.deliver(events).await?;
        for logged in events {
            if let Err(e) = crate::streaming::claim_and_publish(&self.app, logged.seq, &logged.event).await {
                tracing::warn!(error = ?e, seq = logged.seq, "could not stream an event");
            }
        }
        Ok(())
    }
}

/// Starts the log tails of fanout, search, notifications and conversations.
pub(crate) fn spawn_tails(app: &App, stop: &watch::Receiver<bool>) -> Vec<(&'static str, tokio::task::JoinHandle<()>)> {
    vec![
        (fanout::Fanout::NAME, tokio::spawn(run::<fanout::Fanout>(app.clone(), stop.clone()))),
        (indexer::Indexer::NAME, tokio::spawn(run::<indexer::Indexer>(app.clone(), stop.clone()))),
        (notifier::Notifications::NAME, tokio::spawn(run::<notifier::Notifications>(app.clone(), stop.clone()))),
        (conversations::Conversations::NAME, tokio::spawn(run::<conversations::Conversations>(app.clone(), stop.clone()))),
    ]
}

/// Has fanout, search, notifications and conversations handle everything logged so far.
pub(crate) async fn drain_all(app: &App) -> ApiResult<()> {
    drain::<fanout::Fanout>(app).await?;
    drain::<indexer::Indexer>(app).await?;
    drain::<notifier::Notifications>(app).await?;
    drain::<conversations::Conversations>(app).await
}
