//! The use cases and the reads they share; no HTTP type reaches here.

use shared::handle::Username;
use shared::id::Id;
use shared::token::{secret_digest, secure_eq};

use crate::auth::{burn_password_check, verify_password};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AppRecord, CodeRecord, CredentialsRecord, Ref};
use crate::ports::{Condition, StoreError, Write};
use crate::{App, keys, now_ms};

impl App {
    /// The application a token was issued to (tokens carry the app id, apps are keyed by
    /// client id, so an id-keyed pointer joins them).
    pub async fn app_record_by_id(&self, id: Id) -> ApiResult<AppRecord> {
        let pointer = self.store.get(&keys::app_by_id(id)).await?.ok_or(ApiError::NotFound)?;
        let client_id: String = model::decode(&pointer)?;
        load_app(self, &client_id).await?.ok_or(ApiError::NotFound)
    }
}

pub(crate) async fn load_app(app: &App, client_id: &str) -> ApiResult<Option<AppRecord>> {
    match app.store.get(&keys::app(client_id)).await? {
        Some(item) => model::decode(&item).map(Some),
        None => Ok(None),
    }
}

/// Finds the app and checks its secret in constant time.
pub(crate) async fn authenticate_client(app: &App, client_id: &str, client_secret: &str) -> ApiResult<AppRecord> {
    let record = load_app(app, client_id).await?;
    let expected = record.as_ref().map_or_else(|| secret_digest("no such client"), |r| r.secret_digest.clone());
    let matches = secure_eq(expected.as_bytes(), secret_digest(client_secret).as_bytes());
    match record {
        Some(r) if matches => Ok(r),
        _ => Err(ApiError::oauth(
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        )),
    }
}

/// Finds the account by username or e-mail and checks the password; `None` when either is wrong.
/// Failures are also counted per account (`rate_limits.login_failures`), whatever the address:
/// past the quota the account's password logins are refused with 429, unchecked, until it
/// refills.
pub(crate) async fn check_login(app: &App, login: &str, password: &str) -> ApiResult<Option<Id>> {
    let login = login.trim();
    let key = if login.contains('@') {
        keys::email(&login.to_lowercase())
    } else {
        match Username::parse_existing(login) {
            Ok(u) => keys::username(&u.canonical()),
            Err(_) => {
                burn_password_check(password.to_owned()).await;
                return Ok(None);
            }
        }
    };
    let Some(pointer) = app.store.get(&key).await? else {
        burn_password_check(password.to_owned()).await;
        return Ok(None);
    };
    let account = model::decode::<Ref>(&pointer)?.id;
    let limits = &app.config.rate_limits;
    if limits.enabled
        && let Some(item) = app.store.get(&keys::login_lock(account)).await?
    {
        let until: u64 = model::decode(&item)?;
        let now = now_ms();
        if until > now {
            return Err(ApiError::TooManyRequests { retry_after_secs: (until - now).div_ceil(1000).max(1) });
        }
    }
    let credentials: CredentialsRecord = match app.store.get(&keys::credentials(account)).await? {
        Some(item) => model::decode(&item)?,
        None => return Ok(None),
    };
    if verify_password(credentials.password_hash, password.to_owned()).await? {
        if !app.moderation(account).await?.may_sign_in() {
            return Err(ApiError::Forbidden("Your login is currently disabled".into()));
        }
        return Ok(Some(account));
    }
    if limits.enabled {
        count_failure(app, account).await?;
    }
    Ok(None)
}

/// Counts a failed login of `account`; the one over the quota locks its password logins until
/// the quota lets one more through.
async fn count_failure(app: &App, account: Id) -> ApiResult<()> {
    let quota = app.config.rate_limits.login_failures.quota();
    let now = now_ms();
    let decision = app.rate_limit(&format!("login_failures:{account}"), quota, now).await;
    if decision.allowed {
        return Ok(());
    }
    tracing::info!(%account, "password logins locked after repeated failures");
    let until = now + decision.retry_after_ms.max(1000);
    app.store.transact(vec![model::put(keys::login_lock(account), &until, Condition::None)?], vec![]).await?;
    Err(ApiError::TooManyRequests { retry_after_secs: decision.retry_after_ms.div_ceil(1000).max(1) })
}

/// Schemes no redirect URI may use: script and data carriers, local files, and browser-internal
/// or non-navigable schemes. Others are http(s) (with a host) or an app's own custom scheme.
const FORBIDDEN_REDIRECT_SCHEMES: &[&str] =
    &["javascript", "data", "vbscript", "file", "about", "blob", "filesystem", "view-source", "jar", "ftp", "ws", "wss", "mailto", "tel", "sms"];

/// Whether `uri` may be registered as a redirect URI: an absolute URI without a fragment,
/// http(s) with a host or a custom scheme, never a forbidden one (as Doorkeeper's and more).
pub(crate) fn is_acceptable_redirect(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else { return false };
    let well_formed = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !uri.contains('#')
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control());
    let scheme = scheme.to_ascii_lowercase();
    well_formed && !FORBIDDEN_REDIRECT_SCHEMES.contains(&scheme.as_str()) && (!matches!(scheme.as_str(), "http" | "https") || has_host(rest))
}

/// Whether `website` is an http(s) URL with a host.
pub(crate) fn is_web_url(website: &str) -> bool {
    let Some((scheme, rest)) = website.split_once(':') else { return false };
    matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") && has_host(rest) && !website.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether the part of a URL after `scheme:` starts with `//` and a host.
fn has_host(rest: &str) -> bool {
    rest.strip_prefix("//").is_some_and(|r| r.starts_with(|c: char| !matches!(c, '/' | '?' | ':' | '@')))
}

pub(crate) fn invalid_grant() -> ApiError {
    ApiError::oauth(
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
    )
}

/// Takes a code exactly once (a replayed code fails).
pub(crate) async fn consume_code(app: &App, code: &str) -> ApiResult<CodeRecord> {
    let key = keys::auth_code(&secret_digest(code));
    let item = app.store.get(&key).await?.ok_or_else(invalid_grant)?;
    let record: CodeRecord = model::decode(&item)?;
    match app.store.transact(vec![Write::Delete { key, condition: Condition::Exists }], vec![]).await {
        Ok(()) => Ok(record),
        Err(StoreError::ConditionFailed { .. }) => Err(invalid_grant()),
        Err(e) => Err(e.into()),
    }
}
