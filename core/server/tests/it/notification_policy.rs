//! The notification policy (Mastodon 4.3): each category's `accept`, `filter` and `drop`, and
//! the notification requests that hold what was filtered until accepted or dismissed.

use serde_json::{Value, json};

use crate::schema::{NOTIFICATION_POLICY, NOTIFICATION_REQUEST};
use crate::{TestApp, User, assert_required, id, ids, link};

const POLICY: &str = "/api/v2/notifications/policy";
const REQUESTS: &str = "/api/v1/notifications/requests";

async fn notifications(t: &TestApp, user: &User, query: &str) -> Value {
    t.settle().await;
    t.get(&format!("/api/v1/notifications{query}"), Some(&user.token)).await.expect(200)
}

async fn set(t: &TestApp, user: &User, field: &str, value: &str) -> Value {
    t.patch(POLICY, Some(&user.token), json!({ field: value })).await.expect(200)
}

async fn requests(t: &TestApp, user: &User) -> Value {
    t.settle().await;
    t.get(REQUESTS, Some(&user.token)).await.expect(200)
}

/// Who notified `user`: ids of the senders, listed and with `include_filtered`.
async fn senders(t: &TestApp, user: &User) -> (Vec<String>, Vec<String>) {
    let of = |list: Value| list.as_array().unwrap().iter().map(|n| n["account"]["id"].as_str().unwrap().to_owned()).collect();
    (of(notifications(t, user, "").await), of(notifications(t, user, "?include_filtered=true").await))
}

#[tokio::test]
async fn the_policy_starts_at_mastodons_defaults_and_changes_field_by_field() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let policy = t.get(POLICY, Some(&alice.token)).await.expect(200);
    assert_required(&policy, "NotificationPolicy", NOTIFICATION_POLICY);
    let fields = |p: &Value| {
        ["for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions", "for_limited_accounts"]
            .map(|f| p[f].as_str().unwrap().to_owned())
    };
    assert_eq!(fields(&policy), ["accept", "accept", "accept", "filter", "filter"]);
    assert_eq!(policy["summary"], json!({"pending_requests_count": 0, "pending_notifications_count": 0}));

    // JSON and forms both; fields not given keep their value.
    let changed = set(&t, &alice, "for_not_following", "drop").await;
    assert_eq!(fields(&changed), ["drop", "accept", "accept", "filter", "filter"]);
    let changed = t.patch_form(POLICY, Some(&alice.token), &[("for_new_accounts", "filter"), ("for_limited_accounts", "accept")]).await.expect(200);
    assert_eq!(fields(&changed), ["drop", "accept", "filter", "filter", "accept"]);
    assert_eq!(fields(&t.get(POLICY, Some(&alice.token)).await.expect(200)), ["drop", "accept", "filter", "filter", "accept"]);
}

#[tokio::test]
async fn bad_values_scopes_and_unknown_requests_get_mastodons_errors() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bad = t.patch(POLICY, Some(&alice.token), json!({"for_not_following": "ignore"})).await;
    assert_eq!(bad.status, 422);
    assert!(bad.error().contains("for_not_following"), "{}", bad.body);
    assert_eq!(t.get(POLICY, Some(&alice.token)).await.expect(200)["for_not_following"], "accept", "nothing changed");
    t.get(POLICY, None).await.expect(401);
    let reader = t.token_with_scopes(&alice, "read:notifications").await;
    t.get(POLICY, Some(&reader)).await.expect(200);
    t.get(REQUESTS, Some(&reader)).await.expect(200);
    t.patch(POLICY, Some(&reader), json!({"for_not_following": "filter"})).await.expect(403);
    t.post(&format!("{REQUESTS}/accept"), Some(&reader), json!({"id": []})).await.expect(403);
    let writer = t.token_with_scopes(&alice, "write:notifications").await;
    t.get(POLICY, Some(&writer)).await.expect(403);
    for path in [format!("{REQUESTS}/123"), format!("{REQUESTS}/nope")] {
        assert!(t.get(&path, Some(&alice.token)).await.expect(404)["error"].is_string());
    }
    t.post(&format!("{REQUESTS}/123/accept"), Some(&alice.token), json!({})).await.expect(404);
    t.post(&format!("{REQUESTS}/123/dismiss"), Some(&alice.token), json!({})).await.expect(404);
    assert_eq!(t.get(&format!("{REQUESTS}/merged"), Some(&alice.token)).await.expect(200), json!({"merged": true}));
}

