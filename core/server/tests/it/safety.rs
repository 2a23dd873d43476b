//! Blocks and mutes: what each hides, from whom, and for how long.

use serde_json::{Value, json};

use crate::{TestApp, User, assert_required, id, ids, link};

async fn act(t: &TestApp, who: &User, verb: &str, whom: &User, body: Value) -> Value {
    t.post(&format!("/api/v1/accounts/{}/{verb}", whom.id), Some(&who.token), body).await.expect(200)
}

async fn relationship(t: &TestApp, who: &User, whom: &User) -> Value {
    t.get(&format!("/api/v1/accounts/relationships?id[]={}", whom.id), Some(&who.token)).await.expect(200)[0].clone()
}

async fn public_ids(t: &TestApp, user: Option<&User>) -> Vec<String> {
    t.settle().await;
    ids(&t.get("/api/v1/timelines/public", user.map(|u| u.token.as_str())).await.expect(200))
}

async fn notification_kinds(t: &TestApp, user: &User) -> Vec<String> {
    t.settle().await;
    let list = t.get("/api/v1/notifications", Some(&user.token)).await.expect(200);
    list.as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn blocking_ends_follows_both_ways_and_shows_in_both_relationships() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&bob, &alice).await;
    let rel = act(&t, &alice, "block", &bob, json!({})).await;
    assert_required(&rel, "Relationship", crate::schema::RELATIONSHIP);
    assert_eq!((rel["blocking"].clone(), rel["following"].clone(), rel["followed_by"].clone()), (json!(true), json!(false), json!(false)));
    let theirs = relationship(&t, &bob, &alice).await;
    assert_eq!((theirs["blocked_by"].clone(), theirs["following"].clone()), (json!(true), json!(false)));
    let alice_account = t.get(&format!("/api/v1/accounts/{}", alice.id), None).await.expect(200);
    assert_eq!((alice_account["followers_count"].clone(), alice_account["following_count"].clone()), (json!(0), json!(0)));
    // Blocking again changes nothing; the blocked account cannot follow back, nor the blocker follow.
    act(&t, &alice, "block", &bob, json!({})).await;
    t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&bob.token), json!({})).await.expect(403);
    t.post(&format!("/api/v1/accounts/{}/follow", bob.id), Some(&alice.token), json!({})).await.expect(403);
    let rel = act(&t, &alice, "unblock", &bob, json!({})).await;
    assert_eq!(rel["blocking"], false);
    assert_eq!(relationship(&t, &bob, &alice).await["blocked_by"], false);
    t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&bob.token), json!({})).await.expect(200);
}

#[tokio::test]
async fn across_a_block_neither_side_sees_nor_reaches_the_others_statuses() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let alices = t.post_status(&alice, json!({"status": "alice speaks"})).await;
    let bobs = t.post_status(&bob, json!({"status": "bob speaks"})).await;
    let boost_of_alice = t.post(&format!("/api/v1/statuses/{}/reblog", id(&alices)), Some(&carol.token), json!({})).await.expect(200);
    act(&t, &alice, "block", &bob, json!({})).await;

    // The blocked account: the blocker's statuses are gone, and cannot be acted on.
    let path = format!("/api/v1/statuses/{}", id(&alices));
    t.get(&path, Some(&bob.token)).await.expect(404);
    for verb in ["favourite", "reblog", "bookmark"] {
        t.post(&format!("{path}/{verb}"), Some(&bob.token), json!({})).await.expect(404);
    }
    t.post("/api/v1/statuses", Some(&bob.token), json!({"status": "sneaky reply", "in_reply_to_id": id(&alices)})).await.expect(404);
    let bobs_public = public_ids(&t, Some(&bob)).await;
    assert!(!bobs_public.contains(&id(&alices)) && !bobs_public.contains(&id(&boost_of_alice)), "{bobs_public:?}");
    let profile = t.get(&format!("/api/v1/accounts/{}/statuses", alice.id), Some(&bob.token)).await.expect(200);
    assert!(ids(&profile).is_empty(), "the blocker's profile timeline is empty for the blocked");

    // The blocker: the blocked account's statuses are gone from feeds and lookups too.
    let alices_public = public_ids(&t, Some(&alice)).await;
    assert!(!alices_public.contains(&id(&bobs)));
    t.get(&format!("/api/v1/statuses/{}", id(&bobs)), Some(&alice.token)).await.expect(404);

    // Others, and anonymous readers, see both.
    for reader in [Some(&carol), None] {
        let seen = public_ids(&t, reader).await;
        assert!(seen.contains(&id(&alices)) && seen.contains(&id(&bobs)));
    }
    act(&t, &alice, "unblock", &bob, json!({})).await;
    assert!(public_ids(&t, Some(&bob)).await.contains(&id(&alices)));
}

