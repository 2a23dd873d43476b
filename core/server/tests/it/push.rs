//! Web Push subscriptions (/api/v1/push/subscription) on the embedded default (push hand-over
//! off), and — with STARLING_TEST_SNS_ENDPOINT (moto_server, an emulator of the AWS wire
//! protocol) — notifications published to SNS, observed through an SQS queue subscribed with
//! raw message delivery.

use serde_json::{Value, json};

use crate::{PASSWORD, TestApp, User, assert_required};

const FULL: &str = "read write follow push";

fn subscription(endpoint: &str) -> Value {
    json!({
        "subscription": {"endpoint": endpoint, "keys": {"p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcx", "auth": "I7Rm9jHJkDQs8bR3BmcPlw"}, "standard": true},
        "data": {"alerts": {"follow": true, "mention": true, "favourite": false}, "policy": "all"}
    })
}

/// Another token of `user`, with `scopes`.
async fn second_token(app: &TestApp, user: &User, scopes: &str) -> String {
    let (id, secret) = app.create_app(FULL).await;
    let token = app
        .post(
            "/oauth/token",
            None,
            json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": user.username, "password": PASSWORD, "scope": scopes}),
        )
        .await
        .expect(200);
    token["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn subscribe_read_change_and_remove() {
    let app = TestApp::spawn().await;
    let alice = app.register_with_scopes("alice", FULL).await;
    let sub = app.post("/api/v1/push/subscription", Some(&alice.token), subscription("https://push.example/send/abc")).await.expect(200);
    assert_required(
        &sub,
        "WebPushSubscription",
        &[
            "id",
            "endpoint",
            "server_key",
            "alerts.mention",
            "alerts.follow",
            "alerts.favourite",
            "alerts.reblog",
            "alerts.status",
            "alerts.poll",
            "alerts.update",
            "alerts.follow_request",
        ],
    );
    assert_eq!(sub["alerts"]["admin.sign_up"], false);
    assert_eq!(sub["alerts"]["admin.report"], false);
    assert_eq!(sub["endpoint"], "https://push.example/send/abc");
    assert_eq!(sub["alerts"]["follow"], true);
    assert_eq!(sub["alerts"]["mention"], true);
    assert_eq!(sub["alerts"]["reblog"], false);
    assert_eq!(sub["policy"], "all");
    assert_eq!(sub["standard"], true);
    assert!(sub["id"].is_string());

    assert_eq!(app.get("/api/v1/push/subscription", Some(&alice.token)).await.expect(200), sub);

    let changed = app
        .put("/api/v1/push/subscription", Some(&alice.token), json!({"data": {"alerts": {"reblog": true, "follow": false}}, "policy": "followed"}))
        .await
        .expect(200);
    assert_eq!(changed["id"], sub["id"]);
    assert_eq!(changed["alerts"]["reblog"], true);
    assert_eq!(changed["alerts"]["follow"], false);
    assert_eq!(changed["alerts"]["mention"], true, "untouched alerts keep their value");
    assert_eq!(changed["policy"], "followed");
    assert_eq!(app.get("/api/v1/push/subscription", Some(&alice.token)).await.expect(200), changed);

    assert_eq!(app.delete("/api/v1/push/subscription", Some(&alice.token)).await.expect(200), json!({}));
    let gone = app.get("/api/v1/push/subscription", Some(&alice.token)).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.error(), "Record not found");
    // Deleting again is fine, changing what is not there is not.
    app.delete("/api/v1/push/subscription", Some(&alice.token)).await.expect(200);
    assert_eq!(app.put("/api/v1/push/subscription", Some(&alice.token), json!({"data": {"alerts": {"follow": true}}})).await.status, 404);
}

