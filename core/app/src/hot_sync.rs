//! Keeping the in-process copies of `hot.rs` true across core processes: a moderation change
//! (suspension, silencing, approval, …) must show everywhere at once, so the process that
//! commits it announces it on the stream hub, which reaches every process, and each forgets its
//! kept view of that account. Best effort, like everything on the hub: a lost announcement
//! leaves a copy for at most `[timelines] hot_ttl_ms`.

use std::time::Duration;

use shared::id::Id;
use tokio::sync::{broadcast, watch};

use crate::ports::StreamMessage;
use crate::{App, keys};

/// Tells every core process (the hub reaches them all) that `account`'s moderation changed, so
/// each forgets its kept view of it at once; call it once the change is committed. Best effort,
/// like everything on the hub: a lost message leaves a copy for at most `hot_ttl_ms`.
pub async fn moderation_changed(app: &App, account: Id) {
    app.hot.accounts.forget(&account);
    if !app.hot.accounts.enabled() {
        return;
    }
    let message = StreamMessage { event: keys::MODERATION_CHANGED.to_owned(), payload: account.to_string() };
    if let Err(e) = app.streams.publish(keys::MODERATION_CHANNEL, message).await {
        tracing::warn!(error = %e, account = %account, "cannot tell other processes of a moderation change; their copies expire within hot_ttl_ms");
    }
}

/// Listens for [`moderation_changed`] until `stop`, forgetting each account named (every kept
/// account, when messages were missed). Runs on every core process that keeps copies.
pub async fn listen(app: App, mut stop: watch::Receiver<bool>) {
    if !app.hot.accounts.enabled() {
        return;
    }
    loop {
        let mut messages = match app.streams.subscribe(keys::MODERATION_CHANNEL).await {
            Ok(messages) => messages,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for moderation changes; kept account copies expire within hot_ttl_ms");
                tokio::select! {
                    _ = stop.changed() => return,
                    () = tokio::time::sleep(Duration::from_secs(5)) => continue,
                }
            }
        };
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                message = messages.recv() => match message {
                    Ok(message) if message.event == keys::MODERATION_CHANGED => match message.payload.parse::<Id>() {
                        Ok(account) => app.hot.accounts.forget(&account),
                        Err(_) => app.hot.accounts.clear(),
                    },
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => app.hot.accounts.clear(),
                    Err(broadcast::error::RecvError::Closed) => {
                        app.hot.accounts.clear();
                        break;
                    }
                },
            }
        }
    }
}
