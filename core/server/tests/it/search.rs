use serde_json::{Value, json};

use crate::{TestApp, User, id, ids};

/// Percent-encodes a query value.
fn enc(raw: &str) -> String {
    raw.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// `GET /api/v2/search` once the indexer has caught up.
async fn search(t: &TestApp, user: Option<&User>, query: &str) -> crate::Reply {
    t.settle().await;
    t.get(&format!("/api/v2/search?{query}"), user.map(|u| u.token.as_str())).await
}

async fn status_ids(t: &TestApp, user: &User, q: &str) -> Vec<String> {
    ids(&search(t, Some(user), &format!("type=statuses&q={}", enc(q))).await.expect(200)["statuses"])
}

fn usernames(accounts: &Value) -> Vec<String> {
    accounts.as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn statuses_are_ranked_by_relevance() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let diluted = t.post_status(&alice, json!({"status": "I spent the whole afternoon in the garden reading about astronomy, cooking and birds"})).await;
    let dense = t.post_status(&alice, json!({"status": "astronomy astronomy astronomy!"})).await;
    t.post_status(&alice, json!({"status": "nothing to see here"})).await;
    let found = search(&t, Some(&alice), "q=astronomy&type=statuses").await.expect(200);
    assert_eq!(ids(&found["statuses"]), vec![id(&dense), id(&diluted)]);
    crate::assert_required(&found["statuses"][0], "Status", crate::schema::STATUS);
    assert_eq!(found["accounts"], json!([]), "type=statuses returns only statuses");
    assert_eq!(found["hashtags"], json!([]));
}

#[tokio::test]
async fn typos_are_tolerated() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let post = t.post_status(&alice, json!({"status": "Photographing mountains at sunrise"})).await;
    assert_eq!(status_ids(&t, &alice, "mountians").await, vec![id(&post)], "a transposition");
    assert_eq!(status_ids(&t, &alice, "photograpihng sunrse").await, vec![id(&post)], "two edits in a long word, one in a shorter one");
    assert_eq!(status_ids(&t, &alice, "MOUNTAINS").await, vec![id(&post)], "case-insensitive");
    assert!(status_ids(&t, &alice, "fountains lakes").await.is_empty(), "every word has to match");
}

#[tokio::test]
async fn edits_reindex_and_deletes_disappear() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let post = t.post_status(&alice, json!({"status": "original thoughts about pineapples"})).await;
    assert_eq!(status_ids(&t, &alice, "pineapples").await, vec![id(&post)]);
    t.put(&format!("/api/v1/statuses/{}", id(&post)), Some(&alice.token), json!({"status": "revised thoughts about mangoes"})).await.expect(200);
    assert!(status_ids(&t, &alice, "pineapples").await.is_empty(), "the old text is gone from the index");
    assert_eq!(status_ids(&t, &alice, "mangoes").await, vec![id(&post)]);
    t.delete(&format!("/api/v1/statuses/{}", id(&post)), Some(&alice.token)).await.expect(200);
    assert!(status_ids(&t, &alice, "mangoes").await.is_empty());
}

#[tokio::test]
async fn boosts_are_not_indexed_as_statuses() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    let post = t.post_status(&alice, json!({"status": "boostable platypus"})).await;
    t.post(&format!("/api/v1/statuses/{}/reblog", id(&post)), Some(&bob.token), json!({})).await.expect(200);
    assert_eq!(status_ids(&t, &bob, "platypus").await, vec![id(&post)], "the original once, not the boost");
}

