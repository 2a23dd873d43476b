//! Lists: CRUD, members (followed accounts only), the list timeline fed by fanout and rebuilt
//! from the store, replies policies, exclusive lists, the list stream.

use reqwest::Method;
use serde_json::{Value, json};

use crate::streaming::{Sse, WAIT};
use crate::{Body, TestApp, User, assert_required, id, ids, link};

async fn create_list(t: &TestApp, owner: &User, body: Value) -> Value {
    let list = t.post("/api/v1/lists", Some(&owner.token), body).await.expect(200);
    assert_required(&list, "List", &["id", "title", "replies_policy", "exclusive"]);
    list
}

async fn add(t: &TestApp, owner: &User, list: &Value, members: &[&User]) -> crate::Reply {
    let account_ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    t.post(&format!("/api/v1/lists/{}/accounts", id(list)), Some(&owner.token), json!({ "account_ids": account_ids })).await
}

async fn list_timeline(t: &TestApp, owner: &User, list: &Value, query: &str) -> crate::Reply {
    t.settle().await;
    t.get(&format!("/api/v1/timelines/list/{}{query}", id(list)), Some(&owner.token)).await
}

async fn list_timeline_ids(t: &TestApp, owner: &User, list: &Value) -> Vec<String> {
    ids(&list_timeline(t, owner, list, "").await.expect(200))
}

async fn post(t: &TestApp, user: &User, text: &str) -> Value {
    t.post_status(user, json!({ "status": text })).await
}

fn all(statuses: &[&Value]) -> Vec<String> {
    statuses.iter().map(|s| id(s)).collect()
}

#[tokio::test]
async fn lists_are_created_shown_renamed_and_deleted_by_their_owner_only() {
    let t = TestApp::spawn().await;
    let [alice, mallory] = t.register_all(["alice", "mallory"]).await;
    let list = create_list(&t, &alice, json!({"title": "  Friends  "})).await;
    assert_eq!((list["title"].clone(), list["replies_policy"].clone(), list["exclusive"].clone()), (json!("Friends"), json!("list"), json!(false)));
    let form = t.post_form("/api/v1/lists", Some(&alice.token), &[("title", "Work"), ("replies_policy", "none"), ("exclusive", "true")]).await.expect(200);
    assert_eq!((form["replies_policy"].clone(), form["exclusive"].clone()), (json!("none"), json!(true)));
    let mine = t.get("/api/v1/lists", Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&mine), vec![id(&list), id(&form)]);
    assert_eq!(t.get(&format!("/api/v1/lists/{}", id(&list)), Some(&alice.token)).await.expect(200), list);

    let path = format!("/api/v1/lists/{}", id(&list));
    let renamed = t.put(&path, Some(&alice.token), json!({"title": "Pals", "replies_policy": "followed"})).await.expect(200);
    assert_eq!((renamed["title"].clone(), renamed["replies_policy"].clone(), renamed["exclusive"].clone()), (json!("Pals"), json!("followed"), json!(false)));

    // Someone else's list does not exist for them.
    assert_eq!(t.get("/api/v1/lists", Some(&mallory.token)).await.expect(200), json!([]));
    t.get(&path, Some(&mallory.token)).await.expect(404);
    t.put(&path, Some(&mallory.token), json!({"title": "mine"})).await.expect(404);
    t.delete(&path, Some(&mallory.token)).await.expect(404);
    t.get(&format!("{path}/accounts"), Some(&mallory.token)).await.expect(404);
    t.get(&format!("/api/v1/timelines/list/{}", id(&list)), Some(&mallory.token)).await.expect(404);
    assert_eq!(add(&t, &mallory, &list, &[&alice]).await.status, 404);

    assert_eq!(t.delete(&path, Some(&alice.token)).await.expect(200), json!({}));
    t.get(&path, Some(&alice.token)).await.expect(404);
    t.delete(&path, Some(&alice.token)).await.expect(404);
    assert_eq!(ids(&t.get("/api/v1/lists", Some(&alice.token)).await.expect(200)), vec![id(&form)]);
}

