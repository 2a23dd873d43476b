//! Direct conversations (`/api/v1/conversations`): each account's conversations, one per set
//! of other participants, kept by the conversations consumer (`consumers::conversations`) from
//! the direct statuses in the event log; the reader marks them read or removes them.
//!
//! Owns: the conversation records, their listing by newest status, their statuses; rendering
//! the `Conversation` entity. Must never: decide who takes part (policy::feed) or publish to a
//! stream (the consumer and the stream publisher do).

pub mod handlers;
pub mod service;
pub mod writes;
