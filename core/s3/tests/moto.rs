//! The media store contract against an S3 wire-protocol server. moto (`moto_server`) is an
//! emulator of the AWS protocol, not AWS: it accepts any signature, so this checks requests,
//! paths and status handling, while `shared::sigv4`'s own tests check the signing against AWS's
//! documented example. Run by scripts/test.sh, which starts moto and sets
//! `STARLING_TEST_S3_ENDPOINT`; without it the test fails loudly (`--ignored` runs only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core_s3::{S3Config, S3MediaStore};
use shared::sigv4::Credentials;

#[tokio::test]
#[ignore = "needs an S3 server: STARLING_TEST_S3_ENDPOINT (scripts/test.sh starts moto)"]
async fn s3_media_store_keeps_the_media_store_contract() {
    let endpoint = std::env::var("STARLING_TEST_S3_ENDPOINT").expect("STARLING_TEST_S3_ENDPOINT must point at an S3 server (moto_server)");
    let bucket = format!("starling-contract-{}", std::process::id());
    let http = reqwest::Client::new();
    // moto accepts unsigned bucket creation.
    let created = http.put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(created.status().is_success(), "bucket creation: {}", created.status());
    let credentials = Credentials { access_key_id: "test".into(), secret_access_key: "test".into(), session_token: None };
    let store = S3MediaStore::new(S3Config { bucket, region: "us-east-1".into(), endpoint, credentials, public_url: None }).unwrap();
    core_app::contract::media_store_suite(&store).await;
}
