//! Direct conversations: one per set of other participants per account, read/unread as
//! Mastodon keeps them, paginated by their newest statuses, removed for the caller only and
//! brought back by a new status, kept by an idempotent consumer (replays change nothing), the
//! `direct` stream (SSE and WebSocket); and direct statuses reach no one they do not mention.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::streaming::{Sse, WAIT, ws_next, ws_next_within, ws_url};
use crate::{TestApp, User, assert_required, id, link};

async fn dm(t: &TestApp, from: &User, text: &str) -> Value {
    t.post_status(from, json!({"status": text, "visibility": "direct"})).await
}

async fn conversations(t: &TestApp, user: &User, query: &str) -> crate::Reply {
    t.settle().await;
    t.get(&format!("/api/v1/conversations{query}"), Some(&user.token)).await
}

async fn listed(t: &TestApp, user: &User) -> Value {
    conversations(t, user, "").await.expect(200)
}

/// (participants' usernames, unread, last status id) per conversation, newest first.
fn summary(list: &Value) -> Vec<(Vec<String>, bool, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let accounts = c["accounts"].as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap().to_owned()).collect();
            (accounts, c["unread"].as_bool().unwrap(), c["last_status"]["id"].as_str().unwrap_or("").to_owned())
        })
        .collect()
}

fn row(accounts: &[&str], unread: bool, last: &Value) -> (Vec<String>, bool, String) {
    (accounts.iter().map(|a| (*a).to_owned()).collect(), unread, id(last))
}

#[tokio::test]
async fn each_participant_set_is_one_conversation_read_by_its_author_and_unread_for_the_mentioned() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    let first = dm(&t, &alice, "@bob hi").await;
    let alices = listed(&t, &alice).await;
    assert_required(&alices[0], "Conversation", &["id", "unread", "accounts", "last_status.id"]);
    assert_eq!(summary(&alices), vec![row(&["bob"], false, &first)]);
    assert_eq!(summary(&listed(&t, &bob).await), vec![row(&["alice"], true, &first)]);
    assert_eq!(listed(&t, &carol).await, json!([]), "not mentioned: nothing");

    // A reply in the same set is the same conversation: the replier's own status reads it.
    let reply = t.post_status(&bob, json!({"status": "@alice hey", "visibility": "direct", "in_reply_to_id": id(&first)})).await;
    assert_eq!(summary(&listed(&t, &alice).await), vec![row(&["bob"], true, &reply)]);
    assert_eq!(summary(&listed(&t, &bob).await), vec![row(&["alice"], false, &reply)]);

    // Another set is another conversation, newest activity first; public mentions make none.
    let group = dm(&t, &alice, "@bob @carol all of us").await;
    t.post_status(&alice, json!({"status": "@dave in public"})).await;
    let alices = listed(&t, &alice).await;
    assert_eq!(summary(&alices), vec![row(&["bob", "carol"], false, &group), row(&["bob"], true, &reply)]);
    assert_eq!(summary(&listed(&t, &carol).await), vec![row(&["alice", "bob"], true, &group)]);
    assert_eq!(listed(&t, &dave).await, json!([]));
    // A note to self lists the author as its participant (as Mastodon).
    let note = dm(&t, &dave, "just me").await;
    assert_eq!(summary(&listed(&t, &dave).await), vec![row(&["dave"], false, &note)]);

    // Reading marks it read for the reader only; ids are the reader's own.
    let with_bob = id(&alices[1]);
    let read = t.post(&format!("/api/v1/conversations/{with_bob}/read"), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!((read["id"].clone(), read["unread"].clone()), (json!(with_bob), json!(false)));
    assert_eq!(summary(&listed(&t, &alice).await)[1], row(&["bob"], false, &reply));
    t.post(&format!("/api/v1/conversations/{with_bob}/read"), Some(&dave.token), json!({})).await.expect(404);
    t.delete(&format!("/api/v1/conversations/{with_bob}"), Some(&dave.token)).await.expect(404);
    t.post("/api/v1/conversations/not-an-id/read", Some(&alice.token), json!({})).await.expect(404);

    // Scopes as Mastodon: read:statuses to list, write:conversations to change.
    let reader = t.token_with_scopes(&alice, "read:statuses").await;
    t.get("/api/v1/conversations", Some(&reader)).await.expect(200);
    assert_eq!(t.post(&format!("/api/v1/conversations/{with_bob}/read"), Some(&reader), json!({})).await.status, 403);
    assert_eq!(t.delete(&format!("/api/v1/conversations/{with_bob}"), Some(&reader)).await.status, 403);
    let writer = t.token_with_scopes(&alice, "write:conversations").await;
    assert_eq!(t.get("/api/v1/conversations", Some(&writer)).await.status, 403);
    t.post(&format!("/api/v1/conversations/{with_bob}/read"), Some(&writer), json!({})).await.expect(200);
    assert_eq!(t.get("/api/v1/conversations", None).await.status, 401);
}

