//! Scheduled statuses: `scheduled_at` on status creation (a `ScheduledStatus`, Mastodon's
//! validation and limits), listing, showing, rescheduling and deleting (the owner's only), and
//! the scheduler: on time through the normal create path (fanout, notifications, search, polls,
//! attachments), exactly once with two instances on one store, and after a restart.

use std::time::Duration;

use serde_json::{Value, json};
use shared::wire::timestamp;

use crate::schema;
use crate::{TestApp, User, assert_required, id, ids};

/// Whether the store is moto's DynamoDB (slower: due times further ahead).
fn on_moto() -> bool {
    std::env::var("STARLING_TEST_BACKEND").is_ok_and(|b| b == "dynamodb")
}

/// Seconds ahead the tests that wait schedule their statuses (`[scheduled] min_lead_secs` is 1
/// in those tests).
fn lead_secs() -> u64 {
    if on_moto() { 5 } else { 2 }
}

/// A short minimum lead, and a scheduler scanning every `scan_ms`.
fn short(scan_ms: u64) -> impl FnOnce(&mut core_server::Settings) {
    move |s| s.scheduled = Some(core_app::config::ScheduledConfig { min_lead_secs: 1, scan_ms, ..Default::default() })
}

/// `ms` from now, whole seconds (so the echoed `scheduled_at` is exactly what was sent).
fn from_now(ms: u64) -> u64 {
    (core_app::now_ms() + ms).div_ceil(1000) * 1000
}

async fn schedule(t: &TestApp, user: &User, body: Value) -> Value {
    let reply = t.post("/api/v1/statuses", Some(&user.token), body).await.expect(200);
    assert_required(&reply, "ScheduledStatus", schema::SCHEDULED_STATUS);
    reply
}

async fn own_statuses(t: &TestApp, user: &User) -> Vec<Value> {
    t.get(&format!("/api/v1/accounts/{}/statuses?limit=40", user.id), Some(&user.token)).await.expect(200).as_array().unwrap().clone()
}

