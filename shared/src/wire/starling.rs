//! Starling's own extensions, under `/api/starling/v1/`: what the edge reads from core.

use serde::{Deserialize, Serialize};

/// `GET /api/starling/v1/revocations`: ids of revoked tokens that have not expired yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocations {
    /// Token ids (`jti`).
    pub revoked: Vec<String>,
}

/// `GET /api/starling/v1/timelines/home/version`: changes whenever the caller's home gains or
/// loses entries; the edge validates its cached pages with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeVersion {
    /// The version, as a decimal string.
    pub version: String,
}
