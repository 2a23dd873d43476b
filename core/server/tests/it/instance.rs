use serde_json::json;

use crate::{TestApp, assert_required, schema};

#[tokio::test]
async fn instance_v2_has_every_field_the_spec_requires() {
    let t = TestApp::spawn().await;
    let instance = t.get("/api/v2/instance", None).await.expect(200);
    assert_required(&instance, "Instance", schema::INSTANCE);
    assert_eq!(instance["domain"], t.app.config().instance.domain.as_str());
    assert_eq!(instance["configuration"]["statuses"]["max_characters"], 500);
    assert_eq!(instance["configuration"]["statuses"]["characters_reserved_per_url"], 23);
    assert_eq!(instance["registrations"]["enabled"], true);
    assert!(instance["version"].as_str().unwrap().starts_with("4."), "clients gate features on a Mastodon version");
    assert!(instance["configuration"]["urls"]["streaming"].as_str().unwrap().starts_with("ws://"));
}

#[tokio::test]
async fn instance_v1_has_every_field_the_spec_requires() {
    let t = TestApp::spawn().await;
    let instance = t.get("/api/v1/instance", None).await.expect(200);
    assert_required(&instance, "V1Instance", schema::V1_INSTANCE);
    assert_eq!(instance["uri"], t.app.config().instance.domain.as_str());
    assert_eq!(instance["registrations"], true);
    assert_eq!(instance["configuration"]["statuses"]["max_characters"], 500);
}

#[tokio::test]
async fn instance_statistics_count_users_and_statuses() {
    // Nothing kept in process: a kept copy of the counts lags this process's own sign-ups and
    // posts by design (up to `hot_ttl_ms`; shards.rs tests the copy).
    let t = TestApp::spawn_with(|s| s.timelines = Some(core_app::config::TimelineConfig::default())).await;
    let before = t.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(before["stats"]["user_count"], 0);
    assert_eq!(before["stats"]["status_count"], 0);
    let alice = t.register("alice").await;
    t.register("bob").await;
    let first = t.post_status(&alice, json!({"status": "one"})).await;
    t.post_status(&alice, json!({"status": "two"})).await;
    t.delete(&format!("/api/v1/statuses/{}", crate::id(&first)), Some(&alice.token)).await.expect(200);
    let v1 = t.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(v1["stats"]["user_count"], 2);
    assert_eq!(v1["stats"]["status_count"], 1, "deleted statuses are not counted");
    let v2 = t.get("/api/v2/instance", None).await.expect(200);
    assert_eq!(v2["usage"]["users"]["active_month"], 2);
    let nodeinfo = t.get("/nodeinfo/2.0", None).await.expect(200);
    assert_eq!(nodeinfo["usage"]["users"]["total"], 2);
    assert_eq!(nodeinfo["usage"]["localPosts"], 1);
}

#[tokio::test]
async fn closed_registrations_show_in_the_instance_and_refuse_sign_ups() {
    let t = TestApp::spawn_with(|s| {
        let host = s.server.listen.to_string();
        s.instance = Some(core_app::config::InstanceConfig {
            domain: host.clone(),
            base_url: format!("http://{host}"),
            registrations: core_app::config::Registrations::Closed,
            ..Default::default()
        });
    })
    .await;
    assert_eq!(t.get("/api/v2/instance", None).await.expect(200)["registrations"]["enabled"], false);
    assert_eq!(t.get("/api/v1/instance", None).await.expect(200)["registrations"], false);
    assert_eq!(t.get("/nodeinfo/2.0", None).await.expect(200)["openRegistrations"], false);
    let app_token = t.app_token("read write").await;
    let reply = t
        .post("/api/v1/accounts", Some(&app_token), json!({"username": "alice", "email": "alice@example.org", "password": crate::PASSWORD, "agreement": true}))
        .await;
    assert_eq!(reply.error(), "Registrations are closed");
    reply.expect(403);
}