/// The author's statuses once there are at least `n`, within `secs`.
async fn published(t: &TestApp, user: &User, n: usize, secs: u64) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let statuses = own_statuses(t, user).await;
        if statuses.len() >= n || std::time::Instant::now() > deadline {
            return statuses;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn millis_of(rfc3339: &Value) -> u64 {
    shared::wire::parse_timestamp(rfc3339.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_scheduled_status_is_listed_shown_rescheduled_and_deleted_by_its_owner_only() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let at = from_now(600_000);
    let first = schedule(
        &t,
        &alice,
        json!({"status": "later", "scheduled_at": timestamp(at), "visibility": "unlisted", "spoiler_text": "cw", "language": "en",
               "poll": {"options": ["yes", "no"], "expires_in": 3600}}),
    )
    .await;
    assert_eq!(first["scheduled_at"], timestamp(at));
    let params = &first["params"];
    assert_eq!((params["text"].clone(), params["visibility"].clone(), params["spoiler_text"].clone()), (json!("later"), json!("unlisted"), json!("cw")));
    assert_eq!(params["poll"], json!({"options": ["yes", "no"], "expires_in": 3600, "multiple": false, "hide_totals": false}));
    assert_eq!((params["language"].clone(), params["sensitive"].clone(), params["media_ids"].clone()), (json!("en"), Value::Null, Value::Null));
    assert!(params["application_id"].is_u64(), "an integer, as Mastodon: {params}");
    assert_eq!((params["with_rate_limit"].clone(), params["scheduled_at"].clone()), (json!(false), Value::Null));
    assert_eq!(first["media_attachments"], json!([]));
    assert!(own_statuses(&t, &alice).await.is_empty(), "nothing is posted before its time");

    // Form-encoded with an offset, as Mastodon.py sends it; the author's default visibility.
    let second_at = from_now(1_200_000);
    let offset = format!("{}+00:00", &timestamp(second_at)[..19]);
    let second =
        t.post_form("/api/v1/statuses", Some(&alice.token), &[("status", "later still"), ("scheduled_at", &offset), ("in_reply_to_id", "")]).await.expect(200);
    assert_eq!((second["scheduled_at"].clone(), second["params"]["visibility"].clone()), (json!(timestamp(second_at)), json!("public")));

    let list = t.get("/api/v1/scheduled_statuses", Some(&alice.token)).await;
    assert!(list.headers.contains_key("link"));
    assert_eq!(ids(&list.expect(200)), vec![id(&second), id(&first)], "newest first");
    let page = t.get("/api/v1/scheduled_statuses?limit=1", Some(&alice.token)).await;
    let next = t.follow_link(&page, "next", Some(&alice.token)).await.expect(200);
    assert_eq!((ids(&page.expect(200)), ids(&next)), (vec![id(&second)], vec![id(&first)]));
    let newer = t.get(&format!("/api/v1/scheduled_statuses?min_id={}", id(&first)), Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&newer), vec![id(&second)]);
    assert_eq!(t.get("/api/v1/scheduled_statuses", Some(&bob.token)).await.expect(200), json!([]));

    let path = format!("/api/v1/scheduled_statuses/{}", id(&first));
    assert_eq!(t.get(&path, Some(&alice.token)).await.expect(200), first);
    t.get(&path, Some(&bob.token)).await.expect(404);
    t.put(&path, Some(&bob.token), json!({"scheduled_at": timestamp(from_now(900_000))})).await.expect(404);
    t.delete(&path, Some(&bob.token)).await.expect(404);

    let moved_at = from_now(1_800_000);
    let moved = t.put(&path, Some(&alice.token), json!({"scheduled_at": timestamp(moved_at)})).await.expect(200);
    assert_eq!(
        (moved["id"].clone(), moved["scheduled_at"].clone(), moved["params"].clone()),
        (first["id"].clone(), json!(timestamp(moved_at)), first["params"].clone())
    );
    assert_eq!(t.get(&path, Some(&alice.token)).await.expect(200)["scheduled_at"], timestamp(moved_at));

    // Scopes: reading needs read:statuses, changing write:statuses.
    let reader = t.token_with_scopes(&alice, "read:statuses").await;
    let writer = t.token_with_scopes(&alice, "write:statuses").await;
    t.get(&path, Some(&reader)).await.expect(200);
    t.get("/api/v1/scheduled_statuses", Some(&writer)).await.expect(403);
    t.put(&path, Some(&reader), json!({"scheduled_at": timestamp(moved_at)})).await.expect(403);
    t.delete(&path, Some(&reader)).await.expect(403);

    assert_eq!(t.delete(&path, Some(&writer)).await.expect(200), json!({}));
    t.get(&path, Some(&alice.token)).await.expect(404);
    t.delete(&path, Some(&alice.token)).await.expect(404);
    assert_eq!(ids(&t.get("/api/v1/scheduled_statuses", Some(&alice.token)).await.expect(200)), vec![id(&second)]);
    // Deleted before its time: nothing is ever published.
    assert!(core_app::scheduler::publish_due(&t.app, moved_at + 1).await.unwrap() <= 1);
    t.settle().await;
    let texts: Vec<Value> = own_statuses(&t, &alice).await.iter().map(|s| s["content"].clone()).collect();
    assert!(!texts.iter().any(|c| c.as_str().unwrap().contains(">later<")), "{texts:?}");
}

#[tokio::test]
async fn bad_times_limits_and_bad_posts_get_mastodons_422() {
    let t = TestApp::spawn_with(|s| s.scheduled = Some(core_app::config::ScheduledConfig { max_per_account: 3, max_per_day: 2, ..Default::default() })).await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let day = 86_400_000;
    for (at, message) in [
        (timestamp(core_app::now_ms() - 60_000), "Validation failed: Scheduled at must be at least 5 minutes in the future"),
        (timestamp(core_app::now_ms() + 240_000), "Validation failed: Scheduled at must be at least 5 minutes in the future"),
        ("next tuesday".to_owned(), "Validation failed: Scheduled at is not a valid ISO 8601 date and time"),
        ("2030-02-30T10:00:00Z".to_owned(), "Validation failed: Scheduled at is not a valid ISO 8601 date and time"),
    ] {
        let reply = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "x", "scheduled_at": at})).await;
        assert_eq!((reply.status.as_u16(), reply.error()), (422, message), "{at}");
    }
    // Checked as the post itself would be.
    let at = timestamp(from_now(2 * day));
    for body in [
        json!({"status": "", "scheduled_at": at}),
        json!({"status": "x".repeat(501), "scheduled_at": at}),
        json!({"status": "x", "scheduled_at": at, "poll": {"options": ["only"], "expires_in": 600}}),
        json!({"status": "x", "scheduled_at": at, "media_ids": ["123"]}),
    ] {
        t.post("/api/v1/statuses", Some(&alice.token), body).await.expect(422);
    }
    t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "x", "scheduled_at": at, "in_reply_to_id": "123"})).await.expect(404);

    // An Idempotency-Key retry gets the first one back.
    let retry = |key: &'static str| {
        let (t, token, at) = (&t, alice.token.clone(), at.clone());
        async move {
            let res = t
                .http
                .post(format!("{}/api/v1/statuses", t.base))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&json!({"status": "once", "scheduled_at": at}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    let (a, b) = (retry("k1").await, retry("k1").await);
    assert_eq!((id(&a), a["params"]["idempotency"].clone()), (id(&b), json!("k1")));

    // At most 2 a day (this day has one already), 3 in all.
    schedule(&t, &alice, json!({"status": "second that day", "scheduled_at": at})).await;
    let reply = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "third that day", "scheduled_at": at})).await;
    assert_eq!((reply.status.as_u16(), reply.error()), (422, "Validation failed: You have exceeded the limit of 2 scheduled posts for that day"));
    let next_day = schedule(&t, &alice, json!({"status": "next day", "scheduled_at": timestamp(from_now(3 * day))})).await;
    let reply = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "fourth", "scheduled_at": timestamp(from_now(4 * day))})).await;
    assert_eq!((reply.status.as_u16(), reply.error()), (422, "Validation failed: You have exceeded the limit of 3 scheduled posts"));
    t.post("/api/v1/statuses", Some(&bob.token), json!({"status": "bob's own", "scheduled_at": at})).await.expect(200);

    // Rescheduling follows the same rules.
    let path = format!("/api/v1/scheduled_statuses/{}", id(&next_day));
    let reply = t.put(&path, Some(&alice.token), json!({"scheduled_at": at})).await;
    assert_eq!((reply.status.as_u16(), reply.error()), (422, "Validation failed: You have exceeded the limit of 2 scheduled posts for that day"));
    t.put(&path, Some(&alice.token), json!({"scheduled_at": timestamp(core_app::now_ms() + 1000)})).await.expect(422);
    t.put(&path, Some(&alice.token), json!({"scheduled_at": "soon"})).await.expect(422);
    t.put(&path, Some(&alice.token), json!({})).await.expect(422);
    t.put(&path, Some(&alice.token), json!({"scheduled_at": timestamp(from_now(3 * day + 3_600_000))})).await.expect(200);
    // Deleting one makes room again.
    t.delete(&path, Some(&alice.token)).await.expect(200);
    schedule(&t, &alice, json!({"status": "fits again", "scheduled_at": timestamp(from_now(4 * day))})).await;
}