#[tokio::test]
async fn conversations_page_by_their_newest_status_with_link_headers() {
    let t = TestApp::spawn().await;
    let [alice, b, c, d] = t.register_all(["alice", "b", "c", "d"]).await;
    let to_b = dm(&t, &alice, "@b one").await;
    let to_c = dm(&t, &alice, "@c two").await;
    let to_d = dm(&t, &alice, "@d three").await;
    // b answers: the oldest conversation becomes the newest.
    let from_b = dm(&t, &b, "@alice back").await;
    let newest: Vec<String> = summary(&listed(&t, &alice).await).into_iter().map(|r| r.2).collect();
    assert_eq!(newest, vec![id(&from_b), id(&to_d), id(&to_c)]);
    let _ = (to_b, c, d);

    let first = conversations(&t, &alice, "?limit=2").await;
    let first_page = first.body.clone();
    assert_eq!(summary(&first_page).into_iter().map(|r| r.2).collect::<Vec<_>>(), vec![id(&from_b), id(&to_d)]);
    let next = link(&first, "next").expect("a next link");
    assert!(next.contains(&format!("max_id={}", id(&to_d))), "{next}");
    let prev = link(&first, "prev").expect("a prev link");
    assert!(prev.contains(&format!("min_id={}", id(&from_b))), "{prev}");
    let second = t.follow_link(&first, "next", Some(&alice.token)).await.expect(200);
    assert_eq!(summary(&second).into_iter().map(|r| r.2).collect::<Vec<_>>(), vec![id(&to_c)]);

    let since = conversations(&t, &alice, &format!("?since_id={}", id(&to_c))).await.expect(200);
    assert_eq!(summary(&since).into_iter().map(|r| r.2).collect::<Vec<_>>(), vec![id(&from_b), id(&to_d)]);
    let min = conversations(&t, &alice, &format!("?min_id={}&limit=1", id(&to_c))).await.expect(200);
    assert_eq!(summary(&min).into_iter().map(|r| r.2).collect::<Vec<_>>(), vec![id(&to_d)], "min_id: the oldest just above");
    let max = conversations(&t, &alice, &format!("?max_id={}", id(&to_d))).await.expect(200);
    assert_eq!(summary(&max).into_iter().map(|r| r.2).collect::<Vec<_>>(), vec![id(&to_c)]);
}

#[tokio::test]
async fn deleting_statuses_moves_the_conversation_back_and_removing_it_lasts_until_a_new_status() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let first = dm(&t, &alice, "@bob first").await;
    let second = dm(&t, &bob, "@alice second").await;
    assert_eq!(summary(&listed(&t, &alice).await), vec![row(&["bob"], true, &second)]);
    // The newest deleted: the one before takes its place, for both.
    t.delete(&format!("/api/v1/statuses/{}", id(&second)), Some(&bob.token)).await.expect(200);
    assert_eq!(summary(&listed(&t, &alice).await), vec![row(&["bob"], true, &first)]);
    assert_eq!(summary(&listed(&t, &bob).await), vec![row(&["alice"], false, &first)]);
    // The last one deleted: the conversation goes.
    t.delete(&format!("/api/v1/statuses/{}", id(&first)), Some(&alice.token)).await.expect(200);
    assert_eq!((listed(&t, &alice).await, listed(&t, &bob).await), (json!([]), json!([])));

    // Removed by bob: gone for bob only, and 404 once gone.
    let third = dm(&t, &alice, "@bob third").await;
    let bobs = listed(&t, &bob).await;
    let path = format!("/api/v1/conversations/{}", id(&bobs[0]));
    assert_eq!(t.delete(&path, Some(&bob.token)).await.expect(200), json!({}));
    assert_eq!(listed(&t, &bob).await, json!([]));
    t.delete(&path, Some(&bob.token)).await.expect(404);
    t.post(&format!("{path}/read"), Some(&bob.token), json!({})).await.expect(404);
    assert_eq!(summary(&listed(&t, &alice).await), vec![row(&["bob"], false, &third)]);

    // A replay of every event brings nothing back and changes nothing.
    t.app.rewind_consumer("conversations").await.unwrap();
    assert_eq!(listed(&t, &bob).await, json!([]));
    assert_eq!(summary(&listed(&t, &alice).await), vec![row(&["bob"], false, &third)]);

    // A new status brings it back, with what follows only: deleting it drops it again.
    let fourth = dm(&t, &alice, "@bob fourth").await;
    let back = listed(&t, &bob).await;
    assert_eq!(summary(&back), vec![row(&["alice"], true, &fourth)]);
    assert_eq!(id(&back[0]), id(&bobs[0]), "the same participants, the same conversation");
    t.delete(&format!("/api/v1/statuses/{}", id(&fourth)), Some(&alice.token)).await.expect(200);
    assert_eq!(listed(&t, &bob).await, json!([]), "not back to the status seen before removing it");
    assert_eq!(summary(&listed(&t, &alice).await), vec![row(&["bob"], false, &third)]);
}

