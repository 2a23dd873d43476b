//! Filters: v2 and v1 CRUD, and what keyword and status filters do to timelines, threads,
//! notifications and streams (hide, warn with `FilterResult`s, contexts, whole words, expiry).

use std::time::Duration;

use serde_json::{Value, json};

use crate::streaming::{Sse, ws_next, ws_url};
use crate::{TestApp, User, assert_required, id, ids};

/// `Filter` required fields (`shared/mastodon-openapi.json`).
const FILTER: &[&str] = &["context", "filter_action", "id", "title"];
/// `V1Filter` required fields.
const V1_FILTER: &[&str] = &["context", "id", "irreversible", "phrase", "whole_word"];

async fn filter(t: &TestApp, user: &User, body: Value) -> Value {
    t.post("/api/v2/filters", Some(&user.token), body).await.expect(200)
}

async fn public_ids(t: &TestApp, user: &User) -> Vec<String> {
    t.settle().await;
    ids(&t.get("/api/v1/timelines/public", Some(&user.token)).await.expect(200))
}

/// The statuses of a timeline by id.
fn by_id<'a>(list: &'a Value, status: &Value) -> Option<&'a Value> {
    list.as_array().unwrap().iter().find(|s| s["id"] == status["id"])
}

#[tokio::test]
async fn filters_v2_are_created_read_updated_and_deleted_with_their_keywords_and_statuses() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let created = filter(
        &t,
        &alice,
        json!({"title": "Spoilers", "context": ["home", "public"], "filter_action": "hide",
               "keywords_attributes": [{"keyword": "finale", "whole_word": false}, {"keyword": "ending"}]}),
    )
    .await;
    assert_required(&created, "Filter", FILTER);
    assert_eq!(
        (created["title"].clone(), created["context"].clone(), created["filter_action"].clone()),
        (json!("Spoilers"), json!(["home", "public"]), json!("hide"))
    );
    assert_eq!(created["expires_at"], Value::Null);
    let keywords = created["keywords"].as_array().unwrap().clone();
    assert_eq!(
        keywords.iter().map(|k| (k["keyword"].clone(), k["whole_word"].clone())).collect::<Vec<_>>(),
        vec![(json!("finale"), json!(false)), (json!("ending"), json!(true))]
    );
    assert_eq!(created["statuses"], json!([]));
    let path = format!("/api/v2/filters/{}", id(&created));
    assert_eq!(t.get(&path, Some(&alice.token)).await.expect(200), created);
    assert_eq!(t.get("/api/v2/filters", Some(&alice.token)).await.expect(200), json!([created.clone()]));

    // Update: title, action, expiry; one keyword changed, one removed, one added.
    let updated = t
        .put(
            &path,
            Some(&alice.token),
            json!({"title": "Show spoilers", "filter_action": "warn", "expires_in": 3600, "keywords_attributes": [
                {"id": id(&keywords[0]), "keyword": "season finale"},
                {"id": id(&keywords[1]), "_destroy": true},
                {"keyword": "twist", "whole_word": true}]}),
        )
        .await
        .expect(200);
    assert_eq!(
        (updated["title"].clone(), updated["filter_action"].clone(), updated["context"].clone()),
        (json!("Show spoilers"), json!("warn"), json!(["home", "public"]))
    );
    assert!(updated["expires_at"].is_string());
    let words: Vec<&str> = updated["keywords"].as_array().unwrap().iter().map(|k| k["keyword"].as_str().unwrap()).collect();
    assert_eq!(words, ["season finale", "twist"]);

    // Keywords as their own resource.
    let added = t.post(&format!("{path}/keywords"), Some(&alice.token), json!({"keyword": "cliffhanger", "whole_word": false})).await.expect(200);
    assert_eq!((added["keyword"].clone(), added["whole_word"].clone()), (json!("cliffhanger"), json!(false)));
    let keyword_path = format!("/api/v2/filters/keywords/{}", id(&added));
    assert_eq!(t.get(&keyword_path, Some(&alice.token)).await.expect(200), added);
    let changed = t.put(&keyword_path, Some(&alice.token), json!({"keyword": "cliffhangers", "whole_word": true})).await.expect(200);
    assert_eq!((changed["keyword"].clone(), changed["whole_word"].clone()), (json!("cliffhangers"), json!(true)));
    assert_eq!(t.get(&format!("{path}/keywords"), Some(&alice.token)).await.expect(200).as_array().unwrap().len(), 3);
    t.delete(&keyword_path, Some(&alice.token)).await.expect(200);
    t.get(&keyword_path, Some(&alice.token)).await.expect(404);

    // Statuses as their own resource.
    let post = t.post_status(&bob, json!({"status": "a post to filter"})).await;
    let entry = t.post(&format!("{path}/statuses"), Some(&alice.token), json!({"status_id": id(&post)})).await.expect(200);
    assert_eq!(entry["status_id"], post["id"]);
    let entry_path = format!("/api/v2/filters/statuses/{}", id(&entry));
    assert_eq!(t.get(&entry_path, Some(&alice.token)).await.expect(200), entry);
    assert_eq!(t.get(&format!("{path}/statuses"), Some(&alice.token)).await.expect(200), json!([entry.clone()]));
    let again = t.post(&format!("{path}/statuses"), Some(&alice.token), json!({"status_id": id(&post)})).await;
    assert!(again.error().contains("already"), "{}", again.error());
    again.expect(422);
    t.delete(&entry_path, Some(&alice.token)).await.expect(200);
    t.get(&entry_path, Some(&alice.token)).await.expect(404);

    t.delete(&path, Some(&alice.token)).await.expect(200);
    t.get(&path, Some(&alice.token)).await.expect(404);
    assert_eq!(t.get("/api/v2/filters", Some(&alice.token)).await.expect(200), json!([]));
}

