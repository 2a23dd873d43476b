//! OAuth 2: application registration, the authorization-code flow (with PKCE) behind a real
//! login and consent page, the token endpoint's grants, revocation, and the public keys and
//! revocation list the edge verifies tokens with.
//!
//! [`handlers`] (HTTP, the consent page) → [`service`] (clients, logins, codes).

pub mod handlers;
pub mod service;
