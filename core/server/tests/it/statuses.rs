use serde_json::{Value, json};

use crate::{TestApp, User, assert_required, id, ids, link, schema};

async fn show(t: &TestApp, status: &Value, viewer: Option<&User>) -> crate::Reply {
    t.get(&format!("/api/v1/statuses/{}", id(status)), viewer.map(|u| u.token.as_str())).await
}

async fn act(t: &TestApp, user: &User, status: &Value, action: &str) -> crate::Reply {
    t.post(&format!("/api/v1/statuses/{}/{action}", id(status)), Some(&user.token), json!({})).await
}

async fn statuses_count(t: &TestApp, user: &User) -> u64 {
    t.get(&format!("/api/v1/accounts/{}", user.id), None).await.expect(200)["statuses_count"].as_u64().unwrap()
}

async fn post_with_key(t: &TestApp, user: &User, key: &str, body: Value) -> (u16, Value) {
    let response = t.http.post(format!("{}/api/v1/statuses", t.base)).bearer_auth(&user.token).header("Idempotency-Key", key).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

// Posting.

#[tokio::test]
async fn posting_returns_the_rendered_status() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let status = t.post_status(&alice, json!({"status": "Hello <world> #Rust https://example.org"})).await;
    assert_required(&status, "Status", schema::STATUS);
    assert_eq!(status["visibility"], "public");
    assert_eq!(status["account"]["id"], alice.id.as_str());
    assert_eq!(status["account"]["statuses_count"], 1);
    assert_eq!(status["application"]["name"], "tests");
    assert_eq!(status["tags"][0]["name"], "rust");
    assert_eq!(status["favourited"], false);
    assert_eq!(status["reblogged"], false);
    assert_eq!(status["bookmarked"], false);
    assert_eq!(status["url"], format!("{}/@alice/{}", t.base, id(&status)));
    let content = status["content"].as_str().unwrap();
    assert!(content.starts_with("<p>Hello &lt;world&gt; <a href=\""), "{content}");
    assert!(content.contains("class=\"mention hashtag\""));
    assert!(content.contains("<a href=\"https://example.org\""));
    assert_eq!(show(&t, &status, None).await.expect(200)["content"], status["content"]);
}

#[tokio::test]
async fn posting_accepts_a_form_body() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let status = t
        .post_form(
            "/api/v1/statuses",
            Some(&alice.token),
            &[("status", "from a form"), ("visibility", "unlisted"), ("sensitive", "true"), ("spoiler_text", "cw")],
        )
        .await
        .expect(200);
    assert_eq!(status["visibility"], "unlisted");
    assert_eq!(status["sensitive"], true);
    assert_eq!(status["spoiler_text"], "cw");
}

#[tokio::test]
async fn a_blank_status_is_refused() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for body in [json!({"status": ""}), json!({"status": "  \n\t "}), json!({}), json!({"spoiler_text": "only a warning"})] {
        let reply = t.post("/api/v1/statuses", Some(&alice.token), body).await;
        assert_eq!(reply.error(), "Validation failed: Text can't be blank");
        reply.expect(422);
    }
    assert_eq!(statuses_count(&t, &alice).await, 0);
}

#[tokio::test]
async fn a_status_over_500_characters_is_refused() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let reply = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "a".repeat(501)})).await;
    assert_eq!(reply.error(), "Validation failed: Text character limit of 500 exceeded");
    reply.expect(422);
    t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "a".repeat(500)})).await.expect(200);
    // The content warning counts too.
    t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "a".repeat(490), "spoiler_text": "b".repeat(11)})).await.expect(422);
    // Characters are graphemes: a family emoji is one.
    t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "👨‍👩‍👧".repeat(500)})).await.expect(200);
}

#[tokio::test]
async fn a_url_counts_as_23_characters_however_long_it_is() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let url = format!("https://example.org/{}", "p".repeat(200));
    // 476 + 1 space + 23 = 500.
    let fits = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": format!("{} {url}", "a".repeat(476))})).await;
    fits.expect(200);
    let over = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": format!("{} {url}", "a".repeat(477))})).await;
    over.expect(422);
    // 480 characters and a long URL: 504, over the limit.
    t.post("/api/v1/statuses", Some(&alice.token), json!({"status": format!("{} {url}", "a".repeat(480))})).await.expect(422);
}

#[tokio::test]
async fn retrying_with_the_same_idempotency_key_returns_the_first_status() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let (code, first) = post_with_key(&t, &alice, "key-1", json!({"status": "once"})).await;
    assert_eq!(code, 200);
    let (code, retry) = post_with_key(&t, &alice, "key-1", json!({"status": "once"})).await;
    assert_eq!(code, 200);
    assert_eq!(id(&retry), id(&first));
    assert_eq!(statuses_count(&t, &alice).await, 1);
    assert_eq!(ids(&t.get(&format!("/api/v1/accounts/{}/statuses", alice.id), None).await.expect(200)), vec![id(&first)]);
    let (_, other_key) = post_with_key(&t, &alice, "key-2", json!({"status": "once"})).await;
    assert_ne!(id(&other_key), id(&first));
    // Keys are per account.
    let (_, bobs) = post_with_key(&t, &bob, "key-1", json!({"status": "once"})).await;
    assert_ne!(id(&bobs), id(&first));
    assert_eq!(bobs["account"]["id"], bob.id.as_str());
    assert_eq!(statuses_count(&t, &alice).await, 2);
}

