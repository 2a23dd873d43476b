//! Featured profiles (endorsements) and private notes on accounts: what one account says about
//! another, shown in relationships (`endorsed`, `note`) and, for endorsements, on its profile.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions). An endorsement needs a follow, and ends with it (the unfollow's transaction
//! removes it, `relationships::writes::unfollow`).

pub mod handlers;
pub mod service;
pub mod writes;
