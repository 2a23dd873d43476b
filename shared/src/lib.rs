//! Starling's shared contract, compiled into both the edge (wasm32) and core (native).
//!
//! Owns: identifiers, the rules statuses and handles obey, text extraction and safe HTML
//! rendering, the Mastodon wire entities, the access-token format and its verification, and
//! pagination cursors.
//!
//! Must never: perform I/O, read a clock or a random source (callers pass `now` and entropy in),
//! or depend on anything that does not build for `wasm32-unknown-unknown`.

pub mod handle;
pub mod id;
pub mod page;
pub mod rate;
pub mod sigv4;
pub mod text;
pub mod token;
pub mod wire;