#[tokio::test]
async fn concurrent_retries_with_one_idempotency_key_create_one_status() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let body = json!({"status": "racing"});
    let results = tokio::join!(
        post_with_key(&t, &alice, "same", body.clone()),
        post_with_key(&t, &alice, "same", body.clone()),
        post_with_key(&t, &alice, "same", body.clone()),
        post_with_key(&t, &alice, "same", body.clone()),
    );
    let results = [results.0, results.1, results.2, results.3];
    let created: std::collections::HashSet<String> = results.iter().filter(|(code, _)| *code == 200).map(|(_, s)| id(s)).collect();
    assert_eq!(created.len(), 1, "{results:?}");
    assert_eq!(statuses_count(&t, &alice).await, 1);
}

#[tokio::test]
async fn an_empty_or_over_long_idempotency_key_is_refused() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let (code, _) = post_with_key(&t, &alice, &"k".repeat(257), json!({"status": "x"})).await;
    assert_eq!(code, 400);
    assert_eq!(statuses_count(&t, &alice).await, 0);
}

#[tokio::test]
async fn every_visibility_is_accepted_and_an_unknown_one_refused() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for visibility in ["public", "unlisted", "private", "direct"] {
        let status = t.post_status(&alice, json!({"status": "hi", "visibility": visibility})).await;
        assert_eq!(status["visibility"], visibility);
    }
    let reply = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "hi", "visibility": "secret"})).await;
    assert_eq!(reply.error(), "Validation failed: Visibility is not included in the list");
    reply.expect(422);
    assert_eq!(statuses_count(&t, &alice).await, 4);
}

#[tokio::test]
async fn the_language_is_stored_normalised_and_a_bad_one_refused() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    assert_eq!(t.post_status(&alice, json!({"status": "hallo", "language": "DE"})).await["language"], "de");
    assert_eq!(t.post_status(&alice, json!({"status": "hello"})).await["language"], Value::Null);
    t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "x", "language": "english"})).await.expect(422);
    t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"source": {"language": "fr"}})).await.expect(200);
    assert_eq!(t.post_status(&alice, json!({"status": "bonjour"})).await["language"], "fr", "the account's default applies");
}

#[tokio::test]
async fn unknown_attachments_invalid_polls_and_scheduling_are_refused() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for body in [
        json!({"status": "x", "media_ids": ["1"]}),
        json!({"status": "x", "poll": {"options": ["a"], "expires_in": 600}}),
        // Scheduling is for the future (scheduled.rs has the rest).
        json!({"status": "x", "scheduled_at": "2001-01-01T00:00:00Z"}),
    ] {
        t.post("/api/v1/statuses", Some(&alice.token), body).await.expect(422);
    }
    assert_eq!(statuses_count(&t, &alice).await, 0);
}

#[tokio::test]
async fn mentions_and_hashtags_are_linked() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "Bob"]).await;
    let status = t.post_status(&alice, json!({"status": "hi @bob and @nobody and @bob@elsewhere.example #Tag #tag"})).await;
    assert_eq!(status["mentions"].as_array().unwrap().len(), 1);
    assert_eq!(status["mentions"][0]["id"], bob.id.as_str());
    assert_eq!(status["mentions"][0]["username"], "Bob");
    assert_eq!(status["tags"], json!([{"name": "tag", "url": format!("{}/tags/tag", t.base)}]));
    let content = status["content"].as_str().unwrap();
    assert!(content.contains("class=\"u-url mention\""));
    assert!(content.contains("@nobody"), "unknown mentions stay text");
}

// Replies.

#[tokio::test]
async fn a_reply_links_to_its_parent_and_counts_there() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let parent = t.post_status(&alice, json!({"status": "question"})).await;
    let reply = t.post_status(&bob, json!({"status": "@alice answer", "in_reply_to_id": id(&parent)})).await;
    assert_eq!(reply["in_reply_to_id"], id(&parent).as_str());
    assert_eq!(reply["in_reply_to_account_id"], alice.id.as_str());
    assert_eq!(show(&t, &parent, None).await.expect(200)["replies_count"], 1);
    t.delete(&format!("/api/v1/statuses/{}", id(&reply)), Some(&bob.token)).await.expect(200);
    assert_eq!(show(&t, &parent, None).await.expect(200)["replies_count"], 0);
}

#[tokio::test]
async fn a_reply_to_a_boost_replies_to_the_boosted_status() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let original = t.post_status(&alice, json!({"status": "original"})).await;
    let boost = act(&t, &bob, &original, "reblog").await.expect(200);
    let reply = t.post_status(&carol, json!({"status": "@alice reply", "in_reply_to_id": id(&boost)})).await;
    assert_eq!(reply["in_reply_to_id"], original["id"]);
    assert_eq!(reply["in_reply_to_account_id"], alice.id.as_str());
    let ctx = t.get(&format!("/api/v1/statuses/{}/context", id(&original)), None).await.expect(200);
    assert_eq!(ids(&ctx["descendants"]), vec![id(&reply)]);
}

