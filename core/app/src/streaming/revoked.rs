//! When an open stream must close: its token was revoked, its account can no longer
//! authenticate, or the token expired.
//!
//! Two paths, so a stream never outlives its token by more than a few seconds:
//! - at once: the stream listens to its token's and its account's control channels
//!   ([`revocation`]) for the `kill` a revocation announces on every process;
//! - a safety net: every [`AuthConfig::stream_recheck_secs`] (and once right after
//!   subscribing, which covers a revocation between authentication and subscription) it asks
//!   [`App::token_still_valid`], so a lost announcement (a Redis hiccup, a revocation made by a
//!   process on another hub) delays the close by at most one period. A store that cannot answer
//!   keeps the stream open: an outage ends no session.
//!
//! [`AuthConfig::stream_recheck_secs`]: crate::config::AuthConfig::stream_recheck_secs

use std::sync::Arc;
use std::time::Duration;

use shared::id::Id;
use tokio::sync::{broadcast, oneshot};

use crate::App;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::ports::StreamMessage;
use crate::revocation;

/// Watches one stream's token; dropping it stops watching.
pub(crate) struct Revoked {
    fired: oneshot::Receiver<()>,
    done: bool,
    task: tokio::task::AbortHandle,
}

impl Drop for Revoked {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Revoked {
    /// Starts watching the token `auth` was proven with; subscribed to its control channels
    /// before it returns, so no `kill` published afterwards is missed.
    pub(crate) async fn watch(app: &App, auth: &Auth) -> ApiResult<Self> {
        let token = app.streams.subscribe(&revocation::token_channel(auth.token)).await?;
        let account = match auth.account {
            Some(account) => Some(app.streams.subscribe(&revocation::account_channel(account)).await?),
            None => None,
        };
        let period = Duration::from_secs(app.config.auth.stream_recheck_secs.max(1));
        let (fire, fired) = oneshot::channel();
        let task = tokio::spawn(watch(app.clone(), auth.token, auth.account, Some(token), account, period, fire));
        Ok(Revoked { fired, done: false, task: task.abort_handle() })
    }

    /// Resolves once the stream must close (cancel-safe; resolves at once ever after).
    pub(crate) async fn closed(&mut self) {
        if !self.done {
            // A watcher that ended without a word (it panicked) closes the stream too.
            let _ = (&mut self.fired).await;
            self.done = true;
        }
    }
}

async fn watch(
    app: App,
    jti: Id,
    owner: Option<Id>,
    mut token: Option<broadcast::Receiver<Arc<StreamMessage>>>,
    mut account: Option<broadcast::Receiver<Arc<StreamMessage>>>,
    period: Duration,
    fire: oneshot::Sender<()>,
) {
    let mut recheck = tokio::time::interval(period);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = killed(&mut token) => break,
            () = killed(&mut account) => break,
            _ = recheck.tick() => match app.token_still_valid(jti, owner).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => tracing::warn!(error = ?e, token = %jti, "cannot re-check an open stream's token; keeping it open"),
            },
        }
    }
    let _ = fire.send(());
}

/// Resolves when a `kill` arrives on `channel`; never once the channel is gone (the re-check
/// still runs).
async fn killed(channel: &mut Option<broadcast::Receiver<Arc<StreamMessage>>>) {
    loop {
        let Some(rx) = channel.as_mut() else { return std::future::pending().await };
        match rx.recv().await {
            Ok(message) if message.event == revocation::KILL => return,
            // A lag may have skipped a `kill`: the re-check catches it.
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => *channel = None,
        }
    }
}