#[tokio::test]
async fn bad_list_input_gets_mastodons_error_envelope() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let blank = t.post("/api/v1/lists", Some(&alice.token), json!({"title": "   "})).await;
    assert_eq!(blank.status, 422);
    assert!(blank.error().contains("Title can't be blank"), "{}", blank.body);
    let policy = t.post("/api/v1/lists", Some(&alice.token), json!({"title": "x", "replies_policy": "everyone"})).await;
    assert_eq!(policy.status, 422);
    assert!(policy.error().contains("replies policy"), "{}", policy.body);
    let long = t.post("/api/v1/lists", Some(&alice.token), json!({"title": "x".repeat(300)})).await;
    assert_eq!(long.status, 422);
    t.get("/api/v1/lists/not-an-id", Some(&alice.token)).await.expect(404);
    t.get("/api/v1/lists/12345", Some(&alice.token)).await.expect(404);
    let list = create_list(&t, &alice, json!({"title": "x"})).await;
    t.put(&format!("/api/v1/lists/{}", id(&list)), Some(&alice.token), json!({"replies_policy": "bogus"})).await.expect(422);
    let nobody = t.post(&format!("/api/v1/lists/{}/accounts", id(&list)), Some(&alice.token), json!({})).await;
    assert_eq!(nobody.status, 422, "{}", nobody.body);
    let unknown = t.post(&format!("/api/v1/lists/{}/accounts", id(&list)), Some(&alice.token), json!({"account_ids": ["999999"]})).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}

#[tokio::test]
async fn an_account_has_at_most_fifty_lists() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for n in 0..50 {
        create_list(&t, &alice, json!({ "title": format!("list {n}") })).await;
    }
    let refused = t.post("/api/v1/lists", Some(&alice.token), json!({"title": "one too many"})).await;
    assert_eq!(refused.status, 422);
    assert!(refused.error().contains("maximum number of lists"), "{}", refused.body);
    assert_eq!(t.get("/api/v1/lists", Some(&alice.token)).await.expect(200).as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn list_scopes_are_mastodons() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let reader = t.token_with_scopes(&alice, "read:lists").await;
    let writer = t.token_with_scopes(&alice, "write:lists").await;
    t.post("/api/v1/lists", Some(&reader), json!({"title": "x"})).await.expect(403);
    let list = t.post("/api/v1/lists", Some(&writer), json!({"title": "x"})).await.expect(200);
    t.get("/api/v1/lists", Some(&writer)).await.expect(403);
    t.get("/api/v1/lists", Some(&reader)).await.expect(200);
    t.get(&format!("/api/v1/timelines/list/{}", id(&list)), Some(&reader)).await.expect(200);
    t.get("/api/v1/lists", None).await.expect(401);
}

#[tokio::test]
async fn only_followed_accounts_can_be_members_and_unfollowing_removes_them() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    let list = create_list(&t, &alice, json!({"title": "x"})).await;

    let refused = add(&t, &alice, &list, &[&bob, &carol]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.error().contains("follow"), "a readable reason: {}", refused.body);
    assert_eq!(t.get(&format!("/api/v1/lists/{}/accounts", id(&list)), Some(&alice.token)).await.expect(200), json!([]), "all or nothing");

    add(&t, &alice, &list, &[&bob]).await.expect(200);
    add(&t, &alice, &list, &[&bob]).await.expect(200);
    let members = t.get(&format!("/api/v1/lists/{}/accounts", id(&list)), Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&members), vec![bob.id.clone()], "added once");
    let holding = t.get(&format!("/api/v1/accounts/{}/lists", bob.id), Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&holding), vec![id(&list)]);
    assert_eq!(t.get(&format!("/api/v1/accounts/{}/lists", bob.id), Some(&carol.token)).await.expect(200), json!([]), "the caller's lists only");

    t.post(&format!("/api/v1/accounts/{}/unfollow", bob.id), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/lists/{}/accounts", id(&list)), Some(&alice.token)).await.expect(200), json!([]));
    assert_eq!(t.get(&format!("/api/v1/accounts/{}/lists", bob.id), Some(&alice.token)).await.expect(200), json!([]));
}

