//! The OpenSearch adapter against a recorded-contract fake (no OpenSearch server runs on these
//! machines): the port contract suite, the exact requests it sends (tests/fixtures/*_request.*),
//! and how it reads responses recorded from the OpenSearch 2.x documentation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use core_opensearch::fake::Fake;
use core_opensearch::{OpenSearchConfig, OpenSearchIndex, accounts_mapping, statuses_mapping};
use core_ports::ports::{AccountDoc, AccountSearch, SearchChange, SearchIndex, StatusDoc, StatusSearch};
use serde_json::{Value, json};
use shared::id::Id;
use shared::wire::Visibility;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if name.ends_with(".ndjson") {
        Value::Array(text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect())
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

async fn connect(url: &str) -> OpenSearchIndex {
    OpenSearchIndex::connect(&OpenSearchConfig::new(url)).await.unwrap()
}

fn status(n: u64, author: u64, visibility: Visibility, mentions: &[u64], text: &str, tags: &[&str]) -> SearchChange {
    SearchChange::IndexStatus(StatusDoc {
        id: Id::from_u64(n),
        author: Id::from_u64(author),
        visibility,
        mentions: mentions.iter().copied().map(Id::from_u64).collect(),
        text: text.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    })
}

mod against_the_fake {
    core_ports::search_index_contract_tests!(async {
        let fake = super::Fake::start().await;
        let index = super::connect(&fake.url).await;
        core_ports::contract::Fixture::new(index, fake)
    });
}

#[tokio::test]
async fn startup_creates_absent_indices_with_the_recorded_mappings_once() {
    let fake = Fake::start().await;
    connect(&fake.url).await;
    let calls: Vec<(String, String)> = fake.log().iter().map(|r| (r.method.clone(), r.path.clone())).collect();
    let expected: Vec<(String, String)> =
        [("HEAD", "/starling-statuses"), ("PUT", "/starling-statuses"), ("HEAD", "/starling-accounts"), ("PUT", "/starling-accounts")]
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
    assert_eq!(calls, expected);
    let log = fake.log();
    assert_eq!(log[1].body, fixture("statuses_mapping_request.json"));
    assert_eq!(log[3].body, fixture("accounts_mapping_request.json"));
    assert_eq!(statuses_mapping(), fixture("statuses_mapping_request.json"));
    assert_eq!(accounts_mapping(), fixture("accounts_mapping_request.json"));

    fake.clear_log();
    connect(&fake.url).await;
    assert!(fake.log().iter().all(|r| r.method == "HEAD"), "existing indices are left alone");
    assert_eq!(fake.indices(), vec!["starling-accounts", "starling-statuses"]);
}

#[tokio::test]
async fn requests_match_the_recorded_contract() {
    let fake = Fake::start().await;
    let config = OpenSearchConfig { basic_auth: Some(("starling".into(), "s3cret".into())), ..OpenSearchConfig::new(&fake.url) };
    let index = OpenSearchIndex::connect(&config).await.unwrap();
    fake.clear_log();

    index
        .apply(vec![
            status(100, 1, Visibility::Public, &[], "Gardening in the rain", &["garden"]),
            status(101, 2, Visibility::Private, &[3], "secret plans", &[]),
            SearchChange::DeleteStatus(Id::from_u64(99)),
            SearchChange::IndexAccount(AccountDoc { id: Id::from_u64(3), username: "bobby_tables".into(), display_name: "Carol".into() }),
            SearchChange::DeleteAccount(Id::from_u64(4)),
        ])
        .await
        .unwrap();
    let query = StatusSearch {
        text: "gardening \"(RAIN:*".into(),
        reader: Id::from_u64(3),
        followed: vec![Id::from_u64(2)],
        author: Some(Id::from_u64(1)),
        max_id: Some(Id::from_u64(200)),
        min_id: Some(Id::from_u64(50)),
        offset: 0,
        limit: 20,
    };
    assert_eq!(index.statuses(&query).await.unwrap(), vec![Id::from_u64(100)]);
    let accounts = AccountSearch { text: "@Bobby".into(), among: Some(vec![Id::from_u64(3), Id::from_u64(5)]), offset: 0, limit: 5 };
    assert_eq!(index.accounts(&accounts).await.unwrap(), vec![Id::from_u64(3)]);
    assert_eq!(index.hashtags("gard", 0, 10).await.unwrap().len(), 1);
    index.clear().await.unwrap();

    let log = fake.log();
    let shape: Vec<(&str, &str, &str)> = log.iter().map(|r| (r.method.as_str(), r.path.as_str(), r.query.as_str())).collect();
    assert_eq!(
        shape,
        vec![
            ("POST", "/_bulk", "refresh=wait_for"),
            ("POST", "/starling-statuses/_search", ""),
            ("POST", "/starling-accounts/_search", ""),
            ("POST", "/starling-statuses/_search", ""),
            ("POST", "/starling-statuses,starling-accounts/_delete_by_query", "conflicts=proceed&refresh=true"),
        ]
    );
    assert_eq!(log[0].body, fixture("bulk_request.ndjson"));
    assert_eq!(log[1].body, fixture("status_search_request.json"));
    assert_eq!(log[2].body, fixture("account_search_request.json"));
    assert_eq!(log[3].body, fixture("hashtag_search_request.json"));
    assert_eq!(log[4].body, fixture("delete_by_query_request.json"));
    // "starling:s3cret" in base64, on every request.
    assert!(log.iter().all(|r| r.authorization.as_deref() == Some("Basic c3Rhcmxpbmc6czNjcmV0")));
}

#[tokio::test]
async fn queries_with_nothing_searchable_are_not_sent() {
    let fake = Fake::start().await;
    let index = connect(&fake.url).await;
    fake.clear_log();
    let query =
        StatusSearch { text: "\"(:* ".into(), reader: Id::from_u64(1), followed: vec![], author: None, max_id: None, min_id: None, offset: 0, limit: 20 };
    assert!(index.statuses(&query).await.unwrap().is_empty());
    assert!(index.accounts(&AccountSearch { text: "@".into(), among: None, offset: 0, limit: 5 }).await.unwrap().is_empty());
    assert!(index.hashtags("", 0, 5).await.unwrap().is_empty());
    index.apply(vec![]).await.unwrap();
    assert!(fake.log().is_empty());
}

#[tokio::test]
async fn a_strict_mapping_refusal_fails_the_batch() {
    // The fake refuses fields its mapping lacks, as `dynamic: strict` does; a hand-made
    // index with a narrower mapping makes the adapter's documents hit that.
    let fake = Fake::start().await;
    let client = reqwest::Client::new();
    let narrow = json!({ "settings": statuses_mapping()["settings"].clone(), "mappings": { "dynamic": "strict", "properties": { "id": { "type": "unsigned_long" }, "text": { "type": "text", "analyzer": "starling_text" } } } });
    client.put(format!("{}/starling-statuses", fake.url)).json(&narrow).send().await.unwrap();
    let index = connect(&fake.url).await;
    let err = index.apply(vec![status(1, 1, Visibility::Public, &[], "hello", &[])]).await.unwrap_err();
    assert!(err.to_string().contains("strict_dynamic_mapping_exception"), "{err}");
}

#[tokio::test]
async fn an_unreachable_cluster_fails_startup() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = OpenSearchIndex::connect(&OpenSearchConfig::new(url)).await.unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
}