#[tokio::test]
async fn replying_to_an_unknown_or_invisible_status_is_404() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let private = t.post_status(&alice, json!({"status": "followers only", "visibility": "private"})).await;
    for parent in ["123456789".to_owned(), "junk".to_owned(), id(&private)] {
        let reply = t.post("/api/v1/statuses", Some(&bob.token), json!({"status": "reply", "in_reply_to_id": parent})).await;
        assert_eq!(reply.status, 404, "{parent}: {}", reply.body);
    }
    assert_eq!(statuses_count(&t, &bob).await, 0);
}

// Reading.

#[tokio::test]
async fn a_private_status_is_visible_to_followers_and_mentioned_accounts_only() {
    let t = TestApp::spawn().await;
    let [alice, follower, mentioned, stranger] = t.register_all(["alice", "follower", "mentioned", "stranger"]).await;
    t.follow(&follower, &alice).await;
    let private = t.post_status(&alice, json!({"status": "hi @mentioned", "visibility": "private"})).await;
    show(&t, &private, None).await.expect(404);
    let reply = show(&t, &private, Some(&stranger)).await;
    assert_eq!(reply.error(), "Record not found");
    reply.expect(404);
    show(&t, &private, Some(&follower)).await.expect(200);
    show(&t, &private, Some(&mentioned)).await.expect(200);
    show(&t, &private, Some(&alice)).await.expect(200);
    t.post(&format!("/api/v1/accounts/{}/unfollow", alice.id), Some(&follower.token), json!({})).await.expect(200);
    show(&t, &private, Some(&follower)).await.expect(404);
}

#[tokio::test]
async fn a_direct_status_is_visible_to_mentioned_accounts_only() {
    let t = TestApp::spawn().await;
    let [alice, follower, mentioned] = t.register_all(["alice", "follower", "mentioned"]).await;
    t.follow(&follower, &alice).await;
    let direct = t.post_status(&alice, json!({"status": "@mentioned psst", "visibility": "direct"})).await;
    show(&t, &direct, None).await.expect(404);
    show(&t, &direct, Some(&follower)).await.expect(404);
    show(&t, &direct, Some(&mentioned)).await.expect(200);
    show(&t, &direct, Some(&alice)).await.expect(200);
}

#[tokio::test]
async fn unlisted_statuses_are_visible_to_anyone_with_the_link() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let unlisted = t.post_status(&alice, json!({"status": "quiet", "visibility": "unlisted"})).await;
    show(&t, &unlisted, None).await.expect(200);
}

#[tokio::test]
async fn an_unknown_or_malformed_status_id_is_404() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for path in [
        "/api/v1/statuses/123456789",
        "/api/v1/statuses/junk",
        "/api/v1/statuses/123456789/context",
        "/api/v1/statuses/123456789/history",
        "/api/v1/statuses/123456789/favourited_by",
    ] {
        t.get(path, None).await.expect(404);
        t.get(path, Some(&alice.token)).await.expect(404);
    }
    for action in ["favourite", "unfavourite", "reblog", "unreblog", "bookmark", "unbookmark"] {
        t.post(&format!("/api/v1/statuses/123456789/{action}"), Some(&alice.token), json!({})).await.expect(404);
    }
    t.put("/api/v1/statuses/123456789", Some(&alice.token), json!({"status": "x"})).await.expect(404);
    t.delete("/api/v1/statuses/123456789", Some(&alice.token)).await.expect(404);
    t.get("/api/v1/statuses/123456789/source", Some(&alice.token)).await.expect(404);
}

#[tokio::test]
async fn anonymous_readers_get_no_viewer_flags() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let status = t.post_status(&alice, json!({"status": "hi"})).await;
    let anonymous = show(&t, &status, None).await.expect(200);
    for flag in ["favourited", "reblogged", "bookmarked", "muted", "pinned"] {
        assert!(anonymous.get(flag).is_none(), "{flag} is absent for anonymous readers");
    }
    assert_eq!(show(&t, &status, Some(&alice)).await.expect(200)["pinned"], false);
}

// Editing.

#[tokio::test]
async fn editing_changes_the_text_and_keeps_a_history() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let status = t.post_status(&alice, json!({"status": "first draft"})).await;
    assert_eq!(status["edited_at"], Value::Null);
    let history = t.get(&format!("/api/v1/statuses/{}/history", id(&status)), None).await.expect(200);
    assert_eq!(history.as_array().unwrap().len(), 1, "an unedited status has its original as history");
    let edited =
        t.put(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token), json!({"status": "second draft", "spoiler_text": "cw"})).await.expect(200);
    assert_eq!(edited["id"], status["id"]);
    assert_eq!(edited["content"], "<p>second draft</p>");
    assert_eq!(edited["spoiler_text"], "cw");
    assert!(edited["edited_at"].is_string());
    assert_eq!(show(&t, &status, None).await.expect(200)["content"], "<p>second draft</p>");
    let history = t.get(&format!("/api/v1/statuses/{}/history", id(&status)), None).await.expect(200);
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_required(&history[0], "StatusEdit", schema::STATUS_EDIT);
    assert_eq!(history[0]["content"], "<p>first draft</p>");
    assert_eq!(history[1]["content"], "<p>second draft</p>");
    assert_eq!(history[1]["account"]["id"], alice.id.as_str());
    t.put(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token), json!({"status": "third"})).await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/statuses/{}/history", id(&status)), None).await.expect(200).as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn the_source_returns_the_text_as_written() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let status = t.post_status(&alice, json!({"status": "Hello <b>you</b> #tag", "spoiler_text": "careful"})).await;
    let source = t.get(&format!("/api/v1/statuses/{}/source", id(&status)), Some(&alice.token)).await.expect(200);
    assert_required(&source, "StatusSource", schema::STATUS_SOURCE);
    assert_eq!(source, json!({"id": id(&status), "text": "Hello <b>you</b> #tag", "spoiler_text": "careful"}));
}

