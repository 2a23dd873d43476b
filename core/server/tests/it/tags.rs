//! Followed hashtags (their public posts enter the follower's home through fanout) and
//! featured hashtags (on the profile, with the author's own counts).

use serde_json::{Value, json};

use crate::{TestApp, User, id};

async fn tag_action(t: &TestApp, who: &User, name: &str, verb: &str) -> Value {
    t.post(&format!("/api/v1/tags/{name}/{verb}"), Some(&who.token), json!({})).await.expect(200)
}

async fn account_action(t: &TestApp, who: &User, verb: &str, whom: &User) {
    t.post(&format!("/api/v1/accounts/{}/{verb}", whom.id), Some(&who.token), json!({})).await.expect(200);
}

fn names(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn followed_tags_are_listed_newest_first_page_by_page_and_shown_on_the_tag() {
    let t = TestApp::spawn().await;
    let [alice] = t.register_all(["alice"]).await;
    let followed = tag_action(&t, &alice, "Rust", "follow").await;
    assert_eq!((followed["name"].clone(), followed["following"].clone()), (json!("rust"), json!(true)));
    assert_eq!(followed["history"].as_array().unwrap().len(), 7);
    // Idempotent, as Mastodon since 4.1; `#` and case do not make another tag.
    tag_action(&t, &alice, "%23rust", "follow").await;
    tag_action(&t, &alice, "tokio", "follow").await;
    tag_action(&t, &alice, "serde", "follow").await;
    let all = t.get("/api/v1/followed_tags", Some(&alice.token)).await.expect(200);
    assert_eq!(names(&all), ["serde", "tokio", "rust"]);
    assert!(all.as_array().unwrap().iter().all(|tag| tag["following"] == true));
    let first = t.get("/api/v1/followed_tags?limit=2", Some(&alice.token)).await;
    assert_eq!(names(&first.body), ["serde", "tokio"]);
    let next = t.follow_link(&first, "next", Some(&alice.token)).await.expect(200);
    assert_eq!(names(&next), ["rust"]);

    // A tag nobody used exists for its follower (as Mastodon creates it on follow).
    let tag = t.get("/api/v1/tags/tokio", Some(&alice.token)).await.expect(200);
    assert_eq!((tag["following"].clone(), tag["featuring"].clone()), (json!(true), json!(false)));
    let unfollowed = tag_action(&t, &alice, "tokio", "unfollow").await;
    assert_eq!(unfollowed["following"], false);
    tag_action(&t, &alice, "tokio", "unfollow").await;
    assert_eq!(names(&t.get("/api/v1/followed_tags", Some(&alice.token)).await.expect(200)), ["serde", "rust"]);
    t.get("/api/v1/tags/tokio", Some(&alice.token)).await.expect(404);
    t.post("/api/v1/tags/not%20a%20tag/follow", Some(&alice.token), json!({})).await.expect(404);

    // Scopes as Mastodon: write:follows to follow, read:follows to list.
    let read = t.token_with_scopes(&alice, "read:follows").await;
    t.post("/api/v1/tags/rust/follow", Some(&read), json!({})).await.expect(403);
    t.get("/api/v1/followed_tags", Some(&read)).await.expect(200);
    let accounts_only = t.token_with_scopes(&alice, "read:accounts write:accounts").await;
    t.get("/api/v1/followed_tags", Some(&accounts_only)).await.expect(403);
    t.post("/api/v1/tags/rust/unfollow", Some(&accounts_only), json!({})).await.expect(403);
    t.get("/api/v1/followed_tags", None).await.expect(401);
}

#[tokio::test]
async fn public_posts_with_a_followed_tag_enter_home_once_and_nothing_the_reader_must_not_get() {
    let t = TestApp::spawn().await;
    let [viewer, alice, bob, blocked, muted, blocker] = t.register_all(["viewer", "alice", "bob", "blocked", "muted", "blocker"]).await;
    t.follow(&viewer, &bob).await;
    tag_action(&t, &viewer, "rust", "follow").await;
    tag_action(&t, &viewer, "async", "follow").await;
    account_action(&t, &viewer, "block", &blocked).await;
    account_action(&t, &viewer, "mute", &muted).await;
    account_action(&t, &blocker, "block", &viewer).await;
    t.home_ids(&viewer).await;

    let mut want = Vec::new();
    // Two followed tags, one entry; a followed author's tagged post, one entry.
    want.push(id(&t.post_status(&alice, json!({"status": "#rust and #async"})).await));
    want.push(id(&t.post_status(&bob, json!({"status": "bob on #rust"})).await));
    want.push(id(&t.post_status(&alice, json!({"status": "a public reply #Rust", "in_reply_to_id": want[0]})).await));
    let mut never = Vec::new();
    for visibility in ["unlisted", "private", "direct"] {
        never.push(id(&t.post_status(&alice, json!({"status": format!("{visibility} #rust"), "visibility": visibility})).await));
    }
    never.push(id(&t.post_status(&alice, json!({"status": "another tag #go"})).await));
    for author in [&blocked, &muted, &blocker] {
        never.push(id(&t.post_status(author, json!({"status": "#rust from someone kept out"})).await));
    }
    // A boost of a tagged post by someone not followed: boosts do not reach tag followers.
    never.push(id(&t.post(&format!("/api/v1/statuses/{}/reblog", want[0]), Some(&blocker.token), json!({})).await.expect(200)));
    let own = id(&t.post_status(&viewer, json!({"status": "my own #rust"})).await);
    want.push(own);
    want.reverse();

    let home = t.home_ids(&viewer).await;
    assert_eq!(home, want, "never: {never:?}");
    // Bob follows neither tag: he gets his own post only.
    assert_eq!(t.home_ids(&bob).await, [want[2].clone()]);

    // Rebuilt from the store (the cache lost it), the home holds the same.
    t.app.evict_home(viewer.id.parse().unwrap()).await.unwrap();
    assert_eq!(t.home_ids(&viewer).await, want);

    // A filter still applies to what a tag brought.
    t.post(
        "/api/v2/filters",
        Some(&viewer.token),
        json!({"title": "no async", "context": ["home"], "filter_action": "hide", "keywords_attributes": [{"keyword": "async"}]}),
    )
    .await
    .expect(200);
    let home = t.home_ids(&viewer).await;
    assert!(!home.contains(&want[3]) && home.contains(&want[1]), "{home:?}");

    // Unfollowed, a tag brings nothing new; a deleted post leaves the home.
    tag_action(&t, &viewer, "rust", "unfollow").await;
    tag_action(&t, &viewer, "async", "unfollow").await;
    let later = id(&t.post_status(&alice, json!({"status": "later #rust"})).await);
    t.delete(&format!("/api/v1/statuses/{}", want[1]), Some(&alice.token)).await.expect(200);
    let home = t.home_ids(&viewer).await;
    assert!(!home.contains(&later) && !home.contains(&want[1]), "{home:?}");
}

#[tokio::test]
async fn featured_tags_count_the_accounts_own_public_and_unlisted_posts_and_are_limited_to_ten() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let first = t.post_status(&alice, json!({"status": "before featuring #Rust"})).await;
    t.post_status(&alice, json!({"status": "quietly #rust", "visibility": "private"})).await;
    t.post_status(&alice, json!({"status": "unlisted #rust", "visibility": "unlisted"})).await;
    t.post_status(&bob, json!({"status": "someone else's #rust"})).await;
    let featured = t.post("/api/v1/featured_tags", Some(&alice.token), json!({"name": "#Rust"})).await.expect(200);
    assert_eq!(featured["name"], "rust");
    assert_eq!(featured["statuses_count"], "2", "public and unlisted, counted from before it was featured: {featured}");
    assert_eq!(featured["url"], format!("{}/@alice/tagged/rust", t.base));
    let today = &first["created_at"].as_str().unwrap()[..10];
    assert_eq!(featured["last_status_at"], today);
    // Featuring again changes nothing.
    let again = t.post_form("/api/v1/featured_tags", Some(&alice.token), &[("name", "rust")]).await.expect(200);
    assert_eq!(again["id"], featured["id"]);

    let second = t.post_status(&alice, json!({"status": "more #rust"})).await;
    t.put(&format!("/api/v1/statuses/{}", id(&second)), Some(&alice.token), json!({"status": "more #rust and #serde"})).await.expect(200);
    let listed = t.get(&format!("/api/v1/accounts/{}/featured_tags", alice.id), None).await.expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["statuses_count"], "3");
    t.delete(&format!("/api/v1/statuses/{}", id(&first)), Some(&alice.token)).await.expect(200);
    assert_eq!(t.get("/api/v1/featured_tags", Some(&alice.token)).await.expect(200)[0]["statuses_count"], "2");

    // Suggestions: recently used tags not featured yet.
    let suggested = t.get("/api/v1/featured_tags/suggestions", Some(&alice.token)).await.expect(200);
    assert_eq!(names(&suggested), ["serde"]);

    // Mastodon 4.4's tag actions, and `featuring` on the tag.
    let tag = tag_action(&t, &alice, "serde", "feature").await;
    assert_eq!(tag["featuring"], true);
    assert_eq!(t.get("/api/v1/tags/serde", Some(&alice.token)).await.expect(200)["featuring"], true);
    assert_eq!(t.get("/api/v1/tags/serde", Some(&bob.token)).await.expect(200)["featuring"], false);
    let serde = t.get("/api/v1/featured_tags", Some(&alice.token)).await.expect(200);
    assert_eq!(names(&serde), ["rust", "serde"], "most used first");
    assert_eq!(serde[1]["statuses_count"], "1");
    assert_eq!(tag_action(&t, &alice, "serde", "unfeature").await["featuring"], false);

    // At most ten.
    for n in 1..=9 {
        t.post("/api/v1/featured_tags", Some(&alice.token), json!({"name": format!("tag{n}")})).await.expect(200);
    }
    let refused = t.post("/api/v1/featured_tags", Some(&alice.token), json!({"name": "eleventh"})).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    t.post("/api/v1/featured_tags", Some(&alice.token), json!({"name": "not a tag"})).await.expect(422);
    assert_eq!(t.post("/api/v1/tags/eleventh/feature", Some(&alice.token), json!({})).await.status, 422);

    // Deleting by id: only one's own.
    let id_ = featured["id"].as_str().unwrap();
    t.delete(&format!("/api/v1/featured_tags/{id_}"), Some(&bob.token)).await.expect(404);
    assert_eq!(t.delete(&format!("/api/v1/featured_tags/{id_}"), Some(&alice.token)).await.expect(200), json!({}));
    t.delete(&format!("/api/v1/featured_tags/{id_}"), Some(&alice.token)).await.expect(404);
    let left = t.get(&format!("/api/v1/accounts/{}/featured_tags", alice.id), Some(&bob.token)).await.expect(200);
    assert_eq!(left.as_array().unwrap().len(), 9);
    assert!(!names(&left).contains(&"rust".to_owned()));
    t.post("/api/v1/featured_tags", Some(&alice.token), json!({"name": "eleventh"})).await.expect(200);
    // On the public profile page too.
    let page = t.get("/@alice", None).await;
    let html = page.body.as_str().unwrap();
    assert!(html.contains("href=\"/tags/eleventh\">#eleventh</a>") && !html.contains("#rust</a>"), "{html}");

    // Scopes: write:accounts to change, read:accounts to list mine; anyone reads a profile's.
    let read = t.token_with_scopes(&alice, "read:accounts").await;
    t.post("/api/v1/featured_tags", Some(&read), json!({"name": "x"})).await.expect(403);
    t.get("/api/v1/featured_tags", Some(&read)).await.expect(200);
    t.get("/api/v1/accounts/999999999/featured_tags", None).await.expect(404);
}

