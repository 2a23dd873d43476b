//! Statuses: posting (idempotently), reading, editing with history, deleting, threads, and
//! the interactions on them (favourites, boosts, bookmarks) and the lists they make.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions).

pub mod handlers;
pub mod service;
pub mod writes;
