//! The production event path end to end: core's outbox relayed to Kinesis (moto_server, an
//! emulator of the AWS wire protocol), read back by the Kinesis consumers into fanout, search,
//! notifications and the analytics warehouse (Debian's PostgreSQL). Needs
//! STARLING_TEST_KINESIS_ENDPOINT, and STARLING_TEST_PG_URL for the warehouse (scripts/test.sh's
//! `events` section sets both). moto serves every AWS service on one endpoint: the
//! two-instance test keeps its shared store in moto's DynamoDB there too.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::{TestApp, User, ids, use_redis};

/// A fresh stream of `shards` shards on moto; returns its client.
async fn fresh_stream(endpoint: &str, stream: &str, shards: i32) -> aws_sdk_kinesis::Client {
    let config = core_kinesis::KinesisConfig {
        stream: stream.into(),
        region: "us-east-1".into(),
        endpoint: Some(endpoint.into()),
        credentials: Some(("test".into(), "test".into())),
    };
    let client = core_kinesis::client(&config).await;
    let _ = client.delete_stream().stream_name(stream).send().await;
    client.create_stream().stream_name(stream).shard_count(shards).send().await.unwrap();
    client
}

fn kinesis(endpoint: &str, stream: &str, lease_secs: u64) -> core_server::events::EventsSettings {
    core_server::events::EventsSettings::Kinesis {
        stream: stream.into(),
        region: "us-east-1".into(),
        endpoint: Some(endpoint.into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        lease_secs,
        feed_app_consumers: true,
    }
}

/// Polls `check` every 200 ms for up to 30 s; true once it held.
async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..150 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

async fn home(t: &TestApp, user: &User) -> Vec<String> {
    ids(&t.get("/api/v1/timelines/home", Some(&user.token)).await.expect(200))
}

#[tokio::test]
#[ignore = "needs moto_server and PostgreSQL: scripts/test.sh events section"]
async fn posts_reach_the_warehouse_through_kinesis() {
    let endpoint = std::env::var("STARLING_TEST_KINESIS_ENDPOINT").unwrap();
    let pg = std::env::var("STARLING_TEST_PG_URL").unwrap();
    let ca_file = std::env::var_os("STARLING_TEST_PG_CA").map(std::path::PathBuf::from);
    let stream = "starling-api-events";
    let config = core_kinesis::KinesisConfig {
        stream: stream.into(),
        region: "us-east-1".into(),
        endpoint: Some(endpoint.clone()),
        credentials: Some(("test".into(), "test".into())),
    };
    let client = core_kinesis::client(&config).await;
    let _ = client.delete_stream().stream_name(stream).send().await;
    client.create_stream().stream_name(stream).shard_count(2).send().await.unwrap();
    let warehouse_dir = tempfile::tempdir().unwrap();
    let warehouse = core_analytics::AnalyticsLoader::connect(
        &pg,
        ca_file.as_deref(),
        Arc::new(core_server::app_ports::StoredStatusFacts(Arc::new(core_embedded::RedbStore::open(&warehouse_dir.path().join("w.redb")).unwrap()))),
    )
    .await
    .unwrap();
    warehouse.query("DELETE FROM starling_events").await.unwrap();
    warehouse.query("DELETE FROM starling_status_tags").await.unwrap();

    let app = TestApp::spawn_with(|s| {
        s.events = core_server::events::EventsSettings::Kinesis {
            stream: stream.into(),
            region: "us-east-1".into(),
            endpoint: Some(endpoint),
            access_key_id: Some("test".into()),
            secret_access_key: Some("test".into()),
            lease_secs: 4,
            feed_app_consumers: true,
        };
        s.analytics = core_server::events::AnalyticsSettings::Redshift { url: pg.into(), ca_file };
    })
    .await;
    let [alice, bob] = app.register_all(["alice", "bob"]).await;
    let post = app.post_status(&alice, json!({"status": "hello #kinesis world"})).await;
    app.post(&format!("/api/v1/statuses/{}/favourite", post["id"].as_str().unwrap()), Some(&bob.token), json!({})).await.expect(200);

    let mut tags = vec![];
    for _ in 0..100 {
        tags = warehouse.top_hashtags().await.unwrap();
        let engaged = warehouse.engagement_per_post().await.unwrap();
        if !tags.is_empty() && engaged.first().is_some_and(|e| e.favourites == 1) {
            assert_eq!(engaged[0].status_id, post["id"].as_str().unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(tags, vec![("kinesis".to_owned(), 1)]);
    let rows = warehouse.query("SELECT COUNT(DISTINCT actor_id) FROM starling_events").await.unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 2);
    app.stop().await;
}

#[tokio::test]
#[ignore = "needs moto_server: scripts/test.sh events section"]
async fn with_events_on_kinesis_the_stream_feeds_home_search_and_notifications() {
    let endpoint = std::env::var("STARLING_TEST_KINESIS_ENDPOINT").unwrap();
    let stream = "starling-api-feed";
    fresh_stream(&endpoint, stream, 2).await;
    let t = TestApp::spawn_with(|s| s.events = kinesis(&endpoint, stream, 4)).await;
    assert!(t.app.runs_external_consumers(), "the log tails of fanout, search and notifications are off");

    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    // Bob's home exists in the cache before the post: only fanout can add to it.
    assert!(home(&t, &bob).await.is_empty());
    let mut live = crate::streaming::Sse::open(&t, "/api/v1/streaming/user", Some(&bob.token)).await;
    let post = t.post_status(&alice, json!({"status": "hello @bob, zephyrine skies"})).await;
    let post_id = post["id"].as_str().unwrap().to_owned();

    let reached_home = eventually(async || home(&t, &bob).await == [post_id.as_str()]).await;
    assert!(reached_home, "home: {:?}", home(&t, &bob).await);
    // No process tails the log for streams: fanout's feed published the update.
    let update = loop {
        let next = live.next_within(Duration::from_secs(10)).await.expect("the update reaches bob's stream");
        if next.event == "update" {
            break next;
        }
    };
    assert_eq!(update.json()["id"], post_id.as_str());
    let found =
        eventually(async || ids(&t.get("/api/v2/search?q=zephyrine&type=statuses", Some(&bob.token)).await.expect(200)["statuses"]) == [post_id.as_str()])
            .await;
    assert!(found, "search never found the post");
    let mentioned = eventually(async || {
        let list = t.get("/api/v1/notifications", Some(&bob.token)).await.expect(200);
        list.as_array().unwrap().iter().any(|n| n["type"] == "mention" && n["status"]["id"] == post_id.as_str())
    })
    .await;
    assert!(mentioned, "no mention notification");
    let followed =
        eventually(async || t.get("/api/v1/notifications?types[]=follow", Some(&alice.token)).await.expect(200).as_array().unwrap().len() == 1).await;
    assert!(followed, "no follow notification");

    // All of it came from the stream: the in-process consumers never moved past the start.
    for consumer in ["fanout", "search", "notifications"] {
        assert_eq!(t.app.consumer_checkpoint(consumer).await.unwrap().last(), 0, "{consumer} tailed the log");
    }
    let metrics = t.get("/metrics", None).await.expect(200);
    assert!(!metrics.as_str().unwrap().contains("starling_consumer_lag_events{consumer=\"fanout\"}"), "no log lag for consumers that do not tail the log");
    // Replays change nothing: once delivered, the post is there once and notified once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(home(&t, &bob).await, [post_id.as_str()]);
    let mentions = t.get("/api/v1/notifications?types[]=mention", Some(&bob.token)).await.expect(200);
    assert_eq!(mentions.as_array().unwrap().len(), 1);
    t.stop().await;
}

/// `starling_fanout_deliveries_total` of one instance.
async fn fanout_deliveries(t: &TestApp) -> u64 {
    let text = t.get("/metrics", None).await.expect(200);
    let text = text.as_str().unwrap();
    text.lines().find_map(|l| l.strip_prefix("starling_fanout_deliveries_total ")).unwrap().parse().unwrap()
}

#[tokio::test]
#[ignore = "needs moto_server and redis-server: scripts/test.sh events section"]
async fn two_instances_split_the_shards_and_together_fan_out_every_post() {
    let endpoint = std::env::var("STARLING_TEST_KINESIS_ENDPOINT").unwrap();
    let stream = "starling-api-split";
    let client = fresh_stream(&endpoint, stream, 4).await;
    // Two core instances as in production: one DynamoDB table (moto), one Redis, one stream.
    let redis = core_redis::test_server::RedisServer::single();
    let table = format!("starling-it-split-{}", std::process::id());
    let store_settings = core_server::StoreSettings::Dynamodb {
        table: table.clone(),
        region: "us-east-1".into(),
        endpoint: Some(endpoint.clone()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        create_table: true,
        log_partitions: 8,
    };
    let instance = |node: u8| {
        let (store, events, redis) = (store_settings.clone(), kinesis(&endpoint, stream, 2), &redis);
        move |s: &mut core_server::Settings| {
            s.node_id = Some(node);
            s.store = store;
            s.events = events;
            use_redis(s, redis);
        }
    };
    let a = TestApp::spawn_with(instance(1)).await;
    // Twelve authors (partition keys spread over the shards), one reader following them all.
    // Set up before the second instance starts: moto's TransactWriteItems rolls a refused
    // transaction back by restoring a copy of the whole table taken when it began, so under
    // two instances' lease contention it can drop another request's concurrent write (an
    // emulator artifact: DynamoDB checks and writes per item).
    let reader = a.register("reader").await;
    let mut authors = Vec::new();
    for i in 0..12 {
        let author = a.register(&format!("author{i}")).await;
        a.follow(&reader, &author).await;
        authors.push(author);
    }
    let b = TestApp::spawn_with(instance(2)).await;

    // Watch the fanout application's leases: each instance ends up with two of the four shards.
    let dynamo = core_dynamodb::DynamoStore::connect(&core_dynamodb::DynamoConfig {
        table,
        region: "us-east-1".into(),
        endpoint: Some(endpoint.clone()),
        credentials: Some(("test".into(), "test".into())),
        create_table: false,
        log_partitions: 8,
    })
    .await
    .unwrap();
    struct Nowhere;
    #[async_trait::async_trait]
    impl core_app::ports::EventSink for Nowhere {
        async fn deliver(&self, _: &[core_app::ports::LoggedEvent]) -> Result<(), core_app::ports::SinkError> {
            Ok(())
        }
    }
    let watcher = core_kinesis::KinesisConsumer::new(
        client,
        stream.into(),
        Arc::new(dynamo),
        Arc::new(Nowhere),
        core_kinesis::ConsumerOptions { lease: Duration::from_secs(2), ..core_kinesis::ConsumerOptions::new("fanout", "watcher") },
    );
    let split = eventually(async || {
        let leases = watcher.leases().await.unwrap();
        let mut per_owner = std::collections::HashMap::<String, usize>::new();
        for lease in &leases {
            *per_owner.entry(lease.owner.clone()).or_default() += 1;
        }
        leases.len() == 4 && per_owner.len() == 2 && per_owner.values().all(|n| *n == 2)
    })
    .await;
    assert!(split, "leases: {:?}", watcher.leases().await.unwrap());

    assert!(home(&b, &reader).await.is_empty());
    let (before_a, before_b) = (fanout_deliveries(&a).await, fanout_deliveries(&b).await);
    let mut posted = Vec::new();
    for (i, author) in authors.iter().enumerate() {
        let via = if i % 2 == 0 { &a } else { &b };
        posted.push(via.post_status(author, json!({"status": format!("post {i}")})).await["id"].as_str().unwrap().to_owned());
    }
    posted.reverse();

    // Each post reaches the reader's home exactly once, whichever instance holds its shard.
    let all_there = eventually(async || home(&a, &reader).await == posted).await;
    assert!(all_there, "home: {:?}, posted: {posted:?}", home(&a, &reader).await);
    let (by_a, by_b) = (fanout_deliveries(&a).await - before_a, fanout_deliveries(&b).await - before_b);
    assert!(by_a > 0 && by_b > 0, "both instances fanned out: a {by_a}, b {by_b}");
    assert!(by_a + by_b >= 12, "at least once: a {by_a}, b {by_b}");
    assert_eq!(home(&b, &reader).await, posted, "the same home, in one Redis, through either instance");
    a.stop().await;
    b.stop().await;
}

/// The cached home ids as they are (no hydration, which would hide deleted statuses).
async fn cached_home(t: &TestApp, user: &User) -> Vec<String> {
    let window = shared::page::Window { after: None, before: None, oldest_first: false, limit: 40 };
    t.app.home_ids(user.id.parse().unwrap(), &window).await.unwrap().iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn events_reaching_the_fanout_sink_late_or_out_of_order_change_nothing() {
    use core_app::events::Event;
    use core_app::ports::LoggedEvent;
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    let kept = t.post_status(&alice, json!({"status": "kept"})).await;
    let gone = t.post_status(&alice, json!({"status": "gone"})).await;
    assert_eq!(t.home_ids(&bob).await, [crate::id(&gone), crate::id(&kept)]);
    t.delete(&format!("/api/v1/statuses/{}", crate::id(&gone)), Some(&alice.token)).await.expect(200);
    t.settle().await;
    assert_eq!(cached_home(&t, &bob).await, [crate::id(&kept)]);

    let sinks = core_app::consumer::sinks(&t.app);
    let fanout = &sinks.iter().find(|(name, _)| *name == "fanout").unwrap().1;
    let (alice_id, bob_id) = (alice.id.parse().unwrap(), bob.id.parse().unwrap());
    // The creation arrives after the deletion (another shard, a resent PutRecords record).
    let created = Event::StatusCreated {
        status: crate::id(&gone).parse().unwrap(),
        author: alice_id,
        visibility: shared::wire::Visibility::Public,
        reblog_of: None,
        in_reply_to_account: None,
        mentions: vec![],
    };
    fanout.deliver(&[LoggedEvent { seq: 1, partition: 0, event: created }]).await.unwrap();
    assert_eq!(cached_home(&t, &bob).await, [crate::id(&kept)], "a deleted status is not delivered late");

    // A follow arrives after the unfollow that undid it: no backfill.
    t.post(&format!("/api/v1/accounts/{}/unfollow", alice.id), Some(&bob.token), json!({})).await.expect(200);
    t.settle().await;
    assert!(cached_home(&t, &bob).await.is_empty());
    fanout.deliver(&[LoggedEvent { seq: 2, partition: 0, event: Event::Followed { follower: bob_id, target: alice_id } }]).await.unwrap();
    assert!(cached_home(&t, &bob).await.is_empty(), "a stale follow does not backfill");

    // And an unfollow arriving after a re-follow removes nothing.
    t.follow(&bob, &alice).await;
    t.settle().await;
    assert_eq!(cached_home(&t, &bob).await, [crate::id(&kept)]);
    fanout.deliver(&[LoggedEvent { seq: 3, partition: 0, event: Event::Unfollowed { follower: bob_id, target: alice_id } }]).await.unwrap();
    assert_eq!(cached_home(&t, &bob).await, [crate::id(&kept)], "a stale unfollow removes nothing");
    t.stop().await;
}