#[tokio::test]
async fn filters_take_forms_in_rails_bracket_notation() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let created = t
        .post_form(
            "/api/v2/filters",
            Some(&alice.token),
            &[
                ("title", "Form"),
                ("context[]", "home"),
                ("context[]", "thread"),
                ("keywords_attributes[][keyword]", "a"),
                ("keywords_attributes[][keyword]", "b"),
            ],
        )
        .await
        .expect(200);
    assert_eq!(created["context"], json!(["home", "thread"]));
    assert_eq!(created["keywords"].as_array().unwrap().len(), 2);
    assert_eq!(created["filter_action"], "warn", "warn is the default action");
}

#[tokio::test]
async fn v1_filters_are_single_keywords_of_v2_filters() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let v1 = t
        .post_form("/api/v1/filters", Some(&alice.token), &[("phrase", "Rust"), ("context[]", "home"), ("irreversible", "true"), ("whole_word", "1")])
        .await
        .expect(200);
    assert_required(&v1, "V1Filter", V1_FILTER);
    assert_eq!(
        (v1["phrase"].clone(), v1["context"].clone(), v1["irreversible"].clone(), v1["whole_word"].clone()),
        (json!("Rust"), json!(["home"]), json!(true), json!(true))
    );
    let v2 = t.get("/api/v2/filters", Some(&alice.token)).await.expect(200);
    assert_eq!((v2[0]["title"].clone(), v2[0]["filter_action"].clone()), (json!("Rust"), json!("hide")));
    assert_eq!(v2[0]["keywords"][0]["id"], v1["id"], "a v1 filter's id is its keyword's");
    assert_eq!(t.get("/api/v1/filters", Some(&alice.token)).await.expect(200), json!([v1.clone()]));
    let path = format!("/api/v1/filters/{}", id(&v1));
    assert_eq!(t.get(&path, Some(&alice.token)).await.expect(200), v1);

    let changed =
        t.put(&path, Some(&alice.token), json!({"phrase": "Go", "context": ["public"], "irreversible": false, "whole_word": false})).await.expect(200);
    assert_eq!((changed["phrase"].clone(), changed["context"].clone(), changed["irreversible"].clone()), (json!("Go"), json!(["public"]), json!(false)));
    // With a second keyword, a v1 update may no longer change the filter they share.
    let filter_path = format!("/api/v2/filters/{}", id(&v2[0]));
    t.post(&format!("{filter_path}/keywords"), Some(&alice.token), json!({"keyword": "Zig"})).await.expect(200);
    t.put(&path, Some(&alice.token), json!({"phrase": "Go", "context": ["home"]})).await.expect(422);
    assert_eq!(t.get("/api/v1/filters", Some(&alice.token)).await.expect(200).as_array().unwrap().len(), 2);
    // Deleting a v1 filter removes its keyword only.
    t.delete(&path, Some(&alice.token)).await.expect(200);
    t.get(&path, Some(&alice.token)).await.expect(404);
    let left = t.get(&filter_path, Some(&alice.token)).await.expect(200);
    assert_eq!(left["keywords"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_filters_get_422_and_only_their_owner_sees_them() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    for (body, says) in [
        (json!({"title": "", "context": ["home"]}), "Title"),
        (json!({"title": "x", "context": []}), "Context"),
        (json!({"title": "x", "context": ["everywhere"]}), "context"),
        (json!({"title": "x", "context": ["home"], "filter_action": "explode"}), "filter_action"),
        (json!({"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": "  "}]}), "keyword"),
        (json!({"title": "x", "context": ["home"], "expires_in": "soon"}), "Expires"),
    ] {
        let reply = t.post("/api/v2/filters", Some(&alice.token), body.clone()).await;
        assert!(reply.error().contains(says), "{body}: {}", reply.error());
        reply.expect(422);
    }
    let too_many: Vec<Value> = (0..101).map(|i| json!({"keyword": format!("k{i}")})).collect();
    t.post("/api/v2/filters", Some(&alice.token), json!({"title": "x", "context": ["home"], "keywords_attributes": too_many})).await.expect(422);
    t.post("/api/v1/filters", Some(&alice.token), json!({"phrase": "", "context": ["home"]})).await.expect(422);

    let mine = filter(&t, &alice, json!({"title": "mine", "context": ["home"], "keywords_attributes": [{"keyword": "x"}]})).await;
    let keyword = id(&mine["keywords"][0]);
    for path in [format!("/api/v2/filters/{}", id(&mine)), format!("/api/v2/filters/keywords/{keyword}"), format!("/api/v1/filters/{keyword}")] {
        t.get(&path, Some(&bob.token)).await.expect(404);
        t.delete(&path, Some(&bob.token)).await.expect(404);
    }
    t.put(&format!("/api/v2/filters/{}", id(&mine)), Some(&bob.token), json!({"title": "theirs"})).await.expect(404);
    t.post(&format!("/api/v2/filters/{}/keywords", id(&mine)), Some(&bob.token), json!({"keyword": "y"})).await.expect(404);
    assert_eq!(t.get("/api/v2/filters", Some(&bob.token)).await.expect(200), json!([]));
    // Updates are validated too.
    t.put(&format!("/api/v2/filters/{}", id(&mine)), Some(&alice.token), json!({"title": ""})).await.expect(422);
    t.put(&format!("/api/v2/filters/{}", id(&mine)), Some(&alice.token), json!({"keywords_attributes": [{"id": "1", "keyword": "z"}]})).await.expect(404);

    // Scopes: read:filters reads, write:filters writes.
    let reader = t.token_with_scopes(&alice, "read:filters").await;
    t.get("/api/v2/filters", Some(&reader)).await.expect(200);
    t.post("/api/v2/filters", Some(&reader), json!({"title": "x", "context": ["home"]})).await.expect(403);
    let statuses_only = t.token_with_scopes(&alice, "read:statuses").await;
    t.get("/api/v1/filters", Some(&statuses_only)).await.expect(403);
    t.get("/api/v2/filters", None).await.expect(401);
}

