use serde_json::{Value, json};

use crate::{TestApp, User, id, ids, link};

async fn boost(t: &TestApp, user: &User, status: &Value) -> Value {
    t.post(&format!("/api/v1/statuses/{}/reblog", id(status)), Some(&user.token), json!({})).await.expect(200)
}

async fn unfollow(t: &TestApp, who: &User, whom: &User) {
    t.post(&format!("/api/v1/accounts/{}/unfollow", whom.id), Some(&who.token), json!({})).await.expect(200);
}

async fn home(t: &TestApp, user: &User, query: &str) -> crate::Reply {
    t.settle().await;
    t.get(&format!("/api/v1/timelines/home{query}"), Some(&user.token)).await
}

async fn public_ids(t: &TestApp, query: &str) -> Vec<String> {
    ids(&t.get(&format!("/api/v1/timelines/public{query}"), None).await.expect(200))
}

async fn tag_ids(t: &TestApp, tag: &str) -> Vec<String> {
    ids(&t.get(&format!("/api/v1/timelines/tag/{tag}"), None).await.expect(200))
}

fn all(statuses: &[&Value]) -> Vec<String> {
    statuses.iter().map(|s| id(s)).collect()
}

// Home.

#[tokio::test]
async fn a_followers_home_shows_new_posts_after_fanout() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    assert!(t.home_ids(&bob).await.is_empty());
    let post = t.post_status(&alice, json!({"status": "hello followers"})).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&post)]);
}

#[tokio::test]
async fn your_own_posts_are_in_your_home_at_once() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let first = t.post_status(&alice, json!({"status": "before the home was built"})).await;
    assert_eq!(ids(&t.get("/api/v1/timelines/home", Some(&alice.token)).await.expect(200)), vec![id(&first)]);
    let second = t.post_status(&alice, json!({"status": "after", "visibility": "private"})).await;
    let third = t.post_status(&alice, json!({"status": "note to self", "visibility": "direct"})).await;
    assert_eq!(ids(&t.get("/api/v1/timelines/home", Some(&alice.token)).await.expect(200)), all(&[&third, &second, &first]), "no fanout needed");
}

#[tokio::test]
async fn the_home_timeline_renders_full_statuses_with_viewer_flags() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    let post = t.post_status(&alice, json!({"status": "hi"})).await;
    t.post(&format!("/api/v1/statuses/{}/favourite", id(&post)), Some(&bob.token), json!({})).await.expect(200);
    let timeline = home(&t, &bob, "").await.expect(200);
    crate::assert_required(&timeline[0], "Status", crate::schema::STATUS);
    assert_eq!(timeline[0]["favourited"], true);
    assert_eq!(timeline[0]["favourites_count"], 1);
}

#[tokio::test]
async fn unfollowing_removes_the_followees_posts_from_home() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&bob, &alice).await;
    t.follow(&bob, &carol).await;
    let alices = t.post_status(&alice, json!({"status": "from alice"})).await;
    let carols = t.post_status(&carol, json!({"status": "from carol"})).await;
    let boost = boost(&t, &alice, &carols).await;
    assert_eq!(t.home_ids(&bob).await, all(&[&carols, &alices]), "carol's post shows once though alice boosted it");
    unfollow(&t, &bob, &alice).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&carols)]);
    assert_ne!(id(&boost), id(&carols));
}

#[tokio::test]
async fn following_backfills_earlier_posts_into_a_built_home() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let earlier: Vec<Value> = post_all(&t, &alice, &["one", "two", "three"]).await;
    let private = t.post_status(&alice, json!({"status": "followers only", "visibility": "private"})).await;
    let direct = t.post_status(&alice, json!({"status": "@carol only", "visibility": "direct"})).await;
    let others =
        t.post_status(&alice, json!({"status": "reply to carol", "in_reply_to_id": id(&t.post_status(&carol, json!({"status": "carol"})).await)})).await;
    assert!(t.home_ids(&bob).await.is_empty(), "bob's home is built, and empty");
    t.follow(&bob, &alice).await;
    let home = t.home_ids(&bob).await;
    assert_eq!(home, vec![id(&private), id(&earlier[2]), id(&earlier[1]), id(&earlier[0])]);
    assert!(!home.contains(&id(&direct)) && !home.contains(&id(&others)));
}

