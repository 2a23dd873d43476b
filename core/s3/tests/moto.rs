//! The S3 media store and the upload intake against moto (`moto_server`), an emulator of the
//! AWS wire protocol, not AWS: it accepts any signature, so this checks requests, paths and
//! status handling. Run by scripts/test.sh, which starts moto and sets
//! `STARLING_TEST_S3_ENDPOINT`; without it the tests fail loudly (`--ignored` runs only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter};
use std::sync::Mutex;

use async_trait::async_trait;
use core_ports::ports::{UploadCompletion, UploadError, UploadOutcome};
use core_s3::intake::{IntakeConfig, UploadIntake};
use core_s3::{S3Config, S3MediaStore, sdk_config};
use shared::id::Id;
use shared::sigv4::Credentials;

fn endpoint() -> String {
    std::env::var("STARLING_TEST_S3_ENDPOINT").expect("STARLING_TEST_S3_ENDPOINT must point at an S3 server (moto_server)")
}

fn credentials() -> Credentials {
    Credentials { access_key_id: "test".into(), secret_access_key: "test".into(), session_token: None }
}

/// `tag` made unique within this process (bucket names are per process already).
fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!("{tag}{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

async fn bucket_store(name: &str) -> S3MediaStore {
    let bucket = format!("starling-{name}-{}", std::process::id());
    let store = S3MediaStore::new(S3Config {
        bucket: bucket.clone(),
        region: "us-east-1".into(),
        endpoint: Some(endpoint()),
        credentials: Some(credentials()),
        public_url: None,
    })
    .await
    .unwrap();
    store.client().create_bucket().bucket(&bucket).send().await.unwrap();
    store.ping().await.unwrap();
    store
}

/// The media store contract, one test (and one fresh bucket) per promise.
mod media_store_contract {
    core_ports::media_store_contract_tests!(
        async { Box::new(super::bucket_store(&super::unique("contract")).await) },
        #[ignore = "needs an S3 server: STARLING_TEST_S3_ENDPOINT (scripts/test.sh starts moto)"]
    );
}

#[tokio::test]
#[ignore = "needs an S3 server: STARLING_TEST_S3_ENDPOINT (scripts/test.sh starts moto)"]
async fn a_missing_bucket_fails_the_startup_check() {
    let store = S3MediaStore::new(S3Config {
        bucket: "starling-no-such-bucket".into(),
        region: "us-east-1".into(),
        endpoint: Some(endpoint()),
        credentials: Some(credentials()),
        public_url: None,
    })
    .await
    .unwrap();
    assert!(store.ping().await.is_err());
}

#[tokio::test]
#[ignore = "needs an S3 server: STARLING_TEST_S3_ENDPOINT (scripts/test.sh starts moto)"]
async fn a_presigned_put_stores_the_object() {
    let store = bucket_store("presign").await;
    let url = store.presign_put("uploads/1/2.png", "image/png", 5, std::time::SystemTime::now(), Duration::from_secs(300)).await.unwrap();
    let put = reqwest::Client::new().put(&url).header("content-type", "image/png").body(b"hello".to_vec()).send().await.unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    use core_ports::ports::MediaStore;
    assert_eq!(store.get("uploads/1/2.png").await.unwrap().as_deref(), Some(&b"hello"[..]));
}

#[tokio::test]
#[ignore = "needs an S3 server: STARLING_TEST_S3_ENDPOINT (scripts/test.sh starts moto)"]
async fn non_public_files_are_fetched_on_a_short_presigned_get() {
    use core_ports::ports::MediaStore;
    let plain = bucket_store("presignget").await;
    let key = "media/7/00112233445566778899aabbccddeeff/original.png";
    plain.put(key, b"picture".to_vec(), "image/png").await.unwrap();
    // Without `public_url` core serves every file itself and signs its own URLs.
    let now = std::time::SystemTime::now();
    assert_eq!(plain.presigned_url(key, now, Duration::from_secs(60)).await.unwrap(), None);
    let store = S3MediaStore::new(S3Config {
        bucket: plain.bucket().to_owned(),
        region: "us-east-1".into(),
        endpoint: Some(endpoint()),
        credentials: Some(credentials()),
        public_url: Some("https://media.example".into()),
    })
    .await
    .unwrap();
    assert_eq!(store.public_url(key).as_deref(), Some(&*format!("https://media.example/{key}")));
    let url = store.presigned_url(key, now, Duration::from_secs(60)).await.unwrap().expect("a presigned GET");
    assert!(url.starts_with(&format!("{}/{}/{key}?", endpoint().trim_end_matches('/'), plain.bucket())), "{url}");
    assert!(url.contains("X-Amz-Expires=60") && url.contains("X-Amz-Signature="), "{url}");
    let got = reqwest::Client::new().get(&url).send().await.unwrap();
    assert!(got.status().is_success(), "{}", got.status());
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"picture");
}

