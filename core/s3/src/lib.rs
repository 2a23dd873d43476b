//! The S3 media store: whole-object GET, PUT and DELETE through the AWS SDK (`aws-sdk-s3`),
//! against AWS or anything speaking S3's REST API (endpoint override, path-style addressing
//! `{endpoint}/{bucket}/{key}`). Credentials are the configured static keys, or, when none are
//! configured, the SDK's default chain (environment, ECS task role, instance profile, …).
//!
//! Also here: the upload intake ([`intake`]), which completes presigned uploads from the
//! bucket's object-created notifications on an SQS queue.
//!
//! Must never: hold business rules (core/app decides what is stored), or be named by core/app.

pub mod intake;

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use core_ports::ports::{MediaStore, MediaStoreError, described, valid_media_key};

/// How to reach the bucket.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Endpoint override, e.g. `http://127.0.0.1:5000`; `None`: AWS's endpoint for the region.
    pub endpoint: Option<String>,
    /// Static credentials; `None`: the SDK's default credential chain.
    pub credentials: Option<shared::sigv4::Credentials>,
    /// Base URL clients fetch objects from directly (public bucket or CDN); `None`: core serves them.
    pub public_url: Option<String>,
}

/// The SDK configuration shared by the S3 and SQS clients: region, endpoint, credentials.
pub async fn sdk_config(region: &str, endpoint: Option<&str>, credentials: Option<&shared::sigv4::Credentials>) -> aws_config::SdkConfig {
    let keys = credentials.map(|c| core_aws::StaticKeys {
        access_key_id: &c.access_key_id,
        secret_access_key: &c.secret_access_key,
        session_token: c.session_token.as_deref(),
    });
    core_aws::loader(region, endpoint.map(|e| e.trim_end_matches('/')), keys).load().await
}

/// Media files in an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3MediaStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    public_url: Option<String>,
}

/// An SDK error as the source, described by its whole chain.
fn backend(op: &str, e: impl std::error::Error + Send + Sync + 'static) -> MediaStoreError {
    MediaStoreError::Backend(described(format!("s3 {op}: {}", DisplayErrorContext(&e)), e))
}

impl S3MediaStore {
    /// Builds the client (path-style addressing); fails on an empty bucket name.
    pub async fn new(config: S3Config) -> Result<Self, MediaStoreError> {
        if config.bucket.is_empty() {
            return Err(MediaStoreError::Backend("the S3 bucket name is empty".into()));
        }
        let shared = sdk_config(&config.region, config.endpoint.as_deref(), config.credentials.as_ref()).await;
        let s3 = aws_sdk_s3::config::Builder::from(&shared).force_path_style(true).build();
        Ok(S3MediaStore { client: aws_sdk_s3::Client::from_conf(s3), bucket: config.bucket, public_url: config.public_url })
    }

    /// The SDK client (tests, the intake).
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A presigned PUT of `key`, signed at `signed_at`, that only accepts exactly
    /// `content_type` and `content_length` (the edge signs the same headers with `shared::sigv4`).
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        signed_at: SystemTime,
        expires: Duration,
    ) -> Result<String, MediaStoreError> {
        if !valid_media_key(key) {
            return Err(MediaStoreError::InvalidKey(key.to_owned()));
        }
        let length = i64::try_from(content_length).map_err(|_| MediaStoreError::Backend("content length out of range".into()))?;
        let presigning = PresigningConfig::builder().start_time(signed_at).expires_in(expires).build().map_err(|e| backend("presign", e))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(presigning)
            .await
            .map_err(|e| backend("presign", e))?;
        Ok(request.uri().to_owned())
    }

    /// A presigned GET of `key`, signed at `signed_at`, valid for `expires` (at most 7 days).
    pub async fn presign_get(&self, key: &str, signed_at: SystemTime, expires: Duration) -> Result<String, MediaStoreError> {
        if !valid_media_key(key) {
            return Err(MediaStoreError::InvalidKey(key.to_owned()));
        }
        let presigning = PresigningConfig::builder().start_time(signed_at).expires_in(expires).build().map_err(|e| backend("presign", e))?;
        let request = self.client.get_object().bucket(&self.bucket).key(key).presigned(presigning).await.map_err(|e| backend("presign", e))?;
        Ok(request.uri().to_owned())
    }

    /// Whether the bucket answers (startup check).
    pub async fn ping(&self) -> Result<(), MediaStoreError> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map(drop).map_err(|e| backend("head bucket", e))
    }
}

#[async_trait]
impl MediaStore for S3MediaStore {
    #[tracing::instrument(skip(self, bytes), fields(len = bytes.len()))]
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), MediaStoreError> {
        if !valid_media_key(key) {
            return Err(MediaStoreError::InvalidKey(key.to_owned()));
        }
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(drop)
            .map_err(|e| backend("put", e))
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, MediaStoreError> {
        if !valid_media_key(key) {
            return Err(MediaStoreError::InvalidKey(key.to_owned()));
        }
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(output) => Ok(Some(output.body.collect().await.map_err(|e| backend("get body", e))?.into_bytes().to_vec())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key() || s.code() == Some("NotFound")) => Ok(None),
            Err(e) => Err(backend("get", e)),
        }
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, key: &str) -> Result<(), MediaStoreError> {
        if !valid_media_key(key) {
            return Err(MediaStoreError::InvalidKey(key.to_owned()));
        }
        // S3 answers 204 whether or not the object existed.
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map(drop).map_err(|e| backend("delete", e))
    }

    fn public_url(&self, key: &str) -> Option<String> {
        self.public_url.as_ref().map(|base| format!("{}/{key}", base.trim_end_matches('/')))
    }

    /// With `public_url` set, files that are not for everyone are fetched from the bucket on a
    /// presigned GET; without it, core serves every file and signs its own URLs.
    async fn presigned_url(&self, key: &str, signed_at: SystemTime, expires_in: Duration) -> Result<Option<String>, MediaStoreError> {
        if self.public_url.is_none() {
            return Ok(None);
        }
        self.presign_get(key, signed_at, expires_in).await.map(Some)
    }
}