async fn post_all(t: &TestApp, user: &User, texts: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    for text in texts {
        out.push(t.post_status(user, json!({"status": text})).await);
    }
    out
}

#[tokio::test]
async fn following_before_the_home_is_built_shows_earlier_posts_too() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let earlier = post_all(&t, &alice, &["one", "two"]).await;
    t.follow(&bob, &alice).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&earlier[1]), id(&earlier[0])]);
}

#[tokio::test]
async fn deleting_a_status_removes_it_from_followers_homes() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    let keep = t.post_status(&alice, json!({"status": "keep"})).await;
    let gone = t.post_status(&alice, json!({"status": "gone"})).await;
    assert_eq!(t.home_ids(&bob).await, all(&[&gone, &keep]));
    t.delete(&format!("/api/v1/statuses/{}", id(&gone)), Some(&alice.token)).await.expect(200);
    assert_eq!(t.home_ids(&bob).await, vec![id(&keep)]);
    assert_eq!(t.home_ids(&alice).await, vec![id(&keep)]);
}

#[tokio::test]
async fn a_status_boosted_by_two_followees_appears_once() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    t.follow(&dave, &bob).await;
    t.follow(&dave, &carol).await;
    assert!(t.home_ids(&dave).await.is_empty());
    let post = t.post_status(&alice, json!({"status": "popular"})).await;
    let first = boost(&t, &bob, &post).await;
    boost(&t, &carol, &post).await;
    let timeline = home(&t, &dave, "").await.expect(200);
    assert_eq!(ids(&timeline), vec![id(&first)], "the first boost is shown");
    assert_eq!(timeline[0]["reblog"]["id"], post["id"]);
    t.app.evict_home(dave.id.parse().unwrap()).await.unwrap();
    assert_eq!(t.home_ids(&dave).await, vec![id(&first)], "and a rebuild agrees");
}

#[tokio::test]
async fn a_boost_of_a_status_already_in_home_is_not_shown_again() {
    let t = TestApp::spawn().await;
    let [alice, bob, dave] = t.register_all(["alice", "bob", "dave"]).await;
    t.follow(&dave, &alice).await;
    t.follow(&dave, &bob).await;
    t.home_ids(&dave).await;
    let post = t.post_status(&alice, json!({"status": "original"})).await;
    boost(&t, &bob, &post).await;
    assert_eq!(t.home_ids(&dave).await, vec![id(&post)]);
    // Boosting it yourself does not repeat it either.
    boost(&t, &dave, &post).await;
    assert_eq!(t.home_ids(&dave).await, vec![id(&post)]);
    t.app.evict_home(dave.id.parse().unwrap()).await.unwrap();
    assert_eq!(t.home_ids(&dave).await, vec![id(&post)]);
}

#[tokio::test]
async fn following_the_author_of_a_boosted_status_keeps_it_once() {
    let t = TestApp::spawn().await;
    let [alice, bob, dave] = t.register_all(["alice", "bob", "dave"]).await;
    t.follow(&dave, &bob).await;
    let post = t.post_status(&alice, json!({"status": "original"})).await;
    let boosted = boost(&t, &bob, &post).await;
    assert_eq!(t.home_ids(&dave).await, vec![id(&boosted)]);
    t.follow(&dave, &alice).await;
    let home = t.home_ids(&dave).await;
    assert_eq!(home.len(), 1, "one entry per original status: {home:?}");
}

#[tokio::test]
async fn unboosting_removes_the_boost_from_followers_homes() {
    let t = TestApp::spawn().await;
    let [alice, bob, dave] = t.register_all(["alice", "bob", "dave"]).await;
    t.follow(&dave, &bob).await;
    let post = t.post_status(&alice, json!({"status": "original"})).await;
    let boosted = boost(&t, &bob, &post).await;
    assert_eq!(t.home_ids(&dave).await, vec![id(&boosted)]);
    t.post(&format!("/api/v1/statuses/{}/unreblog", id(&post)), Some(&bob.token), json!({})).await.expect(200);
    assert!(t.home_ids(&dave).await.is_empty());
}