#[tokio::test]
async fn a_blocked_account_notifies_nobody_it_is_blocked_by() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    act(&t, &alice, "block", &bob, json!({})).await;
    t.post_status(&bob, json!({"status": "hey @alice"})).await;
    assert!(notification_kinds(&t, &alice).await.is_empty());
    // Nor the blocker the blocked one.
    t.post_status(&alice, json!({"status": "hey @bob"})).await;
    assert!(notification_kinds(&t, &bob).await.is_empty());
}

#[tokio::test]
async fn notifications_from_before_a_block_or_a_notification_mute_are_no_longer_listed() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    for who in [&bob, &carol, &dave] {
        t.follow(who, &alice).await;
    }
    assert_eq!(notification_kinds(&t, &alice).await, vec!["follow", "follow", "follow"]);
    act(&t, &alice, "block", &bob, json!({})).await;
    act(&t, &alice, "mute", &carol, json!({})).await;
    let list = t.get("/api/v1/notifications", Some(&alice.token)).await.expect(200);
    let from: Vec<&str> = list.as_array().unwrap().iter().map(|n| n["account"]["id"].as_str().unwrap()).collect();
    assert_eq!(from, vec![dave.id.as_str()]);
    act(&t, &alice, "unmute", &carol, json!({})).await;
    assert_eq!(notification_kinds(&t, &alice).await.len(), 2, "unmuting shows carol's again; bob's follow ended with the block");
}

#[tokio::test]
async fn search_leaves_out_statuses_across_a_block() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let bobs = t.post_status(&bob, json!({"status": "platypus sightings"})).await;
    let carols = t.post_status(&carol, json!({"status": "platypus facts"})).await;
    act(&t, &alice, "block", &bob, json!({})).await;
    t.settle().await;
    let found = t.get("/api/v2/search?q=platypus&type=statuses", Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&found["statuses"]), vec![id(&carols)]);
    let theirs = t.get("/api/v2/search?q=platypus&type=statuses", Some(&bob.token)).await.expect(200);
    assert!(ids(&theirs["statuses"]).contains(&id(&bobs)));
}

#[tokio::test]
async fn blocks_are_listed_newest_first_with_pagination() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    for whom in [&bob, &carol, &dave] {
        act(&t, &alice, "block", whom, json!({})).await;
    }
    let page = t.get("/api/v1/blocks?limit=2", Some(&alice.token)).await;
    assert_eq!(ids(&page.body), vec![dave.id.clone(), carol.id.clone()]);
    assert!(link(&page, "next").is_some());
    let next = t.follow_link(&page, "next", Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&next), vec![bob.id.clone()]);
    assert!(t.get("/api/v1/blocks", Some(&bob.token)).await.expect(200).as_array().unwrap().is_empty());
    t.get("/api/v1/blocks", None).await.expect(401);
}