#[tokio::test]
async fn members_are_added_by_form_removed_by_query_or_body_and_paginated() {
    let t = TestApp::spawn().await;
    let users = t.register_all(["owner", "m1", "m2", "m3", "m4"]).await;
    let owner = &users[0];
    for member in &users[1..] {
        t.follow(owner, member).await;
    }
    let list = create_list(&t, owner, json!({"title": "x"})).await;
    let path = format!("/api/v1/lists/{}/accounts", id(&list));
    let pairs: Vec<(&str, &str)> = users[1..].iter().map(|u| ("account_ids[]", u.id.as_str())).collect();
    t.post_form(&path, Some(&owner.token), &pairs).await.expect(200);

    let first = t.get(&format!("{path}?limit=3"), Some(&owner.token)).await;
    assert_eq!(ids(&first.body), vec![users[4].id.clone(), users[3].id.clone(), users[2].id.clone()], "most recently added first");
    assert!(link(&first, "prev").is_some());
    let rest = t.follow_link(&first, "next", Some(&owner.token)).await;
    assert_eq!(ids(&rest.body), vec![users[1].id.clone()]);

    t.delete(&format!("{path}?account_ids[]={}", users[1].id), Some(&owner.token)).await.expect(200);
    t.request(Method::DELETE, &path, Some(&owner.token), Some(Body::Json(json!({"account_ids": [users[2].id]})))).await.expect(200);
    let left = t.get(&path, Some(&owner.token)).await.expect(200);
    assert_eq!(ids(&left), vec![users[4].id.clone(), users[3].id.clone()]);
}

#[tokio::test]
async fn the_list_timeline_shows_its_members_posts_newest_first_and_paginates() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    t.follow(&alice, &dave).await;
    let list = create_list(&t, &alice, json!({"title": "x"})).await;
    add(&t, &alice, &list, &[&bob, &carol]).await.expect(200);
    // Built (empty) before the posts, so fanout feeds it.
    assert_eq!(list_timeline_ids(&t, &alice, &list).await, Vec::<String>::new());
    let b1 = post(&t, &bob, "bob one").await;
    let c1 = post(&t, &carol, "carol one").await;
    let _d1 = post(&t, &dave, "dave is not in the list").await;
    let _a1 = post(&t, &alice, "the owner is not in the list either").await;
    let b2 = post(&t, &bob, "bob two").await;
    assert_eq!(list_timeline_ids(&t, &alice, &list).await, all(&[&b2, &c1, &b1]));

    let page = list_timeline(&t, &alice, &list, "?limit=2").await;
    assert_eq!(ids(&page.body), all(&[&b2, &c1]));
    let next = t.follow_link(&page, "next", Some(&alice.token)).await;
    assert_eq!(ids(&next.body), all(&[&b1]));
    let newer = list_timeline(&t, &alice, &list, &format!("?since_id={}", id(&b1))).await;
    assert_eq!(ids(&newer.body), all(&[&b2, &c1]));
    let oldest_first = list_timeline(&t, &alice, &list, &format!("?min_id={}&limit=1", id(&b1))).await;
    assert_eq!(ids(&oldest_first.body), all(&[&c1]));
    list_timeline(&t, &alice, &list, "?max_id=nonsense").await.expect(400);

    // Removing a member removes its posts; deleting a post removes it.
    t.delete(&format!("/api/v1/lists/{}/accounts?account_ids[]={}", id(&list), carol.id), Some(&alice.token)).await.expect(200);
    assert_eq!(list_timeline_ids(&t, &alice, &list).await, all(&[&b2, &b1]));
    t.delete(&format!("/api/v1/statuses/{}", id(&b2)), Some(&bob.token)).await.expect(200);
    assert_eq!(list_timeline_ids(&t, &alice, &list).await, all(&[&b1]));
    // A member added later brings its recent posts along.
    add(&t, &alice, &list, &[&dave]).await.expect(200);
    assert_eq!(list_timeline_ids(&t, &alice, &list).await.len(), 2);
}

