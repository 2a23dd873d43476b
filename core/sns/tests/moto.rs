//! The push publisher contract against SNS on moto_server (an emulator of the AWS wire
//! protocol): what reaches the topic is read back through an SQS queue subscribed with raw
//! delivery, as the sender subscribed to the topic would receive it. scripts/test.sh starts moto
//! and sets `STARLING_TEST_SNS_ENDPOINT`; without it these fail loudly (`--ignored` runs only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use core_ports::contract::push_publisher::PushProbe;
use core_ports::ports::PushMessage;
use core_sns::{SnsConfig, SnsPushPublisher};
use serde_json::Value;
use shared::id::Id;

/// A VAPID public key (an uncompressed P-256 point, base64url).
const SERVER_KEY: &str = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM";

fn endpoint() -> String {
    std::env::var("STARLING_TEST_SNS_ENDPOINT").expect("STARLING_TEST_SNS_ENDPOINT must point at moto_server (scripts/test.sh)")
}

/// The topic's subscriber queue, read as the sender would.
struct Queue {
    sqs: aws_sdk_sqs::Client,
    url: String,
    seen: Mutex<Vec<PushMessage>>,
}

/// A message as the sender reads it back (the body `core_sns::body` wrote).
fn parse(body: &str) -> PushMessage {
    let v: Value = serde_json::from_str(body).unwrap();
    let text = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_else(|| panic!("{p} in {body}")).to_owned();
    PushMessage {
        subscription: Id::from_u64(text("/subscription_id").parse().unwrap()),
        account: Id::from_u64(text("/account_id").parse().unwrap()),
        endpoint: text("/endpoint"),
        p256dh: text("/keys/p256dh"),
        auth: text("/keys/auth"),
        standard: v["standard"].as_bool().unwrap(),
        notification_type: text("/notification_type"),
        notification_id: text("/notification_id"),
        notification: v["notification"].to_string(),
    }
}

#[async_trait]
impl PushProbe for Queue {
    async fn received(&self, subscription: Id, expected: usize) -> Vec<PushMessage> {
        for _ in 0..10 {
            let got = self.sqs.receive_message().queue_url(&self.url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
            for m in got.messages() {
                self.seen.lock().unwrap().push(parse(m.body().unwrap()));
                self.sqs.delete_message().queue_url(&self.url).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
            }
            let mine = self.seen.lock().unwrap().iter().filter(|m| m.subscription == subscription).count();
            if mine >= expected && got.messages().is_empty() {
                break;
            }
        }
        self.seen.lock().unwrap().iter().filter(|m| m.subscription == subscription).cloned().collect()
    }
}

/// A fresh topic with a fresh queue subscribed to it (raw delivery), and a publisher on it.
async fn fixture() -> (Box<SnsPushPublisher>, Box<Queue>) {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!("starling-push-contract-{}-{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "static"))
        .timeout_config(aws_config::timeout::TimeoutConfig::builder().operation_timeout(Duration::from_secs(20)).build())
        .load()
        .await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let topic = sns.create_topic().name(&name).send().await.unwrap().topic_arn().unwrap().to_owned();
    let url = sqs.create_queue().queue_name(&name).send().await.unwrap().queue_url().unwrap().to_owned();
    let arn = sqs.get_queue_attributes().queue_url(&url).attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn).send().await.unwrap();
    let arn = arn.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(arn).attributes("RawMessageDelivery", "true").send().await.unwrap();
    let config = SnsConfig {
        topic_arn: topic,
        region: "us-east-1".into(),
        endpoint: Some(endpoint()),
        credentials: Some(("test".into(), "test".into())),
        vapid_public_key: SERVER_KEY.into(),
    };
    (Box::new(SnsPushPublisher::connect(&config).await.unwrap()), Box::new(Queue { sqs, url, seen: Mutex::default() }))
}

mod push_publisher_contract {
    core_ports::push_publisher_contract_tests!(super::fixture(), #[ignore = "needs moto_server: STARLING_TEST_SNS_ENDPOINT (scripts/test.sh)"]);
}