/// Core's completion as the intake sees it: records each call; refuses for now while `down`.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(Id, Id)>>,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl UploadCompletion for Recorder {
    async fn complete_upload(&self, owner: Id, id: Id) -> Result<UploadOutcome, UploadError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(UploadError::Transient("the store is unavailable".into()));
        }
        let mut calls = self.calls.lock().unwrap();
        calls.push((owner, id));
        Ok(if id == Id::from_u64(4242) { UploadOutcome::Completed } else { UploadOutcome::NothingToComplete })
    }
}

#[tokio::test]
#[ignore = "needs an S3 server: STARLING_TEST_S3_ENDPOINT (scripts/test.sh starts moto)"]
async fn object_created_notifications_are_handed_to_completion_and_deleted() {
    let store = bucket_store("intake").await;
    let bucket = store.bucket().to_owned();
    let sdk = sdk_config("us-east-1", Some(&endpoint()), Some(&credentials())).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs.create_queue().queue_name(format!("starling-uploads-{}", std::process::id())).send().await.unwrap().queue_url.unwrap();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    // The bucket notifies the queue of objects created under uploads/ (moto delivers these).
    let filter = NotificationConfigurationFilter::builder()
        .key(S3KeyFilter::builder().filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value("uploads/").build()).build())
        .build();
    let queue = QueueConfiguration::builder().queue_arn(queue_arn).events(Event::from("s3:ObjectCreated:*")).filter(filter).build().unwrap();
    store
        .client()
        .put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(NotificationConfiguration::builder().queue_configurations(queue).build())
        .send()
        .await
        .unwrap();
    // S3 sends a test event when notifications are configured: the polls drain it.
    let intake = UploadIntake::new(&sdk, IntakeConfig { queue_url: queue_url.clone(), bucket: bucket.clone(), wait_secs: 0 });
    let completion = Recorder::default();

    let (owner, id) = (Id::from_u64(7), Id::from_u64(4242));
    let key = format!("uploads/{owner}/{id}.png");
    // The client's presigned PUT, as the edge issued it.
    store.client().put_object().bucket(&bucket).key(&key).content_type("image/png").body(ByteStream::from_static(b"png")).send().await.unwrap();
    // An object outside uploads/ is not notified (prefix filter); one inside that is not an
    // upload key is dropped.
    store.client().put_object().bucket(&bucket).key("uploads/not-an-upload.txt").body(ByteStream::from_static(b"x")).send().await.unwrap();

    let mut total = core_s3::intake::PollReport::default();
    for _ in 0..5 {
        let report = intake.poll_once(&completion).await.unwrap();
        total.received += report.received;
        total.completed += report.completed;
        total.deleted += report.deleted;
        if total.completed > 0 && report.received == 0 {
            break;
        }
    }
    assert_eq!(total.completed, 1, "{total:?}");
    assert_eq!(total.deleted, total.received, "every handled message is deleted: {total:?}");
    assert_eq!(*completion.calls.lock().unwrap(), vec![(owner, id)], "only the upload key reaches completion, with its owner and id");

    // A redelivered notification (or the client's own `complete` racing it) completes again:
    // completion is idempotent, and the message is deleted.
    let event = serde_json::json!({ "Records": [{ "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": { "bucket": { "name": bucket }, "object": { "key": key, "size": 70 } } }] });
    sqs.send_message().queue_url(&queue_url).message_body(event.to_string()).send().await.unwrap();
    let report = intake.poll_once(&completion).await.unwrap();
    assert_eq!((report.received, report.completed, report.deleted), (1, 1, 1));

    // A completion failing for now leaves the message on the queue to come back.
    completion.down.store(true, std::sync::atomic::Ordering::SeqCst);
    sqs.send_message().queue_url(&queue_url).message_body(event.to_string()).send().await.unwrap();
    let report = intake.poll_once(&completion).await.unwrap();
    assert_eq!((report.received, report.retried, report.deleted), (1, 1, 0), "a transient failure is retried, not deleted");
}
