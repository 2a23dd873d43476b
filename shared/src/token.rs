//! Access tokens: stateless, signed with Ed25519, carrying their scopes, verifiable anywhere that
//! holds the public keys (the edge does so without calling core).
//!
//! Format: `stl1.<kid>.<base64url(claims json)>.<base64url(signature)>`; the signature covers
//! everything before the last dot. Several keys may be live at once (rotation): `kid` picks one.

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::id::Id;

const PREFIX: &str = "stl1";

/// Every scope Mastodon defines that Starling understands.
pub const KNOWN_SCOPES: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read",
    "admin:write",
    "admin:read:accounts",
    "admin:write:accounts",
    "admin:read:reports",
    "admin:write:reports",
];

/// What legacy `follow` grants.
const FOLLOW_GRANTS: &[&str] = &["read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"];

/// A scope string was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

/// A set of OAuth scopes, e.g. `read write:statuses`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Parses a space- or plus-separated list; empty means the default `read`.
    pub fn parse(raw: &str) -> Result<Self, UnknownScope> {
        let mut set = BTreeSet::new();
        for scope in raw.split([' ', '+']).filter(|s| !s.is_empty()) {
            if !KNOWN_SCOPES.contains(&scope) {
                return Err(UnknownScope(scope.to_owned()));
            }
            set.insert(scope.to_owned());
        }
        if set.is_empty() {
            set.insert("read".to_owned());
        }
        Ok(Scopes(set))
    }

    /// Whether these scopes grant `required`: itself or any scope it refines (`read:statuses`
    /// is granted by `read`; `admin:read:accounts` by `admin:read`, never by `read`).
    pub fn allows(&self, required: &str) -> bool {
        if self.0.contains(required) {
            return true;
        }
        if required.match_indices(':').any(|(i, _)| self.0.contains(&required[..i])) {
            return true;
        }
        self.0.contains("follow") && FOLLOW_GRANTS.contains(&required)
    }

    /// Whether every scope here is granted by `other` (a token may not exceed its app).
    pub fn is_within(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.allows(s) || other.0.contains(s))
    }

    /// Iterates the scopes in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scopes({self})")
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Scopes::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account acting, or none for an app-only (client_credentials) token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<Id>,
    /// The OAuth application the token was issued to.
    pub app: Id,
    /// Granted scopes.
    pub scope: Scopes,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Expires at, seconds since the Unix epoch; none for tokens that live until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// The token's own id: what revocation lists name.
    pub jti: Id,
}

/// Why a token was refused. Callers answer all of them with the same 401, never the detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is malformed")]
    Malformed,
    #[error("token signed with an unknown key")]
    UnknownKey,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token has expired")]
    Expired,
}

/// Signs tokens with one private key.
pub struct TokenSigner {
    kid: String,
    key: SigningKey,
}

impl TokenSigner {
    /// A signer from a 32-byte secret seed and the key id it publishes under.
    pub fn from_seed(kid: impl Into<String>, seed: [u8; 32]) -> Self {
        TokenSigner { kid: kid.into(), key: SigningKey::from_bytes(&seed) }
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The matching public key, for verifiers.
    pub fn public_key(&self) -> PublicKey {
        PublicKey { kty: "OKP".into(), crv: "Ed25519".into(), kid: self.kid.clone(), x: B64.encode(self.key.verifying_key().as_bytes()) }
    }

    /// Encodes and signs `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        // Serialising a struct of strings and integers cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let signed = format!("{PREFIX}.{}.{}", self.kid, B64.encode(payload));
        let signature = self.key.sign(signed.as_bytes());
        format!("{signed}.{}", B64.encode(signature.to_bytes()))
    }
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSigner({})", self.kid)
    }
}

/// One public key in JWK form (RFC 8037 OKP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// Key id, as found in tokens.
    pub kid: String,
    /// The 32-byte public key, base64url without padding.
    pub x: String,
}

/// The public keys core publishes at `/api/starling/v1/keys`, in JWKS shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySet {
    /// Every key a valid token may name.
    pub keys: Vec<PublicKey>,
}

/// Verifies tokens against a set of public keys.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: Vec<(String, VerifyingKey)>,
}

impl TokenVerifier {
    /// Builds a verifier, skipping keys that are not valid Ed25519 points.
    pub fn new(set: &KeySet) -> Self {
        let keys = set
            .keys
            .iter()
            .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
            .filter_map(|k| {
                let bytes: [u8; 32] = B64.decode(&k.x).ok()?.try_into().ok()?;
                Some((k.kid.clone(), VerifyingKey::from_bytes(&bytes).ok()?))
            })
            .collect();
        TokenVerifier { keys }
    }

