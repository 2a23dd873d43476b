//! The use cases and the reads they share; no HTTP type reaches here.

use shared::handle::Username;
use shared::id::Id;
use shared::token::{secret_digest, secure_eq};

use crate::auth::{burn_password_check, verify_password};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AppRecord, CodeRecord, CredentialsRecord, Ref};
use crate::ports::{Condition, StoreError, Write};
use crate::{App, keys};

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
    let credentials: CredentialsRecord = match app.store.get(&keys::credentials(account)).await? {
        Some(item) => model::decode(&item)?,
        None => return Ok(None),
    };
    Ok(verify_password(credentials.password_hash, password.to_owned()).await?.then_some(account))
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
