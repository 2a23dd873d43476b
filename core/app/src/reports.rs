//! Reports: any account may report another (and some of its statuses) to the moderators, who
//! work through them in the admin API ([`crate::admin`]). The reporter never learns the outcome.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions).

pub mod handlers;
pub mod service;
pub mod writes;
