//! Unguessable file keys and signed file URLs.
//!
//! Every stored file's key carries a random token of [`TOKEN_BYTES`] bytes
//! (`media/{id}/{token}/original.{ext}`), so URLs cannot be enumerated from the time-based id.
//! Files of attachments that not everyone may see (followers-only and direct statuses,
//! attachments not attached yet) are served only on URLs signed here: an HMAC-SHA256 over the
//! key and the expiry, with a key kept in the store (`META` / `media-url-key`, created on first
//! start, shared by every core process on the store). Such a URL is a capability handed only to
//! viewers the policy lets see the status, valid until its expiry.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use rand::rngs::OsRng;
use sha2::Sha256;

use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::ports::{Condition, Store, StoreError};
use crate::{keys, now_secs};

/// Random bytes in every file key: 128 bits.
pub const TOKEN_BYTES: usize = 16;

/// Expiries are rounded up to a multiple of this many seconds (or of the lifetime, when shorter),
/// so the same file renders the same URL for a while and clients can cache it.
pub const EXPIRY_STEP_SECS: u64 = 600;

/// A fresh random token for a file key: [`TOKEN_BYTES`] bytes as lowercase hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The signing key of file URLs.
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(***)")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl UrlSigner {
    /// A signer over `key` (tests; the server loads its key with [`UrlSigner::load`]).
    pub fn new(key: [u8; 32]) -> Self {
        UrlSigner { key }
    }

    /// Loads the key from the store, creating it on first start.
    pub async fn load(store: &dyn Store) -> ApiResult<Self> {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct KeyRecord {
            key: String,
        }
        let item_key = keys::meta("media-url-key");
        for _ in 0..2 {
            if let Some(item) = store.get(&item_key).await? {
                let record: KeyRecord = model::decode(&item)?;
                let key: [u8; 32] =
                    B64.decode(&record.key).ok().and_then(|k| k.try_into().ok()).ok_or_else(|| ApiError::internal("stored media URL key is corrupt"))?;
                return Ok(UrlSigner { key });
            }
            let mut key = [0u8; 32];
            OsRng.fill_bytes(&mut key);
            let record = KeyRecord { key: B64.encode(key) };
            match store.transact(vec![model::put(item_key.clone(), &record, Condition::NotExists)?], vec![]).await {
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::internal("media URL key could not be created"))
    }

    fn mac(&self, file_key: &str, expires: u64) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("hmac takes any key length"));
        mac.update(file_key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The signature of `file_key` valid until `expires` (Unix seconds), URL-safe base64.
    pub fn sign(&self, file_key: &str, expires: u64) -> String {
        B64.encode(self.mac(file_key, expires).finalize().into_bytes())
    }

    /// Whether `signature` is this signer's for `file_key` and `expires`, and `expires` is not past `now`.
    pub fn verify(&self, file_key: &str, expires: u64, signature: &str, now: u64) -> bool {
        if expires <= now {
            return false;
        }
        let Ok(bytes) = B64.decode(signature) else { return false };
        self.mac(file_key, expires).verify_slice(&bytes).is_ok()
    }
}

/// When a URL signed now for `ttl_secs` expires: at least `ttl_secs` from now, rounded up to
/// the step so repeated renders agree.
pub fn expiry(ttl_secs: u64) -> u64 {
    let ttl = ttl_secs.max(1);
    let step = ttl.min(EXPIRY_STEP_SECS);
    (now_secs() + ttl).div_ceil(step) * step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_128_random_bits() {
        let a = new_token();
        assert_eq!(a.len(), TOKEN_BYTES * 2);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_token());
    }

    #[test]
    fn signatures_bind_key_and_expiry_and_expire() {
        let signer = UrlSigner::new([7; 32]);
        let sig = signer.sign("media/1/abc/original.png", 1000);
        assert!(signer.verify("media/1/abc/original.png", 1000, &sig, 999));
        assert!(!signer.verify("media/1/abc/original.png", 1000, &sig, 1000), "expired");
        assert!(!signer.verify("media/1/abc/original.png", 1001, &sig, 999), "another expiry");
        assert!(!signer.verify("media/1/abc/small.png", 1000, &sig, 999), "another file");
        assert!(!UrlSigner::new([8; 32]).verify("media/1/abc/original.png", 1000, &sig, 999), "another key");
        assert!(!signer.verify("media/1/abc/original.png", 1000, "not base64!", 999));
    }

    #[test]
    fn expiries_are_at_least_the_lifetime_away_and_step_aligned() {
        let now = now_secs();
        let e = expiry(3600);
        assert!(e >= now + 3600 && e < now + 3600 + EXPIRY_STEP_SECS + 2, "{e} vs {now}");
        assert_eq!(e % EXPIRY_STEP_SECS, 0);
    }
}
