//! Scheduled statuses: `scheduled_at` on `POST /api/v1/statuses` keeps the post for later (its
//! parameters, its attachments held for it) instead of posting it, and
//! `/api/v1/scheduled_statuses` lists, shows, reschedules and deletes them (the owner's only).
//! Every core process runs the scheduler ([`publisher`]): when one is due it is posted through the
//! normal create path ([`super::service::publish`]: fanout, notifications, search, polls) in the
//! transaction that removes it, claimed through the `SX` schedule of [`crate::due`], so it is
//! posted exactly once, across restarts and with several processes.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions); [`publisher`] is the background scan.

pub mod handlers;
pub mod publisher;
pub mod service;
pub mod writes;