#[tokio::test]
async fn a_hiding_filter_removes_matches_from_home_public_and_threads_in_its_contexts_only() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&alice, &bob).await;
    let spiders = t.post_status(&bob, json!({"status": "Look at these SPIDERS"})).await;
    let reply = t.post_status(&bob, json!({"status": "more spiders here", "in_reply_to_id": id(&spiders)})).await;
    let cats = t.post_status(&bob, json!({"status": "cats are nice"})).await;
    let hide =
        filter(&t, &alice, json!({"title": "arachnids", "context": ["home"], "filter_action": "hide", "keywords_attributes": [{"keyword": "spiders"}]})).await;

    let home = t.home_ids(&alice).await;
    assert!(home.contains(&id(&cats)) && !home.contains(&id(&spiders)) && !home.contains(&id(&reply)), "{home:?}");
    assert!(public_ids(&t, &alice).await.contains(&id(&spiders)), "a home-only filter leaves the public timeline alone");
    assert!(t.home_ids(&bob).await.contains(&id(&spiders)), "filters are their owner's only");
    let thread = t.get(&format!("/api/v1/statuses/{}/context", id(&spiders)), Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&thread["descendants"]), vec![id(&reply)], "not in the thread context yet");

    t.put(&format!("/api/v2/filters/{}", id(&hide)), Some(&alice.token), json!({"context": ["home", "public", "thread", "account"]})).await.expect(200);
    let public = public_ids(&t, &alice).await;
    assert!(public.contains(&id(&cats)) && !public.contains(&id(&spiders)), "{public:?}");
    let tag_post = t.post_status(&bob, json!({"status": "#nature spiders"})).await;
    t.settle().await;
    assert!(ids(&t.get("/api/v1/timelines/tag/nature", Some(&alice.token)).await.expect(200)).is_empty(), "tag timelines are public context");
    assert!(!ids(&t.get("/api/v1/timelines/tag/nature", Some(&bob.token)).await.expect(200)).is_empty());
    let thread = t.get(&format!("/api/v1/statuses/{}/context", id(&cats)), Some(&alice.token)).await.expect(200);
    assert!(ids(&thread["descendants"]).is_empty());
    let thread = t.get(&format!("/api/v1/statuses/{}/context", id(&reply)), Some(&alice.token)).await.expect(200);
    assert!(ids(&thread["ancestors"]).is_empty(), "the hidden ancestor is left out");
    let profile = ids(&t.get(&format!("/api/v1/accounts/{}/statuses", bob.id), Some(&alice.token)).await.expect(200));
    assert!(profile.contains(&id(&cats)) && !profile.contains(&id(&spiders)) && !profile.contains(&id(&tag_post)), "{profile:?}");

    // Deleted, the filter hides nothing.
    t.delete(&format!("/api/v2/filters/{}", id(&hide)), Some(&alice.token)).await.expect(200);
    assert!(t.home_ids(&alice).await.contains(&id(&spiders)));
}

