//! CORS on the responses the edge builds itself (cached home pages, its 401s, 429s, upload
//! grants, preflights), so browser apps can read them as they read core's. The headers are
//! exactly what core's layer sends (`tower_http::cors::CorsLayer::permissive()` exposing `Link`
//! and `X-RateLimit-*`, core/app/src/http.rs): any origin, no credentials, every method and
//! header allowed. Forwarded responses carry core's own.

use crate::{EdgeRequest, EdgeResponse};

/// What every response varies on (the preflight's answer depends on these request headers).
pub const VARY: &str = "origin, access-control-request-method, access-control-request-headers";
/// Response headers a browser app may read besides the safelisted ones.
pub const EXPOSE_HEADERS: &str = "link,x-ratelimit-limit,x-ratelimit-remaining,x-ratelimit-reset";

/// Whether `request` is a preflight as core sees one: every `OPTIONS` request.
pub fn is_preflight(request: &EdgeRequest) -> bool {
    request.method.eq_ignore_ascii_case("OPTIONS")
}

/// The answer to a preflight: 200, empty body, everything allowed.
pub fn preflight() -> EdgeResponse {
    let mut response = EdgeResponse { status: 200, headers: Vec::new(), body: Vec::new() };
    response.set_header("vary", VARY);
    response.set_header("access-control-allow-origin", "*");
    response.set_header("access-control-allow-methods", "*");
    response.set_header("access-control-allow-headers", "*");
    response
}

/// Adds the headers of a non-preflight response.
pub fn decorate(response: &mut EdgeResponse) {
    response.set_header("vary", VARY);
    response.set_header("access-control-allow-origin", "*");
    response.set_header("access-control-expose-headers", EXPOSE_HEADERS);
}
