//! Polls: creation within the instance's limits, voting rules, counts under concurrency,
//! hidden totals, the end of a poll (notifications exactly once, also after a restart) and
//! edits that reset votes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{TestApp, User, media};

/// Short polls for tests: one second at least, scanned for their end every 100 ms.
fn short_polls(settings: &mut core_server::Settings) {
    settings.polls = Some(core_app::config::PollConfig { min_expiration: 1, expiry_scan_ms: 100, ..Default::default() });
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(short_polls).await
}

async fn post_poll(t: &TestApp, author: &User, poll: Value) -> Value {
    t.post_status(author, json!({"status": "which?", "poll": poll})).await
}

async fn vote(t: &TestApp, voter: &User, poll: &str, choices: Value) -> crate::Reply {
    t.post(&format!("/api/v1/polls/{poll}/votes"), Some(&voter.token), json!({ "choices": choices })).await
}

fn counts(poll: &Value) -> Vec<Value> {
    poll["options"].as_array().unwrap().iter().map(|o| o["votes_count"].clone()).collect()
}

/// The `poll` notifications of `user`, waiting up to 10 s for at least `at_least`.
async fn poll_notifications(t: &TestApp, user: &User, at_least: usize) -> Vec<Value> {
    for _ in 0..100 {
        t.settle().await;
        let list = t.get("/api/v1/notifications?types[]=poll", Some(&user.token)).await.expect(200);
        let list = list.as_array().unwrap().clone();
        if list.len() >= at_least {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.get("/api/v1/notifications?types[]=poll", Some(&user.token)).await.expect(200).as_array().unwrap().clone()
}

#[tokio::test]
async fn polls_are_created_within_the_instance_limits_advertised() {
    let t = TestApp::spawn_with(|s| {
        s.polls =
            Some(core_app::config::PollConfig { max_options: 3, max_characters_per_option: 10, min_expiration: 60, max_expiration: 3600, expiry_scan_ms: 100 })
    })
    .await;
    let alice = t.register("alice").await;
    for path in ["/api/v1/instance", "/api/v2/instance"] {
        let polls = &t.get(path, None).await.expect(200)["configuration"]["polls"];
        assert_eq!(*polls, json!({"max_options": 3, "max_characters_per_option": 10, "min_expiration": 60, "max_expiration": 3600}), "{path}");
    }
    let media = media::uploaded_png(&t, &alice).await;
    for (body, message) in [
        (json!({"status": "x", "poll": {"options": ["a"], "expires_in": 600}}), "more than one"),
        (json!({"status": "x", "poll": {"options": ["a", "b", "c", "d"], "expires_in": 600}}), "more than 3"),
        (json!({"status": "x", "poll": {"options": ["a", " "], "expires_in": 600}}), "blank"),
        (json!({"status": "x", "poll": {"options": ["a", "b".repeat(11)], "expires_in": 600}}), "longer than 10"),
        (json!({"status": "x", "poll": {"options": ["a", "a"], "expires_in": 600}}), "unique"),
        (json!({"status": "x", "poll": {"options": ["a", "b"], "expires_in": 59}}), "too soon"),
        (json!({"status": "x", "poll": {"options": ["a", "b"], "expires_in": 3601}}), "too far"),
        (json!({"status": "x", "poll": {"options": ["a", "b"]}}), "expires in"),
        (json!({"status": "x", "media_ids": [media], "poll": {"options": ["a", "b"], "expires_in": 600}}), "media"),
    ] {
        let reply = t.post("/api/v1/statuses", Some(&alice.token), body.clone()).await;
        assert_eq!(reply.status.as_u16(), 422, "{body}: {}", reply.body);
        assert!(reply.error().starts_with("Validation failed: "), "{}", reply.error());
        assert!(reply.error().contains(message), "{body}: {}", reply.error());
    }
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["statuses_count"], 0, "nothing refused was posted");

    // Forms, as Mastodon.py and most apps send them.
    let status = t
        .post_form(
            "/api/v1/statuses",
            Some(&alice.token),
            &[("status", "tea or coffee?"), ("poll[options][]", "tea"), ("poll[options][]", "coffee"), ("poll[expires_in]", "600"), ("poll[multiple]", "true")],
        )
        .await
        .expect(200);
    let poll = &status["poll"];
    assert_eq!(poll["id"], status["id"]);
    assert_eq!(poll["options"], json!([{"title": "tea", "votes_count": 0}, {"title": "coffee", "votes_count": 0}]));
    assert_eq!((poll["multiple"].clone(), poll["expired"].clone(), poll["votes_count"].clone()), (json!(true), json!(false), json!(0)));
    assert_eq!((poll["voted"].clone(), poll["own_votes"].clone()), (json!(true), json!([])), "the author counts as having voted");
    assert!(poll["expires_at"].as_str().unwrap().ends_with('Z'));
    crate::assert_required(poll, "Poll", &["id", "expires_at", "expired", "multiple", "votes_count", "options", "emojis"]);
    let anonymous = t.get(&format!("/api/v1/statuses/{}", status["id"].as_str().unwrap()), None).await.expect(200);
    assert_eq!(anonymous["poll"]["voted"], Value::Null, "no viewer, no own votes");
    let plain = t.post_status(&alice, json!({"status": "no poll"})).await;
    assert_eq!(plain["poll"], Value::Null);
}

#[tokio::test]
async fn votes_follow_mastodons_rules() {
    let t = spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    let single = post_poll(&t, &alice, json!({"options": ["a", "b", "c"], "expires_in": 600})).await;
    let single = single["id"].as_str().unwrap();

    let poll = vote(&t, &bob, single, json!([1])).await.expect(200);
    assert_eq!(counts(&poll), vec![json!(0), json!(1), json!(0)]);
    assert_eq!((poll["voted"].clone(), poll["own_votes"].clone(), poll["voters_count"].clone()), (json!(true), json!([1]), json!(1)));
    let again = vote(&t, &bob, single, json!([0])).await;
    assert_eq!((again.status.as_u16(), again.error()), (422, "Validation failed: You have already voted on this poll"));
    assert_eq!(vote(&t, &alice, single, json!([0])).await.expect(422)["error"], "Validation failed: You cannot vote on your own poll");
    vote(&t, &carol, single, json!([0, 1])).await.expect(422);
    vote(&t, &carol, single, json!([3])).await.expect(422);
    vote(&t, &carol, single, json!([])).await.expect(422);
    // Forms: `choices[]`.
    let poll = t.post_form(&format!("/api/v1/polls/{single}/votes"), Some(&carol.token), &[("choices[]", "1")]).await.expect(200);
    assert_eq!(counts(&poll), vec![json!(0), json!(2), json!(0)]);

    // What each reader sees.
    let seen = t.get(&format!("/api/v1/polls/{single}"), Some(&dave.token)).await.expect(200);
    assert_eq!((seen["voted"].clone(), seen["own_votes"].clone(), seen["votes_count"].clone()), (json!(false), json!([]), json!(2)));
    let status = t.get(&format!("/api/v1/statuses/{single}"), Some(&bob.token)).await.expect(200);
    assert_eq!(status["poll"]["own_votes"], json!([1]));
    let boost = t.post(&format!("/api/v1/statuses/{single}/reblog"), Some(&bob.token), json!({})).await.expect(200);
    assert_eq!((boost["poll"].clone(), boost["reblog"]["poll"]["own_votes"].clone()), (Value::Null, json!([1])), "the boosted status carries the poll");

    let multiple = post_poll(&t, &alice, json!({"options": ["a", "b", "c"], "expires_in": 600, "multiple": true})).await;
    let multiple = multiple["id"].as_str().unwrap();
    let poll = vote(&t, &bob, multiple, json!(["0", "2"])).await.expect(200);
    assert_eq!(counts(&poll), vec![json!(1), json!(0), json!(1)]);
    assert_eq!((poll["votes_count"].clone(), poll["voters_count"].clone(), poll["own_votes"].clone()), (json!(2), json!(1), json!([0, 2])));

    // A poll of a status one may not see is not there.
    let private = t.post_status(&alice, json!({"status": "followers?", "visibility": "private", "poll": {"options": ["y", "n"], "expires_in": 600}})).await;
    let private = private["id"].as_str().unwrap();
    t.get(&format!("/api/v1/polls/{private}"), Some(&bob.token)).await.expect(404);
    t.get(&format!("/api/v1/polls/{private}"), None).await.expect(404);
    vote(&t, &bob, private, json!([0])).await.expect(404);
    t.follow(&bob, &alice).await;
    vote(&t, &bob, private, json!([0])).await.expect(200);
    t.get(&format!("/api/v1/polls/{}", crate::id(&t.post_status(&alice, json!({"status": "no poll"})).await)), Some(&bob.token)).await.expect(404);
}

#[tokio::test]
async fn concurrent_votes_are_all_counted() {
    let t = spawn().await;
    let alice = t.register("alice").await;
    let mut voters = Vec::new();
    for i in 0..12 {
        voters.push(t.register(&format!("voter{i}")).await);
    }
    let poll = post_poll(&t, &alice, json!({"options": ["a", "b"], "expires_in": 600, "multiple": true})).await;
    let poll = poll["id"].as_str().unwrap();
    let replies = futures_util::future::join_all(voters.iter().map(|v| vote(&t, v, poll, json!([0, 1])))).await;
    assert!(replies.iter().all(|r| r.status.as_u16() == 200), "{replies:?}");
    let seen = t.get(&format!("/api/v1/polls/{poll}"), Some(&alice.token)).await.expect(200);
    assert_eq!(counts(&seen), vec![json!(12), json!(12)]);
    assert_eq!((seen["votes_count"].clone(), seen["voters_count"].clone()), (json!(24), json!(12)));
    // The same voter twice at once: one vote.
    let late = t.register("late").await;
    let twice = futures_util::future::join_all([vote(&t, &late, poll, json!([0])), vote(&t, &late, poll, json!([1]))]).await;
    let mut statuses: Vec<u16> = twice.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 422]);
    assert_eq!(t.get(&format!("/api/v1/polls/{poll}"), None).await.expect(200)["voters_count"], 13);
}

