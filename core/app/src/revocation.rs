//! Announcing that a token, or every token of an account, can no longer authenticate, so that
//! whatever holds one open (streams) lets go at once, on every core process.
//!
//! The announcement is a `kill` message on Mastodon's own control channels of the
//! [`StreamHub`](crate::ports::StreamHub): `timeline:access_token:{jti}` for one token and
//! `timeline:system:{account}` for an account. The hub reaches every process that shares it
//! (the Redis hub: all of them; the memory hub: this one, which is all there is), so each
//! process closes the streams it holds. It is best effort, like everything on the hub: callers
//! announce *after* committing the state that makes [`App::authenticate`] refuse, and open
//! streams re-check that state every [`AuthConfig::stream_recheck_secs`] seconds
//! (`streaming::handlers`), so a lost announcement delays a close by at most one period.
//!
//! This module names channels and publishes; it imports no feature (auth and moderation call
//! it, streaming listens).
//!
//! [`App::authenticate`]: crate::App::authenticate
//! [`AuthConfig::stream_recheck_secs`]: crate::config::AuthConfig::stream_recheck_secs

use shared::id::Id;

use crate::App;
use crate::ports::StreamMessage;

/// The event that closes every stream listening on a control channel (Mastodon's name).
pub const KILL: &str = "kill";

/// The channel a stream authenticated by token `jti` listens to for its `kill`.
pub fn token_channel(jti: Id) -> String {
    format!("timeline:access_token:{jti}")
}

/// The channel every stream of `account` listens to for its `kill`.
pub fn account_channel(account: Id) -> String {
    format!("timeline:system:{account}")
}

/// Closes every open stream authenticated by token `jti`, on every process. Call it once the
/// token's revocation is committed.
pub async fn close_token_streams(app: &App, jti: Id) {
    announce(app, &token_channel(jti)).await;
}

/// Closes every open stream of `account`, whatever its token, on every process. Call it once
/// whatever makes the account unable to authenticate (suspension, disabling, deletion) is
/// committed, and make [`App::token_still_valid`](crate::App::token_still_valid) refuse it too,
/// so the periodic re-check closes what a lost announcement leaves open.
pub async fn close_account_streams(app: &App, account: Id) {
    announce(app, &account_channel(account)).await;
}

async fn announce(app: &App, channel: &str) {
    let message = StreamMessage { event: KILL.to_owned(), payload: String::new() };
    if let Err(e) = app.streams.publish(channel, message).await {
        // The periodic re-check of every open stream closes them a little later.
        tracing::warn!(error = %e, channel, "cannot announce the end of a session to open streams; they close at their next re-check");
    }
}