#[tokio::test]
async fn only_the_author_may_edit_or_read_the_source() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let status = t.post_status(&alice, json!({"status": "mine"})).await;
    let reply = t.put(&format!("/api/v1/statuses/{}", id(&status)), Some(&bob.token), json!({"status": "yours now"})).await;
    assert_eq!(reply.error(), "This action is not allowed");
    reply.expect(403);
    t.get(&format!("/api/v1/statuses/{}/source", id(&status)), Some(&bob.token)).await.expect(403);
    t.put(&format!("/api/v1/statuses/{}", id(&status)), None, json!({"status": "anonymous"})).await.expect(401);
    assert_eq!(show(&t, &status, None).await.expect(200)["content"], "<p>mine</p>");
}

#[tokio::test]
async fn an_edit_is_validated_like_a_new_post() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let status = t.post_status(&alice, json!({"status": "fine"})).await;
    for body in
        [json!({"status": ""}), json!({"status": "x".repeat(501)}), json!({"status": "x", "language": "nonsense"}), json!({"status": "x", "media_ids": ["1"]})]
    {
        t.put(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token), body).await.expect(422);
    }
    assert_eq!(show(&t, &status, None).await.expect(200)["edited_at"], Value::Null);
}

#[tokio::test]
async fn a_boost_cannot_be_edited() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let status = t.post_status(&alice, json!({"status": "boost me"})).await;
    let boost = act(&t, &bob, &status, "reblog").await.expect(200);
    t.put(&format!("/api/v1/statuses/{}", id(&boost)), Some(&bob.token), json!({"status": "mine now"})).await.expect(422);
}

// Deleting.

#[tokio::test]
async fn deleting_returns_the_text_for_redrafting_and_then_the_status_is_gone() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let status = t.post_status(&alice, json!({"status": "Regret #oops", "spoiler_text": "cw"})).await;
    let deleted = t.delete(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token)).await.expect(200);
    assert_eq!(deleted["id"], status["id"]);
    assert_eq!(deleted["text"], "Regret #oops");
    assert_eq!(deleted["spoiler_text"], "cw");
    show(&t, &status, None).await.expect(404);
    show(&t, &status, Some(&alice)).await.expect(404);
    t.delete(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token)).await.expect(404);
    assert_eq!(statuses_count(&t, &alice).await, 0);
    assert_eq!(t.get("/api/v1/timelines/tag/oops", None).await.expect(200), json!([]));
    assert_eq!(t.get("/api/v1/timelines/public", None).await.expect(200), json!([]));
    assert_eq!(t.get(&format!("/api/v1/accounts/{}/statuses", alice.id), None).await.expect(200), json!([]));
}

#[tokio::test]
async fn only_the_author_may_delete() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let status = t.post_status(&alice, json!({"status": "mine"})).await;
    t.delete(&format!("/api/v1/statuses/{}", id(&status)), Some(&bob.token)).await.expect(403);
    t.delete(&format!("/api/v1/statuses/{}", id(&status)), None).await.expect(401);
    show(&t, &status, None).await.expect(200);
    // A private status of someone you cannot see does not reveal that it exists.
    let private = t.post_status(&alice, json!({"status": "hidden", "visibility": "private"})).await;
    t.delete(&format!("/api/v1/statuses/{}", id(&private)), Some(&bob.token)).await.expect(404);
}

#[tokio::test]
async fn deleting_a_status_deletes_its_boosts() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let status = t.post_status(&alice, json!({"status": "boosted"})).await;
    let boost = act(&t, &bob, &status, "reblog").await.expect(200);
    assert_eq!(statuses_count(&t, &bob).await, 1);
    t.delete(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token)).await.expect(200);
    t.settle().await;
    t.get(&format!("/api/v1/statuses/{}", id(&boost)), None).await.expect(404);
    assert_eq!(statuses_count(&t, &bob).await, 0);
    assert_eq!(t.get(&format!("/api/v1/accounts/{}/statuses", bob.id), None).await.expect(200), json!([]));
}

// Threads.

#[tokio::test]
async fn context_returns_ancestors_and_descendants_depth_first() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let root = t.post_status(&alice, json!({"status": "root"})).await;
    let a = t.post_status(&bob, json!({"status": "a", "in_reply_to_id": id(&root)})).await;
    let b = t.post_status(&alice, json!({"status": "b", "in_reply_to_id": id(&root)})).await;
    let a1 = t.post_status(&alice, json!({"status": "a1", "in_reply_to_id": id(&a)})).await;
    let a1x = t.post_status(&bob, json!({"status": "a1x", "in_reply_to_id": id(&a1)})).await;
    let ctx = t.get(&format!("/api/v1/statuses/{}/context", id(&root)), None).await.expect(200);
    assert_required(&ctx, "Context", schema::CONTEXT);
    assert_eq!(ctx["ancestors"], json!([]));
    assert_eq!(ids(&ctx["descendants"]), vec![id(&a), id(&a1), id(&a1x), id(&b)]);
    let ctx = t.get(&format!("/api/v1/statuses/{}/context", id(&a1)), Some(&bob.token)).await.expect(200);
    assert_eq!(ids(&ctx["ancestors"]), vec![id(&root), id(&a)]);
    assert_eq!(ids(&ctx["descendants"]), vec![id(&a1x)]);
}