#[tokio::test]
async fn deleting_a_boosted_status_removes_its_boosts_from_homes() {
    let t = TestApp::spawn().await;
    let [alice, bob, dave] = t.register_all(["alice", "bob", "dave"]).await;
    t.follow(&dave, &bob).await;
    let post = t.post_status(&alice, json!({"status": "original"})).await;
    boost(&t, &bob, &post).await;
    assert_eq!(t.home_ids(&dave).await.len(), 1);
    t.delete(&format!("/api/v1/statuses/{}", id(&post)), Some(&alice.token)).await.expect(200);
    assert!(t.home_ids(&dave).await.is_empty());
    assert!(t.home_ids(&bob).await.is_empty());
}

#[tokio::test]
async fn a_follow_without_reblogs_hides_the_followees_boosts() {
    let t = TestApp::spawn().await;
    let [alice, bob, dave] = t.register_all(["alice", "bob", "dave"]).await;
    t.post_form(&format!("/api/v1/accounts/{}/follow", bob.id), Some(&dave.token), &[("reblogs", "false")]).await.expect(200);
    t.home_ids(&dave).await;
    let post = t.post_status(&alice, json!({"status": "original"})).await;
    boost(&t, &bob, &post).await;
    let own = t.post_status(&bob, json!({"status": "bob's own"})).await;
    assert_eq!(t.home_ids(&dave).await, vec![id(&own)]);
}

#[tokio::test]
async fn private_posts_reach_followers_only() {
    let t = TestApp::spawn().await;
    let [alice, follower, stranger] = t.register_all(["alice", "follower", "stranger"]).await;
    t.follow(&follower, &alice).await;
    t.home_ids(&stranger).await;
    let private = t.post_status(&alice, json!({"status": "followers only @stranger", "visibility": "private"})).await;
    assert_eq!(t.home_ids(&follower).await, vec![id(&private)]);
    assert!(t.home_ids(&stranger).await.is_empty(), "a mention does not put a private post in a stranger's home");
    assert!(public_ids(&t, "").await.is_empty());
}

#[tokio::test]
async fn direct_posts_reach_mentioned_accounts_only() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&bob, &alice).await;
    t.follow(&carol, &alice).await;
    t.home_ids(&bob).await;
    t.home_ids(&carol).await;
    let direct = t.post_status(&alice, json!({"status": "@bob just you", "visibility": "direct"})).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&direct)]);
    assert!(t.home_ids(&carol).await.is_empty());
    assert_eq!(t.home_ids(&alice).await, vec![id(&direct)]);
}

#[tokio::test]
async fn replies_to_accounts_the_viewer_does_not_follow_are_hidden() {
    let t = TestApp::spawn().await;
    let [viewer, bob, carol] = t.register_all(["viewer", "bob", "carol"]).await;
    t.follow(&viewer, &bob).await;
    t.home_ids(&viewer).await;
    let carols = t.post_status(&carol, json!({"status": "carol"})).await;
    let mine = t.post_status(&viewer, json!({"status": "mine"})).await;
    let bobs = t.post_status(&bob, json!({"status": "bob"})).await;
    let to_carol = t.post_status(&bob, json!({"status": "@carol hi", "in_reply_to_id": id(&carols)})).await;
    let to_viewer = t.post_status(&bob, json!({"status": "@viewer hi", "in_reply_to_id": id(&mine)})).await;
    let to_self = t.post_status(&bob, json!({"status": "thread", "in_reply_to_id": id(&bobs)})).await;
    let home = t.home_ids(&viewer).await;
    assert_eq!(home, all(&[&to_self, &to_viewer, &bobs, &mine]));
    assert!(!home.contains(&id(&to_carol)));
    // Once the viewer follows carol, later replies to her show (and her own posts backfill).
    t.follow(&viewer, &carol).await;
    let again = t.post_status(&bob, json!({"status": "@carol again", "in_reply_to_id": id(&carols)})).await;
    let home = t.home_ids(&viewer).await;
    assert!(home.contains(&id(&again)) && home.contains(&id(&carols)), "{home:?}");
}

