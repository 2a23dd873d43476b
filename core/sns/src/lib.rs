//! Web Push through SNS: each delivery is published to a topic as a JSON message naming the
//! subscription's endpoint and keys, with the notification; whatever subscribes to the topic
//! (a Lambda or worker holding the VAPID private key) encrypts it (RFC 8291) and POSTs it to
//! the endpoint. The `notification_type` message attribute lets subscribers filter.
//!
//! Owns: the message format. Must never: log the subscription's keys.

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use core_ports::ports::{PushError, PushMessage, PushPublisher, described};

/// Where the topic is.
#[derive(Clone)]
pub struct SnsConfig {
    /// The topic's ARN.
    pub topic_arn: String,
    /// AWS region.
    pub region: String,
    /// Endpoint override (moto, VPC endpoint).
    pub endpoint: Option<String>,
    /// Static credentials; the default chain when `None`.
    pub credentials: Option<(String, String)>,
    /// The VAPID public key clients get as `server_key`.
    pub vapid_public_key: String,
}

impl std::fmt::Debug for SnsConfig {
    // The secret key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsConfig")
            .field("topic_arn", &self.topic_arn)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials.as_ref().map(|(id, _)| (id, "***")))
            .field("vapid_public_key", &self.vapid_public_key)
            .finish()
    }
}

/// Publishes push deliveries to an SNS topic.
pub struct SnsPushPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
    server_key: String,
}

impl SnsPushPublisher {
    /// A publisher for `config`; checks that the topic exists (startup fails fast).
    pub async fn connect(config: &SnsConfig) -> Result<Self, PushError> {
        let sdk = core_aws::loader(&config.region, config.endpoint.as_deref(), core_aws::keys(config.credentials.as_ref())).load().await;
        let client = aws_sdk_sns::Client::new(&sdk);
        client
            .get_topic_attributes()
            .topic_arn(&config.topic_arn)
            .send()
            .await
            .map_err(|e| PushError(described(format!("topic {}: {}", config.topic_arn, aws_sdk_sns::error::DisplayErrorContext(&e)), e)))?;
        Ok(SnsPushPublisher { client, topic_arn: config.topic_arn.clone(), server_key: config.vapid_public_key.clone() })
    }
}

/// The message body for `message`.
pub fn body(message: &PushMessage) -> String {
    let notification: serde_json::Value = serde_json::from_str(&message.notification).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "subscription_id": message.subscription.to_string(),
        "account_id": message.account.to_string(),
        "endpoint": message.endpoint,
        "keys": { "p256dh": message.p256dh, "auth": message.auth },
        "standard": message.standard,
        "notification_id": message.notification_id,
        "notification_type": message.notification_type,
        "notification": notification,
    })
    .to_string()
}

#[async_trait]
impl PushPublisher for SnsPushPublisher {
    async fn publish(&self, message: &PushMessage) -> Result<(), PushError> {
        let kind = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(&message.notification_type)
            .build()
            .map_err(|e| PushError::new("sns message attribute", e))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body(message))
            .message_attributes("notification_type", kind)
            .send()
            .await
            .map_err(|e| PushError(described(format!("sns publish: {}", aws_sdk_sns::error::DisplayErrorContext(&e)), e)))?;
        Ok(())
    }

    fn server_key(&self) -> String {
        self.server_key.clone()
    }
}
