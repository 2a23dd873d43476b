//! Blocks and mutes: what one account does so that another stops reaching it.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions). What a block or a mute hides is decided in [`crate::policy`].

pub mod handlers;
pub mod service;
pub mod writes;