/// A server answering each (method, path) with a recorded response fixture.
async fn replay(routes: Vec<(&'static str, &'static str, u16, &'static str)>) -> String {
    let table: Arc<HashMap<(String, String), (u16, String)>> =
        Arc::new(routes.into_iter().map(|(m, p, s, f)| ((m.to_owned(), p.to_owned()), (s, f.to_owned()))).collect());
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
        let table = table.clone();
        async move {
            match table.get(&(method.to_string(), uri.path().to_owned())) {
                Some((status, name)) if name.is_empty() => StatusCode::from_u16(*status).unwrap().into_response(),
                Some((status, name)) => (StatusCode::from_u16(*status).unwrap(), axum::Json(fixture(name))).into_response(),
                None => (StatusCode::BAD_REQUEST, "not recorded").into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn recorded_responses_are_understood() {
    let url = replay(vec![
        ("HEAD", "/starling-statuses", 404, ""),
        ("PUT", "/starling-statuses", 400, "create_index_exists_response.json"),
        ("HEAD", "/starling-accounts", 404, ""),
        ("PUT", "/starling-accounts", 200, "create_index_response.json"),
        ("POST", "/_bulk", 200, "bulk_response.json"),
        ("POST", "/starling-statuses/_search", 200, "search_response.json"),
        ("POST", "/starling-accounts/_search", 404, "index_not_found_response.json"),
        ("POST", "/starling-statuses,starling-accounts/_delete_by_query", 200, "delete_by_query_response.json"),
    ])
    .await;
    let index = connect(&url).await; // another instance created the statuses index first: fine
    index.apply(vec![status(100, 1, Visibility::Public, &[], "x", &[]), SearchChange::DeleteStatus(Id::from_u64(99))]).await.unwrap();
    let query =
        StatusSearch { text: "gardening".into(), reader: Id::from_u64(1), followed: vec![], author: None, max_id: None, min_id: None, offset: 0, limit: 20 };
    assert_eq!(index.statuses(&query).await.unwrap(), vec![Id::from_u64(101), Id::from_u64(100)]);
    let err = index.accounts(&AccountSearch { text: "bob".into(), among: None, offset: 0, limit: 5 }).await.unwrap_err();
    assert!(err.to_string().contains("index_not_found_exception"), "{err}");
    index.clear().await.unwrap();

    let url = replay(vec![
        ("HEAD", "/starling-statuses", 200, ""),
        ("HEAD", "/starling-accounts", 200, ""),
        ("POST", "/_bulk", 200, "bulk_error_response.json"),
        ("POST", "/starling-statuses/_search", 200, "aggregation_response.json"),
    ])
    .await;
    let index = connect(&url).await;
    let err = index.apply(vec![status(100, 1, Visibility::Public, &[], "x", &[])]).await.unwrap_err();
    assert!(err.to_string().contains("index 101: strict_dynamic_mapping_exception"), "{err}");
    let tags = index.hashtags("garden", 0, 10).await.unwrap();
    let tags: Vec<(&str, u64)> = tags.iter().map(|t| (t.name.as_str(), t.uses)).collect();
    assert_eq!(tags, vec![("garden", 1), ("gardening", 2)], "the exact tag first");
}

/// Every key path of `recorded` exists in `actual` (arrays: compared by their first element).
fn same_shape(recorded: &Value, actual: &Value, at: &str) {
    match (recorded, actual) {
        (Value::Object(r), Value::Object(a)) => {
            for (key, value) in r {
                let Some(other) = a.get(key) else { panic!("fake answer lacks {at}/{key}") };
                same_shape(value, other, &format!("{at}/{key}"));
            }
        }
        (Value::Array(r), Value::Array(a)) => {
            if let (Some(r), Some(a)) = (r.first(), a.first()) {
                same_shape(r, a, &format!("{at}/0"));
            }
        }
        (Value::Null, _) | (_, Value::Null) => {}
        (r, a) => assert_eq!(std::mem::discriminant(r), std::mem::discriminant(a), "type differs at {at}: {r} vs {a}"),
    }
}

#[tokio::test]
async fn the_fake_answers_in_the_recorded_shapes() {
    let fake = Fake::start().await;
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, body: Option<String>| {
        let mut request = http.request(method, format!("{}{path}", fake.url)).header("content-type", "application/json");
        if let Some(body) = body {
            request = request.body(body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, created) = send(reqwest::Method::PUT, "/starling-statuses", Some(statuses_mapping().to_string())).await;
    assert_eq!(status, 200);
    same_shape(&fixture("create_index_response.json"), &created, "");
    let (status, exists) = send(reqwest::Method::PUT, "/starling-statuses", Some(statuses_mapping().to_string())).await;
    assert_eq!(status, 400);
    same_shape(&fixture("create_index_exists_response.json"), &exists, "");
    let bulk = "{\"index\":{\"_index\":\"starling-statuses\",\"_id\":\"100\"}}\n{\"id\":100,\"text\":\"garden\",\"tags\":[\"garden\"],\"visibility\":\"public\"}\n{\"delete\":{\"_index\":\"starling-statuses\",\"_id\":\"99\"}}\n";
    let (_, bulked) = send(reqwest::Method::POST, "/_bulk", Some(bulk.into())).await;
    same_shape(&fixture("bulk_response.json"), &bulked, "");
    let bad = "{\"index\":{\"_index\":\"starling-statuses\",\"_id\":\"101\"}}\n{\"id\":101,\"extra\":1}\n";
    let (_, refused) = send(reqwest::Method::POST, "/_bulk", Some(bad.into())).await;
    same_shape(&fixture("bulk_error_response.json")["items"][1], &refused["items"][0], "");
    let (_, found) = send(
        reqwest::Method::POST,
        "/starling-statuses/_search",
        Some(json!({ "sort": ["_score", { "id": "desc" }], "query": { "match": { "text": "garden" } } }).to_string()),
    )
    .await;
    same_shape(&fixture("search_response.json"), &found, "");
    let (_, aggregated) = send(
        reqwest::Method::POST,
        "/starling-statuses/_search",
        Some(json!({ "size": 0, "aggs": { "tags": { "terms": { "field": "tags", "include": "gar.*" } } } }).to_string()),
    )
    .await;
    same_shape(&fixture("aggregation_response.json"), &aggregated, "");
    let (status, missing) = send(reqwest::Method::POST, "/starling-accounts/_search", Some("{}".into())).await;
    assert_eq!(status, 404);
    same_shape(&fixture("index_not_found_response.json"), &missing, "");
    let (_, deleted) = send(reqwest::Method::POST, "/starling-statuses/_delete_by_query", Some(json!({ "query": { "match_all": {} } }).to_string())).await;
    same_shape(&fixture("delete_by_query_response.json"), &deleted, "");
    let (status, unknown) = send(reqwest::Method::POST, "/starling-statuses/_update_by_query", Some("{}".into())).await;
    assert_eq!((status, &unknown["error"]["type"]), (400, &json!("unsupported_by_fake")), "calls outside the contract are refused");
}
