//! Sharded partitions and counters (`[shards]`): pagination over merged shards is exactly the
//! unsharded one, deletions find their shard, counters sum, data written unsharded stays read,
//! home rebuilds do not depend on their read concurrency, hot copies are bounded.

use core_app::config::{ShardConfig, TimelineConfig};
use core_app::keys::{self, StatusCounter};
use core_app::ports::{Query, Write};
use serde_json::json;
use shared::id::Id;

use crate::{TestApp, User, all_shards, id, ids};

/// Ids of every entry in `partitions`, newest first (what the store holds, shards together).
async fn listed(t: &TestApp, partitions: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for pk in partitions {
        for item in t.app.store().query(&Query::partition(pk, 10_000)).await.unwrap() {
            out.push(Id::from_sort_key(&item.key.sk).unwrap());
        }
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    out.iter().map(ToString::to_string).collect()
}

/// How many of `partitions` hold anything.
async fn shards_used(t: &TestApp, partitions: Vec<String>) -> usize {
    let mut used = 0;
    for pk in partitions {
        used += usize::from(!t.app.store().query(&Query::partition(pk, 1)).await.unwrap().is_empty());
    }
    used
}

/// Every id of a timeline, walking `next` links back from the newest page of `limit`.
async fn walk_back(t: &TestApp, path: &str, limit: usize) -> Vec<String> {
    walk_back_as(t, path, limit, None).await
}

/// [`walk_back`] with `token`.
async fn walk_back_as(t: &TestApp, path: &str, limit: usize, token: Option<&str>) -> Vec<String> {
    let mut seen = Vec::new();
    let mut page = t.get(&format!("{path}?limit={limit}"), token).await;
    loop {
        let got = ids(&page.body);
        assert!(got.len() <= limit, "{path}: {} > {limit}", got.len());
        if got.is_empty() {
            return seen;
        }
        seen.extend(got);
        page = t.follow_link(&page, "next", token).await;
    }
}

/// Every id of a timeline newer than `oldest`, walking `prev` links (min_id) forwards, newest first.
async fn walk_forward(t: &TestApp, path: &str, oldest: &str, limit: usize) -> Vec<String> {
    walk_forward_as(t, path, oldest, limit, None).await
}

/// [`walk_forward`] with `token`.
async fn walk_forward_as(t: &TestApp, path: &str, oldest: &str, limit: usize, token: Option<&str>) -> Vec<String> {
    let mut seen = Vec::new();
    let mut page = t.get(&format!("{path}?limit={limit}&min_id={oldest}"), token).await;
    loop {
        let got = ids(&page.body);
        assert!(got.len() <= limit, "{path}: {} > {limit}", got.len());
        if got.is_empty() {
            seen.reverse();
            return seen;
        }
        seen.extend(got.into_iter().rev());
        page = t.follow_link(&page, "prev", token).await;
    }
}

/// Which of `users` wrote status `id`.
async fn author_of<'a>(t: &TestApp, id: &str, users: [&'a User; 2]) -> &'a User {
    let status = t.get(&format!("/api/v1/statuses/{id}"), None).await.expect(200);
    users.into_iter().find(|u| status["account"]["id"] == u.id.as_str()).unwrap()
}

async fn ask(t: &TestApp, path: &str) -> Vec<String> {
    ids(&t.get(path, None).await.expect(200))
}

/// Posts `n` public statuses tagged `#sharded` (a private one beside every fifth, listed nowhere),
/// returning the public ones' ids newest first.
async fn post_tagged(t: &TestApp, users: &[&User], n: usize) -> Vec<String> {
    let mut public = Vec::new();
    for i in 0..n {
        let status = t.post_status(users[i % users.len()], json!({ "status": format!("post {i} #sharded") })).await;
        public.push(id(&status));
        if i % 5 == 0 {
            t.post_status(users[0], json!({ "status": format!("private {i} #sharded"), "visibility": "private" })).await;
        }
    }
    public.reverse();
    public
}