#[tokio::test]
async fn an_evicted_home_is_rebuilt_from_the_store_with_the_same_content() {
    let t = TestApp::spawn().await;
    let [viewer, alice, bob, carol] = t.register_all(["viewer", "alice", "bob", "carol"]).await;
    t.follow(&viewer, &alice).await;
    t.follow(&viewer, &bob).await;
    t.home_ids(&viewer).await;
    let mut expected = vec![t.post_status(&viewer, json!({"status": "own"})).await];
    expected.push(t.post_status(&alice, json!({"status": "public"})).await);
    expected.push(t.post_status(&alice, json!({"status": "private", "visibility": "private"})).await);
    expected.push(t.post_status(&alice, json!({"status": "unlisted", "visibility": "unlisted"})).await);
    let carols = t.post_status(&carol, json!({"status": "not followed"})).await;
    t.post_status(&alice, json!({"status": "hidden reply", "in_reply_to_id": id(&carols)})).await;
    expected.push(t.post_status(&bob, json!({"status": "reply to alice", "in_reply_to_id": id(&expected[1])})).await);
    expected.push(boost(&t, &bob, &carols).await);
    boost(&t, &bob, &expected[1]).await;
    let before = t.home_ids(&viewer).await;
    let mut want: Vec<String> = expected.iter().map(id).collect();
    want.reverse();
    assert_eq!(before, want);
    t.app.evict_home(viewer.id.parse().unwrap()).await.unwrap();
    let after = t.home_ids(&viewer).await;
    assert_eq!(after, before);
    // Fanout keeps working on the rebuilt home.
    let later = t.post_status(&alice, json!({"status": "later"})).await;
    assert_eq!(t.home_ids(&viewer).await[0], id(&later));
}

#[tokio::test]
async fn a_rebuilt_home_holds_the_same_newest_entries_as_fanout_however_they_spread_over_followees() {
    // A rebuild used to read at most cap / sources (10..100) posts per followed account: a
    // prolific followee's older posts fell out of the rebuilt home though fanout had kept them.
    let t = TestApp::spawn_with(|s| s.timelines = Some(core_app::config::TimelineConfig { cap: 30, ..Default::default() })).await;
    let [viewer, alice, bob] = t.register_all(["viewer", "alice", "bob"]).await;
    t.follow(&viewer, &alice).await;
    t.follow(&viewer, &bob).await;
    t.home_ids(&viewer).await;
    for n in 0..3 {
        t.post_status(&bob, json!({ "status": format!("bob {n}") })).await;
    }
    for n in 0..30 {
        t.post_status(&alice, json!({ "status": format!("alice {n}") })).await;
    }
    t.settle().await;
    let before = ids(&t.get("/api/v1/timelines/home?limit=40", Some(&viewer.token)).await.expect(200));
    assert_eq!(before.len(), 30, "fanout keeps the newest cap entries");
    t.app.evict_home(viewer.id.parse().unwrap()).await.unwrap();
    let after = ids(&t.get("/api/v1/timelines/home?limit=40", Some(&viewer.token)).await.expect(200));
    assert_eq!(after, before, "the rebuild merges the same newest entries");
}

#[tokio::test]
async fn a_direct_post_reaches_the_home_of_a_mentioned_account_only_if_it_follows_the_author() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.home_ids(&bob).await;
    let direct = t.post_status(&alice, json!({"status": "@bob hello stranger", "visibility": "direct"})).await;
    assert!(t.home_ids(&bob).await.is_empty(), "as in Mastodon, it is not pushed into a stranger's home");
    t.get(&format!("/api/v1/statuses/{}", id(&direct)), Some(&bob.token)).await.expect(200);
    t.follow(&bob, &alice).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&direct)], "following backfills it like any other post");
    unfollow(&t, &bob, &alice).await;
    assert!(t.home_ids(&bob).await.is_empty());
}