/// One recipient per policy value, the same kind of sender for each: what reaches the list.
async fn each_value(t: &TestApp, field: &str, tag: &str, prepare: impl AsyncFn(&User, &User), act: impl AsyncFn(&User, &User)) {
    for value in ["accept", "filter", "drop"] {
        let [recipient, sender] = t.register_all([&format!("r{tag}{value}")[..], &format!("s{tag}{value}")]).await;
        set(t, &recipient, field, value).await;
        prepare(&recipient, &sender).await;
        act(&recipient, &sender).await;
        let (listed, all) = senders(t, &recipient).await;
        let from_sender = |list: &Vec<String>| list.iter().filter(|s| **s == sender.id).count();
        let pending = requests(t, &recipient).await;
        match value {
            "accept" => assert!(from_sender(&listed) > 0 && pending.as_array().unwrap().is_empty(), "{field}=accept: {listed:?}"),
            "filter" => {
                assert_eq!(from_sender(&listed), 0, "{field}=filter lists nothing from the sender");
                assert!(from_sender(&all) > 0, "{field}=filter: include_filtered shows it");
                assert_eq!(pending.as_array().unwrap().len(), 1, "{field}=filter: one request");
                assert_eq!(pending[0]["account"]["id"], sender.id.as_str());
            }
            _ => assert!(from_sender(&all) == 0 && pending.as_array().unwrap().is_empty(), "{field}=drop: no notification at all"),
        }
    }
}

#[tokio::test]
async fn each_category_accepts_filters_or_drops_its_senders() {
    let t = TestApp::spawn().await;
    let nothing = async |_: &User, _: &User| {};
    let mention = async |recipient: &User, sender: &User| {
        t.post_status(sender, json!({"status": format!("hello @{}", recipient.username)})).await;
    };
    // Not following: the recipient does not follow the mentioning account.
    each_value(&t, "for_not_following", "nfg", nothing, mention).await;
    // Not followers: the sender does not follow the recipient (who follows the sender).
    each_value(&t, "for_not_followers", "nfr", async |r: &User, s: &User| t.follow(r, s).await, mention).await;
    // New accounts: every account here is younger than 30 days; a follow notifies.
    let follows = async |recipient: &User, sender: &User| t.follow(sender, recipient).await;
    each_value(&t, "for_new_accounts", "new", nothing, follows).await;
    // Private mentions: a direct mention from an account the recipient does not follow.
    let dm = async |recipient: &User, sender: &User| {
        t.post_status(sender, json!({"status": format!("@{} psst", recipient.username), "visibility": "direct"})).await;
    };
    each_value(&t, "for_private_mentions", "pm", nothing, dm).await;
}

#[tokio::test]
async fn following_the_sender_or_answering_your_own_dm_passes_the_private_mention_rule() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    set(&t, &alice, "for_private_mentions", "drop").await;
    // A followed account's direct mention is not unsolicited.
    t.follow(&alice, &carol).await;
    t.post_status(&carol, json!({"status": "@alice from a friend", "visibility": "direct"})).await;
    // A reply into a conversation alice started by mentioning bob is not either.
    let opener = t.post_status(&alice, json!({"status": "@bob a question", "visibility": "direct"})).await;
    t.post_status(&bob, json!({"status": "@alice an answer", "visibility": "direct", "in_reply_to_id": id(&opener)})).await;
    // A new conversation bob starts is.
    t.post_status(&bob, json!({"status": "@alice out of the blue", "visibility": "direct"})).await;
    let list = notifications(&t, &alice, "?include_filtered=true").await;
    let texts: Vec<&str> = list.as_array().unwrap().iter().map(|n| n["status"]["content"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].contains("an answer") && texts[1].contains("from a friend"), "{texts:?}");
}

