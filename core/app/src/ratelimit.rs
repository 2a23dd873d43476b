//! Rate limiting middleware: GCRA per token (per address when anonymous) for every request,
//! plus stricter per-address quotas for sign-ups and logins and per-token ones for media.
//! Every response carries `X-RateLimit-Limit/Remaining/Reset`; refusals are 429 with
//! `Retry-After`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::rate::{Decision, Quota};
use shared::token::secret_digest;

use crate::error::ApiError;
use crate::{App, now_ms, now_secs};

/// The quota classes a request can fall into besides the general one.
fn special_class(method: &Method, path: &str) -> Option<&'static str> {
    match (method, path) {
        (&Method::POST, "/api/v1/accounts") => Some("sign_ups"),
        (&Method::POST, "/oauth/token" | "/oauth/authorize") => Some("logins"),
        (&Method::POST, "/api/v1/media" | "/api/v2/media") => Some("media"),
        _ => None,
    }
}

fn client_address(app: &App, req: &Request) -> String {
    if app.config.rate_limits.trust_forwarded_for
        && let Some(first) = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next())
    {
        return first.trim().to_owned();
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map_or_else(|| "local".to_owned(), |c| c.0.ip().to_string())
}

/// The caller's identity for per-token quotas: a verified token's id, else the address.
fn caller(app: &App, req: &Request, address: &str) -> String {
    let token =
        req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
    match token.and_then(|t| app.verifier.verify(t.trim(), now_secs()).ok()) {
        Some(claims) => format!("t:{}", claims.jti),
        None => format!("ip:{}", secret_digest(address)),
    }
}

/// The middleware.
pub async fn limit(State(app): State<App>, req: Request, next: Next) -> Response {
    let limits = &app.config.rate_limits;
    if !limits.enabled || matches!(req.uri().path(), "/health" | "/ready" | "/metrics") {
        return next.run(req).await;
    }
    let address = client_address(&app, &req);
    let now = now_ms();
    let (class, quota, key) = match special_class(req.method(), req.uri().path()) {
        Some("sign_ups") => ("sign_ups", limits.sign_ups.quota(), format!("sign_ups:{}", secret_digest(&address))),
        Some("logins") => ("logins", limits.logins.quota(), format!("logins:{}", secret_digest(&address))),
        Some(_) => ("media", limits.media.quota(), format!("media:{}", caller(&app, &req, &address))),
        None => ("requests", limits.requests.quota(), format!("requests:{}", caller(&app, &req, &address))),
    };
    let decision = app.rate_limit(&key, quota, now).await;
    if !decision.allowed {
        tracing::info!(class, "rate limited");
        let mut response = ApiError::TooManyRequests { retry_after_secs: decision.retry_after_ms.div_ceil(1000).max(1) }.into_response();
        set_headers(response.headers_mut(), quota, &decision);
        return response;
    }
    let mut response = next.run(req).await;
    set_headers(response.headers_mut(), quota, &decision);
    response
}

fn set_headers(headers: &mut HeaderMap, quota: Quota, decision: &Decision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(quota.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(decision.remaining));
    if let Ok(reset) = HeaderValue::from_str(&shared::wire::timestamp(decision.reset_at_ms)) {
        headers.insert("x-ratelimit-reset", reset);
    }
}
