//! The event-log consumers and their registration: the one loop ([`runner`]) and the
//! consumers it runs — [`fanout`] (home timelines), [`indexer`] (search), [`notifier`]
//! (notifications). Only the application wiring (`lib.rs`) and the external feeds (through
//! [`sinks`]) use this module; the loop itself names no consumer.

pub mod fanout;
pub mod indexer;
pub mod notifier;
pub mod runner;

use std::sync::Arc;

use tokio::sync::watch;

pub use self::runner::{Consumer, drain, run, sink};
use crate::App;
use crate::error::ApiResult;
use crate::ports::EventSink;

/// Fanout, search and notifications as sinks, by checkpoint name: what an external feed
/// runs instead of the log tails (see `Application::external_consumers`).
pub fn sinks(app: &App) -> Vec<(&'static str, Arc<dyn EventSink>)> {
    vec![
        (fanout::Fanout::NAME, sink::<fanout::Fanout>(app)),
        (indexer::Indexer::NAME, sink::<indexer::Indexer>(app)),
        (notifier::Notifications::NAME, sink::<notifier::Notifications>(app)),
    ]
}

/// Starts the log tails of fanout, search and notifications.
pub(crate) fn spawn_tails(app: &App, stop: &watch::Receiver<bool>) -> Vec<(&'static str, tokio::task::JoinHandle<()>)> {
    vec![
        (fanout::Fanout::NAME, tokio::spawn(run::<fanout::Fanout>(app.clone(), stop.clone()))),
        (indexer::Indexer::NAME, tokio::spawn(run::<indexer::Indexer>(app.clone(), stop.clone()))),
        (notifier::Notifications::NAME, tokio::spawn(run::<notifier::Notifications>(app.clone(), stop.clone()))),
    ]
}

/// Has fanout, search and notifications handle everything logged so far.
pub(crate) async fn drain_all(app: &App) -> ApiResult<()> {
    drain::<fanout::Fanout>(app).await?;
    drain::<indexer::Indexer>(app).await?;
    drain::<notifier::Notifications>(app).await
}