#[tokio::test]
async fn a_silenced_sender_is_a_limited_account() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    assert_eq!(set(&t, &alice, "for_limited_accounts", "drop").await["for_limited_accounts"], "drop");
    t.post_status(&bob, json!({"status": "hello @alice"})).await;
    assert_eq!(senders(&t, &alice).await.0, vec![bob.id.clone()], "bob is not limited yet");
    core_app::admin::service::set_role(&t.app, carol.id.parse().unwrap(), core_app::model::Role::Moderator).await.unwrap();
    let (client, secret) = t.create_app("admin:write").await;
    let body = json!({"grant_type": "password", "client_id": client, "client_secret": secret, "username": "carol", "password": crate::PASSWORD, "scope": "admin:write"});
    let moderator = t.post("/oauth/token", None, body).await.expect(200)["access_token"].as_str().unwrap().to_owned();
    t.post(&format!("/api/v1/admin/accounts/{}/action", bob.id), Some(&moderator), json!({"type": "silence"})).await.expect(200);
    t.post_status(&bob, json!({"status": "hello again @alice"})).await;
    let (listed, all) = senders(&t, &alice).await;
    assert_eq!((listed.len(), all.len()), (1, 1), "the silenced sender's mention was dropped");
    // Followed, a silenced account is no longer limited for its follower.
    t.follow(&alice, &bob).await;
    t.post_status(&bob, json!({"status": "from a friend @alice"})).await;
    assert_eq!(senders(&t, &alice).await.0.len(), 2);
}

