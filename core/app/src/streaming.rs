//! Realtime streaming: a consumer of the event log publishes Mastodon's stream events
//! (`update`, `delete`, `status.update`; the notifications consumer adds `notification`) to
//! [`StreamHub`](crate::ports::StreamHub) channels, and clients listen over server-sent events
//! (`/api/v1/streaming/{user,public,hashtag,…}`) or one WebSocket (`/api/v1/streaming`)
//! carrying any number of subscriptions.
//!
//! Channels carry Mastodon's Redis names: `timeline:{account}` gets what that account's home
//! timeline gets (the fanout's recipients, by the same home rules) plus its notifications;
//! `timeline:public[:local][:media]` and `timeline:hashtag:{tag}[:local]` get public,
//! original statuses only. Payloads are rendered once, without viewer-specific fields, as
//! Mastodon does. Streams are live only: this consumer starts at the log's head and keeps
//! no checkpoint; clients catch up through the REST timelines.
//!
//! Every stream closes within seconds of its token's revocation (or its account's end):
//! `revoked` listens for the `kill` that [`crate::revocation`] announces over the hub and
//! re-checks the token periodically; SSE then ends the response, a WebSocket sends a close frame.
//!
//! [`publisher`] (the log tail that publishes) and [`handlers`] (SSE and WebSocket endpoints).

pub mod handlers;
mod hidden;
pub mod publisher;
mod revoked;

pub use hidden::relations_changed;

pub(crate) use self::publisher::claim_and_publish;
pub use self::publisher::{publish_conversation, publish_notification, run};
