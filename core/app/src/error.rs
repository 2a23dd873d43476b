//! The one error type of the HTTP layer and its single status table.
//!
//! Clients get Mastodon's envelope `{"error": "..."}` with a message written for them; internal
//! causes are logged once, here, and never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::wire;

use crate::ports::{CacheError, StoreError};

/// What went wrong, by kind; each kind has exactly one status.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request itself is malformed.
    BadRequest(String),
    /// 401: missing, invalid, expired or revoked token.
    Unauthorized,
    /// 403: the token lacks a scope, or the actor does not own the thing.
    Forbidden(String),
    /// 404.
    NotFound,
    /// 409: a conflicting request is in flight or was made.
    Conflict(String),
    /// 415: a body of a type no endpoint reads (only JSON, form-urlencoded and multipart).
    UnsupportedMediaType(String),
    /// 422: the request is well-formed but fails validation.
    Unprocessable(String),
    /// 429.
    TooManyRequests { retry_after_secs: u64 },
    /// 400 with OAuth's `error` code (RFC 6749 §5.2).
    OAuth { code: &'static str, description: String, status: StatusCode },
    /// 503: a backend is unavailable; safe to retry.
    Unavailable(String),
    /// 500: a bug or corrupt data. The text is logged, never sent.
    Internal(String),
}

impl ApiError {
    /// An internal error from any displayable cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// 422 with a message.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::Unprocessable(message.into())
    }

    /// 403 for a missing scope, with Mastodon's wording.
    pub fn scope() -> Self {
        ApiError::Forbidden("This action is outside the authorized scopes".into())
    }

    /// 403 for acting on what belongs to someone else.
    pub fn not_owner() -> Self {
        ApiError::Forbidden("This action is not allowed".into())
    }

    /// OAuth `invalid_request`.
    pub fn oauth(code: &'static str, description: impl Into<String>) -> Self {
        let status = if code == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
        ApiError::OAuth { code, description: description.into(), status }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::OAuth { status, .. } => *status,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Backend(cause) => ApiError::Unavailable(crate::ports::error_chain(&*cause)),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<CacheError> for ApiError {
    fn from(e: CacheError) -> Self {
        ApiError::Unavailable(crate::ports::error_chain(&*e.0))
    }
}

impl From<shared::handle::HandleError> for ApiError {
    fn from(e: shared::handle::HandleError) -> Self {
        ApiError::Unprocessable(format!("Validation failed: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Unavailable(_) => Some(1),
            _ => None,
        };
        let (error, error_description) = match self {
            ApiError::BadRequest(m) | ApiError::Forbidden(m) | ApiError::Conflict(m) | ApiError::UnsupportedMediaType(m) | ApiError::Unprocessable(m) => {
                (m, None)
            }
            ApiError::Unauthorized => ("The access token is invalid".to_owned(), None),
            ApiError::NotFound => ("Record not found".to_owned(), None),
            ApiError::TooManyRequests { .. } => ("Too many requests".to_owned(), None),
            ApiError::OAuth { code, description, .. } => (code.to_owned(), Some(description)),
            ApiError::Unavailable(cause) => {
                tracing::warn!(%cause, "backend unavailable");
                ("Service temporarily unavailable, please retry".to_owned(), None)
            }
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ("Internal server error".to_owned(), None)
            }
        };
        let mut response = (status, Json(wire::Error { error, error_description })).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"Starling\", error=\"invalid_token\""));
        }
        response
    }
}

/// Result of a handler or use case.
pub type ApiResult<T> = Result<T, ApiError>;