#[tokio::test]
async fn context_hides_replies_the_viewer_may_not_see() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let root = t.post_status(&alice, json!({"status": "root"})).await;
    let private = t.post_status(&bob, json!({"status": "for followers", "visibility": "private", "in_reply_to_id": id(&root)})).await;
    let public = t.post_status(&bob, json!({"status": "for all", "in_reply_to_id": id(&root)})).await;
    let ctx = t.get(&format!("/api/v1/statuses/{}/context", id(&root)), Some(&carol.token)).await.expect(200);
    assert_eq!(ids(&ctx["descendants"]), vec![id(&public)]);
    t.follow(&carol, &bob).await;
    let ctx = t.get(&format!("/api/v1/statuses/{}/context", id(&root)), Some(&carol.token)).await.expect(200);
    assert_eq!(ids(&ctx["descendants"]), vec![id(&private), id(&public)]);
    t.get(&format!("/api/v1/statuses/{}/context", id(&private)), None).await.expect(404);
}

// Favourites.

#[tokio::test]
async fn favouriting_counts_once_and_unfavouriting_takes_it_back() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let status = t.post_status(&alice, json!({"status": "like me"})).await;
    let faved = act(&t, &bob, &status, "favourite").await.expect(200);
    assert_eq!(faved["favourited"], true);
    assert_eq!(faved["favourites_count"], 1);
    let again = act(&t, &bob, &status, "favourite").await.expect(200);
    assert_eq!(again["favourites_count"], 1, "favouriting is idempotent");
    assert_eq!(show(&t, &status, Some(&alice)).await.expect(200)["favourited"], false, "the flag is the viewer's own");
    let by = t.get(&format!("/api/v1/statuses/{}/favourited_by", id(&status)), None).await.expect(200);
    assert_eq!(ids(&by), vec![bob.id.clone()]);
    let unfaved = act(&t, &bob, &status, "unfavourite").await.expect(200);
    assert_eq!(unfaved["favourited"], false);
    assert_eq!(unfaved["favourites_count"], 0);
    assert_eq!(act(&t, &bob, &status, "unfavourite").await.expect(200)["favourites_count"], 0);
    assert_eq!(t.get(&format!("/api/v1/statuses/{}/favourited_by", id(&status)), None).await.expect(200), json!([]));
}

#[tokio::test]
async fn favouriting_a_boost_favourites_the_original() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let status = t.post_status(&alice, json!({"status": "original"})).await;
    let boost = act(&t, &bob, &status, "reblog").await.expect(200);
    let faved = act(&t, &carol, &boost, "favourite").await.expect(200);
    assert_eq!(faved["id"], status["id"]);
    assert_eq!(show(&t, &status, None).await.expect(200)["favourites_count"], 1);
}

#[tokio::test]
async fn invisible_statuses_cannot_be_favourited_bookmarked_or_boosted() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let private = t.post_status(&alice, json!({"status": "followers only", "visibility": "private"})).await;
    for action in ["favourite", "bookmark", "reblog", "unfavourite", "unbookmark", "unreblog"] {
        act(&t, &bob, &private, action).await.expect(404);
    }
    t.get(&format!("/api/v1/statuses/{}/favourited_by", id(&private)), Some(&bob.token)).await.expect(404);
    t.get(&format!("/api/v1/statuses/{}/reblogged_by", id(&private)), None).await.expect(404);
}

// Boosts.

#[tokio::test]
async fn boosting_wraps_the_original_and_counts_once() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let status = t.post_status(&alice, json!({"status": "boost me"})).await;
    let boost = act(&t, &bob, &status, "reblog").await.expect(200);
    assert_required(&boost, "Status", schema::STATUS);
    assert_ne!(boost["id"], status["id"]);
    assert_eq!(boost["account"]["id"], bob.id.as_str());
    assert_eq!(boost["reblog"]["id"], status["id"]);
    assert_eq!(boost["reblog"]["account"]["id"], alice.id.as_str());
    assert_eq!(boost["reblog"]["reblogs_count"], 1);
    assert_eq!(boost["reblog"]["reblogged"], true);
    assert_eq!(boost["content"], "");
    let again = act(&t, &bob, &status, "reblog").await.expect(200);
    assert_eq!(again["id"], boost["id"], "boosting again returns the same boost");
    assert_eq!(show(&t, &status, None).await.expect(200)["reblogs_count"], 1);
    assert_eq!(ids(&t.get(&format!("/api/v1/statuses/{}/reblogged_by", id(&status)), None).await.expect(200)), vec![bob.id.clone()]);
    // Boosting the boost boosts the original.
    let carol = t.register("carol").await;
    let nested = act(&t, &carol, &boost, "reblog").await.expect(200);
    assert_eq!(nested["reblog"]["id"], status["id"]);
    assert_eq!(show(&t, &status, None).await.expect(200)["reblogs_count"], 2);
}

