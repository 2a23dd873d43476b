//! The search API with `[search] type = "opensearch"`, against core-opensearch's
//! recorded-contract fake (no OpenSearch server runs on these machines). The whole API suite
//! also runs this way with `STARLING_TEST_SEARCH=opensearch`; these tests always do.

use core_opensearch::fake::Fake;
use core_server::{SearchSettings, Settings};
use serde_json::json;

use crate::{TestApp, id, ids};

/// Points `settings` at a fresh fake, returned so it outlives the app's requests.
pub async fn use_fake(settings: &mut Settings) -> Fake {
    let fake = Fake::start().await;
    settings.search = SearchSettings::Opensearch { url: fake.url.clone(), username: None, password: None, index_prefix: "it-".into() };
    fake
}

async fn on_fake() -> TestApp {
    let fake = Fake::start().await;
    let url = fake.url.clone();
    let mut t = TestApp::spawn_with(|s| s.search = SearchSettings::Opensearch { url, username: None, password: None, index_prefix: "it-".into() }).await;
    t.opensearch = Some(fake);
    t
}

#[tokio::test]
async fn statuses_accounts_and_hashtags_are_searched_in_opensearch() {
    let t = on_fake().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let diluted = t.post_status(&alice, json!({"status": "an afternoon in the garden reading about astronomy and birds #Stars"})).await;
    let dense = t.post_status(&alice, json!({"status": "astronomy astronomy astronomy #stargazing"})).await;
    t.post_status(&alice, json!({"status": "secret astronomy plans", "visibility": "private"})).await;
    t.settle().await;

    let found = t.get("/api/v2/search?q=astronmy&type=statuses", Some(&bob.token)).await.expect(200);
    assert_eq!(ids(&found["statuses"]), vec![id(&dense), id(&diluted)], "BM25 with a typo, private hidden from a stranger");
    let accounts = t.get("/api/v1/accounts/search?q=ali", Some(&bob.token)).await.expect(200);
    assert_eq!(accounts.as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect::<Vec<_>>(), vec!["alice"]);
    let tags = t.get("/api/v2/search?q=%23star&type=hashtags", Some(&bob.token)).await.expect(200);
    let names: Vec<&str> = tags["hashtags"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["stargazing", "stars"]);

    // The index lives in OpenSearch: the fake holds the documents under the configured prefix.
    let fake = t.opensearch.as_ref().unwrap();
    assert_eq!(fake.indices(), vec!["it-accounts", "it-statuses"]);
    assert_eq!(fake.doc("it-statuses", &id(&dense)).unwrap()["visibility"], "public");
    assert!(fake.log().iter().any(|r| r.path == "/_bulk" && r.query == "refresh=wait_for"), "the search consumer writes with _bulk");

    t.delete(&format!("/api/v1/statuses/{}", id(&dense)), Some(&alice.token)).await.expect(200);
    t.settle().await;
    let found = t.get("/api/v2/search?q=astronomy&type=statuses", Some(&bob.token)).await.expect(200);
    assert_eq!(ids(&found["statuses"]), vec![id(&diluted)], "a deleted status is removed from the index");
}

#[tokio::test]
async fn an_unreachable_opensearch_fails_startup_with_a_clear_message() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut settings = Settings::default();
    settings.server.data_dir = tempfile::tempdir().unwrap().path().to_path_buf();
    settings.search = SearchSettings::Opensearch { url, username: None, password: None, index_prefix: "x-".into() };
    let err = core_server::build(&settings).await.err().expect("startup must fail");
    assert!(format!("{err:#}").contains("OpenSearch backend is unreachable"), "{err:#}");
}