#[tokio::test]
async fn one_subscription_per_access_token() {
    let app = TestApp::spawn().await;
    let alice = app.register_with_scopes("alice", FULL).await;
    let other = second_token(&app, &alice, "push").await;
    let first = app.post("/api/v1/push/subscription", Some(&alice.token), subscription("https://push.example/1")).await.expect(200);
    // The other token has none of its own.
    assert_eq!(app.get("/api/v1/push/subscription", Some(&other)).await.status, 404);
    let theirs = app.post("/api/v1/push/subscription", Some(&other), subscription("https://push.example/2")).await.expect(200);
    // Subscribing again replaces the token's subscription.
    let second = app.post("/api/v1/push/subscription", Some(&alice.token), subscription("https://push.example/3")).await.expect(200);
    assert_ne!(first["id"], second["id"]);
    assert_eq!(app.get("/api/v1/push/subscription", Some(&alice.token)).await.expect(200)["endpoint"], "https://push.example/3");
    assert_eq!(app.get("/api/v1/push/subscription", Some(&other)).await.expect(200), theirs);
    // Removing one token's subscription leaves the other's.
    app.delete("/api/v1/push/subscription", Some(&other)).await.expect(200);
    assert_eq!(app.get("/api/v1/push/subscription", Some(&alice.token)).await.expect(200)["endpoint"], "https://push.example/3");
}

#[tokio::test]
async fn form_encoded_subscriptions_as_mastodon_clients_send_them() {
    let app = TestApp::spawn().await;
    let alice = app.register_with_scopes("alice", FULL).await;
    let sub = app
        .post_form(
            "/api/v1/push/subscription",
            Some(&alice.token),
            &[
                ("subscription[endpoint]", "https://push.example/form"),
                ("subscription[keys][p256dh]", "BCVxsr7N"),
                ("subscription[keys][auth]", "I7Rm9jHJ"),
                ("data[alerts][favourite]", "true"),
                ("data[alerts][quote]", "true"),
                ("data[policy]", "follower"),
            ],
        )
        .await
        .expect(200);
    assert_eq!(sub["alerts"]["favourite"], true);
    assert_eq!(sub["alerts"]["follow"], false);
    assert_eq!(sub["policy"], "follower");
    assert_eq!(sub["standard"], false);
}

#[tokio::test]
async fn refuses_bad_input_and_missing_scopes() {
    let app = TestApp::spawn().await;
    let alice = app.register_with_scopes("alice", FULL).await;
    let path = "/api/v1/push/subscription";
    assert_eq!(app.get(path, None).await.status, 401);
    assert_eq!(app.post(path, Some("not-a-token"), subscription("https://push.example/x")).await.status, 401);
    let no_push = second_token(&app, &alice, "read write").await;
    for reply in [
        app.get(path, Some(&no_push)).await,
        app.post(path, Some(&no_push), subscription("https://push.example/x")).await,
        app.put(path, Some(&no_push), json!({})).await,
        app.delete(path, Some(&no_push)).await,
    ] {
        assert_eq!(reply.status, 403, "{}", reply.body);
    }
    let app_only = app.app_token(FULL).await;
    assert_eq!(app.post(path, Some(&app_only), subscription("https://push.example/x")).await.status, 422);

    let no_endpoint = app.post(path, Some(&alice.token), json!({"subscription": {"keys": {"p256dh": "a", "auth": "b"}}})).await;
    assert_eq!(no_endpoint.status, 422);
    assert!(no_endpoint.error().contains("Endpoint"), "{}", no_endpoint.body);
    assert_eq!(app.post(path, Some(&alice.token), json!({"subscription": {"endpoint": "not a url", "keys": {"p256dh": "a", "auth": "b"}}})).await.status, 422);
    assert_eq!(app.post(path, Some(&alice.token), json!({"subscription": {"endpoint": "https://push.example/x", "keys": {"p256dh": "a"}}})).await.status, 422);
    let mut bad_policy = subscription("https://push.example/x");
    bad_policy["data"]["policy"] = json!("everyone");
    assert_eq!(app.post(path, Some(&alice.token), bad_policy).await.status, 422);
    assert_eq!(app.get(path, Some(&alice.token)).await.status, 404, "nothing was stored");
}

mod sns {
    use std::time::Duration;

    use aws_sdk_sns::config::{Credentials, Region};
    use serde_json::{Value, json};

    use super::{FULL, subscription};
    use crate::TestApp;

