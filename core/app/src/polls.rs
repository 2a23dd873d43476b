//! Polls: validated on status creation and edits (kept in the status record), votes (one
//! record per voter under `NotExists`, counters by `Write::Add`), rendering with the viewer's
//! own votes, and the end of a poll: a durable schedule in the store (`PX`) scanned by every
//! core process, each end claimed by exactly one of them in the transaction that logs
//! `PollEnded` (the notifier tells voters and author).
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions); [`expiry`] is the background scan.

pub mod expiry;
pub mod handlers;
pub mod service;
pub mod writes;
