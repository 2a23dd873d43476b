//! The admin API (`/api/v1/admin/*`): moderators list and act on accounts and work through
//! reports. Every route needs an `admin:*` scope *and* a staff role (moderator, admin, owner),
//! checked on each request; roles are granted with `starling accounts modify --role`.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`].

pub mod handlers;
pub mod service;
pub mod writes;