#[tokio::test]
async fn public_and_tag_timelines_over_four_shards_page_exactly_in_order_without_gaps_or_duplicates() {
    let t = TestApp::spawn_with(|s| s.shards = Some(all_shards(4))).await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let public = post_tagged(&t, &[&alice, &bob], 25).await;
    assert_eq!(listed(&t, keys::public_partitions(4)).await, public, "each public post listed once");
    assert!(shards_used(&t, keys::public_partitions(4)).await >= 2, "spread over the shards");
    assert!(shards_used(&t, keys::tag_partitions("sharded", 4)).await >= 2);
    for path in ["/api/v1/timelines/public", "/api/v1/timelines/tag/sharded"] {
        for limit in [1, 4, 7, 40] {
            assert_eq!(walk_back(&t, path, limit).await, public, "{path} limit {limit}: next links");
        }
        let oldest = &public[public.len() - 1];
        let mut newer = public.clone();
        newer.pop();
        assert_eq!(walk_forward(&t, path, oldest, 3).await, newer, "{path}: prev links");
        assert_eq!(ask(&t, &format!("{path}?since_id={}&limit=3", public[10])).await, public[..3], "{path}: since_id gives the newest");
        assert_eq!(ask(&t, &format!("{path}?min_id={}&limit=3", public[10])).await, public[7..10], "{path}: min_id the closest");
        assert_eq!(ask(&t, &format!("{path}?max_id={}&since_id={}", public[2], public[9])).await, public[3..9], "{path}: both bounds");
        let first = t.get(&format!("{path}?limit=5"), None).await;
        assert_eq!(
            crate::link(&first, "next").unwrap(),
            format!("{}{path}?limit=5&max_id={}", t.base, public[4]),
            "{path}: the Link header names the page's ends"
        );
    }
    // Several tags at once: merged over every shard of each, a status carrying two counted once.
    let both = t.post_status(&alice, json!({"status": "#sharded and #other"})).await;
    let other = t.post_status(&bob, json!({"status": "only #other"})).await;
    let mut want = vec![id(&other), id(&both)];
    want.extend(public.iter().cloned());
    assert_eq!(ask(&t, "/api/v1/timelines/tag/sharded?any[]=other&limit=40").await, want);
}

#[tokio::test]
async fn a_deleted_or_edited_status_leaves_the_shard_it_was_listed_in() {
    let t = TestApp::spawn_with(|s| s.shards = Some(all_shards(4))).await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let mut public = post_tagged(&t, &[&alice, &bob], 12).await;
    for gone in [public[0].clone(), public[5].clone(), public[11].clone()] {
        let owner = author_of(&t, &gone, [&alice, &bob]).await;
        t.delete(&format!("/api/v1/statuses/{gone}"), Some(&owner.token)).await.expect(200);
        public.retain(|p| *p != gone);
    }
    // An edit dropping the tag takes the status out of the tag's shards only.
    let edited = public[3].clone();
    let owner = author_of(&t, &edited, [&alice, &bob]).await;
    t.put(&format!("/api/v1/statuses/{edited}"), Some(&owner.token), json!({"status": "no tag any more"})).await.expect(200);
    let tagged: Vec<String> = public.iter().filter(|p| **p != edited).cloned().collect();
    assert_eq!(listed(&t, keys::public_partitions(4)).await, public);
    assert_eq!(listed(&t, keys::tag_partitions("sharded", 4)).await, tagged);
    assert_eq!(walk_back(&t, "/api/v1/timelines/public", 4).await, public);
    assert_eq!(walk_back(&t, "/api/v1/timelines/tag/sharded", 4).await, tagged);
}

#[tokio::test]
async fn entries_and_counts_written_unsharded_stay_read_and_deleted_after_sharding() {
    let t = TestApp::spawn_with(|s| s.shards = Some(all_shards(1))).await;
    let [alice, fan] = t.register_all(["alice", "fan"]).await;
    let old = post_tagged(&t, &[&alice], 8).await;
    t.post(&format!("/api/v1/statuses/{}/favourite", old[2]), Some(&fan.token), json!({})).await.expect(200);
    assert_eq!(listed(&t, vec![keys::PUBLIC.to_owned()]).await, old, "unsharded: all in PUB");
    let instance = t.get("/api/v1/instance", None).await.expect(200);
    let dir = t.stop().await;

    // The instance counts are compared at once after posts: nothing is kept in process (the
    // kept copy lags this process's posts by design, up to `hot_ttl_ms`).
    let t = TestApp::spawn_in(dir, |s| {
        s.shards = Some(all_shards(4));
        s.timelines = Some(TimelineConfig::default());
    })
    .await;
    assert_eq!(walk_back(&t, "/api/v1/timelines/public", 3).await, old);
    assert_eq!(walk_back(&t, "/api/v1/timelines/tag/sharded", 3).await, old);
    let again = t.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(again["stats"], instance["stats"], "counts written unsharded are still summed");
    assert_eq!(t.get(&format!("/api/v1/statuses/{}", old[2]), None).await.expect(200)["favourites_count"], 1);

    let new = post_tagged(&t, &[&alice], 6).await;
    let mut all: Vec<String> = new.iter().chain(old.iter()).cloned().collect();
    assert_eq!(walk_back(&t, "/api/v1/timelines/public", 5).await, all, "old and new merged");
    // An old status's deletion finds it in shard 0; an old favourite's undo counts right.
    t.delete(&format!("/api/v1/statuses/{}", old[4]), Some(&alice.token)).await.expect(200);
    all.retain(|p| *p != old[4]);
    assert_eq!(listed(&t, keys::public_partitions(4)).await, all);
    assert_eq!(listed(&t, keys::tag_partitions("sharded", 4)).await, all);
    let undone = t.post(&format!("/api/v1/statuses/{}/unfavourite", old[2]), Some(&fan.token), json!({})).await.expect(200);
    assert_eq!(undone["favourites_count"], 0);
    let after = t.get("/api/v1/instance", None).await.expect(200);
    // Six public and two private posts, one deleted.
    assert_eq!(after["stats"]["status_count"], instance["stats"]["status_count"].as_u64().unwrap() + 8 - 1);
    assert_eq!(after["stats"]["user_count"], 2);
}