#[tokio::test]
async fn hidden_totals_show_to_the_author_and_to_everyone_once_ended() {
    let t = spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let poll = post_poll(&t, &alice, json!({"options": ["a", "b"], "expires_in": 5, "hide_totals": true})).await;
    let poll = poll["id"].as_str().unwrap();
    let voted = vote(&t, &bob, poll, json!([0])).await.expect(200);
    assert_eq!(counts(&voted), vec![Value::Null, Value::Null], "hidden from voters too");
    let seen = t.get(&format!("/api/v1/polls/{poll}"), Some(&carol.token)).await.expect(200);
    assert_eq!(counts(&seen), vec![Value::Null, Value::Null]);
    let own = t.get(&format!("/api/v1/polls/{poll}"), Some(&alice.token)).await.expect(200);
    assert_eq!(counts(&own), vec![json!(1), json!(0)], "the author sees the counts");
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let ended = t.get(&format!("/api/v1/polls/{poll}"), Some(&carol.token)).await.expect(200);
    assert_eq!(ended["expired"], true);
    assert_eq!(counts(&ended), vec![json!(1), json!(0)]);
    let late = vote(&t, &carol, poll, json!([1])).await;
    assert_eq!((late.status.as_u16(), late.error()), (422, "Validation failed: The poll has already ended"));
}

