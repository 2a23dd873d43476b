//! The DynamoDB store of record (aws-sdk-dynamodb): core/app's [`Store`] and [`EventLog`]
//! ports on one table.
//!
//! Table: partition key `pk` (S), sort key `sk` (S), no GSIs. An item holds either `doc` (B,
//! a serialised record) or `n` (N, a counter). The app's single-table layout (core/app's
//! `keys`) maps one to one onto it; the event log adds three partitions the app never uses
//! (their names start with `$`):
//!
//! - `$HEAD` / `-`: the log head, `n` = the newest event position;
//! - `$LOG` / `{last seq, 20 digits}`: one item per committed transaction, holding its events
//!   (`ev`, JSON) at positions `first`..=`last`;
//! - `$CKPT` / `{consumer}`: a consumer's checkpoint, `n` = position.
//!
//! A transaction carrying events is one TransactWriteItems: the app's writes, the head moved
//! from `h` to `h + events` under the condition that it still is `h`, and the events' item.
//! So events commit with their change (the outbox), positions are gap-free, and position
//! `h + 1` can only commit after `h` did: a reader never skips an event that commits later.
//! See docs/dynamodb.md for the design and its trade-offs.

mod log;
mod store;

pub use log::{OUTBOX_RETENTION, TTL_ATTRIBUTE, outbox_keys};

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus, TimeToLiveSpecification};
use core_ports::ports::StoreError;

/// How to reach the table.
#[derive(Clone, Default)]
pub struct DynamoConfig {
    /// Table name.
    pub table: String,
    /// AWS region.
    pub region: String,
    /// Endpoint override (a local emulator, a VPC endpoint); `None`: the region's endpoint.
    pub endpoint: Option<String>,
    /// Explicit access key id and secret; `None`: the standard AWS credential chain
    /// (environment, profile, web identity, ECS task role, instance metadata).
    pub credentials: Option<(String, String)>,
    /// Creates the table (on-demand capacity) when it does not exist: for development.
    pub create_table: bool,
    /// Partitions of the event log (1 ..= 65,536; 0 counts as 1): each has its own head, so
    /// accounts in different partitions never contend for one. Fixed for a table's lifetime
    /// (recorded in it; a process configured differently refuses to start).
    pub log_partitions: u32,
}

impl std::fmt::Debug for DynamoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoConfig")
            .field("table", &self.table)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials.as_ref().map(|_| "***"))
            .field("create_table", &self.create_table)
            .field("log_partitions", &self.log_partitions)
            .finish()
    }
}

/// How often a waiting [`EventLog::read`](core_ports::ports::EventLog::read) looks for events
/// other processes appended. Each look is a BatchGetItem of the partitions' heads, so a short
/// interval multiplies idle reads by every consumer of every process; this process's own
/// appends wake its readers without waiting for it.
const POLL: Duration = Duration::from_millis(250);

/// The store and event log on one DynamoDB table. Cheap to clone.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: Arc<str>,
    /// Partitions of the event log.
    partitions: u32,
    /// Per log partition, the newest position this process has seen: the first guess of the
    /// next transaction with events there (a wrong guess only costs a retry).
    head_hints: Arc<[AtomicU64]>,
    /// Per log partition, this process's transactions with events take turns (FIFO): they all
    /// condition on the partition's head item, so running them at once only makes all but one
    /// fail and retry, and under a burst an unlucky one could lose every round. Processes
    /// still race each other (retried). A transaction spanning partitions takes their turns in
    /// ascending order (no deadlock).
    outbox_turns: Arc<[tokio::sync::Mutex<()>]>,
    /// Where the next multi-partition read starts (fairness between partitions).
    read_turn: Arc<std::sync::atomic::AtomicUsize>,
    /// Transactions sent again because a log head had moved (contention on a partition).
    head_retries: Arc<AtomicU64>,
    /// How often `read` polls while waiting for another process's appends; this process's
    /// own appends wake its readers at once (`appended`).
    poll: Duration,
    /// Signalled after every transaction of this process that appended events.
    appended: Arc<tokio::sync::Notify>,
    /// Stamps outbox items' expiry (TTL).
    clock: Arc<dyn core_ports::Clock>,
}

pub(crate) fn backend(e: impl Into<core_ports::BoxError>) -> StoreError {
    StoreError::backend("dynamodb", e)
}

