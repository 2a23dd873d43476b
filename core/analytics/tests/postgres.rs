//! The loader against a real PostgreSQL (scripts/pg-test.sh starts one and sets
//! STARLING_TEST_PG_URL): the event sink contract; events committed through the embedded
//! store's outbox, tailed into the warehouse, the ready queries asserted, replays proven
//! idempotent, throughput measured. What the loader reads of statuses comes from a map here
//! (core's record-backed source is the server's, tested there).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use core_analytics::queries::Engagement;
use core_analytics::{AnalyticsLoader, CONSUMER};
use core_embedded::RedbStore;
use core_ports::events::Event;
use core_ports::ports::{EventLog, LoggedEvent, StatusFacts, StatusFactsSource, Store, StoreError};
use shared::id::Id;
use shared::wire::Visibility;

fn pg_url() -> String {
    std::env::var("STARLING_TEST_PG_URL").expect("STARLING_TEST_PG_URL (run through scripts/pg-test.sh)")
}

/// The throwaway CA that signed the test server's certificate (scripts/pg-test.sh).
fn pg_ca() -> PathBuf {
    std::env::var_os("STARLING_TEST_PG_CA").expect("STARLING_TEST_PG_CA (run through scripts/pg-test.sh)").into()
}

/// What the store says of statuses, by id.
#[derive(Default)]
struct Facts(Mutex<HashMap<Id, StatusFacts>>);

#[async_trait]
impl StatusFactsSource for Facts {
    async fn status_facts(&self, id: Id) -> Result<Option<StatusFacts>, StoreError> {
        Ok(self.0.lock().unwrap().get(&id).cloned())
    }
}

/// A loader on a database of its own (tests run in parallel).
async fn fresh(facts: Arc<Facts>, db: &str) -> AnalyticsLoader {
    let base = pg_url();
    let admin = AnalyticsLoader::connect(&base, Some(&pg_ca()), facts.clone()).await.unwrap();
    admin.query(&format!("DROP DATABASE IF EXISTS {db}")).await.unwrap();
    admin.query(&format!("CREATE DATABASE {db} TEMPLATE template0")).await.unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    AnalyticsLoader::connect(&format!("{server}/{db}"), Some(&pg_ca()), facts).await.unwrap()
}

/// What the event sink contract's probe sees of the loader: the fact rows.
struct Rows(Arc<AnalyticsLoader>);

#[async_trait]
impl core_ports::contract::event_sink::SinkProbe for Rows {
    async fn handled(&self, seqs: &[u64]) -> Vec<(u64, String)> {
        if seqs.is_empty() {
            return Vec::new();
        }
        let list = seqs.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        let rows = self.0.query(&format!("SELECT seq, event_type FROM starling_events WHERE seq IN ({list})")).await.unwrap();
        rows.iter().map(|r| (u64::try_from(r.get::<_, i64>(0)).unwrap(), r.get::<_, String>(1))).collect()
    }
}

/// The event sink contract, one test (and one database) per promise.
mod loader_event_sink_contract {
    use super::*;

