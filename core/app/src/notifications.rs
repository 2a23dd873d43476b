//! Notifications: the API that lists, shows, dismisses and clears them, and their writes (the
//! `consumers::notifier` consumer creates them).
//!
//! Every notification an event gives an account is keyed by (account, event position, type):
//! the dedupe item and the notification commit together under `NotExists`, so a replayed
//! event — the log is at-least-once — creates nothing twice. New notifications are also
//! published to the recipient's stream.
//!
//! The recipient's notification policy (`policy::filtering`, set through
//! `/api/v2/notifications/policy`) may drop a notification or keep it as *filtered*: stored in
//! the list with `filtered` (shown only with `include_filtered`), neither streamed nor pushed,
//! and grouped per sender in a notification request. Accepting a request un-filters its
//! notifications and lets the sender through from then on; dismissing it deletes them.
//!
//! [`handlers`] (HTTP) → [`service`] (rendering, read markers) → [`writes`] (notifications and
//! their dedupe items, with named conditions; the notifier consumer creates them through it).

pub mod handlers;
pub mod service;
pub mod writes;