#[tokio::test]
async fn an_ended_poll_notifies_its_voters_and_author_exactly_once() {
    let t = spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    let poll = post_poll(&t, &alice, json!({"options": ["a", "b"], "expires_in": 5})).await;
    let poll = poll["id"].as_str().unwrap();
    vote(&t, &bob, poll, json!([0])).await.expect(200);
    vote(&t, &carol, poll, json!([1])).await.expect(200);
    for user in [&alice, &bob, &carol] {
        let got = poll_notifications(&t, user, 1).await;
        assert_eq!(got.len(), 1, "{}: {got:?}", user.username);
        assert_eq!(got[0]["type"], "poll");
        assert_eq!(got[0]["account"]["id"], alice.id.as_str());
        assert_eq!(got[0]["status"]["id"], poll);
        assert_eq!(got[0]["status"]["poll"]["expired"], true);
    }
    assert!(poll_notifications(&t, &dave, 0).await.is_empty(), "dave did not vote");
    // Scans racing after the end (several processes) end nothing twice; replaying the log
    // notifies nobody twice.
    let far = core_app::now_ms() + 10_000;
    let (a, b) = tokio::join!(core_app::polls::expiry::end_due(&t.app, far), core_app::polls::expiry::end_due(&t.app, far));
    assert_eq!(a.unwrap() + b.unwrap(), 0);
    t.app.rewind_consumer("notifications").await.unwrap();
    t.settle().await;
    for user in [&alice, &bob, &carol] {
        assert_eq!(poll_notifications(&t, user, 1).await.len(), 1, "{}", user.username);
    }
}