#[tokio::test]
async fn accepting_a_request_merges_its_notifications_and_lets_the_sender_through() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    set(&t, &alice, "for_not_following", "filter").await;
    let first = t.post_status(&bob, json!({"status": "hello @alice"})).await;
    let second = t.post_status(&bob, json!({"status": "again @alice"})).await;
    let pending = requests(&t, &alice).await;
    let request = &pending[0];
    assert_required(request, "NotificationRequest", NOTIFICATION_REQUEST);
    assert_eq!((request["notifications_count"].clone(), request["last_status"]["id"].clone()), (json!("2"), json!(id(&second))));
    let summary = t.get(POLICY, Some(&alice.token)).await.expect(200)["summary"].clone();
    assert_eq!(summary, json!({"pending_requests_count": 1, "pending_notifications_count": 2}));
    // Filtered: not listed, not counted as unread; shown with include_filtered and by id.
    assert!(ids(&notifications(&t, &alice, "").await).is_empty());
    assert_eq!(t.get("/api/v1/notifications/unread_count", Some(&alice.token)).await.expect(200)["count"], 0);
    let shown = t.get(&format!("{REQUESTS}/{}", id(request)), Some(&alice.token)).await.expect(200);
    assert_eq!(shown["id"], request["id"]);

    t.post(&format!("{REQUESTS}/{}/accept", id(request)), Some(&alice.token), json!({})).await.expect(200);
    let list = notifications(&t, &alice, "").await;
    let statuses: Vec<&str> = list.as_array().unwrap().iter().map(|n| n["status"]["id"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec![id(&second), id(&first)]);
    assert_eq!(t.get("/api/v1/notifications/unread_count", Some(&alice.token)).await.expect(200)["count"], 2);
    t.get(&format!("{REQUESTS}/{}", id(request)), Some(&alice.token)).await.expect(404);
    assert!(requests(&t, &alice).await.as_array().unwrap().is_empty());
    assert_eq!(t.get(POLICY, Some(&alice.token)).await.expect(200)["summary"]["pending_requests_count"], 0);
    // From now on bob's notifications pass the filter.
    t.post_status(&bob, json!({"status": "third @alice"})).await;
    assert_eq!(ids(&notifications(&t, &alice, "").await).len(), 3);
    assert!(requests(&t, &alice).await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn dismissing_a_request_deletes_what_it_held_and_a_new_one_starts_later() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    set(&t, &alice, "for_not_following", "filter").await;
    t.post_status(&bob, json!({"status": "hello @alice"})).await;
    let request = requests(&t, &alice).await[0].clone();
    t.post(&format!("{REQUESTS}/{}/dismiss", id(&request)), Some(&alice.token), json!({})).await.expect(200);
    assert!(requests(&t, &alice).await.as_array().unwrap().is_empty());
    assert_eq!(senders(&t, &alice).await, (vec![], vec![]));
    // Still filtered: a later notification opens a new request.
    t.post_status(&bob, json!({"status": "again @alice"})).await;
    let pending = requests(&t, &alice).await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_ne!(pending[0]["id"], request["id"]);
    assert_eq!(pending[0]["notifications_count"], "1");
}

#[tokio::test]
async fn requests_are_paged_and_accepted_or_dismissed_in_bulk() {
    let t = TestApp::spawn().await;
    let [alice, a, b, c, d] = t.register_all(["alice", "a", "b", "c", "d"]).await;
    set(&t, &alice, "for_not_following", "filter").await;
    // One at a time: requests are ordered by when the server learned of them, and events of
    // different accounts may be handled in either order (a partitioned log orders each
    // account's events only).
    for sender in [&a, &b, &c, &d] {
        t.post_status(sender, json!({"status": "hi @alice"})).await;
        t.settle().await;
    }
    let page = t.get(&format!("{REQUESTS}?limit=2"), Some(&alice.token)).await;
    let first = page.body.clone();
    let senders_of = |list: &Value| list.as_array().unwrap().iter().map(|r| r["account"]["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(senders_of(&first), vec![d.id.clone(), c.id.clone()], "newest first");
    assert!(link(&page, "prev").is_some());
    let next = t.follow_link(&page, "next", Some(&alice.token)).await.expect(200);
    assert_eq!(senders_of(&next), vec![b.id.clone(), a.id.clone()]);

    // Bulk accept (form `id[]`) of d and b, bulk dismiss (JSON) of c and an unknown id.
    let all = requests(&t, &alice).await;
    let request_of = |who: &User| all.as_array().unwrap().iter().find(|r| r["account"]["id"] == who.id.as_str()).map(id).unwrap();
    t.post_form(&format!("{REQUESTS}/accept"), Some(&alice.token), &[("id[]", &request_of(&d)), ("id[]", &request_of(&b))]).await.expect(200);
    t.post(&format!("{REQUESTS}/dismiss"), Some(&alice.token), json!({"id": [request_of(&c), "999"]})).await.expect(200);
    assert_eq!(senders_of(&requests(&t, &alice).await), vec![a.id.clone()]);
    let (listed, all) = senders(&t, &alice).await;
    assert_eq!(listed, vec![d.id.clone(), b.id.clone()]);
    assert_eq!(all, vec![d.id.clone(), b.id.clone(), a.id.clone()]);
    assert_eq!(t.get(POLICY, Some(&alice.token)).await.expect(200)["summary"], json!({"pending_requests_count": 1, "pending_notifications_count": 1}));
}

#[tokio::test]
async fn filtered_notifications_are_not_streamed() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    set(&t, &alice, "for_not_following", "filter").await;
    t.follow(&alice, &carol).await;
    let mut stream = crate::streaming::Sse::open(&t, "/api/v1/streaming/user/notification", Some(&alice.token)).await;
    t.post_status(&bob, json!({"status": "filtered @alice"})).await;
    t.settle().await;
    let followed = t.post_status(&carol, json!({"status": "listed @alice"})).await;
    let next = stream.next().await;
    assert_eq!((next.event.as_str(), next.json()["status"]["id"].clone()), ("notification", json!(id(&followed))), "the filtered one never came");
}

#[tokio::test]
async fn clearing_notifications_clears_filtered_ones_and_their_requests() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    set(&t, &alice, "for_not_following", "filter").await;
    t.post_status(&bob, json!({"status": "hello @alice"})).await;
    t.post_status(&carol, json!({"status": "hello @alice"})).await;
    assert_eq!(requests(&t, &alice).await.as_array().unwrap().len(), 2);
    t.post("/api/v1/notifications/clear", Some(&alice.token), json!({})).await.expect(200);
    assert!(requests(&t, &alice).await.as_array().unwrap().is_empty());
    assert_eq!(senders(&t, &alice).await, (vec![], vec![]));
    assert_eq!(t.get(POLICY, Some(&alice.token)).await.expect(200)["summary"], json!({"pending_requests_count": 0, "pending_notifications_count": 0}));
}