#[tokio::test]
async fn blocking_or_muting_needs_its_scope_and_an_existing_other_account() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let read_only = t.token_with_scopes(&alice, "read").await;
    for verb in ["block", "mute"] {
        t.post(&format!("/api/v1/accounts/{}/{verb}", bob.id), Some(&read_only), json!({})).await.expect(403);
        t.post(&format!("/api/v1/accounts/{}/{verb}", alice.id), Some(&alice.token), json!({})).await.expect(403);
        t.post(&format!("/api/v1/accounts/123456789/{verb}"), Some(&alice.token), json!({})).await.expect(404);
    }
    let follow_scope = t.token_with_scopes(&alice, "follow").await;
    t.post(&format!("/api/v1/accounts/{}/block", bob.id), Some(&follow_scope), json!({})).await.expect(200);
    t.get("/api/v1/blocks", Some(&follow_scope)).await.expect(200);
}

#[tokio::test]
async fn a_muted_accounts_statuses_and_boosts_leave_feeds_but_stay_readable() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let bobs = t.post_status(&bob, json!({"status": "bob speaks"})).await;
    let carols = t.post_status(&carol, json!({"status": "carol speaks"})).await;
    let carol_boosts_bob = t.post(&format!("/api/v1/statuses/{}/reblog", id(&bobs)), Some(&carol.token), json!({})).await.expect(200);
    t.settle().await;
    assert!(t.home_ids(&alice).await.contains(&id(&bobs)));

    let rel = act(&t, &alice, "mute", &bob, json!({})).await;
    assert_eq!((rel["muting"].clone(), rel["muting_notifications"].clone(), rel["following"].clone()), (json!(true), json!(true), json!(true)));
    let home = t.home_ids(&alice).await;
    assert_eq!(home, vec![id(&carols)], "bob's status and carol's boost of it are gone: {home:?}");
    assert!(!public_ids(&t, Some(&alice)).await.contains(&id(&bobs)));
    assert!(!home.contains(&id(&carol_boosts_bob)));
    // Still readable directly, and by others.
    t.get(&format!("/api/v1/statuses/{}", id(&bobs)), Some(&alice.token)).await.expect(200);
    assert!(public_ids(&t, Some(&carol)).await.contains(&id(&bobs)));
    // New posts stay out too: fanout skips the muter's home (as Mastodon, they do not come back
    // on unmuting); unmuting brings back what was there before.
    let later = t.post_status(&bob, json!({"status": "bob again"})).await;
    assert!(!t.home_ids(&alice).await.contains(&id(&later)));
    let rel = act(&t, &alice, "unmute", &bob, json!({})).await;
    assert_eq!(rel["muting"], false);
    let home = t.home_ids(&alice).await;
    assert!(home.contains(&id(&bobs)) && !home.contains(&id(&later)), "fanout skipped the muter's home: {home:?}");
    let after = t.post_status(&bob, json!({"status": "bob after"})).await;
    assert!(t.home_ids(&alice).await.contains(&id(&after)));
}

#[tokio::test]
async fn muting_notifications_is_the_default_and_can_be_declined() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    act(&t, &alice, "mute", &bob, json!({})).await;
    let rel = act(&t, &alice, "mute", &carol, json!({"notifications": false})).await;
    assert_eq!((rel["muting"].clone(), rel["muting_notifications"].clone()), (json!(true), json!(false)));
    t.post_status(&bob, json!({"status": "hey @alice from bob"})).await;
    t.post_status(&carol, json!({"status": "hey @alice from carol"})).await;
    t.settle().await;
    let list = t.get("/api/v1/notifications", Some(&alice.token)).await.expect(200);
    let from: Vec<&str> = list.as_array().unwrap().iter().map(|n| n["account"]["id"].as_str().unwrap()).collect();
    assert_eq!(from, vec![carol.id.as_str()]);
}

