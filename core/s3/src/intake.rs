//! Upload intake: the bucket sends `s3:ObjectCreated:*` notifications for the `uploads/`
//! prefix (where the edge's presigned PUTs land) to an SQS queue; this poller receives them
//! and hands the media id in the key ([`core_ports::keys::parse_upload_key`]) to the
//! [`UploadCompletion`] port — core's completion, the same as
//! `POST /api/starling/v1/media/:id/complete` — so an upload becomes an attachment even when
//! the client never calls `complete`.
//!
//! Completion is idempotent (an attachment already made is left as is), so the client's call
//! and the notification may race, and a redelivered message is harmless. A message is deleted
//! once every record in it is handled; one whose completion failed for a transient reason
//! (store or bucket unavailable) stays and comes back after the queue's visibility timeout
//! (a redrive policy moves it to a dead-letter queue after a few tries).

use std::time::Duration;

use aws_sdk_sqs::error::DisplayErrorContext;
use core_ports::keys::parse_upload_key;
use core_ports::ports::{UploadCompletion, UploadError, UploadOutcome};
use serde_json::Value;
use tokio::sync::watch;

/// Where the notifications arrive.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// The queue's URL.
    pub queue_url: String,
    /// The bucket whose notifications are honoured (others are dropped).
    pub bucket: String,
    /// Long-poll wait per receive, in seconds (0–20).
    pub wait_secs: i32,
}

/// What one poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollReport {
    /// Messages received.
    pub received: usize,
    /// Uploads that are attachments now (made by this poll or before it).
    pub completed: usize,
    /// Messages deleted.
    pub deleted: usize,
    /// Messages left on the queue to be retried.
    pub retried: usize,
}

/// The SQS poller.
#[derive(Debug, Clone)]
pub struct UploadIntake {
    sqs: aws_sdk_sqs::Client,
    config: IntakeConfig,
}

/// An object-created record of an S3 event notification: (bucket, key).
fn created_objects(body: &str) -> Vec<(String, String)> {
    let Ok(mut event) = serde_json::from_str::<Value>(body) else { return Vec::new() };
    // Delivered through an SNS topic without raw delivery: the event is the `Message` string.
    if let Some(inner) = event.get("Message").and_then(Value::as_str).and_then(|m| serde_json::from_str::<Value>(m).ok()) {
        event = inner;
    }
    let Some(records) = event.get("Records").and_then(Value::as_array) else { return Vec::new() };
    records
        .iter()
        .filter(|r| r.get("eventName").and_then(Value::as_str).is_some_and(|n| n.starts_with("ObjectCreated:")))
        .filter_map(|r| {
            let bucket = r.pointer("/s3/bucket/name")?.as_str()?;
            let key = r.pointer("/s3/object/key")?.as_str()?;
            Some((bucket.to_owned(), decode_key(key)))
        })
        .collect()
}

/// Object keys arrive URL-encoded, spaces as `+`.
fn decode_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

impl UploadIntake {
    /// A poller on `config.queue_url` with the given SDK configuration (see [`crate::sdk_config`]).
    pub fn new(sdk: &aws_config::SdkConfig, config: IntakeConfig) -> Self {
        UploadIntake { sqs: aws_sdk_sqs::Client::new(sdk), config }
    }

    /// Receives one batch (long-polling up to `wait_secs`) and handles it.
    pub async fn poll_once(&self, completion: &dyn UploadCompletion) -> Result<PollReport, String> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.config.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(self.config.wait_secs.clamp(0, 20))
            .send()
            .await
            .map_err(|e| format!("sqs receive: {}", DisplayErrorContext(e)))?;
        let mut report = PollReport::default();
        for message in received.messages() {
            report.received += 1;
            let mut retry = false;
            for (bucket, key) in created_objects(message.body().unwrap_or("")) {
                if bucket != self.config.bucket {
                    tracing::warn!(bucket, key, "object-created notification for another bucket: ignored");
                    continue;
                }
                let Some((owner, id)) = parse_upload_key(&key) else { continue };
                match completion.complete_upload(owner, id).await {
                    Ok(UploadOutcome::Completed) => report.completed += 1,
                    Ok(UploadOutcome::NothingToComplete) => tracing::info!(key, "upload notification with nothing left to complete"),
                    Err(UploadError::Transient(e)) => {
                        tracing::warn!(key, error = %e, "upload completion failed for now; the message will be redelivered");
                        retry = true;
                    }
                    // Refused for good (not a supported image or video, too large, …): the
                    // upload object was removed and the client's `complete` reports why.
                    Err(UploadError::Refused(e)) => tracing::info!(key, error = %e, "upload refused"),
                }
            }
            if retry {
                report.retried += 1;
                continue;
            }
            if let Some(handle) = message.receipt_handle() {
                self.sqs
                    .delete_message()
                    .queue_url(&self.config.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| format!("sqs delete: {}", DisplayErrorContext(e)))?;
                report.deleted += 1;
            }
        }
        Ok(report)
    }

    /// Polls until `stop` turns true, backing off (1 s doubling to 60 s) while SQS fails.
    pub async fn run(self, completion: std::sync::Arc<dyn UploadCompletion>, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_secs(1);
        while !*stop.borrow() {
            let polled = tokio::select! {
                polled = self.poll_once(completion.as_ref()) => polled,
                _ = stop.changed() => break,
            };
            match polled {
                Ok(_) => backoff = Duration::from_secs(1),
                Err(e) => {
                    tracing::warn!(error = %e, "upload intake poll failed");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_created_records_are_read_from_raw_and_sns_wrapped_events() {
        let raw = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"media"},"object":{"key":"uploads/1/2.png","size":5}}},{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"media"},"object":{"key":"uploads/1/3.png"}}}]}"#;
        assert_eq!(created_objects(raw), vec![("media".to_owned(), "uploads/1/2.png".to_owned())]);
        let wrapped = serde_json::json!({ "Type": "Notification", "Message": raw }).to_string();
        assert_eq!(created_objects(&wrapped), created_objects(raw));
        assert!(created_objects(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"media"}"#).is_empty());
        assert!(created_objects("not json").is_empty());
        assert_eq!(decode_key("uploads/a+b%2Fc%zz%4"), "uploads/a b/c%zz%4");
    }
}