/// An SDK error as the source, described by its full chain (its `Display` alone says only
/// "service error").
pub(crate) fn sdk_error<E: std::error::Error + Send + Sync + 'static>(what: &str, e: aws_sdk_dynamodb::error::SdkError<E>) -> StoreError {
    let mut text = format!("{what}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    StoreError::Backend(core_ports::ports::described(text, e))
}

impl DynamoStore {
    /// Connects and checks the table (DescribeTable), creating it when `create_table` is set:
    /// fails with a clear message when DynamoDB is unreachable or the table is missing.
    pub async fn connect(config: &DynamoConfig) -> Result<Self, StoreError> {
        let timeouts =
            aws_config::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_secs(3)).operation_attempt_timeout(Duration::from_secs(10)).build();
        let sdk =
            core_aws::loader(&config.region, config.endpoint.as_deref(), core_aws::keys(config.credentials.as_ref())).timeout_config(timeouts).load().await;
        let partitions = config.log_partitions.max(1);
        if partitions > core_ports::cursor::MAX_PARTITIONS {
            return Err(StoreError::Backend(format!("[store] log_partitions = {partitions}: at most {}", core_ports::cursor::MAX_PARTITIONS).into()));
        }
        let store = DynamoStore {
            client: Client::new(&sdk),
            table: config.table.as_str().into(),
            partitions,
            head_hints: (0..partitions).map(|_| AtomicU64::new(0)).collect(),
            outbox_turns: (0..partitions).map(|_| tokio::sync::Mutex::new(())).collect(),
            read_turn: Arc::default(),
            head_retries: Arc::default(),
            poll: POLL,
            appended: Arc::default(),
            clock: Arc::new(core_ports::SystemClock),
        };
        store.ensure_table(config.create_table).await?;
        store.check_layout().await?;
        Ok(store)
    }

    /// The same store stamping outbox expiry with `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn core_ports::Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many transactions with events this process had to send again because another
    /// moved a log head they conditioned on (0 when writers never share a partition).
    pub fn head_retries(&self) -> u64 {
        self.head_retries.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The table this store uses.
    pub fn table(&self) -> &str {
        &self.table
    }

    async fn ensure_table(&self, create: bool) -> Result<(), StoreError> {
        let table = &*self.table;
        match self.client.describe_table().table_name(table).send().await {
            Ok(out) => return self.wait_active(out.table().and_then(|t| t.table_status()).cloned()).await,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
                if !create {
                    return Err(StoreError::Backend(
                        format!("DynamoDB table {table:?} does not exist: create it (docs/dynamodb.md) or set [store] create_table = true").into(),
                    ));
                }
            }
            Err(e) => return Err(sdk_error(&format!("DynamoDB is unreachable or refused DescribeTable on {table:?}"), e)),
        }
        let attribute = |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().map_err(backend);
        let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(backend);
        let created = self
            .client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("pk")?)
            .attribute_definitions(attribute("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .send()
            .await;
        match created {
            Ok(_) => tracing::info!(table, "created DynamoDB table"),
            // Another process created it first (and enables its TTL).
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return self.wait_active(None).await,
            Err(e) => return Err(sdk_error(&format!("cannot create DynamoDB table {table:?}"), e)),
        }
        self.wait_active(None).await?;
        // Outbox items expire (infra/ sets the same on the tables it creates).
        let ttl = TimeToLiveSpecification::builder().attribute_name(log::TTL_ATTRIBUTE).enabled(true).build().map_err(backend)?;
        self.client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("cannot enable TTL on DynamoDB table {table:?}"), e))?;
        Ok(())
    }

    async fn wait_active(&self, mut status: Option<TableStatus>) -> Result<(), StoreError> {
        for _ in 0..120 {
            if status == Some(TableStatus::Active) {
                return Ok(());
            }
            if status.is_some() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let out = self.client.describe_table().table_name(&*self.table).send().await.map_err(|e| sdk_error("DescribeTable", e))?;
            status = out.table().and_then(|t| t.table_status()).cloned();
            if status.is_none() {
                status = Some(TableStatus::Creating);
            }
        }
        Err(StoreError::Backend(format!("DynamoDB table {:?} did not become ACTIVE within a minute", self.table).into()))
    }

    /// Whether the table answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.client.describe_table().table_name(&*self.table).send().await.map(|_| ()).map_err(|e| sdk_error("DescribeTable", e))
    }
}
