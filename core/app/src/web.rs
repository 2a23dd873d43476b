//! Starling's public web pages: server-rendered HTML anyone can read without JavaScript — the
//! landing page, profiles (`/@username`), a status with its thread (`/@username/:id`, every
//! status's `url`) and tag pages (`/tags/:tag`) — with OpenGraph and Twitter-card meta so links
//! unfurl elsewhere, a canonical URL and a `rel="alternate"` link to the API entity.
//!
//! Pages are rendered for an anonymous reader only (a token or cookie changes nothing), through
//! the same visibility policy as the API's anonymous reads, so content and media of non-public
//! statuses are never on them; that is also what lets the edge and CDN cache them
//! ([`html::CACHE_CONTROL`]). Unknown pages answer an HTML 404, a suspended account 410.
//!
//! [`handlers`] (HTTP, one per page) → [`service`] (what a page shows) → [`html`] (markup).

pub mod handlers;
mod html;
pub(crate) mod service;