#[tokio::test]
async fn nodeinfo_discovery_links_to_the_nodeinfo_document() {
    let t = TestApp::spawn().await;
    let links = t.get("/.well-known/nodeinfo", None).await.expect(200);
    let link = &links["links"][0];
    assert_eq!(link["rel"], "http://nodeinfo.diaspora.software/ns/schema/2.0");
    let nodeinfo = t.get(link["href"].as_str().unwrap(), None).await.expect(200);
    assert_eq!(nodeinfo["version"], "2.0");
    assert_eq!(nodeinfo["software"]["name"], "starling");
    assert_eq!(nodeinfo["openRegistrations"], true);
    assert_eq!(nodeinfo["protocols"], json!(["activitypub"]));
}

#[tokio::test]
async fn oauth_metadata_points_at_this_servers_endpoints() {
    let t = TestApp::spawn().await;
    let meta = t.get("/.well-known/oauth-authorization-server", None).await.expect(200);
    assert_eq!(meta["issuer"], format!("{}/", t.base));
    assert_eq!(meta["authorization_endpoint"], format!("{}/oauth/authorize", t.base));
    assert_eq!(meta["token_endpoint"], format!("{}/oauth/token", t.base));
    assert_eq!(meta["revocation_endpoint"], format!("{}/oauth/revoke", t.base));
    assert_eq!(meta["app_registration_endpoint"], format!("{}/api/v1/apps", t.base));
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    let scopes: Vec<&str> = meta["scopes_supported"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    for scope in ["read", "write", "follow", "profile", "read:statuses", "write:statuses"] {
        assert!(scopes.contains(&scope), "{scope} is advertised");
    }
    let grants = meta["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&json!("authorization_code")) && grants.contains(&json!("client_credentials")));
}

#[tokio::test]
async fn custom_emojis_is_an_empty_list() {
    let t = TestApp::spawn().await;
    assert_eq!(t.get("/api/v1/custom_emojis", None).await.expect(200), json!([]));
}

#[tokio::test]
async fn preferences_reflect_the_posting_defaults() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let prefs = t.get("/api/v1/preferences", Some(&alice.token)).await.expect(200);
    assert_required(&prefs, "Preferences", schema::PREFERENCES);
    assert_eq!(prefs["posting:default:visibility"], "public");
    assert_eq!(prefs["posting:default:sensitive"], false);
    assert_eq!(prefs["reading:expand:media"], "default");
    t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"source": {"privacy": "unlisted", "sensitive": true, "language": "de"}}))
        .await
        .expect(200);
    let prefs = t.get("/api/v1/preferences", Some(&alice.token)).await.expect(200);
    assert_eq!(prefs["posting:default:visibility"], "unlisted");
    assert_eq!(prefs["posting:default:sensitive"], true);
    assert_eq!(prefs["posting:default:language"], "de");
}

#[tokio::test]
async fn preferences_need_a_user_token_with_read_accounts() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    t.get("/api/v1/preferences", None).await.expect(401);
    let write_only = t.token_with_scopes(&alice, "write").await;
    t.get("/api/v1/preferences", Some(&write_only)).await.expect(403);
    let app_only = t.app_token("read").await;
    t.get("/api/v1/preferences", Some(&app_only)).await.expect(422);
}

#[tokio::test]
async fn health_and_placeholder_images_are_served() {
    let t = TestApp::spawn().await;
    assert_eq!(t.get("/health", None).await.expect(200), "ok");
    for path in ["/avatars/original/missing.png", "/headers/original/missing.png"] {
        let reply = t.http.get(format!("{}{path}", t.base)).send().await.unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.headers()["content-type"], "image/png");
        assert!(reply.bytes().await.unwrap().starts_with(b"\x89PNG"));
    }
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_an_error_envelope() {
    let t = TestApp::spawn().await;
    let missing = t.get("/api/v1/nope", None).await;
    assert_eq!(missing.error(), "Record not found");
    missing.expect(404);
    let wrong = t.delete("/api/v1/instance", None).await;
    assert_eq!(wrong.error(), "Method not allowed");
    wrong.expect(405);
}

