//! Relationships: follow and unfollow, follower and following lists, relationship entities.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions).

pub mod handlers;
pub mod service;
pub mod writes;
