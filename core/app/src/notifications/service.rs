//! The use cases and the reads they share; no HTTP type reaches here.

use std::collections::HashMap;

use shared::id::Id;
use shared::wire;

use crate::error::ApiResult;
use crate::model::{self, NotificationRecord};
use crate::{App, keys};

/// Items read per page of a partition.
pub(crate) const PAGE: usize = 500;
/// Partition pages scanned at most to fill one filtered page of notifications.
pub(crate) const MAX_SCAN_PAGES: usize = 10;

impl App {
    /// Renders notifications for `viewer`, dropping those whose account or status is gone
    /// (or no longer visible to the viewer).
    pub async fn render_notifications(&self, viewer: Id, records: Vec<NotificationRecord>) -> ApiResult<Vec<wire::Notification>> {
        let accounts = self.accounts(&records.iter().map(|r| r.from).collect::<Vec<_>>()).await?;
        let status_ids: Vec<Id> = records.iter().filter_map(|r| r.status).collect();
        let statuses: HashMap<Id, wire::Status> = self.statuses(Some(viewer), &status_ids).await?.into_iter().map(|s| (s.id, s)).collect();
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let Some(account) = accounts.get(&r.from) else { continue };
            let status = match r.status {
                Some(id) => match statuses.get(&id) {
                    Some(s) => Some(s.clone()),
                    None => continue,
                },
                None => None,
            };
            out.push(wire::Notification {
                id: r.id,
                kind: r.kind,
                created_at: wire::timestamp(r.created_at),
                group_key: format!("ungrouped-{}", r.id),
                account: account.clone(),
                status,
            });
        }
        Ok(out)
    }
}

impl App {
    /// The id of the newest notification the account has read, per its marker.
    pub(crate) async fn last_read_notification(&self, account: Id) -> ApiResult<Option<Id>> {
        match self.store.get(&keys::marker(account, "notifications")).await? {
            Some(item) => Ok(Some(model::decode::<model::MarkerRecord>(&item)?.last_read_id)),
            None => Ok(None),
        }
    }
}