    async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .load()
            .await
    }

    /// Messages in the queue now (raw SNS deliveries), after a short wait.
    async fn drain(sqs: &aws_sdk_sqs::Client, queue: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for _ in 0..3 {
            let got = sqs.receive_message().queue_url(queue).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
            for m in got.messages() {
                out.push(serde_json::from_str(m.body().unwrap()).unwrap());
                sqs.delete_message().queue_url(queue).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
            }
        }
        out
    }

    #[tokio::test]
    #[ignore = "needs moto_server: scripts/test.sh events section"]
    async fn notifications_are_published_to_sns_as_alerts_and_policy_allow() {
        let endpoint = std::env::var("STARLING_TEST_SNS_ENDPOINT").unwrap();
        let config = sdk(&endpoint).await;
        let sns = aws_sdk_sns::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let topic = sns.create_topic().name("starling-push").send().await.unwrap().topic_arn().unwrap().to_owned();
        let queue = sqs.create_queue().queue_name("starling-push-observer").send().await.unwrap().queue_url().unwrap().to_owned();
        let attrs = sqs.get_queue_attributes().queue_url(&queue).attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn).send().await.unwrap();
        let queue_arn = attrs.attributes().unwrap().get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).unwrap().clone();
        sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(queue_arn).attributes("RawMessageDelivery", "true").send().await.unwrap();
        drain(&sqs, &queue).await;

        let app = TestApp::spawn_with(|s| {
            s.push = core_server::events::PushSettings::Sns {
                topic_arn: topic.clone(),
                region: "us-east-1".into(),
                endpoint: Some(endpoint.clone()),
                access_key_id: Some("test".into()),
                secret_access_key: Some("test".into()),
                vapid_public_key: "BPublicVapidKey".into(),
            };
        })
        .await;
        let alice = app.register_with_scopes("alice", FULL).await;
        let [bob, carol] = app.register_all(["bob", "carol"]).await;
        // Follows and mentions, not favourites.
        let sub = app.post("/api/v1/push/subscription", Some(&alice.token), subscription("https://push.example/alice")).await.expect(200);
        assert_eq!(sub["server_key"], "BPublicVapidKey");

        app.follow(&bob, &alice).await;
        let post = app.post_status(&alice, json!({"status": "hi"})).await;
        app.post(&format!("/api/v1/statuses/{}/favourite", post["id"].as_str().unwrap()), Some(&bob.token), json!({})).await.expect(200);
        app.settle().await;
        let messages = drain(&sqs, &queue).await;
        assert_eq!(messages.len(), 1, "only the follow: {messages:?}");
        let m = &messages[0];
        assert_eq!(m["endpoint"], "https://push.example/alice");
        assert_eq!(m["subscription_id"], sub["id"]);
        assert_eq!(m["account_id"], alice.id.as_str());
        assert_eq!(m["keys"]["auth"], "I7Rm9jHJkDQs8bR3BmcPlw");
        assert_eq!(m["notification_type"], "follow");
        assert_eq!(m["notification"]["type"], "follow");
        assert_eq!(m["notification"]["account"]["id"], bob.id.as_str());
        assert_eq!(m["notification_id"], m["notification"]["id"]);

        // Policy `followed`: a mention from someone alice does not follow is not pushed; from
        // someone she follows it is.
        app.put("/api/v1/push/subscription", Some(&alice.token), json!({"policy": "followed"})).await.expect(200);
        app.post_status(&carol, json!({"status": "@alice hello"})).await;
        app.settle().await;
        assert!(drain(&sqs, &queue).await.is_empty());
        app.follow(&alice, &bob).await;
        app.post_status(&bob, json!({"status": "@alice hello"})).await;
        app.settle().await;
        let messages = drain(&sqs, &queue).await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0]["notification_type"], "mention");
        assert_eq!(messages[0]["notification"]["account"]["id"], bob.id.as_str());
        // Unsubscribed: nothing more.
        app.delete("/api/v1/push/subscription", Some(&alice.token)).await.expect(200);
        app.post_status(&bob, json!({"status": "@alice again"})).await;
        app.settle().await;
        assert!(drain(&sqs, &queue).await.is_empty());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
