//! Timelines: home (cached, rebuilt on demand, with celebrity posts merged in at read time),
//! public, hashtag, and an account's own statuses.
//!
//! [`handlers`] (HTTP) → [`service`] (home assembly, the celebrity set, partition scans).

pub mod handlers;
pub mod service;

pub use self::service::{home_key, push_recipients};
