//! Authentication: password hashing, signing keys, token issuance, and the extractors that
//! verify bearer tokens and check scopes on every route.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::RngCore as _;
use rand::rngs::OsRng;
use shared::id::Id;
use shared::token::{Claims, KeySet, Scopes, TokenSigner, secret_digest};

use crate::error::{ApiError, ApiResult};
use crate::model::{self, AppRecord, ModerationRecord, RefreshRecord, TokenRecord};
use crate::ports::{Condition, Store, StoreError, Write};
use crate::{App, join_error, keys, now_secs, revocation};

/// Hashes a password with Argon2id off the async runtime.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(ApiError::internal)
    })
    .await
    .map_err(join_error)?
}

/// Checks a password against a stored hash off the async runtime (constant-time inside argon2).
pub async fn verify_password(hash: String, password: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(join_error)?
}

/// A hash to verify against when the account does not exist, so timing does not reveal it.
pub async fn burn_password_check(password: String) {
    let _ = hash_password(password).await;
}

/// `n` random bytes, base64url: client ids, secrets, codes, refresh tokens.
pub fn random_secret(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    B64.encode(bytes)
}

/// Shortest signing secret accepted in `[auth] signing_keys`.
const MIN_SIGNING_SECRET_CHARS: usize = 32;

/// The signer and the published key set: from `[auth] signing_keys` when set (the first
/// signs, all verify), otherwise the one key kept in the store.
pub async fn signing_keys(config: &crate::config::AuthConfig, store: &dyn Store) -> ApiResult<(TokenSigner, KeySet)> {
    let secrets: Vec<&str> = config.signing_keys.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if secrets.is_empty() {
        let signer = load_or_create_signer(store).await?;
        let keys = KeySet { keys: vec![signer.public_key()] };
        return Ok((signer, keys));
    }
    if secrets.iter().any(|s| s.chars().count() < MIN_SIGNING_SECRET_CHARS) {
        return Err(ApiError::internal(format!("[auth] signing_keys: every secret must be at least {MIN_SIGNING_SECRET_CHARS} characters")));
    }
    let signers: Vec<TokenSigner> = secrets.into_iter().map(signer_from_secret).collect();
    let mut keys = KeySet { keys: Vec::with_capacity(signers.len()) };
    for key in signers.iter().map(TokenSigner::public_key) {
        if !keys.keys.iter().any(|k| k.kid == key.kid) {
            keys.keys.push(key);
        }
    }
    let signer = signers.into_iter().next().ok_or_else(|| ApiError::internal("no signing key"))?;
    Ok((signer, keys))
}

/// A signer whose seed is SHA-256 of the secret (domain-separated) and whose key id is derived
/// from the public key, so every process given the same secret signs and names alike.
fn signer_from_secret(secret: &str) -> TokenSigner {
    let digest = secret_digest(&format!("starling-signing-key\n{secret}"));
    let mut seed = [0u8; 32];
    for (byte, pair) in seed.iter_mut().zip(digest.as_bytes().chunks(2)) {
        *byte = std::str::from_utf8(pair).ok().and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
    }
    let public = TokenSigner::from_seed("", seed).public_key();
    TokenSigner::from_seed(format!("s{}", &secret_digest(&public.x)[..12]), seed)
}

/// Loads the token-signing seed from the store, creating it on first start (embedded default).
pub async fn load_or_create_signer(store: &dyn Store) -> ApiResult<TokenSigner> {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct SeedRecord {
        kid: String,
        seed: String,
    }
    let key = keys::meta("signing-key");
    for _ in 0..2 {
        if let Some(item) = store.get(&key).await? {
            let record: SeedRecord = model::decode(&item)?;
            let seed: [u8; 32] =
                B64.decode(&record.seed).ok().and_then(|s| s.try_into().ok()).ok_or_else(|| ApiError::internal("stored signing key is corrupt"))?;
            return Ok(TokenSigner::from_seed(record.kid, seed));
        }
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        let record = SeedRecord { kid: format!("k{}", now_secs()), seed: B64.encode(seed) };
        match store.transact(vec![model::put(key.clone(), &record, Condition::NotExists)?], vec![]).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::internal("signing key could not be created"))
}