    /// Checks signature and expiry at `now_secs`, returning the claims.
    pub fn verify(&self, token: &str, now_secs: u64) -> Result<Claims, TokenError> {
        if token.len() > 4096 {
            return Err(TokenError::Malformed);
        }
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let mut parts = signed.splitn(3, '.');
        let (prefix, kid, payload) = match (parts.next(), parts.next(), parts.next()) {
            (Some(p), Some(k), Some(b)) => (p, k, b),
            _ => return Err(TokenError::Malformed),
        };
        if prefix != PREFIX {
            return Err(TokenError::Malformed);
        }
        let key = self.keys.iter().find(|(k, _)| k == kid).map(|(_, key)| key).ok_or(TokenError::UnknownKey)?;
        let signature: [u8; 64] = B64.decode(signature).ok().and_then(|s| s.try_into().ok()).ok_or(TokenError::Malformed)?;
        key.verify(signed.as_bytes(), &Signature::from_bytes(&signature)).map_err(|_| TokenError::BadSignature)?;
        let payload = B64.decode(payload).map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.exp.is_some_and(|exp| now_secs >= exp) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// Compares two secrets in time independent of where they differ.
pub fn secure_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// SHA-256 of a secret, hex-encoded: how opaque secrets (refresh tokens, codes) are stored.
pub fn secret_digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks an OAuth PKCE (RFC 7636) `code_verifier` against the stored challenge.
pub fn pkce_matches(method: &str, challenge: &str, verifier: &str) -> bool {
    match method {
        "S256" => secure_eq(B64.encode(Sha256::digest(verifier.as_bytes())).as_bytes(), challenge.as_bytes()),
        "plain" => secure_eq(verifier.as_bytes(), challenge.as_bytes()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn claims(exp: Option<u64>) -> Claims {
        Claims {
            sub: Some(Id::from_u64(42)),
            app: Id::from_u64(7),
            scope: Scopes::parse("read write:statuses").unwrap(),
            iat: 1000,
            exp,
            jti: Id::from_u64(99),
        }
    }

    fn verifier(signers: &[&TokenSigner]) -> TokenVerifier {
        TokenVerifier::new(&KeySet { keys: signers.iter().map(|s| s.public_key()).collect() })
    }

    #[test]
    fn a_signed_token_verifies_and_round_trips_its_claims() {
        let signer = TokenSigner::from_seed("k1", [7; 32]);
        let token = signer.sign(&claims(Some(2000)));
        assert_eq!(verifier(&[&signer]).verify(&token, 1500).unwrap(), claims(Some(2000)));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let signer = TokenSigner::from_seed("k1", [7; 32]);
        let token = signer.sign(&claims(Some(2000)));
        assert_eq!(verifier(&[&signer]).verify(&token, 2000), Err(TokenError::Expired));
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let signer = TokenSigner::from_seed("k1", [7; 32]);
        let token = signer.sign(&claims(None));
        let mut forged = claims(None);
        forged.scope = Scopes::parse("read write").unwrap();
        let forged_payload = B64.encode(serde_json::to_vec(&forged).unwrap());
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}.{}", parts[0], parts[1], forged_payload, parts[3]);
        assert_eq!(verifier(&[&signer]).verify(&tampered, 0), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_from_another_key_is_refused_and_rotation_keeps_old_keys_working() {
        let old = TokenSigner::from_seed("k1", [1; 32]);
        let new = TokenSigner::from_seed("k2", [2; 32]);
        let impostor = TokenSigner::from_seed("k2", [3; 32]);
        let both = verifier(&[&old, &new]);
        assert!(both.verify(&old.sign(&claims(None)), 0).is_ok());
        assert!(both.verify(&new.sign(&claims(None)), 0).is_ok());
        assert_eq!(both.verify(&impostor.sign(&claims(None)), 0), Err(TokenError::BadSignature));
        assert_eq!(verifier(&[&new]).verify(&old.sign(&claims(None)), 0), Err(TokenError::UnknownKey));
    }

    #[test]
    fn garbage_is_malformed() {
        let v = verifier(&[&TokenSigner::from_seed("k1", [1; 32])]);
        for bad in ["", "abc", "stl1.k1.x", "stl1.k1.!!!.???", "jwt.k1.a.b"] {
            assert!(v.verify(bad, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn broad_scopes_grant_their_granular_children() {
        let s = Scopes::parse("read write:statuses follow").unwrap();
        assert!(s.allows("read:accounts"));
        assert!(s.allows("write:statuses"));
        assert!(!s.allows("write:favourites"));
        assert!(s.allows("write:follows"));
        assert!(!s.allows("push"));
    }

    #[test]
    fn admin_scopes_are_granted_by_their_parents_only() {
        let admin = Scopes::parse("admin:read admin:write:reports").unwrap();
        assert!(admin.allows("admin:read:accounts") && admin.allows("admin:read:reports") && admin.allows("admin:write:reports"));
        assert!(!admin.allows("admin:write:accounts") && !admin.allows("read:accounts"));
        let everything = Scopes::parse("read write follow push").unwrap();
        assert!(!everything.allows("admin:read") && !everything.allows("admin:read:accounts") && !everything.allows("admin:write:reports"));
    }

    #[test]
    fn unknown_scopes_are_refused_and_empty_means_read() {
        assert_eq!(Scopes::parse("read admin:everything"), Err(UnknownScope("admin:everything".into())));
        assert_eq!(Scopes::parse("").unwrap().to_string(), "read");
        assert_eq!(Scopes::parse("write+read").unwrap().to_string(), "read write");
    }

    #[test]
    fn token_scopes_must_lie_within_the_apps() {
        let app = Scopes::parse("read write").unwrap();
        assert!(Scopes::parse("read:statuses write").unwrap().is_within(&app));
        assert!(!Scopes::parse("read follow").unwrap().is_within(&app));
    }

    #[test]
    fn pkce_s256_matches_the_rfc_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches("S256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", verifier));
        assert!(!pkce_matches("S256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "wrong"));
        assert!(!pkce_matches("md5", "x", "x"));
    }
}
