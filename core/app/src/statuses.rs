//! Statuses: posting (idempotently), reading, editing with history, deleting, threads, and
//! the interactions on them (favourites, boosts, bookmarks) and the lists they make; statuses
//! scheduled for later ([`scheduled`]).
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions).

pub mod handlers;
pub mod scheduled;
pub mod service;
pub mod writes;