#[tokio::test]
async fn paths_answer_with_a_trailing_slash_as_rails_does() {
    let t = TestApp::spawn().await;
    let v1 = t.get("/api/v1/instance/", None).await.expect(200);
    assert_eq!(v1["uri"], t.app.config().instance.domain.as_str());
    t.get("/api/v2/instance/", None).await.expect(200);
    t.get("/api/v1/no-such-thing/", None).await.expect(404);
}

#[tokio::test]
async fn a_separate_streaming_host_is_advertised_when_configured() {
    let default = TestApp::spawn().await;
    let v1 = default.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(v1["urls"]["streaming_api"], default.base.replacen("http", "ws", 1));
    let t = TestApp::spawn_with(|s| {
        let mut instance = s.core_config().instance;
        instance.streaming_url = Some("wss://streaming.example.org/".into());
        s.instance = Some(instance);
    })
    .await;
    let v1 = t.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(v1["urls"]["streaming_api"], "wss://streaming.example.org");
    let v2 = t.get("/api/v2/instance", None).await.expect(200);
    assert_eq!(v2["configuration"]["urls"]["streaming"], "wss://streaming.example.org");
}

#[tokio::test]
async fn the_instance_advertises_only_what_has_its_route() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let v2 = t.get("/api/v2/instance", None).await.expect(200);
    let version = v2["version"].as_str().unwrap();
    let (major, minor) = {
        let mut parts = version.split(['.', ' ']).map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap(), parts.next().unwrap())
    };
    let api = v2["api_versions"]["mastodon"].as_u64().unwrap();
    // A client that sees 4.3 or api_versions.mastodon ≥ 2 loads notifications grouped and reads
    // the notification policy: those routes must then exist.
    let grouped = t.get("/api/v2/notifications", Some(&alice.token)).await.status.as_u16();
    let policy = t.get("/api/v2/notifications/policy", Some(&alice.token)).await.status.as_u16();
    // The policy may exist before: a 4.2 client never asks for it.
    if (major, minor) >= (4, 3) || api >= 2 {
        assert_eq!((grouped, policy), (200, 200), "{version} / api {api} advertises grouped notifications and the policy");
    } else {
        assert_eq!(grouped, 404, "4.2 (api 1) is advertised: grouped notifications arrived since; update the advertisement");
        assert_eq!(policy, 200, "the notification policy is served");
    }
    // The streaming URL serves the streaming API.
    let streaming = v2["configuration"]["urls"]["streaming"].as_str().unwrap().replacen("ws", "http", 1);
    let health = reqwest::get(format!("{streaming}/api/v1/streaming/health")).await.unwrap();
    assert_eq!(health.status(), 200, "{streaming}");
    // Translation is advertised only with its route.
    let status = t.post_status(&alice, json!({ "status": "hello" })).await;
    let translate = t.post(&format!("/api/v1/statuses/{}/translate", status["id"].as_str().unwrap()), Some(&alice.token), json!({})).await;
    assert_eq!(v2["configuration"]["translation"]["enabled"], translate.status.as_u16() != 404);
    // Web Push: a VAPID key is advertised exactly when push subscriptions can be made.
    let vapid = v2["configuration"]["vapid"]["public_key"].as_str().unwrap_or("");
    let push = t.get("/api/v1/push/subscription", Some(&alice.token)).await.status.as_u16();
    if !vapid.is_empty() {
        assert_ne!(push, 404);
    }
    // v1 names the same version.
    let v1 = t.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(v1["version"], version);
    // Server-software detection through nodeinfo sees a Mastodon-API server.
    let nodeinfo = t.get("/nodeinfo/2.0", None).await.expect(200);
    assert_eq!(nodeinfo["metadata"]["upstream"]["name"], "mastodon");
}
