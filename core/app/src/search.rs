//! Search: the Mastodon endpoints (`/api/v2/search`, `/api/v1/accounts/search`, `/api/v1/tags/:name`).
//!
//! The index is a derived view, like timelines: the consumer re-reads each changed status or
//! account from the store and writes (or removes) its document by id, so replays and
//! reordering converge on the store's state. Readers' visibility is filtered inside the query
//! (visibility, author and mentions are in the document) and checked again when hydrating.
//!
//! [`handlers`] (HTTP) → [`service`] (queries, hashtags and their history). The indexing
//! consumer is `consumers::indexer`.

pub mod handlers;
pub mod service;