#[tokio::test]
async fn a_missing_list_timeline_is_rebuilt_from_the_store_with_the_same_content() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let list = create_list(&t, &alice, json!({"title": "x"})).await;
    add(&t, &alice, &list, &[&bob, &carol]).await.expect(200);
    list_timeline_ids(&t, &alice, &list).await;
    let mut posted = Vec::new();
    for n in 0..6 {
        posted.push(post(&t, if n % 2 == 0 { &bob } else { &carol }, &format!("post {n}")).await);
    }
    let reply_to_stranger = t.post_status(&bob, json!({"status": "@alice hi", "in_reply_to_id": id(&post(&t, &alice, "alice asks").await)})).await;
    let fanned = list_timeline_ids(&t, &alice, &list).await;
    assert_eq!(fanned.len(), 6, "the reply to the owner, not a member, is not shown under `list`: {fanned:?}");
    assert!(!fanned.contains(&id(&reply_to_stranger)));

    let list_id = id(&list).parse().unwrap();
    assert!(t.app.evict_list(list_id).await.unwrap());
    assert_eq!(list_timeline_ids(&t, &alice, &list).await, fanned, "rebuilt from the members' statuses");
    assert!(t.app.evict_list(list_id).await.unwrap(), "and cached again");
}

#[tokio::test]
async fn replies_policy_decides_which_replies_to_others_a_list_shows() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let followed = create_list(&t, &alice, json!({"title": "followed", "replies_policy": "followed"})).await;
    let members = create_list(&t, &alice, json!({"title": "list", "replies_policy": "list"})).await;
    let none = create_list(&t, &alice, json!({"title": "none", "replies_policy": "none"})).await;
    for list in [&followed, &members, &none] {
        add(&t, &alice, list, &[&bob]).await.expect(200);
        list_timeline_ids(&t, &alice, list).await;
    }
    let carols = post(&t, &carol, "carol speaks").await;
    let daves = post(&t, &dave, "dave speaks").await;
    let to_followed = t.post_status(&bob, json!({"status": "@carol yes", "in_reply_to_id": id(&carols)})).await;
    let to_stranger = t.post_status(&bob, json!({"status": "@dave yes", "in_reply_to_id": id(&daves)})).await;
    let thread = t.post_status(&bob, json!({"status": "and more", "in_reply_to_id": id(&to_stranger)})).await;
    let plain = post(&t, &bob, "plain").await;

    assert_eq!(list_timeline_ids(&t, &alice, &followed).await, all(&[&plain, &thread, &to_followed]));
    assert_eq!(list_timeline_ids(&t, &alice, &members).await, all(&[&plain, &thread]));
    assert_eq!(list_timeline_ids(&t, &alice, &none).await, all(&[&plain, &thread]));
    // With carol in the list, replies to her show under `list`.
    add(&t, &alice, &members, &[&carol]).await.expect(200);
    let to_member = t.post_status(&bob, json!({"status": "@carol again", "in_reply_to_id": id(&carols)})).await;
    let shown = list_timeline_ids(&t, &alice, &members).await;
    assert!(shown.contains(&id(&to_member)), "{shown:?}");
    assert!(!shown.contains(&id(&to_stranger)));

    // Rebuilt by the same rules (as they stand now: carol is a member, so the earlier reply to
    // her shows too), and by the new policy once it changes.
    for list in [&followed, &none] {
        let before = list_timeline_ids(&t, &alice, list).await;
        t.app.evict_list(id(list).parse().unwrap()).await.unwrap();
        assert_eq!(list_timeline_ids(&t, &alice, list).await, before, "{}", list["title"]);
    }
    t.app.evict_list(id(&members).parse().unwrap()).await.unwrap();
    let rebuilt = list_timeline_ids(&t, &alice, &members).await;
    assert_eq!(rebuilt, all(&[&to_member, &plain, &thread, &to_followed, &carols]));
    t.put(&format!("/api/v1/lists/{}", id(&none)), Some(&alice.token), json!({"replies_policy": "followed"})).await.expect(200);
    assert!(list_timeline_ids(&t, &alice, &none).await.contains(&id(&to_followed)));
}