#[tokio::test]
async fn private_and_direct_statuses_reach_only_allowed_readers() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let follower = t.register("follower").await;
    let mentioned = t.register("mentioned").await;
    let stranger = t.register("stranger").await;
    t.follow(&follower, &alice).await;
    let private = t.post_status(&alice, json!({"status": "private walrus news", "visibility": "private"})).await;
    let direct = t.post_status(&alice, json!({"status": "@mentioned direct walrus news", "visibility": "direct"})).await;
    let public = t.post_status(&alice, json!({"status": "public walrus news"})).await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(status_ids(&t, &alice, "walrus").await), sorted(vec![id(&private), id(&direct), id(&public)]), "the author sees all");
    assert_eq!(sorted(status_ids(&t, &follower, "walrus").await), sorted(vec![id(&private), id(&public)]), "a follower: private but not direct");
    assert_eq!(sorted(status_ids(&t, &mentioned, "walrus").await), sorted(vec![id(&direct), id(&public)]), "the mentioned: direct");
    assert_eq!(status_ids(&t, &stranger, "walrus").await, vec![id(&public)]);
    // Unfollowing takes the private status away again (the store is checked at read time too).
    t.post(&format!("/api/v1/accounts/{}/unfollow", alice.id), Some(&follower.token), json!({})).await.expect(200);
    assert_eq!(status_ids(&t, &follower, "walrus").await, vec![id(&public)]);
}

#[tokio::test]
async fn anonymous_searches_find_no_statuses_and_cannot_page() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    t.post_status(&alice, json!({"status": "public toucan"})).await;
    let found = search(&t, None, "q=toucan").await.expect(200);
    assert_eq!(found["statuses"], json!([]));
    let found = search(&t, None, "q=alic").await.expect(200);
    assert_eq!(usernames(&found["accounts"]), vec!["alice"], "accounts are searchable anonymously");
    assert_eq!(search(&t, None, "q=toucan&offset=5").await.status.as_u16(), 401);
}

#[tokio::test]
async fn statuses_filter_by_account_and_id_range_and_page_by_offset() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    let mut posts = Vec::new();
    for n in 0..5 {
        posts.push(t.post_status(&alice, json!({"status": format!("heron sighting number {n}")})).await);
    }
    let bobs = t.post_status(&bob, json!({"status": "heron"})).await;
    let all = ids(&search(&t, Some(&alice), "q=heron&type=statuses&limit=40").await.expect(200)["statuses"]);
    assert_eq!(all.len(), 6);
    let by_bob = search(&t, Some(&alice), &format!("q=heron&type=statuses&account_id={}", bob.id)).await.expect(200);
    assert_eq!(ids(&by_bob["statuses"]), vec![id(&bobs)]);
    let older = search(&t, Some(&alice), &format!("q=heron&type=statuses&max_id={}", id(&posts[2]))).await.expect(200);
    let mut older = ids(&older["statuses"]);
    older.sort();
    assert_eq!(older, vec![id(&posts[0]), id(&posts[1])]);
    let newer = search(&t, Some(&alice), &format!("q=heron&type=statuses&min_id={}&account_id={}", id(&posts[2]), alice.id)).await.expect(200);
    let mut newer = ids(&newer["statuses"]);
    newer.sort();
    assert_eq!(newer, vec![id(&posts[3]), id(&posts[4])]);
    let mut paged = Vec::new();
    for offset in [0, 2, 4, 6] {
        let page = ids(&search(&t, Some(&alice), &format!("q=heron&type=statuses&limit=2&offset={offset}")).await.expect(200)["statuses"]);
        assert!(page.len() <= 2);
        paged.extend(page);
    }
    assert_eq!(paged, all, "offset pages walk the ranked list without gaps or repeats");
}

