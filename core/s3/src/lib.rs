//! The S3 media store: whole-object GET, PUT and DELETE against S3's REST API (or anything
//! speaking it), each request authenticated with a short-lived SigV4 presigned URL from
//! `shared::sigv4` — no AWS SDK. Path-style addressing (`{endpoint}/{bucket}/{key}`).
//!
//! Must never: hold business rules (core/app decides what is stored), or be named by core/app.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use core_app::ports::{MediaStore, MediaStoreError, valid_media_key};
use shared::sigv4::{Credentials, Presign, presign_url};

/// How to reach the bucket.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Endpoint, e.g. `https://s3.us-east-1.amazonaws.com` or `http://127.0.0.1:5000`.
    pub endpoint: String,
    /// Signing credentials.
    pub credentials: Credentials,
    /// Base URL clients fetch objects from directly (public bucket or CDN); `None`: core serves them.
    pub public_url: Option<String>,
}

/// Media files in an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3MediaStore {
    config: S3Config,
    scheme: String,
    host: String,
    http: reqwest::Client,
}

/// Lifetime of the URL each request is signed with.
const SIGNATURE_TTL_SECS: u64 = 60;

impl S3MediaStore {
    /// Builds the client; fails on an endpoint without a host.
    pub fn new(config: S3Config) -> Result<Self, MediaStoreError> {
        let endpoint = config.endpoint.trim_end_matches('/');
        let (scheme, host) = endpoint.split_once("://").unwrap_or(("https", endpoint));
        if host.is_empty() || host.contains('/') || config.bucket.is_empty() {
            return Err(MediaStoreError::Backend(format!("invalid S3 endpoint {endpoint:?} or bucket")));
        }
        let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().map_err(backend)?;
        Ok(S3MediaStore { scheme: scheme.to_owned(), host: host.to_owned(), config, http })
    }

    fn url(&self, method: &str, key: &str, signed_headers: &[(&str, &str)]) -> Result<String, MediaStoreError> {
        if !valid_media_key(key) {
            return Err(MediaStoreError::InvalidKey(key.to_owned()));
        }
        let now_secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let path = format!("/{}/{key}", self.config.bucket);
        Ok(presign_url(
            &self.config.credentials,
            &Presign { method, scheme: &self.scheme, host: &self.host, path: &path, region: &self.config.region, service: "s3", signed_headers, expires_secs: SIGNATURE_TTL_SECS, now_secs },
        ))
    }
}

fn backend(e: impl std::fmt::Display) -> MediaStoreError {
    MediaStoreError::Backend(e.to_string())
}

fn refused(op: &str, status: reqwest::StatusCode) -> MediaStoreError {
    MediaStoreError::Backend(format!("s3 {op} answered {status}"))
}

#[async_trait]
impl MediaStore for S3MediaStore {
    #[tracing::instrument(skip(self, bytes), fields(len = bytes.len()))]
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), MediaStoreError> {
        let url = self.url("PUT", key, &[("content-type", content_type)])?;
        let res = self.http.put(url).header("content-type", content_type).body(bytes).send().await.map_err(backend)?;
        if res.status().is_success() { Ok(()) } else { Err(refused("put", res.status())) }
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, MediaStoreError> {
        let url = self.url("GET", key, &[])?;
        let res = self.http.get(url).send().await.map_err(backend)?;
        match res.status() {
            s if s.is_success() => Ok(Some(res.bytes().await.map_err(backend)?.to_vec())),
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            s => Err(refused("get", s)),
        }
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, key: &str) -> Result<(), MediaStoreError> {
        let url = self.url("DELETE", key, &[])?;
        let res = self.http.delete(url).send().await.map_err(backend)?;
        if res.status().is_success() || res.status() == reqwest::StatusCode::NOT_FOUND { Ok(()) } else { Err(refused("delete", res.status())) }
    }

    fn public_url(&self, key: &str) -> Option<String> {
        self.config.public_url.as_ref().map(|base| format!("{}/{key}", base.trim_end_matches('/')))
    }
}
