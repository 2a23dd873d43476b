//! Stateless token checks with core's public keys (cached in KV) and revocation list.

use shared::id::Id;
use shared::token::{KeySet, Scopes, TokenError, TokenVerifier};

use crate::ports::{Clock, Kv, Upstream};
use crate::{Edge, EdgeRequest, EdgeResponse};

const KEYS: &str = "edge:keys";
const REVOKED: &str = "edge:revoked";

/// A caller whose token verified.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user, or none for app-only tokens.
    pub account: Option<Id>,
    /// The token's id.
    pub jti: Id,
    /// Granted scopes.
    pub scopes: Scopes,
}

/// The bearer token of a request, from the header or the `access_token` query parameter.
pub fn bearer(request: &EdgeRequest) -> Option<String> {
    if let Some(value) = request.header("authorization") {
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned());
    }
    request.query()?.split('&').find_map(|pair| pair.strip_prefix("access_token=")).map(str::to_owned)
}

fn unauthorized() -> EdgeResponse {
    let mut r = EdgeResponse::error(401, "The access token is invalid");
    r.set_header("www-authenticate", "Bearer realm=\"Starling\", error=\"invalid_token\"");
    r
}

impl<K: Kv, U: Upstream, C: Clock> Edge<K, U, C> {
    /// Verifies the bearer token, if any. `Ok(None)`: anonymous, or keys unavailable (core will
    /// verify). `Err`: a 401 to send without involving core.
    pub(crate) async fn authenticate(&self, request: &EdgeRequest) -> Result<Option<Caller>, EdgeResponse> {
        let Some(token) = bearer(request) else { return Ok(None) };
        let now = self.clock.now_ms() / 1000;
        let Some(keys) = self.key_set(false).await else { return Ok(None) };
        let claims = match TokenVerifier::new(&keys).verify(&token, now) {
            // A key we have not seen may be a fresh rotation: look once more.
            Err(TokenError::UnknownKey) => match self.key_set(true).await {
                Some(fresh) => TokenVerifier::new(&fresh).verify(&token, now),
                None => return Ok(None),
            },
            other => other,
        }
        .map_err(|_| unauthorized())?;
        if self.is_revoked(claims.jti).await {
            return Err(unauthorized());
        }
        Ok(Some(Caller { account: claims.sub, jti: claims.jti, scopes: claims.scope }))
    }

    async fn key_set(&self, refresh: bool) -> Option<KeySet> {
        if !refresh
            && let Some(bytes) = self.kv.get(KEYS).await
            && let Ok(keys) = serde_json::from_slice::<KeySet>(&bytes)
        {
            return Some(keys);
        }
        let bytes = self.fetch_core("/api/starling/v1/keys").await?;
        let keys: KeySet = serde_json::from_slice(&bytes).ok()?;
        self.kv.put(KEYS, bytes, self.config.keys_ttl_secs).await;
        Some(keys)
    }

    async fn is_revoked(&self, jti: Id) -> bool {
        let bytes = match self.kv.get(REVOKED).await {
            Some(bytes) => bytes,
            None => match self.fetch_core("/api/starling/v1/revocations").await {
                Some(bytes) => {
                    self.kv.put(REVOKED, bytes.clone(), self.config.revocations_ttl_secs).await;
                    bytes
                }
                // Without the list, let core decide: forwarding is what an unknown token gets.
                None => return false,
            },
        };
        let jti = jti.to_string();
        serde_json::from_slice::<shared::wire::Revocations>(&bytes).is_ok_and(|r| r.revoked.contains(&jti))
    }

    /// GETs a core document, returning its body on 200.
    pub(crate) async fn fetch_core(&self, path: &str) -> Option<Vec<u8>> {
        let request = EdgeRequest { method: "GET".into(), uri: path.into(), ..EdgeRequest::default() };
        match self.upstream.send(request).await {
            Ok(r) if r.status == 200 => Some(r.body),
            _ => None,
        }
    }
}