#[tokio::test]
async fn a_timed_mute_lifts_by_itself_and_mutes_are_listed_with_their_end() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    let bobs = t.post_status(&bob, json!({"status": "bob speaks"})).await;
    // Five seconds: long enough for the reads below even on a slow store (moto).
    t.post_form(&format!("/api/v1/accounts/{}/mute", bob.id), Some(&alice.token), &[("duration", "5")]).await.expect(200);
    let muted = std::time::Instant::now();
    act(&t, &alice, "mute", &carol, json!({"duration": 0})).await;
    let mutes = t.get("/api/v1/mutes", Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&mutes), vec![carol.id.clone(), bob.id.clone()]);
    assert_required(&mutes[0], "MutedAccount", &["id", "username", "acct", "mute_expires_at"]);
    assert!(mutes[0]["mute_expires_at"].is_null());
    assert!(mutes[1]["mute_expires_at"].as_str().is_some_and(|s| s.ends_with('Z')), "{}", mutes[1]);
    assert!(!t.home_ids(&alice).await.contains(&id(&bobs)));

    tokio::time::sleep(std::time::Duration::from_millis(5100).saturating_sub(muted.elapsed())).await;
    assert!(t.home_ids(&alice).await.contains(&id(&bobs)), "the mute ended");
    assert_eq!(relationship(&t, &alice, &bob).await["muting"], false);
    assert_eq!(ids(&t.get("/api/v1/mutes", Some(&alice.token)).await.expect(200)), vec![carol.id.clone()]);
    // A bad duration is refused with the error envelope.
    let bad = t.post_form(&format!("/api/v1/accounts/{}/mute", bob.id), Some(&alice.token), &[("duration", "soon")]).await;
    assert!(bad.status.is_client_error() && !bad.error().is_empty(), "{bad:?}");
}

#[tokio::test]
async fn blocks_and_mutes_survive_a_restart() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    act(&t, &alice, "block", &bob, json!({})).await;
    act(&t, &alice, "mute", &carol, json!({})).await;
    let dir = t.stop().await;
    let t = TestApp::spawn_in(dir, |_| {}).await;
    assert_eq!(relationship(&t, &alice, &bob).await["blocking"], true);
    assert_eq!(relationship(&t, &alice, &carol).await["muting"], true);
}