#[tokio::test]
async fn a_rebuilt_home_keeps_direct_posts_addressed_to_the_viewer() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    t.home_ids(&bob).await;
    let direct = t.post_status(&alice, json!({"status": "@bob psst", "visibility": "direct"})).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&direct)]);
    t.app.evict_home(bob.id.parse().unwrap()).await.unwrap();
    assert_eq!(t.home_ids(&bob).await, vec![id(&direct)]);
}

#[tokio::test]
async fn home_paginates_with_max_id_since_id_min_id_and_link_headers() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let posts = post_all(&t, &alice, &["1", "2", "3", "4", "5"]).await;
    let p: Vec<String> = posts.iter().map(id).collect();
    let first = home(&t, &alice, "?limit=2").await;
    assert_eq!(ids(&first.body), vec![p[4].clone(), p[3].clone()]);
    assert_eq!(link(&first, "next").unwrap(), format!("{}/api/v1/timelines/home?limit=2&max_id={}", t.base, p[3]));
    assert_eq!(link(&first, "prev").unwrap(), format!("{}/api/v1/timelines/home?limit=2&min_id={}", t.base, p[4]));
    let second = t.follow_link(&first, "next", Some(&alice.token)).await;
    assert_eq!(ids(&second.body), vec![p[2].clone(), p[1].clone()]);
    let third = t.follow_link(&second, "next", Some(&alice.token)).await;
    assert_eq!(ids(&third.body), vec![p[0].clone()]);
    let end = t.follow_link(&third, "next", Some(&alice.token)).await;
    assert!(link(&end, "next").is_none());
    assert_eq!(end.expect(200), json!([]));
    let back = t.follow_link(&third, "prev", Some(&alice.token)).await;
    assert_eq!(ids(&back.body), vec![p[2].clone(), p[1].clone()], "min_id returns the page just above");
    let (t, token) = (&t, alice.token.as_str());
    let ask = |q: String| async move { ids(&t.get(&format!("/api/v1/timelines/home?{q}"), Some(token)).await.expect(200)) };
    assert_eq!(ask(format!("max_id={}", p[2])).await, vec![p[1].clone(), p[0].clone()]);
    assert_eq!(ask(format!("since_id={}&limit=2", p[1])).await, vec![p[4].clone(), p[3].clone()], "since_id returns the newest");
    assert_eq!(ask(format!("min_id={}&limit=2", p[1])).await, vec![p[3].clone(), p[2].clone()], "min_id returns the closest");
    assert_eq!(ask(format!("max_id={}&since_id={}", p[4], p[1])).await, vec![p[3].clone(), p[2].clone()]);
    assert_eq!(ask("limit=1000".into()).await.len(), 5);
    assert_eq!(ask("limit=0".into()).await.len(), 1);
}

#[tokio::test]
async fn bad_pagination_parameters_are_a_400() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for query in ["max_id=abc", "limit=many", "since_id=-5"] {
        t.get(&format!("/api/v1/timelines/home?{query}"), Some(&alice.token)).await.expect(400);
        t.get(&format!("/api/v1/timelines/public?{query}"), None).await.expect(400);
    }
    t.get("/api/v1/timelines/home?max_id=&limit=", Some(&alice.token)).await.expect(200);
}

#[tokio::test]
async fn the_home_version_changes_when_home_changes() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    t.settle().await;
    let v1 = home_version(&t, &bob).await;
    assert_eq!(home_version(&t, &bob).await, v1, "stable while nothing happens");
    t.post_status(&alice, json!({"status": "news"})).await;
    t.settle().await;
    let v2 = home_version(&t, &bob).await;
    assert_ne!(v2, v1);
}

async fn home_version(t: &TestApp, user: &User) -> String {
    t.get("/api/starling/v1/timelines/home/version", Some(&user.token)).await.expect(200)["version"].as_str().unwrap().to_owned()
}

