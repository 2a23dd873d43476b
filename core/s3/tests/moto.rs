//! The S3 media store and the upload intake against moto (`moto_server`), an emulator of the
//! AWS wire protocol, not AWS: it accepts any signature, so this checks requests, paths and
//! status handling. Run by scripts/test.sh, which starts moto and sets
//! `STARLING_TEST_S3_ENDPOINT`; without it the tests fail loudly (`--ignored` runs only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter};
use core_app::{Application, Backends, Config};
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

#[tokio::test]
#[ignore = "needs an S3 server: STARLING_TEST_S3_ENDPOINT (scripts/test.sh starts moto)"]
async fn s3_media_store_keeps_the_media_store_contract() {
    let store = bucket_store("contract").await;
    core_app::contract::media_store_suite(&store).await;
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
    use core_app::ports::MediaStore;
    assert_eq!(store.get("uploads/1/2.png").await.unwrap().as_deref(), Some(&b"hello"[..]));
}

/// A 2×2 PNG.
fn png() -> Vec<u8> {
    let mut out = Vec::new();
    image::DynamicImage::new_rgb8(2, 2).write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

#[tokio::test]
#[ignore = "needs an S3 server: STARLING_TEST_S3_ENDPOINT (scripts/test.sh starts moto)"]
async fn object_created_notifications_complete_uploads_once() {
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
    // S3 sends a test event when notifications are configured: drain it.
    let intake = UploadIntake::new(&sdk, IntakeConfig { queue_url: queue_url.clone(), bucket: bucket.clone(), wait_secs: 0 });

    let dir = tempfile::tempdir().unwrap();
    let embedded = core_embedded::RedbStore::open(&dir.path().join("s.redb")).unwrap();
    let backends = Backends {
        store: std::sync::Arc::new(embedded.clone()),
        events: std::sync::Arc::new(embedded),
        timelines: std::sync::Arc::new(core_embedded::MemoryTimelineCache::new()),
        rate_limits: std::sync::Arc::new(core_embedded::MemoryRateLimiter::new()),
        search: std::sync::Arc::new(core_tantivy::TantivySearch::in_memory().unwrap()),
        streams: std::sync::Arc::new(core_embedded::MemoryStreamHub::new()),
        media: std::sync::Arc::new(store.clone()),
        push: None,
    };
    let application = Application::build(Config::default(), backends).await.unwrap();
    let app = application.app();

    let (owner, id) = (Id::from_u64(7), Id::from_u64(4242));
    let key = format!("uploads/{owner}/{id}.png");
    // The client's presigned PUT, as the edge issued it.
    store.client().put_object().bucket(&bucket).key(&key).content_type("image/png").body(ByteStream::from(png())).send().await.unwrap();
    // An object outside uploads/ is not notified (prefix filter); one inside that is not an
    // upload key is dropped.
    store.client().put_object().bucket(&bucket).key("uploads/not-an-upload.txt").body(ByteStream::from_static(b"x")).send().await.unwrap();

    let mut total = core_s3::intake::PollReport::default();
    for _ in 0..5 {
        let report = intake.poll_once(app).await.unwrap();
        total.received += report.received;
        total.completed += report.completed;
        total.deleted += report.deleted;
        if total.completed > 0 && report.received == 0 {
            break;
        }
    }
    assert_eq!(total.completed, 1, "{total:?}");
    assert_eq!(total.deleted, total.received, "every handled message is deleted: {total:?}");
    let records = app.media_records(&[id]).await.unwrap();
    let record = &records[&id];
    assert_eq!(record.account_id, owner);
    use core_app::ports::MediaStore;
    assert_eq!(store.get(&key).await.unwrap(), None, "the upload object is removed once processed");
    assert!(store.get(&record.original.key).await.unwrap().is_some(), "the processed original is stored");

    // A redelivered notification (or the client's own `complete` racing it) is a no-op.
    let event = serde_json::json!({ "Records": [{ "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": { "bucket": { "name": bucket }, "object": { "key": key, "size": 70 } } }] });
    sqs.send_message().queue_url(&queue_url).message_body(event.to_string()).send().await.unwrap();
    let report = intake.poll_once(app).await.unwrap();
    assert_eq!((report.received, report.completed, report.deleted), (1, 1, 1));
    assert_eq!(app.media_records(&[id]).await.unwrap()[&id].created_at, record.created_at, "the attachment is not made twice");
    let after = intake.poll_once(app).await.unwrap();
    assert_eq!(after.received, 0, "the queue is empty");
}