#[tokio::test]
async fn an_exclusive_list_keeps_its_members_out_of_home_in_fanout_and_rebuild() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let early = post(&t, &bob, "before the list").await;
    assert!(t.home_ids(&alice).await.contains(&id(&early)));
    let list = create_list(&t, &alice, json!({"title": "x", "exclusive": true})).await;
    add(&t, &alice, &list, &[&bob]).await.expect(200);
    assert!(!t.home_ids(&alice).await.contains(&id(&early)), "joining an exclusive list takes the member out of home");

    let bobs = post(&t, &bob, "bob in his list").await;
    let carols = post(&t, &carol, "carol in home").await;
    let home = t.home_ids(&alice).await;
    assert!(home.contains(&id(&carols)) && !home.contains(&id(&bobs)), "fanout: {home:?}");
    assert_eq!(list_timeline_ids(&t, &alice, &list).await, all(&[&bobs, &early]));
    t.app.evict_home(alice.id.parse().unwrap()).await.unwrap();
    assert_eq!(t.home_ids(&alice).await, home, "rebuild keeps them out too");

    // Not exclusive any more: the member's posts come back.
    t.put(&format!("/api/v1/lists/{}", id(&list)), Some(&alice.token), json!({"exclusive": false})).await.expect(200);
    let home = t.home_ids(&alice).await;
    assert!(home.contains(&id(&bobs)) && home.contains(&id(&early)), "{home:?}");
    let later = post(&t, &bob, "back in home").await;
    assert!(t.home_ids(&alice).await.contains(&id(&later)));
    // Other followers of the member are unaffected all along.
    t.follow(&carol, &bob).await;
    t.put(&format!("/api/v1/lists/{}", id(&list)), Some(&alice.token), json!({"exclusive": true})).await.expect(200);
    let last = post(&t, &bob, "exclusive again").await;
    assert!(t.home_ids(&carol).await.contains(&id(&last)));
    assert!(!t.home_ids(&alice).await.contains(&id(&last)));
    // Deleting the exclusive list brings the member back too.
    t.delete(&format!("/api/v1/lists/{}", id(&list)), Some(&alice.token)).await.expect(200);
    assert!(t.home_ids(&alice).await.contains(&id(&last)));
}

#[tokio::test]
async fn list_timelines_leave_out_muted_blocked_and_invisible_posts() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let list = create_list(&t, &alice, json!({"title": "x"})).await;
    add(&t, &alice, &list, &[&bob, &carol]).await.expect(200);
    list_timeline_ids(&t, &alice, &list).await;
    let private = t.post_status(&bob, json!({"status": "followers only", "visibility": "private"})).await;
    let direct = t.post_status(&bob, json!({"status": "@carol secret", "visibility": "direct"})).await;
    let carols = post(&t, &carol, "carol").await;
    let shown = list_timeline_ids(&t, &alice, &list).await;
    assert_eq!(shown, all(&[&carols, &private]), "direct posts never enter a list");
    assert!(!shown.contains(&id(&direct)));
    t.post(&format!("/api/v1/accounts/{}/mute", carol.id), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(list_timeline_ids(&t, &alice, &list).await, all(&[&private]), "muted at read time");
}

