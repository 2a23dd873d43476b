//! Accounts: sign-up, credentials, profiles, look-ups.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions).

pub mod handlers;
pub mod service;
pub mod writes;
