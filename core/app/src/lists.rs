//! Lists: an account groups some of the accounts it follows and reads their posts as a
//! timeline of their own, fed by fanout like home (capped, rebuilt from the store when the
//! cache lacks it). An exclusive list keeps its members' posts out of its owner's home.
//!
//! [`handlers`] (HTTP) → [`service`] (typed commands) → [`writes`] (transactions with named
//! conditions); [`timeline`] builds and pages a list's timeline. Which posts go to which list,
//! and what an exclusive list keeps out of home, is decided in [`crate::policy::lists`].

pub mod handlers;
pub mod service;
pub mod timeline;
pub mod writes;

pub use self::timeline::list_key;