#[tokio::test]
async fn concurrent_scans_end_each_poll_once() {
    // Long scans, so only the two racing here end anything.
    let t = TestApp::spawn_with(|s| s.polls = Some(core_app::config::PollConfig { min_expiration: 1, expiry_scan_ms: 3_600_000, ..Default::default() })).await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    for _ in 0..3 {
        let poll = post_poll(&t, &alice, json!({"options": ["a", "b"], "expires_in": 5})).await;
        vote(&t, &bob, poll["id"].as_str().unwrap(), json!([0])).await.expect(200);
    }
    let far = core_app::now_ms() + 10_000;
    let (a, b) = tokio::join!(core_app::polls::expiry::end_due(&t.app, far), core_app::polls::expiry::end_due(&t.app, far));
    assert_eq!(a.unwrap() + b.unwrap(), 3);
    assert_eq!(poll_notifications(&t, &bob, 3).await.len(), 3);
    assert_eq!(poll_notifications(&t, &alice, 3).await.len(), 3);
}

#[tokio::test]
async fn a_poll_that_ends_while_the_server_is_down_notifies_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    // The first server scans once, at its start: the poll ends after it stops.
    let t =
        TestApp::spawn_in(dir, |s| s.polls = Some(core_app::config::PollConfig { min_expiration: 1, expiry_scan_ms: 3_600_000, ..Default::default() })).await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let poll = post_poll(&t, &alice, json!({"options": ["a", "b"], "expires_in": 5})).await;
    let poll = poll["id"].as_str().unwrap().to_owned();
    vote(&t, &bob, &poll, json!([1])).await.expect(200);
    t.settle().await;
    assert!(poll_notifications(&t, &alice, 0).await.is_empty(), "not ended before the stop");
    let dir = t.stop().await;
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let t = TestApp::spawn_in(dir, short_polls).await;
    for user in [&alice, &bob] {
        let got = poll_notifications(&t, user, 1).await;
        assert_eq!(got.len(), 1, "{}: {got:?}", user.username);
        assert_eq!(got[0]["status"]["id"], poll.as_str());
    }
}

#[tokio::test]
async fn editing_the_options_resets_the_votes_and_keeping_them_keeps_them() {
    let t = spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let status = post_poll(&t, &alice, json!({"options": ["a", "b"], "expires_in": 600})).await;
    let id = status["id"].as_str().unwrap();
    vote(&t, &bob, id, json!([1])).await.expect(200);

    let kept = t
        .put(&format!("/api/v1/statuses/{id}"), Some(&alice.token), json!({"status": "which one?", "poll": {"options": ["a", "b"], "expires_in": 600}}))
        .await
        .expect(200);
    assert_eq!(counts(&kept["poll"]), vec![json!(0), json!(1)], "same options keep the votes");
    let seen = t.get(&format!("/api/v1/polls/{id}"), Some(&bob.token)).await.expect(200);
    assert_eq!(seen["own_votes"], json!([1]));

    let changed = t
        .put(&format!("/api/v1/statuses/{id}"), Some(&alice.token), json!({"status": "which one?", "poll": {"options": ["a", "b", "c"], "expires_in": 600}}))
        .await
        .expect(200);
    assert_eq!(counts(&changed["poll"]), vec![json!(0), json!(0), json!(0)], "new options reset the votes");
    let seen = t.get(&format!("/api/v1/polls/{id}"), Some(&bob.token)).await.expect(200);
    assert_eq!((seen["voted"].clone(), seen["own_votes"].clone(), seen["voters_count"].clone()), (json!(false), json!([]), json!(0)));
    vote(&t, &bob, id, json!([2])).await.expect(200);

    t.put(&format!("/api/v1/statuses/{id}"), Some(&alice.token), json!({"status": "which one?", "poll": {"options": ["a"], "expires_in": 600}}))
        .await
        .expect(422);
    let removed = t.put(&format!("/api/v1/statuses/{id}"), Some(&alice.token), json!({"status": "never mind"})).await.expect(200);
    assert_eq!(removed["poll"], Value::Null, "as Mastodon, an edit without a poll removes it");
    t.get(&format!("/api/v1/polls/{id}"), Some(&bob.token)).await.expect(404);
}