// Celebrities: posts of accounts with many followers are merged in at read time.

async fn with_celebrities() -> TestApp {
    TestApp::spawn_with(|s| s.timelines = Some(core_app::config::TimelineConfig { celebrity_threshold: 2, ..Default::default() })).await
}

#[tokio::test]
async fn a_celebritys_new_posts_still_show_in_followers_homes() {
    let t = with_celebrities().await;
    let [star, fan1, fan2] = t.register_all(["star", "fan1", "fan2"]).await;
    let earlier = t.post_status(&star, json!({"status": "before fame"})).await;
    t.follow(&fan1, &star).await;
    t.follow(&fan2, &star).await;
    t.settle().await;
    let fresh = t.post_status(&star, json!({"status": "famous now"})).await;
    let private = t.post_status(&star, json!({"status": "fans only", "visibility": "private"})).await;
    for fan in [&fan1, &fan2] {
        assert_eq!(t.home_ids(fan).await, all(&[&private, &fresh, &earlier]));
    }
    let timeline = home(&t, &fan1, "").await.expect(200);
    assert_eq!(timeline[0]["account"]["id"], star.id.as_str());
    // A rebuilt home merges the same posts.
    t.app.evict_home(fan1.id.parse().unwrap()).await.unwrap();
    assert_eq!(t.home_ids(&fan1).await, all(&[&private, &fresh, &earlier]));
}

#[tokio::test]
async fn a_celebritys_posts_merge_in_order_and_paginate_with_others() {
    let t = with_celebrities().await;
    let [star, fan, friend, other] = t.register_all(["star", "fan", "friend", "other"]).await;
    t.follow(&fan, &star).await;
    t.follow(&other, &star).await;
    t.follow(&fan, &friend).await;
    t.settle().await;
    let mut posts = Vec::new();
    for i in 0..3 {
        posts.push(t.post_status(&star, json!({"status": format!("star {i}")})).await);
        posts.push(t.post_status(&friend, json!({"status": format!("friend {i}")})).await);
    }
    let mut want: Vec<String> = posts.iter().map(id).collect();
    want.reverse();
    assert_eq!(t.home_ids(&fan).await, want);
    let first = home(&t, &fan, "?limit=4").await;
    let second = t.follow_link(&first, "next", Some(&fan.token)).await;
    assert_eq!(ids(&first.body), want[..4].to_vec());
    assert_eq!(ids(&second.body), want[4..].to_vec());
    let back = t.get(&format!("/api/v1/timelines/home?min_id={}&limit=2", want[3]), Some(&fan.token)).await.expect(200);
    assert_eq!(ids(&back), want[1..3].to_vec());
}

#[tokio::test]
async fn a_celebritys_posts_leave_an_unfollowers_home_and_replies_stay_filtered() {
    let t = with_celebrities().await;
    let [star, fan1, fan2, fan3, stranger] = t.register_all(["star", "fan1", "fan2", "fan3", "stranger"]).await;
    for fan in [&fan1, &fan2, &fan3] {
        t.follow(fan, &star).await;
    }
    t.settle().await;
    let strangers = t.post_status(&stranger, json!({"status": "hi"})).await;
    let post = t.post_status(&star, json!({"status": "hello fans"})).await;
    t.post_status(&star, json!({"status": "@stranger hi", "in_reply_to_id": id(&strangers)})).await;
    let direct = t.post_status(&star, json!({"status": "@fan2 psst", "visibility": "direct"})).await;
    assert_eq!(t.home_ids(&fan1).await, vec![id(&post)]);
    assert_eq!(t.home_ids(&fan2).await, all(&[&direct, &post]));
    unfollow(&t, &fan1, &star).await;
    assert!(t.home_ids(&fan1).await.is_empty());
    assert_eq!(t.home_ids(&fan3).await, vec![id(&post)]);
}