#[tokio::test]
async fn a_warning_filter_keeps_matches_with_filter_results() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let post = t.post_status(&bob, json!({"status": "The election results are in", "spoiler_text": "politics"})).await;
    let boost = t.post(&format!("/api/v1/statuses/{}/reblog", id(&post)), Some(&carol.token), json!({})).await.expect(200);
    let other = t.post_status(&bob, json!({"status": "lunch was good"})).await;
    let warn = filter(
        &t,
        &alice,
        json!({"title": "News", "context": ["home"], "filter_action": "warn", "keywords_attributes": [{"keyword": "election"}, {"keyword": "POLITICS"}, {"keyword": "sports"}]}),
    )
    .await;
    let blur = filter(&t, &alice, json!({"title": "Lunch", "context": ["home"], "filter_action": "blur"})).await;
    t.post(&format!("/api/v2/filters/{}/statuses", id(&blur)), Some(&alice.token), json!({"status_id": id(&other)})).await.expect(200);

    t.settle().await;
    let home = t.get("/api/v1/timelines/home", Some(&alice.token)).await.expect(200);
    let shown = by_id(&home, &post).expect("a warned status stays");
    let results = shown["filtered"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_required(&results[0], "FilterResult", &["filter"]);
    assert_eq!(results[0]["filter"]["id"], warn["id"]);
    assert_eq!(results[0]["filter"]["filter_action"], "warn");
    assert!(results[0]["filter"].get("keywords").is_none(), "a result's filter omits its keywords");
    assert_eq!(results[0]["keyword_matches"], json!(["election", "POLITICS"]), "text and content warning, any case");
    assert_eq!(results[0]["status_matches"], Value::Null);
    let lunch = by_id(&home, &other).expect("blurred, not hidden");
    assert_eq!(lunch["filtered"][0]["filter"]["filter_action"], "blur");
    assert_eq!(lunch["filtered"][0]["status_matches"], json!([id(&other)]));
    // A boost of a matching status carries the results, and so does the boosted status. (Home keeps one
    // entry per original: the boost is read on carol's profile, in the account context.)
    let profile = t.get(&format!("/api/v1/accounts/{}/statuses", carol.id), Some(&alice.token)).await.expect(200);
    assert_eq!(by_id(&profile, &boost).unwrap()["filtered"], json!([]), "a home-only filter does not touch profiles");
    t.put(&format!("/api/v2/filters/{}", id(&warn)), Some(&alice.token), json!({"context": ["home", "account"]})).await.expect(200);
    let profile = t.get(&format!("/api/v1/accounts/{}/statuses", carol.id), Some(&alice.token)).await.expect(200);
    let shown = by_id(&profile, &boost).unwrap();
    assert_eq!(shown["filtered"][0]["filter"]["id"], warn["id"]);
    assert_eq!(shown["reblog"]["filtered"][0]["filter"]["id"], warn["id"]);
    // Others see no results.
    let bobs = t.get("/api/v1/timelines/home", Some(&bob.token)).await.expect(200);
    assert_eq!(by_id(&bobs, &post).unwrap()["filtered"], json!([]));
}

#[tokio::test]
async fn whole_word_keywords_match_only_whole_words() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&alice, &bob).await;
    let word = t.post_status(&bob, json!({"status": "I saw a cat today."})).await;
    let inside = t.post_status(&bob, json!({"status": "concatenate strings"})).await;
    filter(&t, &alice, json!({"title": "cats", "context": ["home"], "filter_action": "hide", "keywords_attributes": [{"keyword": "Cat", "whole_word": true}]}))
        .await;
    let home = t.home_ids(&alice).await;
    assert!(!home.contains(&id(&word)) && home.contains(&id(&inside)), "{home:?}");
    filter(&t, &alice, json!({"title": "any", "context": ["home"], "filter_action": "hide", "keywords_attributes": [{"keyword": "cat", "whole_word": false}]}))
        .await;
    assert!(!t.home_ids(&alice).await.contains(&id(&inside)), "without whole_word it matches inside words");
}