/// The OAuth scopes core's endpoints check (a token's `write`/`read` grant covers the
/// `write:…`/`read:…` ones, as [`Scopes::allows`] decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    AdminReadAccounts,
    AdminReadReports,
    AdminWriteAccounts,
    AdminWriteReports,
    Profile,
    Push,
    ReadAccounts,
    ReadBlocks,
    ReadBookmarks,
    ReadFavourites,
    ReadFilters,
    ReadFollows,
    ReadLists,
    ReadMutes,
    ReadNotifications,
    ReadSearch,
    ReadStatuses,
    WriteAccounts,
    WriteBlocks,
    WriteBookmarks,
    WriteConversations,
    WriteFavourites,
    WriteFilters,
    WriteFollows,
    WriteLists,
    WriteMedia,
    WriteMutes,
    WriteNotifications,
    WriteReports,
    WriteStatuses,
}

impl Scope {
    /// The scope as OAuth names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AdminReadAccounts => "admin:read:accounts",
            Scope::AdminReadReports => "admin:read:reports",
            Scope::AdminWriteAccounts => "admin:write:accounts",
            Scope::AdminWriteReports => "admin:write:reports",
            Scope::Profile => "profile",
            Scope::Push => "push",
            Scope::ReadAccounts => "read:accounts",
            Scope::ReadBlocks => "read:blocks",
            Scope::ReadBookmarks => "read:bookmarks",
            Scope::ReadFavourites => "read:favourites",
            Scope::ReadFilters => "read:filters",
            Scope::ReadFollows => "read:follows",
            Scope::ReadLists => "read:lists",
            Scope::ReadMutes => "read:mutes",
            Scope::ReadNotifications => "read:notifications",
            Scope::ReadSearch => "read:search",
            Scope::ReadStatuses => "read:statuses",
            Scope::WriteAccounts => "write:accounts",
            Scope::WriteBlocks => "write:blocks",
            Scope::WriteBookmarks => "write:bookmarks",
            Scope::WriteConversations => "write:conversations",
            Scope::WriteFavourites => "write:favourites",
            Scope::WriteFilters => "write:filters",
            Scope::WriteFollows => "write:follows",
            Scope::WriteLists => "write:lists",
            Scope::WriteMedia => "write:media",
            Scope::WriteMutes => "write:mutes",
            Scope::WriteNotifications => "write:notifications",
            Scope::WriteReports => "write:reports",
            Scope::WriteStatuses => "write:statuses",
        }
    }
}

/// Who is calling, as proven by a verified, unrevoked bearer token.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The acting account; none for app-only tokens.
    pub account: Option<Id>,
    /// The token's application.
    pub app: Id,
    /// Granted scopes.
    pub scopes: Scopes,
    /// The token's id (`jti`): Web Push subscriptions are per token.
    pub token: Id,
}

impl Auth {
    /// Requires `scope`.
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if self.scopes.allows(scope.as_str()) { Ok(()) } else { Err(ApiError::scope()) }
    }

    /// Requires a user token with `scope`, returning the user.
    pub fn user(&self, scope: Scope) -> ApiResult<Id> {
        self.require(scope)?;
        self.account.ok_or_else(|| ApiError::Unprocessable("This method requires an authenticated user".into()))
    }
}

/// An optional caller: public endpoints still refuse a *bad* token with 401.
pub struct MaybeAuth(pub Option<Auth>);

impl MaybeAuth {
    /// The viewer, when a user token carries `scope` (otherwise anonymous).
    pub fn viewer(&self, scope: Scope) -> ApiResult<Option<Id>> {
        match &self.0 {
            Some(auth) if auth.account.is_some() => auth.user(scope).map(Some),
            _ => Ok(None),
        }
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned());
    }
    let query = parts.uri.query()?;
    let pairs: Vec<(String, String)> = serde_html_form::from_str(query).ok()?;
    pairs.into_iter().find(|(k, _)| k == "access_token").map(|(_, v)| v)
}

