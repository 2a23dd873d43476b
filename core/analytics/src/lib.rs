//! The analytics loader: events → Redshift, over its PostgreSQL wire protocol.
//!
//! An [`EventSink`]: fed by the Kinesis consumer in production, or by tailing the embedded
//! event log (`core_ports::sink::tail`, consumer `analytics`). Each batch is written to a
//! session-local staging table with multi-row INSERTs, then merged into the fact table with
//! DELETE … USING + INSERT … SELECT in one transaction — SQL both PostgreSQL and Redshift
//! speak (Redshift has no ON CONFLICT), so a replayed event (at-least-once delivery) replaces
//! its own row: the outbox `seq` is the key. Schema and queries: docs/analytics.md.
//!
//! Owns: the warehouse schema ([`SCHEMA`]) and the ready queries ([`queries`]). Must never:
//! write an event twice, or fail a batch for one event it cannot enrich.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use core_ports::clock::{Clock, SystemClock};
use core_ports::events::Event;
use core_ports::ports::{EventSink, LoggedEvent, SinkError, StatusFacts, StatusFactsSource};
use shared::id::Id;
use tokio::sync::Mutex;
use tokio_postgres::Client;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use tokio_postgres_rustls::MakeRustlsConnect;

pub mod queries;

/// The event-log consumer name of the loader on the embedded log.
pub const CONSUMER: &str = "analytics";

/// The warehouse schema (idempotent DDL; PostgreSQL and Redshift).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS starling_events (
    seq BIGINT NOT NULL PRIMARY KEY,
    event_type VARCHAR(32) NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_id BIGINT NOT NULL,
    status_id BIGINT,
    target_account_id BIGINT,
    reblog_of_id BIGINT,
    in_reply_to_id BIGINT,
    visibility VARCHAR(16)
);
CREATE TABLE IF NOT EXISTS starling_status_tags (
    seq BIGINT NOT NULL,
    status_id BIGINT NOT NULL,
    tag VARCHAR(256) NOT NULL,
    PRIMARY KEY (status_id, tag)
);
";

/// The staging tables (session-local).
const STAGING: &str = "
CREATE TEMP TABLE IF NOT EXISTS stage_events (
    seq BIGINT NOT NULL,
    event_type VARCHAR(32) NOT NULL,
    occurred_ms BIGINT NOT NULL,
    actor_id BIGINT NOT NULL,
    status_id BIGINT,
    target_account_id BIGINT,
    reblog_of_id BIGINT,
    in_reply_to_id BIGINT,
    visibility VARCHAR(16)
);
CREATE TEMP TABLE IF NOT EXISTS stage_tags (
    seq BIGINT NOT NULL,
    status_id BIGINT NOT NULL,
    tag VARCHAR(256) NOT NULL
);
";

/// Rows per multi-row INSERT (9 parameters each; far below the protocol's 65,535).
const ROWS_PER_INSERT: usize = 500;

/// Why loading failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The database failed or could not be reached.
    #[error("warehouse: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// The connection settings are unusable (URL, CA file).
    #[error("warehouse settings: {0}")]
    Settings(String),
}

/// One fact row.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Outbox position (the key).
    pub seq: i64,
    /// Event type (`status_created`, `favourited`, …).
    pub event_type: String,
    /// When it happened, in ms: the status's creation time for posts and boosts, the
    /// account id's time for sign-ups, otherwise the time the loader saw it.
    pub occurred_ms: i64,
    /// The account that acted.
    pub actor_id: i64,
    /// The status concerned.
    pub status_id: Option<i64>,
    /// The other account (followed, status author favourited).
    pub target_account_id: Option<i64>,
    /// For boosts, the boosted status.
    pub reblog_of_id: Option<i64>,
    /// For replies, the parent.
    pub in_reply_to_id: Option<i64>,
    /// Visibility of the status.
    pub visibility: Option<String>,
}

/// Loads event batches into the warehouse.
pub struct AnalyticsLoader {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    client: Mutex<Option<Client>>,
    facts: Arc<dyn StatusFactsSource>,
    /// When events without a time of their own happened: when they were loaded.
    clock: Arc<dyn Clock>,
}

