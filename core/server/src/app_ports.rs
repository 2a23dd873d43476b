//! The ports adapters call back into core through, implemented over `core-app` here (the one
//! crate that knows both), so adapter crates depend on `core-ports` only:
//! [`AppUploads`] (the S3 upload intake → core's upload completion) and [`StoredStatusFacts`]
//! (the analytics loader → what core's stored status records say).

use std::sync::Arc;

use async_trait::async_trait;
use core_app::App;
use core_app::error::ApiError;
use core_app::media::{Completion, MediaParams};
use core_app::model::StatusRecord;
use core_ports::ports::{StatusFacts, StatusFactsSource, Store, StoreError, UploadCompletion, UploadError, UploadOutcome};
use shared::id::Id;

/// Core's upload completion (`POST /api/starling/v1/media/:id/complete`) as the
/// [`UploadCompletion`] port.
#[derive(Clone)]
pub struct AppUploads(pub App);

#[async_trait]
impl UploadCompletion for AppUploads {
    async fn complete_upload(&self, owner: Id, id: Id) -> Result<UploadOutcome, UploadError> {
        match self.0.complete_upload(owner, id, &MediaParams::default()).await {
            Ok(Completion::Done(_)) => Ok(UploadOutcome::Completed),
            Ok(Completion::NotOwner | Completion::NoUpload) => Ok(UploadOutcome::NothingToComplete),
            Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => Err(UploadError::Transient(format!("{e:?}").into())),
            Err(e) => Err(UploadError::Refused(format!("{e:?}").into())),
        }
    }
}

/// [`StatusFacts`] read from core's stored status records.
#[derive(Clone)]
pub struct StoredStatusFacts(pub Arc<dyn Store>);

#[async_trait]
impl StatusFactsSource for StoredStatusFacts {
    async fn status_facts(&self, id: Id) -> Result<Option<StatusFacts>, StoreError> {
        let Some(item) = self.0.get(&core_app::keys::status(id)).await? else { return Ok(None) };
        let record: StatusRecord = core_app::model::decode(&item).map_err(|e| StoreError::Backend(format!("status {id}: {e:?}").into()))?;
        Ok(Some(StatusFacts { in_reply_to_id: record.in_reply_to_id, tags: record.tags }))
    }
}