#[tokio::test]
async fn a_replayed_log_neither_duplicates_reorders_nor_unreads_conversations() {
    let t = TestApp::spawn().await;
    let [alice, bob, _carol] = t.register_all(["alice", "bob", "carol"]).await;
    dm(&t, &alice, "@bob one").await;
    dm(&t, &alice, "@carol two").await;
    let three = dm(&t, &bob, "@alice three").await;
    let before = listed(&t, &alice).await;
    t.post(&format!("/api/v1/conversations/{}/read", id(&before[0])), Some(&alice.token), json!({})).await.expect(200);
    let read = listed(&t, &alice).await;
    assert_eq!(summary(&read)[0], row(&["bob"], false, &three));
    t.app.rewind_consumer("conversations").await.unwrap();
    assert_eq!(listed(&t, &alice).await, read, "same conversations, same order, still read");
    assert_eq!(listed(&t, &bob).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_mentioned_account_that_blocks_or_mutes_the_author_gets_no_conversation() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    t.post(&format!("/api/v1/accounts/{}/block", alice.id), Some(&bob.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/accounts/{}/mute", alice.id), Some(&carol.token), json!({})).await.expect(200);
    let status = dm(&t, &alice, "@bob @carol @dave psst").await;
    assert_eq!(listed(&t, &bob).await, json!([]), "blocked");
    assert_eq!(listed(&t, &carol).await, json!([]), "muted");
    assert_eq!(summary(&listed(&t, &dave).await), vec![row(&["alice", "bob", "carol"], true, &status)]);
    assert_eq!(summary(&listed(&t, &alice).await), vec![row(&["bob", "carol", "dave"], false, &status)]);
}

#[tokio::test]
async fn the_direct_stream_sends_conversations_to_their_participants_only() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let mut bobs = Sse::open(&t, "/api/v1/streaming/direct", Some(&bob.token)).await;
    let mut carols = Sse::open(&t, "/api/v1/streaming/direct", Some(&carol.token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?access_token={}", alice.token))).await.unwrap();
    {
        use futures_util::SinkExt as _;
        use tokio_tungstenite::tungstenite::Message;
        socket.send(Message::Text(json!({"type": "subscribe", "stream": "direct"}).to_string().into())).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let status = dm(&t, &alice, "@bob over the stream").await;
    let event = bobs.next().await;
    assert_eq!(event.event, "conversation");
    let conversation = event.json();
    assert_required(&conversation, "Conversation", &["id", "unread", "accounts", "last_status.id"]);
    assert_eq!(summary(&json!([conversation])), vec![row(&["alice"], true, &status)]);

    let message = ws_next(&mut socket).await;
    assert_eq!((message["stream"].clone(), message["event"].clone()), (json!(["direct"]), json!("conversation")));
    let payload: Value = serde_json::from_str(message["payload"].as_str().unwrap()).unwrap();
    assert_eq!(summary(&json!([payload])), vec![row(&["bob"], false, &status)]);

    // An edit updates it.
    t.put(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token), json!({"status": "@bob edited"})).await.expect(200);
    let edited = bobs.next().await;
    assert_eq!(edited.event, "conversation");
    assert!(edited.json()["last_status"]["content"].as_str().unwrap().contains("edited"), "{}", edited.data);

    // Nothing for anyone not mentioned; nothing again on a replay.
    assert!(carols.next_within(WAIT / 5).await.is_none());
    t.app.rewind_consumer("conversations").await.unwrap();
    t.settle().await;
    assert!(bobs.next_within(WAIT / 5).await.is_none(), "a replay streams nothing");
    assert!(ws_next_within(&mut socket, Duration::from_millis(100)).await.is_some_and(|m| m["event"] == "conversation"), "alice hears of the edit");
    assert!(ws_next_within(&mut socket, Duration::from_millis(300)).await.is_none());
    assert_eq!(t.get("/api/v1/streaming/direct", None).await.status, 401);
}

#[tokio::test]
async fn direct_statuses_reach_no_one_they_do_not_mention_on_any_read_path() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    // carol follows alice and lists her: still not mentioned.
    t.follow(&carol, &alice).await;
    let list = t.post("/api/v1/lists", Some(&carol.token), json!({"title": "a"})).await.expect(200);
    t.post(&format!("/api/v1/lists/{}/accounts", id(&list)), Some(&carol.token), json!({"account_ids": [alice.id]})).await.expect(200);
    let parent = t.post_status(&alice, json!({"status": "public parent"})).await;
    let secret = t
        .post_status(
            &alice,
            json!({"status": "@bob zebrasecret #hushtag", "visibility": "direct", "in_reply_to_id": id(&parent), "poll": {"options": ["x", "y"], "expires_in": 600}}),
        )
        .await;
    let sid = id(&secret);
    let poll = secret["poll"]["id"].as_str().unwrap().to_owned();
    t.settle().await;

    // bob, mentioned, sees it where it is meant to be.
    t.get(&format!("/api/v1/statuses/{sid}"), Some(&bob.token)).await.expect(200);
    t.get(&format!("/api/v1/polls/{poll}"), Some(&bob.token)).await.expect(200);
    t.post(&format!("/api/v1/statuses/{sid}/bookmark"), Some(&bob.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/statuses/{sid}/favourite"), Some(&bob.token), json!({})).await.expect(200);

    let outsiders: [(Option<&str>, &str); 2] = [(Some(carol.token.as_str()), "carol"), (None, "anonymous")];
    for (token, who) in outsiders {
        for path in [
            format!("/api/v1/statuses/{sid}"),
            format!("/api/v1/statuses/{sid}/context"),
            format!("/api/v1/statuses/{sid}/favourited_by"),
            format!("/api/v1/statuses/{sid}/reblogged_by"),
            format!("/api/v1/statuses/{sid}/history"),
            format!("/api/v1/polls/{poll}"),
        ] {
            assert_eq!(t.get(&path, token).await.status, 404, "{who}: {path}");
        }
        for path in [
            format!("/api/v1/statuses/{}/context", id(&parent)),
            format!("/api/v1/accounts/{}/statuses", alice.id),
            "/api/v1/timelines/public".to_owned(),
            "/api/v1/timelines/tag/hushtag".to_owned(),
            format!("/api/v1/statuses?id[]={sid}"),
        ] {
            let body = t.get(&path, token).await.expect(200);
            assert!(!body.to_string().contains(&sid), "{who}: {path}: {body}");
        }
        let web = t.http.get(format!("{}/@alice/{sid}", t.base)).header("accept", "text/html").send().await.unwrap();
        assert_eq!(web.status().as_u16(), 404, "{who}: the status page");
        let profile = t.http.get(format!("{}/@alice", t.base)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
        assert!(!profile.contains("zebrasecret"), "{who}: the profile page");
        let tag = t.http.get(format!("{}/tags/hushtag", t.base)).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
        assert!(!tag.contains("zebrasecret"), "{who}: the tag page");
    }
    // What only a signed-in outsider could try.
    let carol_token = Some(carol.token.as_str());
    for path in [
        "/api/v1/timelines/home".to_owned(),
        format!("/api/v1/timelines/list/{}", id(&list)),
        "/api/v1/notifications".to_owned(),
        "/api/v1/bookmarks".to_owned(),
        "/api/v1/favourites".to_owned(),
        "/api/v2/search?q=zebrasecret&type=statuses".to_owned(),
        "/api/v1/conversations".to_owned(),
    ] {
        let body = t.get(&path, carol_token).await.expect(200);
        assert!(!body.to_string().contains(&sid) && !body.to_string().contains("zebrasecret"), "carol: {path}: {body}");
    }
    for (method, path) in [
        (Method::POST, format!("/api/v1/statuses/{sid}/favourite")),
        (Method::POST, format!("/api/v1/statuses/{sid}/bookmark")),
        (Method::POST, format!("/api/v1/statuses/{sid}/reblog")),
        (Method::POST, format!("/api/v1/polls/{poll}/votes")),
    ] {
        let reply = t.request(method, &path, carol_token, Some(crate::Body::Json(json!({"choices": [0]})))).await;
        assert_eq!(reply.status, 404, "carol: {path}: {}", reply.body);
    }
    // Control: the search finds it for bob, so its absence for carol means something.
    let found = t.get("/api/v2/search?q=zebrasecret&type=statuses", Some(&bob.token)).await.expect(200);
    assert!(found.to_string().contains(&sid), "{found}");
}