#[tokio::test]
async fn expired_filters_do_nothing() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&alice, &bob).await;
    let post = t.post_status(&bob, json!({"status": "temporary topic"})).await;
    let f = filter(
        &t,
        &alice,
        // Five seconds: long enough for the first read even on a slow store (moto).
        json!({"title": "for a while", "context": ["home"], "filter_action": "hide", "expires_in": 5, "keywords_attributes": [{"keyword": "topic"}]}),
    )
    .await;
    let created = std::time::Instant::now();
    assert!(f["expires_at"].is_string());
    assert!(!t.home_ids(&alice).await.contains(&id(&post)));
    tokio::time::sleep(Duration::from_millis(5100).saturating_sub(created.elapsed())).await;
    assert!(t.home_ids(&alice).await.contains(&id(&post)), "expired");
    assert_eq!(t.get("/api/v2/filters", Some(&alice.token)).await.expect(200).as_array().unwrap().len(), 1, "still listed");
}

#[tokio::test]
async fn a_hiding_filter_in_notifications_drops_the_notifications_of_matching_statuses() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.post_status(&bob, json!({"status": "@alice buy crypto now"})).await;
    let fine = t.post_status(&bob, json!({"status": "@alice hello"})).await;
    filter(&t, &alice, json!({"title": "spam", "context": ["notifications"], "filter_action": "hide", "keywords_attributes": [{"keyword": "crypto"}]})).await;
    t.settle().await;
    let list = t.get("/api/v1/notifications", Some(&alice.token)).await.expect(200);
    let statuses: Vec<&Value> = list.as_array().unwrap().iter().map(|n| &n["status"]["id"]).collect();
    assert_eq!(statuses, vec![&fine["id"]]);
    // Not in home: the notifications-only filter leaves the timeline alone.
    assert_eq!(t.home_ids(&alice).await.len(), 0, "alice follows nobody");
    let warn = filter(&t, &alice, json!({"title": "greetings", "context": ["notifications"], "keywords_attributes": [{"keyword": "hello"}]})).await;
    let list = t.get("/api/v1/notifications", Some(&alice.token)).await.expect(200);
    assert_eq!(list[0]["status"]["filtered"][0]["filter"]["id"], warn["id"]);
}

#[tokio::test]
async fn streams_leave_out_hidden_statuses_and_mark_warned_ones() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&alice, &bob).await;
    let mut home = Sse::open(&t, "/api/v1/streaming/user", Some(&alice.token)).await;
    let mut public = Sse::open(&t, "/api/v1/streaming/public", Some(&alice.token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=user&access_token={}", alice.token))).await.unwrap();
    // Made after the streams opened: they take effect at once.
    let hide = filter(&t, &alice, json!({"title": "h", "context": ["home"], "filter_action": "hide", "keywords_attributes": [{"keyword": "secret"}]})).await;
    let warn =
        filter(&t, &alice, json!({"title": "w", "context": ["home", "public"], "filter_action": "warn", "keywords_attributes": [{"keyword": "mild"}]})).await;

    t.post_status(&bob, json!({"status": "a secret"})).await;
    let mild = t.post_status(&bob, json!({"status": "something mild"})).await;
    let plain = t.post_status(&bob, json!({"status": "plain"})).await;

    let first = home.next().await.json();
    assert_eq!(first["id"], mild["id"], "the hidden one never came");
    assert_eq!(first["filtered"][0]["filter"]["id"], warn["id"]);
    let second = home.next().await.json();
    assert_eq!(second["id"], plain["id"]);
    assert!(second.get("filtered").is_none_or(|f| f == &json!([])));
    let payload = |m: Value| serde_json::from_str::<Value>(m["payload"].as_str().unwrap()).unwrap();
    let over_ws = payload(ws_next(&mut socket).await);
    assert_eq!((over_ws["id"].clone(), over_ws["filtered"][0]["filter"]["id"].clone()), (mild["id"].clone(), warn["id"].clone()));
    assert_eq!(payload(ws_next(&mut socket).await)["id"], plain["id"]);
    // The public stream: the home-only hiding filter does not apply there.
    let ids_seen: Vec<Value> = [public.next().await.json(), public.next().await.json(), public.next().await.json()].iter().map(|s| s["id"].clone()).collect();
    assert_eq!(ids_seen.len(), 3);
    let _ = hide;
}