#[tokio::test]
async fn sharded_status_counters_sum_under_concurrent_favourites_and_leave_with_the_status() {
    let t = TestApp::spawn_with(|s| s.shards = Some(ShardConfig { status_counters: 8, ..all_shards(4) })).await;
    let author = t.register("author").await;
    let mut fans = Vec::new();
    for n in 0..10 {
        fans.push(t.register(&format!("fan{n}")).await);
    }
    let status = t.post_status(&author, json!({"status": "going viral"})).await;
    let sid = id(&status);
    let (t, sid_ref) = (&t, sid.as_str());
    let act = |fan: &User, action: &'static str| {
        let (token, path) = (fan.token.clone(), format!("/api/v1/statuses/{sid_ref}/{action}"));
        async move { t.post(&path, Some(&token), json!({})).await }
    };
    for reply in futures_util::future::join_all(fans.iter().map(|fan| act(fan, "favourite"))).await {
        reply.expect(200);
    }
    assert_eq!(t.get(&format!("/api/v1/statuses/{sid}"), None).await.expect(200)["favourites_count"], 10);
    let status_id: Id = sid.parse().unwrap();
    let shard_keys: Vec<_> = keys::status_counter_shards(status_id, StatusCounter::Favourites, 8).collect();
    let shards = t.app.store().get_many(&shard_keys).await.unwrap();
    assert!(shards.iter().filter(|s| s.is_some()).count() >= 2, "favourites spread over the counter's shards");
    assert!(shards[0].is_none(), "none in the status's own partition, which its record's readers refill");

    for reply in futures_util::future::join_all(fans[..4].iter().map(|fan| act(fan, "unfavourite"))).await {
        reply.expect(200);
    }
    for fan in &fans[4..7] {
        t.post(&format!("/api/v1/statuses/{sid}/reblog"), Some(&fan.token), json!({})).await.expect(200);
    }
    let mut replies = Vec::new();
    for fan in &fans[7..9] {
        replies.push(t.post_status(fan, json!({"status": "reply", "in_reply_to_id": sid})).await);
    }
    t.delete(&format!("/api/v1/statuses/{}", id(&replies[0])), Some(&fans[7].token)).await.expect(200);
    let shown = t.get(&format!("/api/v1/statuses/{sid}"), Some(&fans[0].token)).await.expect(200);
    assert_eq!((&shown["favourites_count"], &shown["reblogs_count"], &shown["replies_count"]), (&json!(6), &json!(3), &json!(1)));
    let instance = t.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(instance["stats"]["user_count"], 11);
    assert_eq!(instance["stats"]["status_count"], 2, "the status and one reply (boosts do not count)");

    t.delete(&format!("/api/v1/statuses/{sid}"), Some(&author.token)).await.expect(200);
    t.settle().await;
    // (Boosts deleted after their original still count themselves off its reblogs counter, as
    // they did unsharded: that counter is not checked.)
    let every: Vec<_> = [StatusCounter::Favourites, StatusCounter::Replies].into_iter().flat_map(|c| keys::status_counter_shards(status_id, c, 8)).collect();
    assert!(t.app.store().get_many(&every).await.unwrap().iter().all(Option::is_none), "every counter shard deleted");
}

#[tokio::test]
async fn a_rebuilt_home_is_the_same_whatever_the_read_concurrency() {
    let timelines = |read_concurrency| TimelineConfig { cap: 30, read_concurrency, ..TimelineConfig::default() };
    let t = TestApp::spawn_with(|s| s.timelines = Some(timelines(16))).await;
    let viewer = t.register("viewer").await;
    let mut authors = Vec::new();
    for n in 0..6 {
        let author = t.register(&format!("author{n}")).await;
        t.follow(&viewer, &author).await;
        authors.push(author);
    }
    t.home_ids(&viewer).await;
    for n in 0..40 {
        // Unevenly: the first author posts most.
        let author = &authors[if n % 3 == 0 { n % authors.len() } else { 0 }];
        t.post_status(author, json!({ "status": format!("post {n}") })).await;
    }
    t.settle().await;
    let fanned = ids(&t.get("/api/v1/timelines/home?limit=40", Some(&viewer.token)).await.expect(200));
    assert_eq!(fanned.len(), 30);
    let viewer_id: Id = viewer.id.parse().unwrap();
    t.app.evict_home(viewer_id).await.unwrap();
    let parallel = ids(&t.get("/api/v1/timelines/home?limit=40", Some(&viewer.token)).await.expect(200));
    assert_eq!(parallel, fanned, "16 reads at a time");
    let dir = t.stop().await;
    let t = TestApp::spawn_in(dir, |s| s.timelines = Some(timelines(1))).await;
    t.app.evict_home(viewer_id).await.unwrap();
    let sequential = ids(&t.get("/api/v1/timelines/home?limit=40", Some(&viewer.token)).await.expect(200));
    assert_eq!(sequential, fanned, "one read after another, as before");
}