#[tokio::test]
async fn unboosting_removes_the_boost_and_returns_the_original() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let status = t.post_status(&alice, json!({"status": "boost me"})).await;
    let boost = act(&t, &bob, &status, "reblog").await.expect(200);
    let original = act(&t, &bob, &status, "unreblog").await.expect(200);
    assert_eq!(original["id"], status["id"]);
    assert_eq!(original["reblogged"], false);
    assert_eq!(original["reblogs_count"], 0);
    t.get(&format!("/api/v1/statuses/{}", id(&boost)), None).await.expect(404);
    assert_eq!(statuses_count(&t, &bob).await, 0);
    assert_eq!(act(&t, &bob, &status, "unreblog").await.expect(200)["reblogs_count"], 0, "unboosting is idempotent");
    assert_eq!(t.get(&format!("/api/v1/statuses/{}/reblogged_by", id(&status)), None).await.expect(200), json!([]));
}

#[tokio::test]
async fn a_boost_may_be_unlisted_or_private_but_not_direct() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let status = t.post_status(&alice, json!({"status": "boost me"})).await;
    let boost = t.post(&format!("/api/v1/statuses/{}/reblog", id(&status)), Some(&bob.token), json!({"visibility": "unlisted"})).await.expect(200);
    assert_eq!(boost["visibility"], "unlisted");
    t.post(&format!("/api/v1/statuses/{}/reblog", id(&status)), Some(&carol.token), json!({"visibility": "direct"})).await.expect(422);
    t.post(&format!("/api/v1/statuses/{}/reblog", id(&status)), Some(&carol.token), json!({"visibility": "loud"})).await.expect(422);
}

#[tokio::test]
async fn direct_statuses_cannot_be_boosted() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let direct = t.post_status(&alice, json!({"status": "@bob secret", "visibility": "direct"})).await;
    act(&t, &bob, &direct, "reblog").await.expect(403);
    act(&t, &alice, &direct, "reblog").await.expect(403);
    act(&t, &carol, &direct, "reblog").await.expect(404);
    assert_eq!(show(&t, &direct, Some(&alice)).await.expect(200)["reblogs_count"], 0);
}

#[tokio::test]
async fn private_statuses_can_be_boosted_only_by_their_author() {
    let t = TestApp::spawn().await;
    let [alice, follower] = t.register_all(["alice", "follower"]).await;
    t.follow(&follower, &alice).await;
    let private = t.post_status(&alice, json!({"status": "followers only", "visibility": "private"})).await;
    let reply = act(&t, &follower, &private, "reblog").await;
    assert_eq!(reply.error(), "This status cannot be boosted");
    reply.expect(403);
    let own = act(&t, &alice, &private, "reblog").await.expect(200);
    assert_eq!(own["visibility"], "private", "a self-boost keeps the audience");
}

// Bookmarks.

#[tokio::test]
async fn bookmarking_is_private_to_the_bookmarker() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let status = t.post_status(&alice, json!({"status": "save me"})).await;
    let marked = act(&t, &bob, &status, "bookmark").await.expect(200);
    assert_eq!(marked["bookmarked"], true);
    act(&t, &bob, &status, "bookmark").await.expect(200);
    assert_eq!(ids(&t.get("/api/v1/bookmarks", Some(&bob.token)).await.expect(200)), vec![id(&status)]);
    assert_eq!(t.get("/api/v1/bookmarks", Some(&alice.token)).await.expect(200), json!([]));
    assert_eq!(show(&t, &status, Some(&alice)).await.expect(200)["bookmarked"], false);
    let unmarked = act(&t, &bob, &status, "unbookmark").await.expect(200);
    assert_eq!(unmarked["bookmarked"], false);
    act(&t, &bob, &status, "unbookmark").await.expect(200);
    assert_eq!(t.get("/api/v1/bookmarks", Some(&bob.token)).await.expect(200), json!([]));
}

#[tokio::test]
async fn bookmarks_are_listed_by_when_they_were_made_and_paginate() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let older = t.post_status(&alice, json!({"status": "older"})).await;
    let newer = t.post_status(&alice, json!({"status": "newer"})).await;
    let newest = t.post_status(&alice, json!({"status": "newest"})).await;
    for status in [&newer, &older, &newest] {
        act(&t, &bob, status, "bookmark").await.expect(200);
    }
    let all = t.get("/api/v1/bookmarks", Some(&bob.token)).await.expect(200);
    assert_eq!(ids(&all), vec![id(&newest), id(&older), id(&newer)]);
    let first = t.get("/api/v1/bookmarks?limit=1", Some(&bob.token)).await;
    let second = t.follow_link(&first, "next", Some(&bob.token)).await;
    let third = t.follow_link(&second, "next", Some(&bob.token)).await;
    let end = t.follow_link(&third, "next", Some(&bob.token)).await;
    assert_eq!(ids(&first.body), vec![id(&newest)]);
    assert_eq!(ids(&second.body), vec![id(&older)]);
    assert_eq!(ids(&third.body), vec![id(&newer)]);
    assert_eq!(end.expect(200), json!([]));
    let back = t.follow_link(&third, "prev", Some(&bob.token)).await;
    assert_eq!(ids(&back.expect(200)), vec![id(&older)]);
}

