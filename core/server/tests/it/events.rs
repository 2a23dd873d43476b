//! The production event path end to end: core's outbox relayed to Kinesis (moto_server, an
//! emulator of the AWS wire protocol), read back by the Kinesis consumer and loaded into the
//! analytics warehouse (Debian's PostgreSQL). Needs STARLING_TEST_KINESIS_ENDPOINT and
//! STARLING_TEST_PG_URL (scripts/test.sh's `events` section sets both).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::TestApp;

#[tokio::test]
#[ignore = "needs moto_server and PostgreSQL: scripts/test.sh events section"]
async fn posts_reach_the_warehouse_through_kinesis() {
    let endpoint = std::env::var("STARLING_TEST_KINESIS_ENDPOINT").unwrap();
    let pg = std::env::var("STARLING_TEST_PG_URL").unwrap();
    let ca_file = std::env::var_os("STARLING_TEST_PG_CA").map(std::path::PathBuf::from);
    let stream = "starling-api-events";
    let config = core_kinesis::KinesisConfig { stream: stream.into(), region: "us-east-1".into(), endpoint: Some(endpoint.clone()), credentials: Some(("test".into(), "test".into())) };
    let client = core_kinesis::client(&config).await;
    let _ = client.delete_stream().stream_name(stream).send().await;
    client.create_stream().stream_name(stream).shard_count(2).send().await.unwrap();
    let warehouse_dir = tempfile::tempdir().unwrap();
    let warehouse = core_analytics::AnalyticsLoader::connect(&pg, ca_file.as_deref(), Arc::new(core_embedded::RedbStore::open(&warehouse_dir.path().join("w.redb")).unwrap())).await.unwrap();
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
        };
        s.analytics = core_server::events::AnalyticsSettings::Redshift { url: pg, ca_file };
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