#[tokio::test]
async fn accounts_are_found_by_username_and_display_name_prefix() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    t.register("alicia").await;
    t.register("bob").await;
    t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"display_name": "Wonderland Explorer"})).await.expect(200);
    let found = search(&t, Some(&alice), "q=ALI&type=accounts").await.expect(200);
    let mut names = usernames(&found["accounts"]);
    names.sort();
    assert_eq!(names, vec!["alice", "alicia"]);
    crate::assert_required(&found["accounts"][0], "Account", crate::schema::ACCOUNT);
    assert_eq!(usernames(&search(&t, Some(&alice), "q=alice&type=accounts").await.expect(200)["accounts"])[0], "alice", "the exact username first");
    assert_eq!(usernames(&search(&t, Some(&alice), "q=wonderl&type=accounts").await.expect(200)["accounts"]), vec!["alice"], "display-name words");
    assert_eq!(usernames(&search(&t, Some(&alice), &format!("q={}&type=accounts", enc("@bob"))).await.expect(200)["accounts"]), vec!["bob"]);
    let local = format!("@bob@{}", t.app.config().instance.domain);
    assert_eq!(usernames(&search(&t, Some(&alice), &format!("q={}&type=accounts", enc(&local))).await.expect(200)["accounts"]), vec!["bob"]);
    assert!(
        search(&t, Some(&alice), &format!("q={}&type=accounts", enc("bob@elsewhere.example"))).await.expect(200)["accounts"].as_array().unwrap().is_empty()
    );
    // The v1 endpoint.
    t.settle().await;
    let v1 = t.get("/api/v1/accounts/search?q=bo", Some(&alice.token)).await.expect(200);
    assert_eq!(usernames(&v1), vec!["bob"]);
    let renamed = t.get("/api/v1/accounts/search?q=explorer", None).await.expect(200);
    assert_eq!(usernames(&renamed), vec!["alice"]);
}

#[tokio::test]
async fn the_following_filter_keeps_followed_accounts() {
    let t = TestApp::spawn().await;
    let me = t.register("me").await;
    let robin = t.register("robin").await;
    t.register("robert").await;
    t.follow(&me, &robin).await;
    t.settle().await;
    let all = usernames(&t.get("/api/v1/accounts/search?q=rob", Some(&me.token)).await.expect(200));
    assert_eq!(all.len(), 2);
    assert_eq!(usernames(&t.get("/api/v1/accounts/search?q=rob&following=true", Some(&me.token)).await.expect(200)), vec!["robin"]);
    assert_eq!(usernames(&search(&t, Some(&me), "q=rob&type=accounts&following=true").await.expect(200)["accounts"]), vec!["robin"]);
    assert_eq!(t.get("/api/v1/accounts/search?q=rob&following=true", None).await.status.as_u16(), 401, "following needs a user");
    let paged = usernames(&t.get("/api/v1/accounts/search?q=rob&limit=1&offset=1", Some(&me.token)).await.expect(200));
    assert_eq!(paged.len(), 1);
    assert_ne!(paged[0], all[0], "offset skips");
}