    async fn fixture() -> (Arc<AnalyticsLoader>, Box<Rows>) {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let db = format!("sink_contract_{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let loader = Arc::new(fresh(Arc::default(), &db).await);
        (loader.clone(), Box::new(Rows(loader)))
    }

    core_ports::event_sink_contract_tests!(fixture(), #[ignore = "needs PostgreSQL: run through scripts/pg-test.sh"]);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run through scripts/pg-test.sh"]
async fn the_connection_is_tls_with_a_verified_certificate() {
    let facts = Arc::new(Facts::default());
    let scratch_store = || facts.clone();
    let loader = AnalyticsLoader::connect(&pg_url(), Some(&pg_ca()), scratch_store()).await.unwrap();
    let rows = loader.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").await.unwrap();
    assert!(rows[0].get::<_, bool>(0), "the session is not encrypted");

    // Without the private CA the certificate is unknown: TLS is required, so no connection.
    let refused = AnalyticsLoader::connect(&pg_url(), None, scratch_store()).await.err().expect("connected without trusting the server's CA");
    assert!(format!("{refused:?}").contains("UnknownIssuer"), "{refused:?}");

    // Plain text only when the URL asks for it.
    let plain = AnalyticsLoader::connect(&format!("{}?sslmode=disable", pg_url()), None, scratch_store()).await.unwrap();
    let rows = plain.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").await.unwrap();
    assert!(!rows[0].get::<_, bool>(0));

    // A CA file that is not PEM is a settings error naming the file, not a connection attempt.
    let junk = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(junk.path(), "not a certificate").unwrap();
    let bad = AnalyticsLoader::connect(&pg_url(), Some(junk.path()), scratch_store()).await.err().expect("accepted a CA file without certificates");
    assert!(matches!(bad, core_analytics::LoadError::Settings(_)), "{bad}");
    assert!(bad.to_string().contains(&junk.path().display().to_string()), "{bad}");
}

/// Loaders starting together on an empty warehouse all create the schema: the losers of
/// PostgreSQL's `CREATE TABLE IF NOT EXISTS` race (a duplicate table, row type or catalogue
/// row) go again instead of failing to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: run through scripts/pg-test.sh"]
async fn loaders_starting_together_all_connect() {
    let facts = Arc::new(Facts::default());
    let admin = AnalyticsLoader::connect(&pg_url(), Some(&pg_ca()), facts.clone()).await.unwrap();
    let (server, _) = pg_url().rsplit_once('/').map(|(s, d)| (s.to_string(), d.to_string())).unwrap();
    for round in 0..5 {
        let db = format!("starting_together_{round}");
        admin.query(&format!("DROP DATABASE IF EXISTS {db}")).await.unwrap();
        admin.query(&format!("CREATE DATABASE {db} TEMPLATE template0")).await.unwrap();
        let mut starting = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (url, facts) = (format!("{server}/{db}"), facts.clone());
            starting.spawn(async move { AnalyticsLoader::connect(&url, Some(&pg_ca()), facts).await.map(|_| ()) });
        }
        while let Some(started) = starting.join_next().await {
            started.unwrap().unwrap_or_else(|e| panic!("round {round}: a loader failed to start: {e:?}"));
        }
    }
}

/// 2020-01-01T00:00:00Z in ms.
const JAN1: u64 = 1_577_836_800_000;
const HOUR: u64 = 3_600_000;
const MINUTE: u64 = 60_000;

fn id_at(ms: u64, n: u64) -> Id {
    Id::from_u64(Id::floor_of_millis(ms).as_u64() + n)
}

/// A post: its facts as the store would tell them, its event through the outbox.
async fn post(
    (store, facts): (&RedbStore, &Facts),
    id: Id,
    author: Id,
    visibility: Visibility,
    tags: &[&str],
    in_reply_to: Option<(Id, Id)>,
    reblog_of: Option<Id>,
) {
    let known = StatusFacts { in_reply_to_id: in_reply_to.map(|(s, _)| s), tags: tags.iter().map(|t| (*t).to_owned()).collect() };
    facts.0.lock().unwrap().insert(id, known);
    let event = Event::StatusCreated { status: id, author, visibility, reblog_of, in_reply_to_account: in_reply_to.map(|(_, a)| a), mentions: vec![] };
    store.transact(vec![], vec![event]).await.unwrap();
}

async fn happen(store: &RedbStore, event: Event) {
    store.transact(vec![], vec![event]).await.unwrap();
}

/// The ready queries over the scenario of the test below.
async fn check(loader: &AnalyticsLoader, s1: Id) {
    let dau = loader.daily_active_users().await.unwrap();
    assert_eq!(dau.len(), 3, "{dau:?}");
    assert_eq!(dau[0], ("2020-01-01".to_owned(), 3));
    assert_eq!(dau[1], ("2020-01-02".to_owned(), 1));
    // Favourites, follows and deletions carry no time of their own: loaded "now".
    assert_eq!(dau[2].1, 3);
    assert_eq!(
        loader.posts_per_hour().await.unwrap(),
        vec![("2020-01-01 10:00".to_owned(), 2), ("2020-01-01 11:00".to_owned(), 2), ("2020-01-02 09:00".to_owned(), 1)]
    );
    // The private post's tag and the deleted post's tag do not count.
    assert_eq!(loader.top_hashtags().await.unwrap(), vec![("rust".to_owned(), 2), ("tokio".to_owned(), 1)]);
    let engagement = loader.engagement_per_post().await.unwrap();
    assert_eq!(engagement[0], Engagement { status_id: s1.to_string(), favourites: 1, boosts: 1, replies: 1 });
    assert_eq!(engagement.len(), 4, "s1..s4 are live originals: {engagement:?}");
    assert!(engagement[1..].iter().all(|e| e.favourites + e.boosts + e.replies == 0));
    let rows = loader.query("SELECT COUNT(*) FROM starling_events").await.unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 11);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/pg-test.sh"]
async fn ready_queries_answer_from_loaded_events_and_replays_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RedbStore::open(&dir.path().join("db.redb")).unwrap());
    let facts = Arc::new(Facts::default());
    let loader = fresh(facts.clone(), "queries").await;
    let (a, b, c) = (id_at(JAN1 - HOUR, 1), id_at(JAN1 - HOUR, 2), id_at(JAN1 - HOUR, 3));
    let s1 = id_at(JAN1 + 10 * HOUR + 5 * MINUTE, 0);
    let s2 = id_at(JAN1 + 10 * HOUR + 40 * MINUTE, 0);
    let s3 = id_at(JAN1 + 11 * HOUR + 10 * MINUTE, 0);
    let s4 = id_at(JAN1 + 11 * HOUR + 20 * MINUTE, 0);
    let s5 = id_at(JAN1 + 11 * HOUR + 30 * MINUTE, 0);
    let s6 = id_at(JAN1 + 24 * HOUR + 9 * HOUR, 0);
    post((&store, &facts), s1, a, Visibility::Public, &["rust", "tokio"], None, None).await;
    post((&store, &facts), s2, b, Visibility::Public, &["rust"], None, None).await;
    post((&store, &facts), s3, c, Visibility::Private, &["secret"], None, None).await;
    post((&store, &facts), s4, b, Visibility::Public, &[], Some((s1, a)), None).await;
    post((&store, &facts), s5, c, Visibility::Public, &[], None, Some(s1)).await;
    happen(&store, Event::Favourited { account: b, status: s1, author: a }).await;
    happen(&store, Event::Favourited { account: c, status: s1, author: a }).await;
    happen(&store, Event::Unfavourited { account: c, status: s1 }).await;
    happen(&store, Event::Followed { follower: a, target: b }).await;
    post((&store, &facts), s6, a, Visibility::Public, &["rust"], None, None).await;
    happen(
        &store,
        Event::StatusDeleted { status: s6, author: a, visibility: Visibility::Public, reblog_of: None, mentions: vec![], tags: vec!["rust".into()] },
    )
    .await;

