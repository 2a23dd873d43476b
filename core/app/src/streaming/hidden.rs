//! What a signed-in stream leaves out: statuses and boosts by accounts its reader blocks, is
//! blocked by, or mutes ([`policy::visibility::hidden_accounts`]).
//!
//! The set is loaded when the stream opens and reloaded when a block or mute of the reader
//! changes (a `relations` message on the account's control channel, from any process) and every
//! [`RELOAD`] (a timed mute ends; a lost message). Each `update` is judged by its author and, for
//! a boost, the boosted status's author, read from the payload.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;
use shared::id::Id;
use tokio::sync::broadcast;

use crate::App;
use crate::error::ApiResult;
use crate::policy::visibility::hidden_accounts;
use crate::ports::StreamMessage;
use crate::revocation;

/// The control event that makes a reader's streams reload what they hide.
pub const RELATIONS: &str = "relations";

/// How often an open stream reloads what it hides regardless.
const RELOAD: Duration = Duration::from_secs(30);

/// The accounts one stream hides; dropping it stops the reloads.
#[derive(Clone, Default)]
pub(crate) struct Hidden {
    set: Arc<RwLock<HashSet<Id>>>,
    /// Held for its `Drop`, which stops the reloads when the last clone goes.
    _reloads: Option<Arc<AbortOnDrop>>,
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Hidden {
    /// Loads what `reader`'s stream hides and keeps it current (anonymous streams hide nothing).
    pub(crate) async fn watch(app: &App, reader: Option<Id>) -> ApiResult<Self> {
        let Some(reader) = reader else { return Ok(Hidden::default()) };
        // Subscribed before loading: a change committed in between is not missed.
        let control = app.streams.subscribe(&revocation::account_channel(reader)).await?;
        let set = Arc::new(RwLock::new(hidden_accounts(app, reader).await?));
        let task = tokio::spawn(reload(app.clone(), reader, control, set.clone()));
        Ok(Hidden { set, _reloads: Some(Arc::new(AbortOnDrop(task.abort_handle()))) })
    }

    /// Whether the stream leaves `message` out.
    pub(crate) fn hides(&self, message: &StreamMessage) -> bool {
        if !matches!(message.event.as_str(), "update" | "status.update") {
            return false;
        }
        let set = self.set.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if set.is_empty() {
            return false;
        }
        let Ok(status) = serde_json::from_str::<Authors>(&message.payload) else { return false };
        set.contains(&status.account.id) || status.reblog.is_some_and(|r| set.contains(&r.account.id))
    }
}

#[derive(Deserialize)]
struct Authors {
    account: AccountId,
    #[serde(default)]
    reblog: Option<Box<Authors>>,
}

#[derive(Deserialize)]
struct AccountId {
    id: Id,
}

async fn reload(app: App, reader: Id, mut control: broadcast::Receiver<Arc<StreamMessage>>, set: Arc<RwLock<HashSet<Id>>>) {
    let mut every = tokio::time::interval(RELOAD);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        tokio::select! {
            received = control.recv() => match received {
                Ok(message) if message.event == RELATIONS => {}
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = every.tick() => {}
        }
        match hidden_accounts(&app, reader).await {
            Ok(fresh) => *set.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh,
            Err(e) => tracing::warn!(error = ?e, account = %reader, "cannot reload what a stream hides; keeping the last set"),
        }
    }
}

/// Tells `account`'s open streams, on every process, that its blocks or mutes changed.
pub async fn relations_changed(app: &App, account: Id) {
    let message = StreamMessage { event: RELATIONS.to_owned(), payload: String::new() };
    if let Err(e) = app.streams.publish(&revocation::account_channel(account), message).await {
        tracing::warn!(error = %e, account = %account, "cannot tell open streams of a block or mute; they reload within 30 s");
    }
}