#[tokio::test]
async fn unfollowing_a_tag_takes_out_of_home_only_what_the_tag_alone_brought() {
    let t = TestApp::spawn().await;
    let [viewer, friend, stranger] = t.register_all(["viewer", "friend", "stranger"]).await;
    t.follow(&viewer, &friend).await;
    tag_action(&t, &viewer, "rust", "follow").await;
    tag_action(&t, &viewer, "tea", "follow").await;
    t.home_ids(&viewer).await;
    let only_tag = id(&t.post_status(&stranger, json!({"status": "#rust from a stranger"})).await);
    let friends = id(&t.post_status(&friend, json!({"status": "#rust from a friend"})).await);
    let two_tags = id(&t.post_status(&stranger, json!({"status": "#rust with #tea"})).await);
    let own = id(&t.post_status(&viewer, json!({"status": "my own #rust"})).await);
    let other_tag = id(&t.post_status(&stranger, json!({"status": "just #tea"})).await);
    let all = [&other_tag, &own, &two_tags, &friends, &only_tag].map(|s| s.clone());
    assert_eq!(t.home_ids(&viewer).await, all);

    tag_action(&t, &viewer, "rust", "unfollow").await;
    let kept = [&other_tag, &own, &two_tags, &friends].map(|s| s.clone());
    assert_eq!(t.home_ids(&viewer).await, kept, "the stranger's #rust post left; the rest stayed");
    // A home rebuilt from the store agrees.
    t.app.evict_home(viewer.id.parse().unwrap()).await.unwrap();
    assert_eq!(t.home_ids(&viewer).await, kept);
    // Unfollowing again (nothing followed) changes nothing.
    tag_action(&t, &viewer, "rust", "unfollow").await;
    assert_eq!(t.home_ids(&viewer).await, kept);
}