    core_ports::sink::drain(store.as_ref(), CONSUMER, &loader, 4).await.unwrap();
    check(&loader, s1).await;

    // At-least-once: the whole log delivered again (a crash before the checkpoint) changes nothing.
    store.save_checkpoint(CONSUMER, &core_ports::Cursor::single(0)).await.unwrap();
    core_ports::sink::drain(store.as_ref(), CONSUMER, &loader, 5).await.unwrap();
    check(&loader, s1).await;
    assert_eq!(store.checkpoint(CONSUMER).await.unwrap(), store.head().await.unwrap());
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/pg-test.sh"]
async fn loader_throughput() {
    let loader = fresh(Arc::default(), "throughput").await;
    let total: u64 = 50_000;
    let batch: u64 = 500;
    let events: Vec<LoggedEvent> = (1..=total)
        .map(|seq| LoggedEvent {
            seq,
            partition: 0,
            event: Event::Favourited { account: Id::from_u64(1000 + seq % 977), status: Id::from_u64(500_000 + seq % 5003), author: Id::from_u64(7) },
        })
        .collect();
    let started = Instant::now();
    for chunk in events.chunks(usize::try_from(batch).unwrap()) {
        core_ports::ports::EventSink::deliver(&loader, chunk).await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let rows = loader.query("SELECT COUNT(*) FROM starling_events").await.unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), i64::try_from(total).unwrap());
    println!("analytics loader: {total} events in batches of {batch} in {secs:.2}s = {:.0} events/s", total as f64 / secs);
}