#[tokio::test]
async fn a_due_status_is_published_on_time_through_the_normal_create_path() {
    let t = TestApp::spawn_with(short(100)).await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&bob, &alice).await;
    let media = crate::media::uploaded_png(&t, &alice).await;
    let at = from_now(lead_secs() * 1000);
    let with_media =
        schedule(&t, &alice, json!({"status": "hello @carol #timely", "scheduled_at": timestamp(at), "media_ids": [media], "sensitive": true})).await;
    assert_eq!(with_media["media_attachments"][0]["id"], media.as_str());
    assert_eq!(with_media["params"]["media_ids"], json!([media]));
    let with_poll =
        schedule(&t, &alice, json!({"status": "tea or coffee?", "scheduled_at": timestamp(at), "poll": {"options": ["tea", "coffee"], "expires_in": 600}}))
            .await;
    // The attachment is held for the scheduled status meanwhile.
    t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "now", "media_ids": [media]})).await.expect(422);
    t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "later", "media_ids": [media], "scheduled_at": timestamp(at + 3_600_000)}))
        .await
        .expect(422);
    t.delete(&format!("/api/v1/media/{media}"), Some(&alice.token)).await.expect(404);

    let statuses = published(&t, &alice, 2, lead_secs() + 10).await;
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    let slack = if on_moto() { 3000 } else { 2000 };
    for status in &statuses {
        let created = millis_of(&status["created_at"]);
        assert!(created >= at && created <= at + slack, "published at {created}, due at {at}");
    }
    let posted = statuses.iter().find(|s| s["media_attachments"].as_array().unwrap().len() == 1).unwrap();
    assert_eq!((posted["media_attachments"][0]["id"].clone(), posted["sensitive"].clone()), (json!(media), json!(true)));
    assert_eq!(posted["mentions"][0]["id"], carol.id.as_str());
    let poll = &statuses.iter().find(|s| !s["poll"].is_null()).unwrap()["poll"];
    assert_eq!(millis_of(&poll["expires_at"]) / 1000, (millis_of(&statuses[0]["created_at"]).max(millis_of(&statuses[1]["created_at"])) + 600_000) / 1000);
    for gone in [&with_media, &with_poll] {
        t.get(&format!("/api/v1/scheduled_statuses/{}", id(gone)), Some(&alice.token)).await.expect(404);
    }
    assert_eq!(t.get("/api/v1/scheduled_statuses", Some(&alice.token)).await.expect(200), json!([]));

    // Through the normal path: the follower's home, the mention's notification, search.
    let home = t.home_ids(&bob).await;
    assert!(statuses.iter().all(|s| home.contains(&id(s))), "{home:?}");
    let notifications = t.get("/api/v1/notifications?types[]=mention", Some(&carol.token)).await.expect(200);
    assert_eq!(notifications[0]["status"]["id"], posted["id"]);
    let found = t.get("/api/v2/search?q=timely&type=statuses", Some(&bob.token)).await.expect(200);
    assert_eq!(ids(&found["statuses"]), vec![id(posted)]);
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["statuses_count"], 2);
}

