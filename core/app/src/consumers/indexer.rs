//! The search indexing consumer of the event log, and the rebuild of the index from the store.
//!
//! The index is a derived view, like timelines: the consumer re-reads each changed status or
//! account from the store and writes (or removes) its document by id, so replays and
//! reordering converge on the store's state.

use std::collections::BTreeSet;

use shared::id::Id;

use crate::error::ApiResult;
use crate::events::Event;
use crate::model::{AccountRecord, StatusRecord};
use crate::ports::{AccountDoc, LoggedEvent, Query, SearchChange, StatusDoc};
use crate::scan::RefScan;
use crate::{App, keys};

/// Name of this consumer's checkpoint.
pub const CONSUMER: &str = "search";
/// Events handled per batch (one index commit each).
const BATCH: usize = 512;

/// The search indexing consumer: one index commit per batch.
pub struct Indexer;

#[async_trait::async_trait]
impl super::Consumer for Indexer {
    const NAME: &'static str = CONSUMER;
    const BATCH: usize = BATCH;

    fn lock(app: &App) -> &tokio::sync::Mutex<()> {
        &app.search_lock
    }

    async fn handle(app: &App, batch: &[LoggedEvent]) -> ApiResult<()> {
        let mut statuses = BTreeSet::new();
        let mut accounts = BTreeSet::new();
        for logged in batch {
            match &logged.event {
                Event::StatusCreated { status, reblog_of: None, .. }
                | Event::StatusUpdated { status, .. }
                | Event::StatusDeleted { status, reblog_of: None, .. } => {
                    statuses.insert(*status);
                }
                Event::AccountCreated { account } | Event::AccountUpdated { account } => {
                    accounts.insert(*account);
                }
                _ => {}
            }
        }
        let statuses: Vec<Id> = statuses.into_iter().collect();
        let accounts: Vec<Id> = accounts.into_iter().collect();
        let mut changes = status_changes(app, &statuses).await?;
        changes.extend(account_changes(app, &accounts).await?);
        if !changes.is_empty() {
            app.search.apply(changes).await?;
        }
        Ok(())
    }
}

/// The document each status should have now: its current record, or none when it is gone.
async fn status_changes(app: &App, ids: &[Id]) -> ApiResult<Vec<SearchChange>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        let records = app.status_records(chunk).await?;
        for id in chunk {
            out.push(match records.get(id) {
                Some(record) if record.reblog_of.is_none() => SearchChange::IndexStatus(status_doc(record)),
                _ => SearchChange::DeleteStatus(*id),
            });
        }
    }
    Ok(out)
}

async fn account_changes(app: &App, ids: &[Id]) -> ApiResult<Vec<SearchChange>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        let records = app.account_records(chunk).await?;
        for id in chunk {
            out.push(match records.get(id) {
                Some(record) => SearchChange::IndexAccount(account_doc(record)),
                None => SearchChange::DeleteAccount(*id),
            });
        }
    }
    Ok(out)
}

fn status_doc(record: &StatusRecord) -> StatusDoc {
    let text = if record.spoiler_text.is_empty() { record.text.clone() } else { format!("{}\n{}", record.spoiler_text, record.text) };
    StatusDoc {
        id: record.id,
        author: record.account_id,
        visibility: record.visibility,
        mentions: record.mentions.iter().map(|m| m.id).collect(),
        text,
        tags: record.tags.clone(),
    }
}

fn account_doc(record: &AccountRecord) -> AccountDoc {
    AccountDoc { id: record.id, username: record.username.clone(), display_name: record.display_name.clone() }
}

/// Progress of a rebuild, reported after every page of accounts.
#[derive(Debug, Clone, Copy, Default)]
pub struct RebuildProgress {
    /// Accounts indexed so far.
    pub accounts: u64,
    /// Accounts the instance counts (for a progress bar).
    pub accounts_total: u64,
    /// Statuses indexed so far.
    pub statuses: u64,
}

impl App {
    /// Re-indexes every account (the `ACCTS` listing) and each one's statuses (their `AS#`
    /// partitions) from the store, then points the consumer's checkpoint at the log position
    /// read before the scan, so anything committed meanwhile is indexed again (idempotently).
    pub async fn rebuild_search(&self, mut progress: impl FnMut(RebuildProgress)) -> ApiResult<RebuildProgress> {
        const PAGE: usize = 500;
        let head = self.events.head().await?;
        self.search.clear().await?;
        let mut done = RebuildProgress { accounts_total: self.instance_counts().await?.0, ..RebuildProgress::default() };
        let mut listing = RefScan::all_of(keys::account_listing_partitions(self.config.shards.accounts), PAGE);
        while let Some(ids) = listing.next(self).await? {
            let mut changes = account_changes(self, &ids).await?;
            for account in &ids {
                let mut statuses = Query::partition(keys::account_statuses_partition(*account), PAGE);
                loop {
                    let items = self.store.query(&statuses).await?;
                    let Some(last) = items.last() else { break };
                    statuses.after = Some(last.key.sk.clone());
                    let ids: Vec<Id> = items.iter().filter_map(|i| Id::from_sort_key(&i.key.sk)).collect();
                    let found = status_changes(self, &ids).await?;
                    let indexed = found.into_iter().filter(|c| matches!(c, SearchChange::IndexStatus(_)));
                    for change in indexed {
                        changes.push(change);
                        done.statuses += 1;
                    }
                    if changes.len() >= 5_000 {
                        self.search.apply(std::mem::take(&mut changes)).await?;
                    }
                    if items.len() < PAGE {
                        break;
                    }
                }
            }
            self.search.apply(changes).await?;
            done.accounts += ids.len() as u64;
            progress(done);
        }
        self.events.save_checkpoint(CONSUMER, &head).await?;
        Ok(done)
    }
}