#[tokio::test]
async fn a_celebritys_boost_of_a_followed_status_is_not_repeated() {
    let t = with_celebrities().await;
    let [star, fan, other, author] = t.register_all(["star", "fan", "other", "author"]).await;
    t.follow(&fan, &star).await;
    t.follow(&other, &star).await;
    t.follow(&fan, &author).await;
    t.settle().await;
    let post = t.post_status(&author, json!({"status": "original"})).await;
    boost(&t, &star, &post).await;
    let home = t.home_ids(&fan).await;
    assert_eq!(home, vec![id(&post)], "one entry per original status");
}

#[tokio::test]
async fn posts_made_as_a_celebrity_stay_in_homes_once_the_account_is_one_no_longer() {
    let t = with_celebrities().await;
    let [star, fan1, fan2] = t.register_all(["star", "fan1", "fan2"]).await;
    t.follow(&fan1, &star).await;
    t.follow(&fan2, &star).await;
    assert!(t.home_ids(&fan2).await.is_empty());
    let post = t.post_status(&star, json!({"status": "while famous"})).await;
    assert_eq!(t.home_ids(&fan2).await, vec![id(&post)]);
    unfollow(&t, &fan1, &star).await;
    assert_eq!(t.home_ids(&fan2).await, vec![id(&post)], "fan2 still follows the star");
    let later = t.post_status(&star, json!({"status": "ordinary again"})).await;
    assert_eq!(t.home_ids(&fan2).await, all(&[&later, &post]));
}

// Public and hashtag timelines.

#[tokio::test]
async fn the_public_timeline_shows_public_posts_only() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let public = t.post_status(&alice, json!({"status": "for everyone"})).await;
    t.post_status(&alice, json!({"status": "unlisted", "visibility": "unlisted"})).await;
    t.post_status(&alice, json!({"status": "private", "visibility": "private"})).await;
    t.post_status(&alice, json!({"status": "@bob direct", "visibility": "direct"})).await;
    let reply = t.post_status(&bob, json!({"status": "public reply", "in_reply_to_id": id(&public)})).await;
    boost(&t, &bob, &public).await;
    assert_eq!(public_ids(&t, "").await, all(&[&reply, &public]), "no boosts, no other visibilities");
    assert_eq!(ids(&t.get("/api/v1/timelines/public", Some(&bob.token)).await.expect(200)), all(&[&reply, &public]));
    assert_eq!(public_ids(&t, "?local=true").await.len(), 2);
    assert!(public_ids(&t, "?remote=true").await.is_empty(), "there are no remote posts");
    assert!(public_ids(&t, "?only_media=true").await.is_empty());
}

#[tokio::test]
async fn the_public_timeline_paginates() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let posts = post_all(&t, &alice, &["1", "2", "3"]).await;
    let first = t.get("/api/v1/timelines/public?limit=2", None).await;
    let second = t.follow_link(&first, "next", None).await;
    assert_eq!(ids(&first.body), all(&[&posts[2], &posts[1]]));
    assert_eq!(ids(&second.body), vec![id(&posts[0])]);
    assert_eq!(public_ids(&t, &format!("?min_id={}&limit=1", id(&posts[0]))).await, vec![id(&posts[1])]);
}

#[tokio::test]
async fn the_public_timeline_fills_pages_past_deleted_posts() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let posts = post_all(&t, &alice, &["1", "2", "3", "4"]).await;
    for gone in &posts[1..3] {
        t.delete(&format!("/api/v1/statuses/{}", id(gone)), Some(&alice.token)).await.expect(200);
    }
    assert_eq!(public_ids(&t, "?limit=2").await, all(&[&posts[3], &posts[0]]));
}

#[tokio::test]
async fn tag_timelines_are_case_insensitive_and_public_only() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let upper = t.post_status(&alice, json!({"status": "I like #Rust"})).await;
    let lower = t.post_status(&alice, json!({"status": "#rust again"})).await;
    t.post_status(&alice, json!({"status": "#rust unlisted", "visibility": "unlisted"})).await;
    t.post_status(&alice, json!({"status": "#rust private", "visibility": "private"})).await;
    t.post_status(&alice, json!({"status": "#rustacean is another tag"})).await;
    for tag in ["rust", "Rust", "RUST"] {
        assert_eq!(tag_ids(&t, tag).await, all(&[&lower, &upper]), "{tag}");
    }
    assert!(tag_ids(&t, "nothing").await.is_empty());
}