#[tokio::test]
async fn favourites_are_listed_and_paginate_and_drop_deleted_statuses() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let a = t.post_status(&alice, json!({"status": "a"})).await;
    let b = t.post_status(&alice, json!({"status": "b"})).await;
    let c = t.post_status(&alice, json!({"status": "c"})).await;
    for status in [&a, &b, &c] {
        act(&t, &bob, status, "favourite").await.expect(200);
    }
    let first = t.get("/api/v1/favourites?limit=2", Some(&bob.token)).await;
    assert!(link(&first, "next").unwrap().starts_with(&format!("{}/api/v1/favourites?limit=2&max_id=", t.base)));
    let second = t.follow_link(&first, "next", Some(&bob.token)).await;
    assert_eq!(ids(&first.expect(200)), vec![id(&c), id(&b)]);
    assert_eq!(ids(&second.expect(200)), vec![id(&a)]);
    t.delete(&format!("/api/v1/statuses/{}", id(&b)), Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&t.get("/api/v1/favourites", Some(&bob.token)).await.expect(200)), vec![id(&c), id(&a)]);
}

#[tokio::test]
async fn bookmarks_and_favourites_need_their_scopes() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let statuses_only = t.token_with_scopes(&alice, "read:statuses").await;
    t.get("/api/v1/bookmarks", Some(&statuses_only)).await.expect(403);
    t.get("/api/v1/favourites", Some(&statuses_only)).await.expect(403);
    let narrow = t.token_with_scopes(&alice, "read:bookmarks read:favourites").await;
    t.get("/api/v1/bookmarks", Some(&narrow)).await.expect(200);
    t.get("/api/v1/favourites", Some(&narrow)).await.expect(200);
}

#[tokio::test]
async fn favourited_by_and_reblogged_by_paginate_with_link_headers() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let status = t.post_status(&alice, json!({"status": "popular"})).await;
    let mut fans = Vec::new();
    for name in ["f1", "f2", "f3"] {
        let fan = t.register(name).await;
        act(&t, &fan, &status, "favourite").await.expect(200);
        act(&t, &fan, &status, "reblog").await.expect(200);
        fans.push(fan.id);
    }
    for list in ["favourited_by", "reblogged_by"] {
        let first = t.get(&format!("/api/v1/statuses/{}/{list}?limit=2", id(&status)), None).await;
        let second = t.follow_link(&first, "next", None).await;
        assert_required(&first.body[0], "Account", schema::ACCOUNT);
        assert_eq!(ids(&first.expect(200)), vec![fans[2].clone(), fans[1].clone()], "{list}");
        assert_eq!(ids(&second.expect(200)), vec![fans[0].clone()], "{list}");
    }
}

#[tokio::test]
async fn an_oversized_request_body_is_refused() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let reply = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "x".repeat(2 * 1024 * 1024)})).await;
    assert_eq!(reply.error(), "Request body is too large");
    reply.expect(422);
    assert_eq!(statuses_count(&t, &alice).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_favourites_boosts_and_their_undos_all_succeed_and_leave_consistent_counts() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    let post = t.post_status(&alice, json!({"status": "contended"})).await;
    let status = id(&post);
    for (on, off, flag, count, by) in
        [("favourite", "unfavourite", "favourited", "favourites_count", "favourited_by"), ("reblog", "unreblog", "reblogged", "reblogs_count", "reblogged_by")]
    {
        for _ in 0..3 {
            let requests = (0..40).map(|i| {
                let action = if i % 2 == 0 { on } else { off };
                let (t, bob, status) = (&t, &bob, &status);
                async move { t.post(&format!("/api/v1/statuses/{status}/{action}"), Some(&bob.token), json!({})).await }
            });
            for reply in futures_util::future::join_all(requests).await {
                assert_eq!(reply.status, 200, "every {on}/{off} is answered, never a 500 nor a 404: {}", reply.body);
            }
            let seen = t.get(&format!("/api/v1/statuses/{status}"), Some(&bob.token)).await.expect(200);
            let expected = usize::from(seen[flag].as_bool().unwrap());
            assert_eq!(seen[count], expected, "{count} agrees with {flag}");
            let listed = t.get(&format!("/api/v1/statuses/{status}/{by}"), Some(&bob.token)).await.expect(200);
            assert_eq!(ids(&listed).len(), expected, "no orphaned {by} entry");
        }
    }
}