#[tokio::test]
async fn the_list_stream_delivers_updates_and_deletes_to_the_owner_only() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, mallory] = t.register_all(["alice", "bob", "carol", "mallory"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let list = create_list(&t, &alice, json!({"title": "x"})).await;
    add(&t, &alice, &list, &[&bob]).await.expect(200);
    let path = format!("/api/v1/streaming/list?list={}", id(&list));
    let refused = t.get(&path, Some(&mallory.token)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.error().contains("list"), "{}", refused.body);
    t.get("/api/v1/streaming/list", Some(&alice.token)).await.expect(400);

    let mut stream = Sse::open(&t, &path, Some(&alice.token)).await;
    let _carols = post(&t, &carol, "not in the list").await;
    let bobs = post(&t, &bob, "in the list").await;
    let update = stream.next().await;
    assert_eq!((update.event.as_str(), update.json()["id"].clone()), ("update", json!(id(&bobs))), "only the member's post");
    t.delete(&format!("/api/v1/statuses/{}", id(&bobs)), Some(&bob.token)).await.expect(200);
    let delete = stream.next().await;
    assert_eq!((delete.event.as_str(), delete.data.as_str()), ("delete", id(&bobs).as_str()));
    assert!(stream.next_within(WAIT / 5).await.is_none());
}

#[tokio::test]
async fn a_websocket_subscribes_to_its_owners_list_only() {
    use futures_util::SinkExt as _;
    use tokio_tungstenite::tungstenite::Message;

    use crate::streaming::{ws_next, ws_next_within, ws_url};

    let t = TestApp::spawn().await;
    let [alice, bob, mallory] = t.register_all(["alice", "bob", "mallory"]).await;
    t.follow(&alice, &bob).await;
    let list = create_list(&t, &alice, json!({"title": "x"})).await;
    add(&t, &alice, &list, &[&bob]).await.expect(200);

    let (mut theirs, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?access_token={}", mallory.token))).await.unwrap();
    theirs.send(Message::Text(json!({"type": "subscribe", "stream": "list", "list": id(&list)}).to_string().into())).await.unwrap();
    let refused = ws_next(&mut theirs).await;
    assert_eq!(refused["status"], 403, "{refused}");

    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?access_token={}", alice.token))).await.unwrap();
    socket.send(Message::Text(json!({"type": "subscribe", "stream": "list", "list": id(&list)}).to_string().into())).await.unwrap();
    // Subscriptions have no acknowledgement (as in Mastodon); give the server a moment.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let post = post(&t, &bob, "over the socket").await;
    let update = ws_next(&mut socket).await;
    assert_eq!((update["stream"].clone(), update["event"].clone()), (json!(["list", id(&list)]), json!("update")));
    let status: Value = serde_json::from_str(update["payload"].as_str().unwrap()).unwrap();
    assert_eq!(status["id"], id(&post));
    assert!(ws_next_within(&mut theirs, WAIT / 5).await.is_none(), "nothing reaches the refused subscriber");

    // Subscribing on connect works too.
    let query = format!("?stream=list&list={}&access_token={}", id(&list), alice.token);
    let (mut direct, _) = tokio_tungstenite::connect_async(ws_url(&t, &query)).await.unwrap();
    let again = self::post(&t, &bob, "again").await;
    assert_eq!(serde_json::from_str::<Value>(ws_next(&mut direct).await["payload"].as_str().unwrap()).unwrap()["id"], id(&again));
}

#[tokio::test]
async fn a_block_either_way_takes_the_account_out_of_the_list_and_its_timeline() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let list = create_list(&t, &alice, json!({"title": "x"})).await;
    add(&t, &alice, &list, &[&bob, &carol]).await.expect(200);
    list_timeline_ids(&t, &alice, &list).await;
    let bobs = post(&t, &bob, "bob").await;
    let carols = post(&t, &carol, "carol").await;
    assert_eq!(list_timeline_ids(&t, &alice, &list).await, all(&[&carols, &bobs]));
    // The owner blocks one member; another member blocks the owner: both follows end.
    t.post(&format!("/api/v1/accounts/{}/block", bob.id), Some(&alice.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/accounts/{}/block", alice.id), Some(&carol.token), json!({})).await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/lists/{}/accounts", id(&list)), Some(&alice.token)).await.expect(200), json!([]));
    assert_eq!(list_timeline_ids(&t, &alice, &list).await, Vec::<String>::new());
}
