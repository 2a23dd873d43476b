//! Filters: `/api/v2/filters` (filters with keywords and statuses) and the `/api/v1/filters`
//! Mastodon still serves (each v1 filter is one keyword of a v2 filter).
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands, validation, limits) → [`writes`] (an
//! account's filter replaced by its next version, conditionally). What a filter does to what
//! its owner reads is decided in [`crate::policy::filters`], never here.

pub mod handlers;
pub mod service;
pub mod writes;