#[tokio::test]
async fn two_instances_on_one_store_publish_each_scheduled_status_exactly_once() {
    let a = TestApp::spawn_with(short(50)).await;
    let b = a.spawn_beside(short(50)).await;
    let alice = a.register("alice").await;
    let at = from_now(lead_secs() * 1000);
    let mut texts = Vec::new();
    for i in 0..6 {
        let text = format!("scheduled number {i}");
        // Scheduled through either instance.
        let t = if i % 2 == 0 { &a } else { &b };
        schedule(t, &alice, json!({"status": text, "scheduled_at": timestamp(at)})).await;
        texts.push(format!("<p>{text}</p>"));
    }
    // Both schedulers scan every 50 ms, and more scans race them once the time comes.
    tokio::time::sleep(Duration::from_millis((at + 20).saturating_sub(core_app::now_ms()))).await;
    let races: Vec<_> = (0..4).map(|i| core_app::scheduler::publish_due(if i % 2 == 0 { &a.app } else { &b.app }, at + 1)).collect();
    for race in futures_util::future::join_all(races).await {
        race.unwrap();
    }
    let statuses = published(&a, &alice, 6, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let statuses_after = own_statuses(&a, &alice).await;
    assert_eq!(statuses.len(), statuses_after.len(), "nothing published twice later");
    let mut got: Vec<String> = statuses_after.iter().map(|s| s["content"].as_str().unwrap().to_owned()).collect();
    got.sort();
    assert_eq!(got, texts, "each exactly once");
    assert_eq!(b.get("/api/v1/scheduled_statuses", Some(&alice.token)).await.expect(200), json!([]));
    assert_eq!(core_app::scheduler::publish_due(&b.app, at + 60_000).await.unwrap(), 0);
    b.stop().await;
}

#[tokio::test]
async fn a_status_due_while_the_server_is_down_is_published_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    // The first server scans once, at its start.
    let t = TestApp::spawn_in(dir, short(3_600_000)).await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    let at = from_now(lead_secs() * 1000);
    let scheduled = schedule(&t, &alice, json!({"status": "while you were out", "scheduled_at": timestamp(at)})).await;
    let dir = t.stop().await;
    tokio::time::sleep(Duration::from_millis((at + 100).saturating_sub(core_app::now_ms()))).await;
    let t = TestApp::spawn_in(dir, short(100)).await;
    let statuses = published(&t, &alice, 1, 10).await;
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!(statuses[0]["content"], "<p>while you were out</p>");
    assert!(t.home_ids(&bob).await.contains(&id(&statuses[0])));
    t.get(&format!("/api/v1/scheduled_statuses/{}", id(&scheduled)), Some(&alice.token)).await.expect(404);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(own_statuses(&t, &alice).await.len(), 1, "once");
}