#[tokio::test]
async fn a_muted_thread_notifies_no_more_and_shows_as_muted() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let root = t.post_status(&alice, json!({"status": "a thread"})).await;
    let reply = t.post_status(&bob, json!({"status": "@alice first reply", "in_reply_to_id": id(&root)})).await;
    assert_eq!(notification_kinds(&t, &alice).await, vec!["mention"]);
    // Muting from any status of the thread mutes all of it.
    let muted = t.post(&format!("/api/v1/statuses/{}/mute", id(&reply)), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(muted["muted"], true);
    assert_eq!(t.get(&format!("/api/v1/statuses/{}", id(&root)), Some(&alice.token)).await.expect(200)["muted"], true);
    assert_eq!(t.get(&format!("/api/v1/statuses/{}", id(&root)), Some(&bob.token)).await.expect(200)["muted"], false, "for the muter only");
    let deeper = t.post_status(&bob, json!({"status": "@alice deeper", "in_reply_to_id": id(&reply)})).await;
    t.post(&format!("/api/v1/statuses/{}/favourite", id(&root)), Some(&bob.token), json!({})).await.expect(200);
    assert_eq!(notification_kinds(&t, &alice).await, vec!["mention"], "nothing more from the thread");
    // Other threads still notify; unmuting brings the thread's notifications back.
    t.post_status(&bob, json!({"status": "@alice elsewhere"})).await;
    assert_eq!(notification_kinds(&t, &alice).await.len(), 2);
    let unmuted = t.post(&format!("/api/v1/statuses/{}/unmute", id(&deeper)), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(unmuted["muted"], false);
    t.post_status(&bob, json!({"status": "@alice back", "in_reply_to_id": id(&deeper)})).await;
    assert_eq!(notification_kinds(&t, &alice).await.len(), 3);
    // Muting needs a status the caller can see, and the mutes scope.
    let read_only = t.token_with_scopes(&alice, "read").await;
    t.post(&format!("/api/v1/statuses/{}/mute", id(&root)), Some(&read_only), json!({})).await.expect(403);
    t.post("/api/v1/statuses/123456789/mute", Some(&alice.token), json!({})).await.expect(404);
}

async fn lock(t: &TestApp, user: &User, locked: bool) {
    let value = if locked { "true" } else { "false" };
    let me = t.patch_form("/api/v1/accounts/update_credentials", Some(&user.token), &[("locked", value)]).await.expect(200);
    assert_eq!(me["locked"], locked);
}

#[tokio::test]
async fn following_a_locked_account_asks_and_authorizing_lets_private_posts_in() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    lock(&t, &alice, true).await;
    let secret = t.post_status(&alice, json!({"status": "for followers", "visibility": "private"})).await;
    let rel = t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&bob.token), json!({"reblogs": false})).await.expect(200);
    assert_eq!((rel["following"].clone(), rel["requested"].clone()), (json!(false), json!(true)));
    assert_eq!(relationship(&t, &alice, &bob).await["requested_by"], true);
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", alice.id), None).await.expect(200)["followers_count"], 0);
    t.get(&format!("/api/v1/statuses/{}", id(&secret)), Some(&bob.token)).await.expect(404);
    assert_eq!(notification_kinds(&t, &alice).await, vec!["follow_request"]);
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["source"]["follow_requests_count"], 1);

    let requests = t.get("/api/v1/follow_requests", Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&requests), vec![bob.id.clone()]);
    let rel = t.post(&format!("/api/v1/follow_requests/{}/authorize", bob.id), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!((rel["followed_by"].clone(), rel["requested_by"].clone()), (json!(true), json!(false)));
    let theirs = relationship(&t, &bob, &alice).await;
    assert_eq!((theirs["following"].clone(), theirs["requested"].clone(), theirs["showing_reblogs"].clone()), (json!(true), json!(false), json!(false)));
    assert!(t.home_ids(&bob).await.contains(&id(&secret)), "the approved follower's home has the private post");
    t.get(&format!("/api/v1/statuses/{}", id(&secret)), Some(&bob.token)).await.expect(200);
    assert!(notification_kinds(&t, &alice).await.is_empty(), "the request's notification went with it, and no follow notification came");
    assert!(ids(&t.get("/api/v1/follow_requests", Some(&alice.token)).await.expect(200)).is_empty());
    t.post(&format!("/api/v1/follow_requests/{}/authorize", bob.id), Some(&alice.token), json!({})).await.expect(404);
}

#[tokio::test]
async fn rejected_and_withdrawn_requests_leave_nothing_behind() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    lock(&t, &alice, true).await;
    t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&bob.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&carol.token), json!({})).await.expect(200);
    let rel = t.post(&format!("/api/v1/follow_requests/{}/reject", bob.id), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!((rel["requested_by"].clone(), rel["followed_by"].clone()), (json!(false), json!(false)));
    let rel = t.post(&format!("/api/v1/accounts/{}/unfollow", alice.id), Some(&carol.token), json!({})).await.expect(200);
    assert_eq!(rel["requested"], false);
    assert!(ids(&t.get("/api/v1/follow_requests", Some(&alice.token)).await.expect(200)).is_empty());
    assert!(notification_kinds(&t, &alice).await.is_empty());
    assert_eq!(relationship(&t, &bob, &alice).await["requested"], false);
}

#[tokio::test]
async fn unlocking_lets_every_pending_request_in() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    lock(&t, &alice, true).await;
    for who in [&bob, &carol] {
        t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&who.token), json!({})).await.expect(200);
    }
    lock(&t, &alice, false).await;
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", alice.id), None).await.expect(200)["followers_count"], 2);
    assert_eq!(relationship(&t, &bob, &alice).await["following"], true);
    assert!(ids(&t.get("/api/v1/follow_requests", Some(&alice.token)).await.expect(200)).is_empty());
    // Unlocked, a follow is immediate again.
    let dave = t.register("dave").await;
    let rel = t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&dave.token), json!({})).await.expect(200);
    assert_eq!(rel["following"], true);
}