/// The connection settings of `url`: TLS is required unless the URL says otherwise
/// (`sslmode=disable` or `prefer`), and the server's certificate is always verified (against
/// the Mozilla roots Redshift's Amazon CA is among, plus `ca_file`'s PEM certificates).
fn connection(url: &str, ca_file: Option<&Path>) -> Result<(tokio_postgres::Config, MakeRustlsConnect), LoadError> {
    // The URL carries a password: never echo it.
    let mut config: tokio_postgres::Config = url.parse().map_err(|_| LoadError::Settings("the URL is not a valid postgres:// URL".into()))?;
    if !url.contains("sslmode=") {
        config.ssl_mode(SslMode::Require);
    }
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = ca_file {
        use rustls_pki_types::pem::PemObject as _;
        let unreadable = |e: rustls_pki_types::pem::Error| LoadError::Settings(format!("CA file {}: {e}", path.display()));
        let mut added = 0;
        for cert in rustls_pki_types::CertificateDer::pem_file_iter(path).map_err(unreadable)? {
            roots.add(cert.map_err(unreadable)?).map_err(|e| LoadError::Settings(format!("CA file {}: {e}", path.display())))?;
            added += 1;
        }
        if added == 0 {
            return Err(LoadError::Settings(format!("CA file {} holds no PEM certificate", path.display())));
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| LoadError::Settings(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((config, MakeRustlsConnect::new(tls)))
}

impl AnalyticsLoader {
    /// Connects to `url` (`postgres://user:pass@host:port/db`, Redshift's endpoint included)
    /// over TLS (see [`connection`]; `ca_file` adds a private CA), creates the schema and checks
    /// the connection; `facts` enriches posts (tags, reply parent).
    pub async fn connect(url: &str, ca_file: Option<&Path>, facts: Arc<dyn StatusFactsSource>) -> Result<Self, LoadError> {
        let (config, tls) = connection(url, ca_file)?;
        let loader = AnalyticsLoader { config, tls, client: Mutex::new(None), facts, clock: Arc::new(SystemClock) };
        {
            let mut guard = loader.client.lock().await;
            let client = loader.session(&mut guard).await?;
            // Instances starting together race on `CREATE TABLE IF NOT EXISTS`: PostgreSQL
            // reports the loser as a duplicate table, a duplicate row type (`42710`) or a unique
            // violation in its catalogue. Another one created that table, so go again.
            let mut attempts = 0;
            while let Err(e) = client.batch_execute(SCHEMA).await {
                use tokio_postgres::error::SqlState;
                let duplicate = e.code().is_some_and(|c| [SqlState::UNIQUE_VIOLATION, SqlState::DUPLICATE_TABLE, SqlState::DUPLICATE_OBJECT].contains(c));
                attempts += 1;
                if !duplicate || attempts == 3 {
                    return Err(e.into());
                }
            }
        }
        Ok(loader)
    }

    /// The open session, (re)connecting when there is none or it broke.
    async fn session<'a>(&self, slot: &'a mut Option<Client>) -> Result<&'a mut Client, LoadError> {
        let client = match slot.take() {
            Some(client) if !client.is_closed() => client,
            _ => {
                let (client, connection) = self.config.connect(self.tls.clone()).await?;
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "warehouse connection ended");
                    }
                });
                client.batch_execute(STAGING).await?;
                client
            }
        };
        Ok(slot.insert(client))
    }

    /// The same loader stamping events without a time of their own with `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs a read-only query and returns its rows (the ready queries; operators' tools).
    pub async fn query(&self, sql: &str) -> Result<Vec<tokio_postgres::Row>, LoadError> {
        let mut guard = self.client.lock().await;
        let client = self.session(&mut guard).await?;
        Ok(client.query(sql, &[]).await?)
    }

    /// Turns events into rows (reading each new post from the store for its tags and parent).
    pub async fn rows(&self, events: &[LoggedEvent]) -> (Vec<EventRow>, Vec<(i64, i64, String)>) {
        let now = i64::try_from(self.clock.now_ms()).unwrap_or(i64::MAX);
        let mut rows = Vec::with_capacity(events.len());
        let mut tags = Vec::new();
        for logged in events {
            let seq = i64::try_from(logged.seq).unwrap_or(i64::MAX);
            let event_type = logged.event.type_name().to_owned();
            let mut row = EventRow {
                seq,
                event_type,
                occurred_ms: now,
                actor_id: 0,
                status_id: None,
                target_account_id: None,
                reblog_of_id: None,
                in_reply_to_id: None,
                visibility: None,
            };
            match &logged.event {
                Event::AccountCreated { account } => {
                    row.actor_id = raw(*account);
                    row.occurred_ms = time_of(*account);
                }
                Event::AccountUpdated { account } => row.actor_id = raw(*account),
                Event::StatusCreated { status, author, visibility, reblog_of, in_reply_to_account, .. } => {
                    row.actor_id = raw(*author);
                    row.status_id = Some(raw(*status));
                    row.occurred_ms = time_of(*status);
                    row.reblog_of_id = reblog_of.map(raw);
                    row.target_account_id = in_reply_to_account.map(raw);
                    row.visibility = visibility_name(*visibility);
                    if let Some(record) = self.status(*status).await {
                        row.in_reply_to_id = record.in_reply_to_id.map(raw);
                        tags.extend(record.tags.into_iter().map(|t| (seq, raw(*status), t)));
                    }
                }
                Event::StatusUpdated { status, author } => {
                    row.actor_id = raw(*author);
                    row.status_id = Some(raw(*status));
                }
                Event::StatusDeleted { status, author, visibility, reblog_of, .. } => {
                    row.actor_id = raw(*author);
                    row.status_id = Some(raw(*status));
                    row.reblog_of_id = reblog_of.map(raw);
                    row.visibility = visibility_name(*visibility);
                }
                Event::Followed { follower, target }
                | Event::Unfollowed { follower, target }
                | Event::FollowRequested { follower, target }
                | Event::FollowRequestClosed { follower, target, .. } => {
                    row.actor_id = raw(*follower);
                    row.target_account_id = Some(raw(*target));
                }
                Event::Favourited { account, status, author } => {
                    row.actor_id = raw(*account);
                    row.status_id = Some(raw(*status));
                    row.target_account_id = Some(raw(*author));
                }
                Event::Unfavourited { account, status } => {
                    row.actor_id = raw(*account);
                    row.status_id = Some(raw(*status));
                }
                Event::PollEnded { status, author } => {
                    row.actor_id = raw(*author);
                    row.status_id = Some(raw(*status));
                }
            }
            rows.push(row);
        }
        (rows, tags)
    }

    /// What the store says of a status, `None` when it is gone (deleted since) or unreadable.
    async fn status(&self, id: Id) -> Option<StatusFacts> {
        match self.facts.status_facts(id).await {
            Ok(facts) => facts,
            Err(e) => {
                tracing::warn!(error = %e, status = %id, "analytics: cannot read a status; loading it without tags");
                None
            }
        }
    }

    /// Loads one batch: staging, then DELETE/INSERT merge in one transaction.
    pub async fn load(&self, events: &[LoggedEvent]) -> Result<(), LoadError> {
        let (rows, tags) = self.rows(events).await;
        let mut guard = self.client.lock().await;
        let result = self.load_rows(&mut guard, &rows, &tags).await;
        if result.is_err() {
            // The session may be mid-transaction or broken: start afresh next time.
            *guard = None;
        }
        result
    }

    async fn load_rows(&self, slot: &mut Option<Client>, rows: &[EventRow], tags: &[(i64, i64, String)]) -> Result<(), LoadError> {
        let client = self.session(slot).await?;
        let tx = client.transaction().await?;
        tx.batch_execute("DELETE FROM stage_events; DELETE FROM stage_tags;").await?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO stage_events (seq, event_type, occurred_ms, actor_id, status_id, target_account_id, reblog_of_id, in_reply_to_id, visibility) VALUES ",
            );
            let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * 9);
            for (i, row) in chunk.iter().enumerate() {
                push_tuple(&mut sql, i, 9);
                params.extend([
                    &row.seq as &(dyn ToSql + Sync),
                    &row.event_type,
                    &row.occurred_ms,
                    &row.actor_id,
                    &row.status_id,
                    &row.target_account_id,
                    &row.reblog_of_id,
                    &row.in_reply_to_id,
                    &row.visibility,
                ]);
            }
            tx.execute(sql.as_str(), &params).await?;
        }
        for chunk in tags.chunks(ROWS_PER_INSERT) {
            let mut sql = String::from("INSERT INTO stage_tags (seq, status_id, tag) VALUES ");
            let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * 3);
            for (i, (seq, status, tag)) in chunk.iter().enumerate() {
                push_tuple(&mut sql, i, 3);
                params.extend([seq as &(dyn ToSql + Sync), status, tag]);
            }
            tx.execute(sql.as_str(), &params).await?;
        }
        tx.batch_execute(
            "DELETE FROM starling_events USING stage_events WHERE starling_events.seq = stage_events.seq;
             INSERT INTO starling_events (seq, event_type, occurred_at, actor_id, status_id, target_account_id, reblog_of_id, in_reply_to_id, visibility)
               SELECT DISTINCT seq, event_type, TIMESTAMP 'epoch' + occurred_ms * INTERVAL '1 millisecond', actor_id, status_id, target_account_id, reblog_of_id, in_reply_to_id, visibility FROM stage_events;
             DELETE FROM starling_status_tags USING stage_tags WHERE starling_status_tags.status_id = stage_tags.status_id AND starling_status_tags.tag = stage_tags.tag;
             INSERT INTO starling_status_tags (seq, status_id, tag) SELECT DISTINCT seq, status_id, tag FROM stage_tags;",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Appends `($n, …)` for row `row` of `width` columns.
fn push_tuple(sql: &mut String, row: usize, width: usize) {
    if row > 0 {
        sql.push_str(", ");
    }
    sql.push('(');
    for col in 0..width {
        if col > 0 {
            sql.push_str(", ");
        }
        sql.push('$');
        sql.push_str(&(row * width + col + 1).to_string());
    }
    sql.push(')');
}

fn raw(id: Id) -> i64 {
    i64::try_from(id.as_u64()).unwrap_or(i64::MAX)
}

fn time_of(id: Id) -> i64 {
    i64::try_from(id.timestamp_millis()).unwrap_or(i64::MAX)
}

fn visibility_name(v: shared::wire::Visibility) -> Option<String> {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned))
}

#[async_trait]
impl EventSink for AnalyticsLoader {
    async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError> {
        self.load(events).await.map_err(|e| SinkError::new("warehouse load", e))
    }
}

#[cfg(test)]
mod tests {
    use super::push_tuple;

    #[test]
    fn tuples_number_parameters_row_major() {
        let mut sql = String::new();
        push_tuple(&mut sql, 0, 3);
        push_tuple(&mut sql, 1, 3);
        assert_eq!(sql, "($1, $2, $3), ($4, $5, $6)");
    }
}