impl App {
    /// Verifies a bearer token: signature, expiry, then revocation in the store.
    pub async fn authenticate(&self, token: &str) -> ApiResult<Auth> {
        let claims = self.verifier.verify(token, now_secs()).map_err(|_| ApiError::Unauthorized)?;
        if !self.token_still_valid(claims.jti, claims.sub).await? {
            return Err(ApiError::Unauthorized);
        }
        Ok(Auth { account: claims.sub, app: claims.app, scopes: claims.scope, token: claims.jti })
    }

    /// Whether the token `jti` (its signature checked once already) of `account` still
    /// authenticates: it is stored, not revoked and not expired, and its account is neither
    /// suspended nor disabled (one batched read). Open streams ask it periodically, so every
    /// refusal here reaches them too.
    pub async fn token_still_valid(&self, jti: Id, account: Option<Id>) -> ApiResult<bool> {
        let mut keys = vec![keys::token(jti)];
        keys.extend(account.map(keys::moderation));
        let items = self.store.get_many(&keys).await?;
        let Some(item) = &items[0] else { return Ok(false) };
        let record: TokenRecord = model::decode(item)?;
        if let Some(Some(moderation)) = items.get(1)
            && !model::decode::<ModerationRecord>(moderation)?.may_sign_in()
        {
            return Ok(false);
        }
        Ok(!record.revoked && record.expires_at.is_none_or(|exp| now_secs() < exp))
    }

    /// Issues an access token (and a refresh token) for `account` via `app`.
    pub async fn issue_token(&self, app: &AppRecord, account: Option<Id>, scopes: &Scopes) -> ApiResult<shared::wire::Token> {
        let jti = self.next_id()?;
        let iat = now_secs();
        let ttl = self.config.auth.access_token_ttl_secs;
        let exp = (ttl > 0).then(|| iat + ttl);
        let refresh = random_secret(32);
        let refresh_digest = secret_digest(&refresh);
        let token_record = TokenRecord {
            account,
            app: app.id,
            client_id: app.client_id.clone(),
            scopes: scopes.to_string(),
            expires_at: exp,
            revoked: false,
            refresh_digest: Some(refresh_digest.clone()),
        };
        let refresh_record = RefreshRecord { account, app: app.id, client_id: app.client_id.clone(), scopes: scopes.to_string(), jti };
        self.store
            .transact(
                vec![
                    model::put(keys::token(jti), &token_record, Condition::NotExists)?,
                    model::put(keys::refresh_token(&refresh_digest), &refresh_record, Condition::NotExists)?,
                ],
                vec![],
            )
            .await?;
        let claims = Claims { sub: account, app: app.id, scope: scopes.clone(), iat, exp, jti };
        Ok(shared::wire::Token {
            access_token: self.signer.sign(&claims),
            token_type: "Bearer".into(),
            scope: scopes.to_string(),
            created_at: iat,
            expires_in: exp.map(|_| ttl),
            refresh_token: Some(refresh),
        })
    }

    /// Revokes an access token by id, publishes it to the edge's revocation list, and closes
    /// the streams it holds open on every process.
    pub async fn revoke_token(&self, jti: Id) -> ApiResult<()> {
        let Some(item) = self.store.get(&keys::token(jti)).await? else { return Ok(()) };
        let mut record: TokenRecord = model::decode(&item)?;
        if record.revoked {
            return Ok(());
        }
        record.revoked = true;
        let mut writes = vec![model::put(keys::token(jti), &record, Condition::Exists)?, model::put(keys::revoked(jti), &record.expires_at, Condition::None)?];
        if let Some(digest) = &record.refresh_digest {
            writes.push(Write::Delete { key: keys::refresh_token(digest), condition: Condition::None });
        }
        self.store.transact(writes, vec![]).await?;
        revocation::close_token_streams(self, jti).await;
        Ok(())
    }
}

impl FromRequestParts<App> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        let auth = app.authenticate(&token).await?;
        if let Some(account) = auth.account {
            tracing::Span::current().record("user", tracing::field::display(account));
        }
        Ok(auth)
    }
}

impl FromRequestParts<App> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            None => Ok(MaybeAuth(None)),
            Some(token) => app.authenticate(&token).await.map(|a| MaybeAuth(Some(a))),
        }
    }
}
