//! The conversations consumer of the event log: direct statuses join, and deleted ones leave,
//! their participants' conversations (`conversations::service`).
//!
//! Idempotent: a status joins a reader's conversations once (a `NotExists` item per reader and
//! status), so a replayed creation or edit adds nothing and moves nothing; a replayed deletion
//! finds nothing left to take. The store decides, not the event order: a creation handled
//! after its status was deleted does nothing. A conversation that changed for its reader is
//! published to their direct stream by the process whose write changed it (a replay changes
//! nothing, so streams nothing).

use shared::id::Id;
use shared::wire::Visibility;

use crate::error::ApiResult;
use crate::events::Event;
use crate::ports::LoggedEvent;
use crate::{App, conversations, streaming};

/// Name of this consumer's checkpoint.
pub const CONSUMER: &str = "conversations";
/// Events handled per batch.
const BATCH: usize = 256;

/// The conversations consumer.
pub struct Conversations;

#[async_trait::async_trait]
impl super::Consumer for Conversations {
    const NAME: &'static str = CONSUMER;
    const BATCH: usize = BATCH;

    fn lock(app: &App) -> &tokio::sync::Mutex<()> {
        &app.conversations_lock
    }

    async fn handle(app: &App, batch: &[LoggedEvent]) -> ApiResult<()> {
        for logged in batch {
            handle(app, &logged.event).await?;
        }
        Ok(())
    }
}

async fn handle(app: &App, event: &Event) -> ApiResult<()> {
    match event {
        // A new direct status, or an edit (which may mention someone new).
        Event::StatusCreated { status, visibility: Visibility::Direct, reblog_of: None, .. } | Event::StatusUpdated { status, .. } => {
            let Some(record) = app.status_records(&[*status]).await?.remove(status) else { return Ok(()) };
            for reader in conversations::service::recipients(app, &record).await? {
                if let Some(changed) = conversations::service::add_status(app, reader, &record).await?
                    && let Some(rendered) = conversations::service::render(app, reader, &[changed]).await?.pop()
                {
                    streaming::publish_conversation(app, reader, &rendered).await;
                }
            }
        }
        Event::StatusDeleted { status, author, visibility: Visibility::Direct, reblog_of: None, mentions, .. } => {
            let mut readers: Vec<Id> = std::iter::once(*author).chain(mentions.iter().copied()).collect();
            readers.sort_unstable();
            readers.dedup();
            for reader in readers {
                conversations::service::remove_status(app, reader, *status).await?;
            }
        }
        _ => {}
    }
    Ok(())
}