#[tokio::test]
async fn hashtags_match_exactly_and_by_prefix() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    t.post_status(&alice, json!({"status": "#Rust is fun"})).await;
    t.post_status(&alice, json!({"status": "#rustacean meetup #rustacean"})).await;
    t.post_status(&alice, json!({"status": "#rustacean again"})).await;
    t.post_status(&alice, json!({"status": "#rusty nails", "visibility": "private"})).await;
    let found = search(&t, Some(&alice), &format!("q={}&type=hashtags", enc("#rust"))).await.expect(200);
    let names: Vec<&str> = found["hashtags"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["rust", "rustacean"], "exact first, then by use; private statuses' tags are not listed");
    crate::assert_required(&found["hashtags"][0], "Tag", &["id", "name", "url", "history"]);
    assert!(found["hashtags"][0]["url"].as_str().unwrap().ends_with("/tags/rust"));
    let prefix = search(&t, None, "q=rusta&type=hashtags").await.expect(200);
    assert_eq!(prefix["hashtags"].as_array().unwrap().len(), 1);
    assert!(search(&t, None, "q=zzz&type=hashtags").await.expect(200)["hashtags"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_tag_shows_its_recent_history() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    t.post_status(&alice, json!({"status": "#Birding today"})).await;
    t.post_status(&alice, json!({"status": "#birding again"})).await;
    t.post_status(&bob, json!({"status": "#birding too"})).await;
    t.settle().await;
    let tag = t.get("/api/v1/tags/Birding", Some(&alice.token)).await.expect(200);
    assert_eq!(tag["name"], "birding");
    assert_eq!(tag["following"], false);
    let history = tag["history"].as_array().unwrap();
    assert_eq!(history.len(), 7);
    assert_eq!((history[0]["uses"].as_str().unwrap(), history[0]["accounts"].as_str().unwrap()), ("3", "2"), "today: 3 posts by 2 accounts");
    assert_eq!(history[1]["uses"], "0");
    assert_eq!(t.get("/api/v1/tags/neverused", None).await.status.as_u16(), 404);
    assert_eq!(t.get("/api/v1/tags/not%20a%20tag", None).await.status.as_u16(), 404);
}

#[tokio::test]
async fn bad_queries_get_empty_results_or_a_message_never_a_server_error() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    t.post_status(&alice, json!({"status": "ordinary words"})).await;
    let empty = search(&t, Some(&alice), "q=").await.expect(200);
    assert_eq!(empty, json!({"accounts": [], "statuses": [], "hashtags": []}));
    assert_eq!(search(&t, Some(&alice), "").await.expect(200), json!({"accounts": [], "statuses": [], "hashtags": []}), "no q at all");
    for hostile in ["\"(:*", "text:words AND (", "*", "~~~", "!!!???", "\u{0}", "#", "@", "@@@", "words^100", "[1 TO 2]", "ordinary\"words"] {
        let reply = search(&t, Some(&alice), &format!("q={}", enc(hostile))).await;
        assert_eq!(reply.status.as_u16(), 200, "{hostile:?}: {}", reply.body);
    }
    let syntax = search(&t, Some(&alice), &format!("q={}&type=statuses", enc("ordinary\"words"))).await.expect(200);
    assert_eq!(syntax["statuses"].as_array().unwrap().len(), 1, "punctuation separates words, nothing more");
    let long = "x".repeat(10_000);
    let reply = search(&t, Some(&alice), &format!("q={long}")).await;
    assert_eq!(reply.status.as_u16(), 422);
    assert!(reply.error().contains("too long"));
    let many_words = "word ".repeat(100);
    assert_eq!(search(&t, Some(&alice), &format!("q={}", enc(&many_words))).await.status.as_u16(), 200);
    assert_eq!(search(&t, Some(&alice), "q=x&type=everything").await.status.as_u16(), 422);
    assert_eq!(search(&t, Some(&alice), "q=x&limit=abc").await.status.as_u16(), 400);
    assert_eq!(search(&t, Some(&alice), "q=x&offset=-1").await.status.as_u16(), 400);
    assert_eq!(search(&t, Some(&alice), "q=x&account_id=nope").await.status.as_u16(), 400);
    let clamped = search(&t, Some(&alice), "q=ordinary&limit=100000&offset=99999999").await.expect(200);
    assert_eq!(clamped["statuses"], json!([]));
    assert_eq!(t.get("/api/v1/accounts/search?q=%22(%3A*", Some(&alice.token)).await.expect(200), json!([]));
    let no_scope = t.token_with_scopes(&alice, "write").await;
    assert_eq!(t.get("/api/v2/search?q=ordinary", Some(&no_scope)).await.status.as_u16(), 403, "read:search is required of a user token");
}

#[tokio::test]
async fn a_rebuild_reindexes_everything_from_the_store() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    let kept = t.post_status(&alice, json!({"status": "rebuildable kestrel", "visibility": "private"})).await;
    let gone = t.post_status(&bob, json!({"status": "deleted kestrel"})).await;
    t.delete(&format!("/api/v1/statuses/{}", id(&gone)), Some(&bob.token)).await.expect(200);
    t.settle().await;
    let mut reports = Vec::new();
    let done = t.app.rebuild_search(|p| reports.push(p)).await.unwrap();
    assert_eq!((done.accounts, done.statuses, done.accounts_total), (2, 1, 2));
    assert!(!reports.is_empty(), "progress is reported");
    assert_eq!(status_ids(&t, &alice, "kestrel").await, vec![id(&kept)]);
    assert!(status_ids(&t, &bob, "kestrel").await.is_empty(), "bob does not follow alice");
    assert_eq!(usernames(&search(&t, Some(&alice), "q=bo&type=accounts").await.expect(200)["accounts"]), vec!["bob"]);
    // The consumer goes on from where the rebuild started.
    let later = t.post_status(&bob, json!({"status": "kestrel after the rebuild"})).await;
    assert_eq!(status_ids(&t, &bob, "kestrel").await, vec![id(&later)]);
}