#[tokio::test]
async fn tag_timelines_combine_any_all_and_none() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let rust = t.post_status(&alice, json!({"status": "#rust"})).await;
    let go = t.post_status(&alice, json!({"status": "#go"})).await;
    let both = t.post_status(&alice, json!({"status": "#rust and #go"})).await;
    let zig = t.post_status(&alice, json!({"status": "#zig"})).await;
    assert_eq!(tag_ids(&t, "rust?any[]=go&any[]=Zig").await, all(&[&zig, &both, &go, &rust]));
    assert_eq!(tag_ids(&t, "rust?all[]=go").await, vec![id(&both)]);
    assert_eq!(tag_ids(&t, "rust?none[]=GO").await, vec![id(&rust)]);
    assert!(tag_ids(&t, "rust?only_media=true").await.is_empty());
}

#[tokio::test]
async fn tag_timelines_paginate_and_refuse_invalid_tags() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let posts: Vec<Value> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(t.post_status(&alice, json!({"status": format!("#paged {i}")})).await);
        }
        v
    };
    let first = t.get("/api/v1/timelines/tag/paged?limit=2", None).await;
    let second = t.follow_link(&first, "next", None).await;
    assert_eq!(ids(&first.body), all(&[&posts[2], &posts[1]]));
    assert_eq!(ids(&second.body), vec![id(&posts[0])]);
    for bad in ["123", "not-a-tag", "%20"] {
        t.get(&format!("/api/v1/timelines/tag/{bad}"), None).await.expect(404);
    }
}

#[tokio::test]
async fn editing_a_status_moves_it_between_tag_timelines() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let status = t.post_status(&alice, json!({"status": "about #cats"})).await;
    t.put(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token), json!({"status": "about #dogs"})).await.expect(200);
    assert!(tag_ids(&t, "cats").await.is_empty());
    assert_eq!(tag_ids(&t, "dogs").await, vec![id(&status)]);
}

// Durability.

#[tokio::test]
async fn accounts_statuses_follows_and_homes_survive_a_restart() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    let post = t.post_status(&alice, json!({"status": "durable #data"})).await;
    let private = t.post_status(&alice, json!({"status": "durable too", "visibility": "private"})).await;
    t.post(&format!("/api/v1/statuses/{}/favourite", id(&post)), Some(&bob.token), json!({})).await.expect(200);
    let home_before = t.home_ids(&bob).await;
    assert_eq!(home_before, all(&[&private, &post]));
    let dir = t.stop().await;

    let t = TestApp::spawn_in(dir, |_| {}).await;
    let found = t.get("/api/v1/accounts/lookup?acct=alice", None).await.expect(200);
    assert_eq!(found["id"], alice.id.as_str());
    assert_eq!(found["followers_count"], 1);
    assert_eq!(found["statuses_count"], 2);
    let shown = t.get(&format!("/api/v1/statuses/{}", id(&post)), Some(&bob.token)).await.expect(200);
    assert_eq!(shown["content"], post["content"]);
    assert_eq!(shown["favourited"], true);
    let following = t.get(&format!("/api/v1/accounts/{}/following", bob.id), None).await.expect(200);
    assert_eq!(ids(&following), vec![alice.id.clone()]);
    assert_eq!(t.home_ids(&bob).await, home_before);
    assert_eq!(tag_ids(&t, "data").await, vec![id(&post)]);
    // Fanout resumes where it left off.
    let later = t.post_status(&alice, json!({"status": "after the restart"})).await;
    assert_eq!(t.home_ids(&bob).await[0], id(&later));
    // Unique names stay unique.
    let app_token = t.app_token("read write").await;
    t.post("/api/v1/accounts", Some(&app_token), json!({"username": "Alice", "email": "new@example.org", "password": crate::PASSWORD, "agreement": true}))
        .await
        .expect(422);
}