#[tokio::test]
async fn a_public_statuss_counts_are_kept_in_process_for_the_bound_moved_by_its_own_interactions_and_forgotten_on_its_edits() {
    let t = TestApp::spawn_with(|s| s.timelines = Some(TimelineConfig { hot_ttl_ms: 60_000, ..TimelineConfig::default() })).await;
    let [author, fan] = t.register_all(["author", "fan"]).await;
    let status = t.post_status(&author, json!({"status": "hot"})).await;
    let sid = id(&status);
    assert_eq!(t.get(&format!("/api/v1/statuses/{sid}"), None).await.expect(200)["favourites_count"], 0);
    // Another process counts five favourites: this one keeps its copy for the bound.
    let key = keys::status_counter(sid.parse().unwrap(), StatusCounter::Favourites, 0);
    t.app.store().transact(vec![Write::Add { key, delta: 5 }], vec![]).await.unwrap();
    assert_eq!(t.get(&format!("/api/v1/statuses/{sid}"), None).await.expect(200)["favourites_count"], 0, "the copy is trusted");
    // This process's own favourite and boost answer from the copy plus their own change: no
    // counter shard is read (the other five show when the copy expires or is forgotten).
    let favourited = t.post(&format!("/api/v1/statuses/{sid}/favourite"), Some(&fan.token), json!({})).await.expect(200);
    assert_eq!((favourited["favourites_count"].clone(), favourited["favourited"].clone()), (json!(1), json!(true)));
    let boost = t.post(&format!("/api/v1/statuses/{sid}/reblog"), Some(&fan.token), json!({})).await.expect(200);
    assert_eq!(boost["reblog"]["reblogs_count"], 1);
    let unfavourited = t.post(&format!("/api/v1/statuses/{sid}/unfavourite"), Some(&fan.token), json!({})).await.expect(200);
    assert_eq!(unfavourited["favourites_count"], 0);
    t.post(&format!("/api/v1/statuses/{sid}/unreblog"), Some(&fan.token), json!({})).await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/statuses/{sid}"), None).await.expect(200)["reblogs_count"], 0);
    // An edit here forgets the copy: the store's counts show.
    t.put(&format!("/api/v1/statuses/{sid}"), Some(&author.token), json!({"status": "hot, edited"})).await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/statuses/{sid}"), None).await.expect(200)["favourites_count"], 5);
    // A private status is never kept.
    let private = t.post_status(&author, json!({"status": "private", "visibility": "private"})).await;
    let pid = id(&private);
    assert_eq!(t.get(&format!("/api/v1/statuses/{pid}"), Some(&author.token)).await.expect(200)["favourites_count"], 0);
    let key = keys::status_counter(pid.parse().unwrap(), StatusCounter::Favourites, 0);
    t.app.store().transact(vec![Write::Add { key, delta: 2 }], vec![]).await.unwrap();
    assert_eq!(t.get(&format!("/api/v1/statuses/{pid}"), Some(&author.token)).await.expect(200)["favourites_count"], 2);
}