#[tokio::test]
async fn a_text_plain_body_is_not_a_form() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let res = t
        .http
        .post(format!("{}/api/v1/statuses", t.base))
        .bearer_auth(&alice.token)
        .header("content-type", "text/plain")
        .body("status=hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "Mastodon's error envelope: {body}");
    assert!(t.get(&format!("/api/v1/accounts/{}/statuses", alice.id), None).await.expect(200).as_array().unwrap().is_empty());
    // A form with a charset parameter is still a form.
    let res = t
        .http
        .post(format!("{}/api/v1/statuses", t.base))
        .bearer_auth(&alice.token)
        .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
        .body("status=hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn nul_characters_are_refused_in_status_and_profile_text() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for body in [json!({"status": "a\u{0}b"}), json!({"status": "fine", "spoiler_text": "cw\u{0}"})] {
        let reply = t.post("/api/v1/statuses", Some(&alice.token), body).await;
        assert_eq!(reply.status, 422, "{}", reply.body);
    }
    let reply = t.post_form("/api/v1/statuses", Some(&alice.token), &[("status", "a\0b")]).await;
    assert_eq!(reply.status, 422, "a form's %00 too: {}", reply.body);
    for body in [
        json!({"display_name": "x\u{0}"}),
        json!({"note": "x\u{0}"}),
        json!({"fields_attributes": {"0": {"name": "n\u{0}", "value": "v"}}}),
        json!({"fields_attributes": {"0": {"name": "n", "value": "v\u{0}"}}}),
    ] {
        let reply = t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
    }
    let reply = t.patch_form("/api/v1/accounts/update_credentials", Some(&alice.token), &[("note", "a\0b")]).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert!(!me.to_string().contains("\\u0000"), "nothing stored: {me}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deletes_of_one_status_answer_one_200_and_the_rest_404() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let post = t.post_status(&alice, json!({"status": "delete me many times"})).await;
    let status = id(&post);
    let path = format!("/api/v1/statuses/{status}");
    let requests = (0..20).map(|_| t.delete(&path, Some(&alice.token)));
    let statuses: Vec<u16> = futures_util::future::join_all(requests).await.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 404).count(), 19, "{statuses:?}");
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", alice.id), None).await.expect(200)["statuses_count"], 0);
}

#[tokio::test]
async fn own_statuses_are_pinned_up_to_five_and_listed_on_the_profile() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let mut posts = Vec::new();
    for n in 0..6 {
        posts.push(t.post_status(&alice, json!({"status": format!("post {n}")})).await);
    }
    for post in &posts[..5] {
        let pinned = t.post(&format!("/api/v1/statuses/{}/pin", id(post)), Some(&alice.token), json!({})).await.expect(200);
        assert_eq!(pinned["pinned"], true);
    }
    // Pinning again changes nothing; a sixth is refused.
    t.post(&format!("/api/v1/statuses/{}/pin", id(&posts[0])), Some(&alice.token), json!({})).await.expect(200);
    let sixth = t.post(&format!("/api/v1/statuses/{}/pin", id(&posts[5])), Some(&alice.token), json!({})).await;
    assert!(sixth.error().contains("at most 5"), "{:?}", sixth.body);
    sixth.expect(422);
    let listed = t.get(&format!("/api/v1/accounts/{}/statuses?pinned=true", alice.id), None).await.expect(200);
    assert_eq!(ids(&listed).len(), 5);
    assert!(!ids(&listed).contains(&id(&posts[5])));
    let unpinned = t.post(&format!("/api/v1/statuses/{}/unpin", id(&posts[0])), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(unpinned["pinned"], false);
    t.post(&format!("/api/v1/statuses/{}/pin", id(&posts[5])), Some(&alice.token), json!({})).await.expect(200);

    // Only your own, not boosts nor direct posts; the scope is write:accounts.
    let bobs = t.post_status(&bob, json!({"status": "bob's"})).await;
    t.post(&format!("/api/v1/statuses/{}/pin", id(&bobs)), Some(&alice.token), json!({})).await.expect(422);
    let boost = t.post(&format!("/api/v1/statuses/{}/reblog", id(&bobs)), Some(&alice.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/statuses/{}/pin", id(&boost)), Some(&alice.token), json!({})).await.expect(422);
    let direct = t.post_status(&bob, json!({"status": "@alice secret", "visibility": "direct"})).await;
    t.post(&format!("/api/v1/statuses/{}/pin", id(&direct)), Some(&bob.token), json!({})).await.expect(422);
    let read_only = t.token_with_scopes(&bob, "read").await;
    t.post(&format!("/api/v1/statuses/{}/pin", id(&bobs)), Some(&read_only), json!({})).await.expect(403);
    t.post("/api/v1/statuses/123456789/pin", Some(&bob.token), json!({})).await.expect(404);
}

#[tokio::test]
async fn several_statuses_and_accounts_are_fetched_at_once_in_order_as_each_may_be_seen() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let public = t.post_status(&alice, json!({"status": "for all"})).await;
    let private = t.post_status(&alice, json!({"status": "for followers", "visibility": "private"})).await;
    let other = t.post_status(&bob, json!({"status": "bob's"})).await;
    let query = format!("/api/v1/statuses?id[]={}&id[]={}&id[]=123456789&id[]={}&id[]=junk", id(&other), id(&private), id(&public));
    assert_eq!(ids(&t.get(&query, None).await.expect(200)), vec![id(&other), id(&public)]);
    assert_eq!(ids(&t.get(&query, Some(&carol.token)).await.expect(200)), vec![id(&other), id(&public)]);
    assert_eq!(ids(&t.get(&query, Some(&alice.token)).await.expect(200)), vec![id(&other), id(&private), id(&public)]);
    let accounts = t.get(&format!("/api/v1/accounts?id[]={}&id[]={}&id[]=123456789", carol.id, alice.id), None).await.expect(200);
    assert_eq!(ids(&accounts), vec![carol.id.clone(), alice.id.clone()]);
}
