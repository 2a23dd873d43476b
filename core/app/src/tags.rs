//! Hashtags an account follows (their public posts enter its home through fanout) and
//! hashtags it features on its profile.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions). A tag follow is three items written together: the edge in the follower's
//! partition, its entry in the follower's list (`FT#`) and in the tag's follower index (`TF#`),
//! which fanout pages like an account's followers; who of them gets a post is
//! `policy::tags`'s. A featured tag is an edge and a list entry (`FTG#`); its counts are the
//! author's per-tag counters the status writes keep.

pub mod handlers;
pub mod service;
pub mod writes;
