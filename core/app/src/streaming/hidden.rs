//! What a signed-in stream leaves out: statuses and boosts by accounts its reader blocks, is
//! blocked by, or mutes ([`policy::visibility::hidden_accounts`]), and what the reader's
//! filters hide ([`policy::filters::Filters`]: statuses in `update`/`status.update`, the
//! status of a `notification`); what they warn of is sent with `filtered`.
//!
//! Both are loaded when the stream opens and reloaded when a block, mute or filter of the reader
//! changes (a `relations` message on the account's control channel, from any process) and every
//! [`RELOAD`] (a timed mute ends; a lost message). Each `update` is judged by its author and, for
//! a boost, the boosted status's author, read from the payload; filters only decode the payload
//! when the reader has one for the stream's context.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;
use shared::id::Id;
use shared::wire::{self, FilterContext};
use tokio::sync::broadcast;

use crate::App;
use crate::error::ApiResult;
use crate::policy::filters::Filters;
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
    filters: Arc<RwLock<Arc<Filters>>>,
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
        let filters = Arc::new(RwLock::new(Arc::new(Filters::load(app, Some(reader)).await?)));
        let task = tokio::spawn(reload(app.clone(), reader, control, set.clone(), filters.clone()));
        Ok(Hidden { set, filters, _reloads: Some(Arc::new(AbortOnDrop(task.abort_handle()))) })
    }

    /// What the stream sends of `message`, read in `context`: nothing when it is hidden (by
    /// author or by a filter), else the message, with `filtered` results when filters warn.
    pub(crate) fn pass(&self, context: FilterContext, message: Arc<StreamMessage>) -> Option<Arc<StreamMessage>> {
        if self.hides(&message) {
            return None;
        }
        let message = self.blank_hidden_quote(message)?;
        let filters = self.filters.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if !filters.applies_in(context) {
            return Some(message);
        }
        let payload = match message.event.as_str() {
            "update" | "status.update" => {
                let Ok(mut status) = serde_json::from_str::<wire::Status>(&message.payload) else { return Some(message) };
                if !filters.apply(context, &mut status) {
                    return None;
                }
                if status.filtered.is_none() {
                    return Some(message);
                }
                serde_json::to_string(&status)
            }
            "notification" => {
                let Ok(mut notification) = serde_json::from_str::<wire::Notification>(&message.payload) else { return Some(message) };
                let Some(status) = notification.status.as_mut() else { return Some(message) };
                if !filters.apply(context, status) {
                    return None;
                }
                if status.filtered.is_none() {
                    return Some(message);
                }
                serde_json::to_string(&notification)
            }
            _ => return Some(message),
        };
        match payload {
            Ok(payload) => Some(Arc::new(StreamMessage { event: message.event.clone(), payload })),
            Err(e) => {
                tracing::warn!(error = %e, "cannot serialise a filtered stream message; sending it as published");
                Some(message)
            }
        }
    }

    /// `message` with its quote blanked (`unauthorized`, nothing shown) when the stream hides the
    /// quoted status's author: statuses are published rendered for no one in particular, and a
    /// quote never shows what its reader may not see.
    /// `None`: it could not be blanked, so it is left out.
    fn blank_hidden_quote(&self, message: Arc<StreamMessage>) -> Option<Arc<StreamMessage>> {
        if !matches!(message.event.as_str(), "update" | "status.update") {
            return Some(message);
        }
        {
            let set = self.set.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            let Ok(status) = serde_json::from_str::<Authors>(&message.payload) else { return Some(message) };
            let quoted = |s: &Authors| s.quote.as_ref().and_then(|q| q.quoted_status.as_ref()).is_some_and(|q| set.contains(&q.account.id));
            if !(quoted(&status) || status.reblog.as_deref().is_some_and(quoted)) {
                return Some(message);
            }
        }
        let mut status = serde_json::from_str::<wire::Status>(&message.payload).ok()?;
        blank_quote(&mut status);
        match serde_json::to_string(&status) {
            Ok(payload) => Some(Arc::new(StreamMessage { event: message.event.clone(), payload })),
            Err(e) => {
                tracing::warn!(error = %e, "cannot serialise a stream message without its quote; leaving it out");
                None
            }
        }
    }

    /// Whether the stream leaves `message` out by its authors.
    fn hides(&self, message: &StreamMessage) -> bool {
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
    #[serde(default)]
    quote: Option<QuoteAuthor>,
}

#[derive(Deserialize)]
struct QuoteAuthor {
    #[serde(default)]
    quoted_status: Option<Box<Authors>>,
}

/// Blanks the quote of `status` (and of the status it boosts).
fn blank_quote(status: &mut wire::Status) {
    if let Some(quote) = status.quote.as_mut() {
        *quote = wire::StatusQuote { state: wire::QuoteState::Unauthorized, quoted_status: Some(None), quoted_status_id: None };
    }
    if let Some(boosted) = status.reblog.as_deref_mut() {
        blank_quote(boosted);
    }
}

#[derive(Deserialize)]
struct AccountId {
    id: Id,
}

async fn reload(app: App, reader: Id, mut control: broadcast::Receiver<Arc<StreamMessage>>, set: Arc<RwLock<HashSet<Id>>>, filters: Arc<RwLock<Arc<Filters>>>) {
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
        match Filters::load_fresh(&app, reader).await {
            Ok(fresh) => *filters.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(fresh),
            Err(e) => tracing::warn!(error = ?e, account = %reader, "cannot reload a stream's filters; keeping the last ones"),
        }
    }
}

/// Tells `account`'s open streams, on every process, that its blocks, mutes or filters changed.
pub async fn relations_changed(app: &App, account: Id) {
    let message = StreamMessage { event: RELATIONS.to_owned(), payload: String::new() };
    if let Err(e) = app.streams.publish(&revocation::account_channel(account), message).await {
        tracing::warn!(error = %e, account = %account, "cannot tell open streams of a block or mute; they reload within 30 s");
    }
}