#[tokio::test]
async fn removing_a_follower_ends_their_follow_and_blocking_withdraws_requests() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&bob, &alice).await;
    let rel = t.post(&format!("/api/v1/accounts/{}/remove_from_followers", bob.id), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(rel["followed_by"], false);
    assert_eq!(relationship(&t, &bob, &alice).await["following"], false);
    lock(&t, &alice, true).await;
    t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&carol.token), json!({})).await.expect(200);
    act(&t, &alice, "block", &carol, json!({})).await;
    assert!(ids(&t.get("/api/v1/follow_requests", Some(&alice.token)).await.expect(200)).is_empty());
    assert_eq!(relationship(&t, &carol, &alice).await["requested"], false);
}

#[tokio::test]
async fn streams_leave_out_blocked_and_muted_accounts_from_the_moment_of_the_block_or_mute() {
    use crate::streaming::{Sse, ws_next, ws_url};
    use std::time::Duration;

    let payload_id = |update: Value| serde_json::from_str::<Value>(update["payload"].as_str().unwrap()).unwrap()["id"].clone();
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    t.follow(&alice, &carol).await;
    // Opened before the block and the mute: they take effect on open streams at once.
    let mut public = Sse::open(&t, "/api/v1/streaming/public", Some(&alice.token)).await;
    let mut home = Sse::open(&t, "/api/v1/streaming/user", Some(&alice.token)).await;
    let mut bobs_public = Sse::open(&t, "/api/v1/streaming/public", Some(&bob.token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=public&access_token={}", alice.token))).await.unwrap();
    act(&t, &alice, "block", &bob, json!({})).await;
    act(&t, &alice, "mute", &carol, json!({"notifications": false})).await;

    t.post_status(&bob, json!({"status": "blocked speaks"})).await;
    t.post_status(&carol, json!({"status": "muted speaks"})).await;
    let carols = t.post_status(&carol, json!({"status": "boost me"})).await;
    t.post(&format!("/api/v1/statuses/{}/reblog", id(&carols)), Some(&dave.token), json!({})).await.expect(200);
    let alices = t.post_status(&alice, json!({"status": "alice speaks"})).await;
    let daves = t.post_status(&dave, json!({"status": "dave speaks"})).await;

    // Alice's public streams (SSE and WebSocket): only her own and dave's; bob's and carol's never come.
    assert_eq!(public.next().await.json()["id"], id(&alices));
    assert_eq!(public.next().await.json()["id"], id(&daves));
    assert_eq!(payload_id(ws_next(&mut socket).await), id(&alices));
    assert_eq!(payload_id(ws_next(&mut socket).await), id(&daves));
    // Her home stream: carol is followed but muted, so only her own post.
    assert_eq!(home.next().await.json()["id"], id(&alices));
    assert!(home.next_within(Duration::from_millis(500)).await.is_none());
    // Bob, blocked, does not get alice's posts on his stream either.
    let mut seen = Vec::new();
    while let Some(event) = bobs_public.next_within(Duration::from_millis(500)).await {
        seen.push(event.json()["id"].as_str().unwrap().to_owned());
    }
    assert!(seen.contains(&id(&daves)) && !seen.contains(&id(&alices)), "{seen:?}");

    // Unblocking and unmuting let them through again, on the open streams.
    act(&t, &alice, "unblock", &bob, json!({})).await;
    act(&t, &alice, "unmute", &carol, json!({})).await;
    let again = t.post_status(&bob, json!({"status": "bob again"})).await;
    assert_eq!(public.next().await.json()["id"], id(&again));
    assert_eq!(payload_id(ws_next(&mut socket).await), id(&again));
}