#[tokio::test]
async fn a_celebritys_account_is_kept_in_process_forgotten_on_its_own_changes_and_on_a_moderation_change_anywhere() {
    let t = TestApp::spawn_with(|s| s.timelines = Some(TimelineConfig { celebrity_threshold: 2, hot_ttl_ms: 60_000, ..TimelineConfig::default() })).await;
    let [star, fan1, fan2, plain] = t.register_all(["star", "fan1", "fan2", "plain"]).await;
    t.follow(&fan1, &star).await;
    t.follow(&fan2, &star).await;
    t.settle().await;
    let t = &t;
    let followers = |user: &User| {
        let path = format!("/api/v1/accounts/{}", user.id);
        async move { t.get(&path, None).await.expect(200)["followers_count"].clone() }
    };
    assert_eq!(followers(&star).await, 2);
    assert_eq!(followers(&plain).await, 0);
    // Another process counts five more followers of each: this one keeps the celebrity's view
    // for the bound, and reads an ordinary account's afresh.
    for user in [&star, &plain] {
        let key = keys::account_counter(user.id.parse().unwrap(), keys::AccountCounter::Followers);
        t.app.store().transact(vec![Write::Add { key, delta: 5 }], vec![]).await.unwrap();
    }
    assert_eq!(followers(&star).await, 2, "the celebrity's copy is trusted");
    assert_eq!(followers(&plain).await, 5, "an ordinary account is read");
    // Its own profile change here forgets it.
    t.patch("/api/v1/accounts/update_credentials", Some(&star.token), json!({"display_name": "Star"})).await.expect(200);
    assert_eq!(followers(&star).await, 7);
    // Another process suspends it and says so on the hub: this one forgets the copy, so the
    // account and its posts are gone here too.
    let post = id(&t.post_status(&star, json!({"status": "still here?"})).await);
    t.get(&format!("/api/v1/statuses/{post}"), None).await.expect(200);
    t.get(&format!("/api/v1/accounts/{}", star.id), None).await.expect(200);
    let star_id: Id = star.id.parse().unwrap();
    let suspended = core_app::model::ModerationRecord { suspended_at: Some(1), ..Default::default() };
    t.app.store().transact(vec![core_app::model::put(keys::moderation(star_id), &suspended, core_app::ports::Condition::None).unwrap()], vec![]).await.unwrap();
    t.get(&format!("/api/v1/accounts/{}", star.id), None).await.expect(200);
    let message = core_app::ports::StreamMessage { event: keys::MODERATION_CHANGED.to_owned(), payload: star.id.clone() };
    t.app.stream_hub().publish(keys::MODERATION_CHANNEL, message).await.unwrap();
    for _ in 0..100 {
        if t.get(&format!("/api/v1/accounts/{}", star.id), None).await.status == 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    t.get(&format!("/api/v1/accounts/{}", star.id), None).await.expect(404);
    t.get(&format!("/api/v1/statuses/{post}"), None).await.expect(404);
}

#[tokio::test]
async fn an_accounts_kept_filters_pins_and_notification_policy_follow_its_own_changes_at_once() {
    let t = TestApp::spawn_with(|s| s.timelines = Some(TimelineConfig { hot_ttl_ms: 60_000, ..TimelineConfig::default() })).await;
    let [me, friend, stranger] = t.register_all(["me", "friend", "stranger"]).await;
    t.follow(&me, &friend).await;
    let post = id(&t.post_status(&friend, json!({"status": "about elections"})).await);
    t.settle().await;
    assert_eq!(t.home_ids(&me).await, vec![post.clone()], "filters read and kept");
    let filter = t
        .post(
            "/api/v2/filters",
            Some(&me.token),
            json!({"title": "no", "context": ["home"], "filter_action": "hide", "keywords_attributes": [{"keyword": "elections"}]}),
        )
        .await
        .expect(200);
    assert_eq!(t.home_ids(&me).await, Vec::<String>::new(), "a new filter applies at once");
    t.delete(&format!("/api/v2/filters/{}", filter["id"].as_str().unwrap()), Some(&me.token)).await.expect(200);
    assert_eq!(t.home_ids(&me).await, vec![post], "a deleted one stops at once");

    let mine = id(&t.post_status(&me, json!({"status": "pin me"})).await);
    assert_eq!(t.get(&format!("/api/v1/statuses/{mine}"), Some(&me.token)).await.expect(200)["pinned"], false, "pins read and kept");
    t.post(&format!("/api/v1/statuses/{mine}/pin"), Some(&me.token), json!({})).await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/statuses/{mine}"), Some(&me.token)).await.expect(200)["pinned"], true);
    t.post(&format!("/api/v1/statuses/{mine}/unpin"), Some(&me.token), json!({})).await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/statuses/{mine}"), Some(&me.token)).await.expect(200)["pinned"], false);

    // A favourite under the default policy (kept now), then a policy dropping strangers'.
    t.post(&format!("/api/v1/statuses/{mine}/favourite"), Some(&stranger.token), json!({})).await.expect(200);
    t.settle().await;
    let t = &t;
    let count = || async { t.get("/api/v1/notifications?types[]=favourite", Some(&me.token)).await.expect(200).as_array().unwrap().len() };
    assert_eq!(count().await, 1);
    t.patch("/api/v2/notifications/policy", Some(&me.token), json!({"for_not_following": "drop"})).await.expect(200);
    t.post(&format!("/api/v1/statuses/{mine}/unfavourite"), Some(&stranger.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/statuses/{}/favourite", id(&t.post_status(&me, json!({"status": "again"})).await)), Some(&stranger.token), json!({}))
        .await
        .expect(200);
    t.settle().await;
    assert_eq!(count().await, 0, "the new policy applies at once");
}

#[tokio::test]
async fn a_celebritys_head_page_kept_in_process_still_shows_its_new_posts_at_once() {
    let t = TestApp::spawn_with(|s| {
        s.timelines = Some(TimelineConfig { celebrity_threshold: 2, hot_ttl_ms: 60_000, ..TimelineConfig::default() });
        s.shards = Some(all_shards(4));
    })
    .await;
    let [star, fan1, fan2] = t.register_all(["star", "fan1", "fan2"]).await;
    let earlier = t.post_status(&star, json!({"status": "before fame"})).await;
    t.follow(&fan1, &star).await;
    t.follow(&fan2, &star).await;
    t.settle().await;
    assert_eq!(t.home_ids(&fan1).await, vec![id(&earlier)]);
    let fresh = t.post_status(&star, json!({"status": "famous now"})).await;
    for fan in [&fan1, &fan2] {
        assert_eq!(t.home_ids(fan).await, vec![id(&fresh), id(&earlier)]);
    }
    t.delete(&format!("/api/v1/statuses/{}", id(&fresh)), Some(&star.token)).await.expect(200);
    assert_eq!(t.home_ids(&fan1).await, vec![id(&earlier)]);
    assert_eq!(listed(&t, keys::celebrity_partitions(4)).await, vec![star.id.clone()], "the star is listed in one shard");

    // Pages after the first, cut from the kept head while they stay within it and read from
    // the store beyond it, are the same pages in either direction.
    let mut posted = vec![id(&earlier)];
    for n in 0..45 {
        posted.push(id(&t.post_status(&star, json!({ "status": format!("post {n}") })).await));
    }
    posted.reverse();
    t.settle().await;
    assert_eq!(walk_back_as(&t, "/api/v1/timelines/home", 7, Some(&fan2.token)).await, posted, "max_id pages");
    let oldest = posted.last().unwrap().clone();
    let mut newer = posted.clone();
    newer.pop();
    assert_eq!(walk_forward_as(&t, "/api/v1/timelines/home", &oldest, 6, Some(&fan2.token)).await, newer, "min_id pages");
}

#[tokio::test]
async fn who_favourited_and_boosted_pages_exactly_over_shards_and_entries_written_unsharded_stay() {
    let t = TestApp::spawn_with(|s| s.shards = Some(all_shards(1))).await;
    let author = t.register("author").await;
    let mut fans = Vec::new();
    for n in 0..12 {
        fans.push(t.register(&format!("fan{n}")).await);
    }
    let sid = id(&t.post_status(&author, json!({"status": "who likes this?"})).await);
    let act = |fan: &User, action: &str| (fan.token.clone(), format!("/api/v1/statuses/{sid}/{action}"));
    // Four favourites and two boosts before sharding (all in shard 0).
    for fan in &fans[..4] {
        let (token, path) = act(fan, "favourite");
        t.post(&path, Some(&token), json!({})).await.expect(200);
    }
    let mut boosts = Vec::new();
    for fan in &fans[..2] {
        let (token, path) = act(fan, "reblog");
        boosts.push(id(&t.post(&path, Some(&token), json!({})).await.expect(200)));
    }
    let dir = t.stop().await;

    let t = TestApp::spawn_in(dir, |s| s.shards = Some(all_shards(4))).await;
    for fan in &fans[4..] {
        let (token, path) = act(fan, "favourite");
        t.post(&path, Some(&token), json!({})).await.expect(200);
    }
    for fan in &fans[2..6] {
        let (token, path) = act(fan, "reblog");
        boosts.push(id(&t.post(&path, Some(&token), json!({})).await.expect(200)));
    }
    let status: Id = sid.parse().unwrap();
    let favs = keys::interaction_list_partitions(status, keys::Interaction::Favourite, 4);
    assert!(shards_used(&t, favs.clone()).await >= 3, "the new favourites spread over the shards");
    let newest_first = |range: std::ops::Range<usize>| fans[range].iter().rev().map(|f| f.id.clone()).collect::<Vec<_>>();
    let favourited_by = format!("/api/v1/statuses/{sid}/favourited_by");
    let reblogged_by = format!("/api/v1/statuses/{sid}/reblogged_by");
    for limit in [1, 5, 40] {
        assert_eq!(walk_back(&t, &favourited_by, limit).await, newest_first(0..12), "favourited_by, limit {limit}: old and new merged");
        assert_eq!(walk_back(&t, &reblogged_by, limit).await, newest_first(0..6), "reblogged_by, limit {limit}");
    }
    // Undoing finds the entry whichever shard holds it (shard 0 for the old ones).
    for fan in [&fans[1], &fans[7]] {
        let (token, path) = act(fan, "unfavourite");
        t.post(&path, Some(&token), json!({})).await.expect(200);
    }
    t.delete(&format!("/api/v1/statuses/{}", boosts[0]), Some(&fans[0].token)).await.expect(200);
    let (token, path) = act(&fans[4], "unreblog");
    t.post(&path, Some(&token), json!({})).await.expect(200);
    let mut left = newest_first(0..12);
    left.retain(|f| *f != fans[1].id && *f != fans[7].id);
    assert_eq!(walk_back(&t, &favourited_by, 3).await, left);
    assert_eq!(listed(&t, favs).await.len(), 10, "no entry left behind in any shard");
    let mut boosted = newest_first(0..6);
    boosted.retain(|f| *f != fans[0].id && *f != fans[4].id);
    assert_eq!(walk_back(&t, &reblogged_by, 2).await, boosted);
    assert_eq!(listed(&t, keys::interaction_list_partitions(status, keys::Interaction::Reblog, 4)).await.len(), 4);
    let shown = t.get(&format!("/api/v1/statuses/{sid}"), None).await.expect(200);
    assert_eq!((&shown["favourites_count"], &shown["reblogs_count"]), (&json!(10), &json!(4)));
}

/// `user`'s notification ids, newest first, as a whole-list read gives them.
async fn notification_ids(t: &TestApp, user: &User) -> Vec<String> {
    walk_back_as(t, "/api/v1/notifications", 80, Some(&user.token)).await
}

#[tokio::test]
async fn a_celebritys_notifications_spread_over_shards_read_as_one_list_before_during_and_after_its_fame() {
    // Promoted at 3 followers, demoted below 3 (3 - 3 / 10).
    let t = TestApp::spawn_with(|s| {
        s.shards = Some(ShardConfig { notifications: 4, ..all_shards(1) });
        s.timelines = Some(TimelineConfig { celebrity_threshold: 3, ..TimelineConfig::default() });
    })
    .await;
    let celeb = t.register("celeb").await;
    let mut fans = Vec::new();
    for n in 0..8 {
        fans.push(t.register(&format!("fan{n}")).await);
    }
    let me: Id = celeb.id.parse().unwrap();
    let shards = keys::notification_partitions(me, 4);
    let token = Some(celeb.token.as_str());

    // Before its fame: everything in `N#{celeb}` (shard 0).
    t.post_status(&fans[0], json!({"status": "@celeb early"})).await;
    t.follow(&fans[1], &celeb).await;
    t.settle().await;
    let early = listed(&t, shards.clone()).await;
    assert_eq!(early.len(), 2);
    assert_eq!(listed(&t, vec![keys::notifications_partition(me)]).await, early, "an ordinary account's stay unsharded");

    t.follow(&fans[2], &celeb).await;
    t.follow(&fans[3], &celeb).await;
    t.settle().await;
    assert!(t.app.celebrities().await.unwrap().contains(&me), "promoted");
    let post = id(&t.post_status(&celeb, json!({"status": "famous now"})).await);
    for fan in &fans {
        t.post(&format!("/api/v1/statuses/{post}/favourite"), Some(&fan.token), json!({})).await.expect(200);
        t.post_status(fan, json!({"status": format!("@celeb hello from {}", fan.username)})).await;
    }
    for fan in &fans[4..] {
        t.follow(fan, &celeb).await;
    }
    t.settle().await;
    let all = listed(&t, shards.clone()).await;
    assert_eq!(all.len(), 2 + 2 + 8 + 8 + 4);
    assert!(shards_used(&t, shards[1..].to_vec()).await >= 2, "spread over the shards");
    for id in &early {
        assert!(all.contains(id), "written before the fame, still there");
    }

    // Pages are those of the one partition they were split from.
    let path = "/api/v1/notifications";
    for limit in [1, 3, 7, 40] {
        assert_eq!(walk_back_as(&t, path, limit, token).await, all, "limit {limit}: next links");
    }
    let oldest = &all[all.len() - 1];
    assert_eq!(walk_forward_as(&t, path, oldest, 4, token).await, all[..all.len() - 1], "prev links (min_id)");
    let page = |query: String| format!("{path}?{query}");
    assert_eq!(ids(&t.get(&page(format!("since_id={}&limit=3", all[10])), token).await.expect(200)), all[..3], "since_id: the newest");
    assert_eq!(ids(&t.get(&page(format!("min_id={}&limit=3", all[10])), token).await.expect(200)), all[7..10], "min_id: the closest");
    assert_eq!(ids(&t.get(&page(format!("max_id={}&since_id={}", all[2], all[9])), token).await.expect(200)), all[3..9], "both bounds");
    let favourites: Vec<String> = ids(&t.get(&format!("{path}?types[]=favourite&limit=5"), token).await.expect(200));
    assert_eq!(favourites.len(), 5, "a filtered page is filled across the shards");

    // One notification in another shard than 0, one written before the fame: shown, counted
    // unread, dismissed.
    let mut sharded_one = None;
    for id in &all {
        let key = keys::notification_in(me, id.parse().unwrap(), 4);
        if key.pk != shards[0] && t.app.store().get(&key).await.unwrap().is_some() {
            sharded_one = Some(id.clone());
            break;
        }
    }
    let sharded_one = sharded_one.unwrap();
    for id in [&sharded_one, &early[0]] {
        assert_eq!(t.get(&format!("{path}/{id}"), token).await.expect(200)["id"], id.as_str());
    }
    let unread = format!("{path}/unread_count");
    assert_eq!(t.get(&unread, token).await.expect(200)["count"], all.len());
    t.post("/api/v1/markers", token, json!({"notifications": {"last_read_id": all[5]}})).await.expect(200);
    assert_eq!(t.get(&unread, token).await.expect(200)["count"], 5, "newer than the marker, over every shard");
    for id in [&sharded_one, &early[0]] {
        t.post(&format!("{path}/{id}/dismiss"), token, json!({})).await.expect(200);
        t.get(&format!("{path}/{id}"), token).await.expect(404);
        t.post(&format!("{path}/{id}/dismiss"), token, json!({})).await.expect(404);
    }
    let mut left = all.clone();
    left.retain(|id| *id != sharded_one && *id != early[0]);
    assert_eq!(listed(&t, shards.clone()).await, left, "dismissed from its shard");
    // An undone favourite takes its notification back from whichever shard holds it.
    t.post(&format!("/api/v1/statuses/{post}/unfavourite"), Some(&fans[5].token), json!({})).await.expect(200);
    t.settle().await;
    let left = listed(&t, shards.clone()).await;
    assert_eq!(left.len(), all.len() - 3);
    assert_eq!(notification_ids(&t, &celeb).await, left);

    // A celebrity of before the flag (none stored) is still read over its shards.
    t.app.store().transact(vec![Write::Delete { key: keys::notification_shards_flag(me), condition: core_app::ports::Condition::None }], vec![]).await.unwrap();
    assert_eq!(notification_ids(&t, &celeb).await, left);

    // Demoted (fewer than 3 followers): its shards are still read, new ones go to shard 0.
    let follows = t.get(&format!("{path}?types[]=follow&limit=80"), token).await.expect(200);
    let leavers: Vec<&str> = fans[1..7].iter().map(|f| f.id.as_str()).collect();
    let followed_by_leavers: Vec<String> =
        follows.as_array().unwrap().iter().filter(|n| leavers.contains(&n["account"]["id"].as_str().unwrap())).map(id).collect();
    assert!(followed_by_leavers.len() >= 4, "fan1's was dismissed, and maybe one more above");
    for fan in &fans[1..7] {
        t.post(&format!("/api/v1/accounts/{}/unfollow", celeb.id), Some(&fan.token), json!({})).await.expect(200);
    }
    t.settle().await;
    assert!(!t.app.celebrities().await.unwrap().contains(&me), "demoted");
    let before = listed(&t, shards[1..].to_vec()).await;
    t.post_status(&fans[0], json!({"status": "@celeb still there?"})).await;
    t.settle().await;
    assert_eq!(listed(&t, shards[1..].to_vec()).await, before, "ordinary again: written to N#{{celeb}} alone");
    let now = listed(&t, shards.clone()).await;
    // The unfollows took their follow notifications back, from whichever shard held them.
    let mut expected = left.clone();
    expected.retain(|id| !followed_by_leavers.contains(id));
    assert_eq!(now[1..], expected);
    assert_eq!(notification_ids(&t, &celeb).await, now, "every shard still read");
    assert_eq!(walk_back_as(&t, path, 6, token).await, now);

    t.post(&format!("{path}/clear"), token, json!({})).await.expect(200);
    assert!(listed(&t, shards.clone()).await.is_empty(), "cleared from every shard");
    assert!(notification_ids(&t, &celeb).await.is_empty());
}

#[tokio::test]
async fn a_celebritys_filtered_notifications_join_its_list_where_they_are_when_accepted() {
    let t = TestApp::spawn_with(|s| {
        s.shards = Some(ShardConfig { notifications: 4, ..all_shards(1) });
        s.timelines = Some(TimelineConfig { celebrity_threshold: 2, ..TimelineConfig::default() });
    })
    .await;
    let [celeb, a, b, whisperer] = t.register_all(["celeb", "a", "b", "whisperer"]).await;
    t.follow(&a, &celeb).await;
    t.follow(&b, &celeb).await;
    t.settle().await;
    let me: Id = celeb.id.parse().unwrap();
    assert!(t.app.celebrities().await.unwrap().contains(&me));
    // Private mentions from strangers are filtered (the default policy).
    for n in 0..12 {
        t.post_status(&whisperer, json!({"status": format!("@celeb psst {n}"), "visibility": "direct"})).await;
    }
    t.settle().await;
    let shards = keys::notification_partitions(me, 4);
    let filtered = listed(&t, shards.clone()).await;
    assert_eq!(filtered.len(), 2 + 12);
    assert!(shards_used(&t, shards[1..].to_vec()).await >= 2);
    let token = Some(celeb.token.as_str());
    assert_eq!(notification_ids(&t, &celeb).await.len(), 2, "the filtered ones are held back");
    let requests = t.get("/api/v1/notifications/requests", token).await.expect(200);
    let request = id(&requests[0]);
    t.post(&format!("/api/v1/notifications/requests/{request}/accept"), token, json!({})).await.expect(200);
    assert_eq!(notification_ids(&t, &celeb).await, filtered, "accepted in whichever shard each is");
    assert_eq!(listed(&t, shards).await, filtered, "none moved nor left behind");
}
