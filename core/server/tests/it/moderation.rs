//! Reports, roles and the admin API: who may moderate, and what each action does everywhere.

use std::time::Duration;

use core_app::model::Role;
use serde_json::{Value, json};

use crate::streaming::Sse;
use crate::{PASSWORD, TestApp, User, id, ids, link};

fn rules(settings: &mut core_server::Settings) {
    let mut instance = settings.core_config().instance;
    instance.rules = vec![
        core_app::config::RuleConfig { text: "Be kind".into(), hint: "No harassment".into() },
        core_app::config::RuleConfig { text: "No spam".into(), hint: String::new() },
    ];
    settings.instance = Some(instance);
}

/// Makes `user` a staff member and returns a token with the admin scopes.
async fn staff(t: &TestApp, user: &User, role: Role) -> String {
    let account = user.id.parse().unwrap();
    core_app::admin::service::set_role(&t.app, account, role).await.unwrap();
    admin_token(t, user).await
}

async fn admin_token(t: &TestApp, user: &User) -> String {
    let (id, secret) = t.create_app("read write follow admin:read admin:write").await;
    let body = json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": user.username, "password": PASSWORD, "scope": "read write follow admin:read admin:write"});
    t.post("/oauth/token", None, body).await.expect(200)["access_token"].as_str().unwrap().to_owned()
}

async fn report(t: &TestApp, reporter: &User, body: Value) -> crate::Reply {
    t.post("/api/v1/reports", Some(&reporter.token), body).await
}

async fn act(t: &TestApp, token: &str, target: &User, kind: &str) -> crate::Reply {
    t.post(&format!("/api/v1/admin/accounts/{}/action", target.id), Some(token), json!({"type": kind})).await
}

#[tokio::test]
async fn the_rules_are_listed_and_a_report_names_them() {
    let t = TestApp::spawn_with(rules).await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let listed = t.get("/api/v1/instance/rules", None).await.expect(200);
    assert_eq!(listed, json!([{"id": "1", "text": "Be kind", "hint": "No harassment"}, {"id": "2", "text": "No spam", "hint": ""}]));
    assert_eq!(t.get("/api/v2/instance", None).await.expect(200)["rules"], listed);
    let post = t.post_status(&bob, json!({"status": "buy now"})).await;
    let filed = report(&t, &alice, json!({"account_id": bob.id, "status_ids": [id(&post)], "comment": "spam", "category": "violation", "rule_ids": [2]}))
        .await
        .expect(200);
    crate::assert_required(&filed, "Report", &["id", "action_taken", "category", "comment", "forwarded", "created_at", "target_account"]);
    assert_eq!((filed["category"].clone(), filed["rule_ids"].clone(), filed["status_ids"].clone()), (json!("violation"), json!(["2"]), json!([id(&post)])));
    assert_eq!((filed["target_account"]["id"].clone(), filed["action_taken"].clone()), (json!(bob.id), json!(false)));
    // A form body, as Mastodon.py sends it, and the default category.
    let other =
        t.post_form("/api/v1/reports", Some(&alice.token), &[("account_id", &bob.id), ("status_ids[]", &id(&post)), ("comment", "hm")]).await.expect(200);
    assert_eq!(other["category"], "other");
}

#[tokio::test]
async fn bad_reports_are_refused_with_the_error_envelope() {
    let t = TestApp::spawn_with(rules).await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let carols = t.post_status(&carol, json!({"status": "not bob's"})).await;
    let secret = t.post_status(&bob, json!({"status": "hidden", "visibility": "private"})).await;
    for (body, status) in [
        (json!({"account_id": alice.id}), 422),
        (json!({}), 422),
        (json!({"account_id": "123456789"}), 404),
        (json!({"account_id": bob.id, "status_ids": [id(&carols)]}), 422),
        (json!({"account_id": bob.id, "status_ids": [id(&secret)]}), 404),
        (json!({"account_id": bob.id, "category": "rude"}), 422),
        (json!({"account_id": bob.id, "category": "violation"}), 422),
        (json!({"account_id": bob.id, "category": "violation", "rule_ids": ["9"]}), 422),
        (json!({"account_id": bob.id, "comment": "x".repeat(1001)}), 422),
    ] {
        let reply = report(&t, &alice, body.clone()).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {:?}", reply.body);
        assert!(!reply.error().is_empty(), "{body}");
    }
    let read_only = t.token_with_scopes(&alice, "read").await;
    t.post("/api/v1/reports", Some(&read_only), json!({"account_id": bob.id})).await.expect(403);
}

#[tokio::test]
async fn the_admin_api_needs_a_staff_role_and_admin_scopes() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let not_staff = admin_token(&t, &alice).await;
    for path in ["/api/v1/admin/accounts", "/api/v2/admin/accounts", "/api/v1/admin/reports", &format!("/api/v1/admin/accounts/{}", bob.id)] {
        let reply = t.get(path, Some(&not_staff)).await;
        assert_eq!(reply.status.as_u16(), 403, "{path}");
        assert!(!reply.error().is_empty());
        t.get(path, None).await.expect(401);
    }
    act(&t, &not_staff, &bob, "suspend").await.expect(403);
    // Staff, but the token lacks the admin scopes: still refused.
    staff(&t, &alice, Role::Admin).await;
    t.get("/api/v1/admin/accounts", Some(&alice.token)).await.expect(403);
    act(&t, &alice.token, &bob, "suspend").await.expect(403);
    t.get(&format!("/api/v1/accounts/{}", bob.id), None).await.expect(200);
}

#[tokio::test]
async fn admins_list_and_filter_accounts_and_see_their_roles() {
    let t = TestApp::spawn().await;
    let [admin, bob, carol] = t.register_all(["adam", "bob", "carol"]).await;
    let token = staff(&t, &admin, Role::Admin).await;
    let all = t.get("/api/v1/admin/accounts", Some(&token)).await.expect(200);
    assert_eq!(ids(&all), vec![carol.id.clone(), bob.id.clone(), admin.id.clone()]);
    crate::assert_required(
        &all[0],
        "Admin::Account",
        &["id", "username", "created_at", "email", "role", "confirmed", "approved", "disabled", "silenced", "suspended", "account"],
    );
    assert_eq!(all[2]["email"], "adam@example.org");
    assert_eq!((all[2]["role"]["name"].clone(), all[2]["role"]["id"].clone()), (json!("Admin"), json!("2")));
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&admin.token)).await.expect(200);
    assert_eq!(me["role"]["name"], "Admin");
    assert_eq!(ids(&t.get("/api/v2/admin/accounts?permissions=staff", Some(&token)).await.expect(200)), vec![admin.id.clone()]);
    assert_eq!(ids(&t.get("/api/v1/admin/accounts?staff=true", Some(&token)).await.expect(200)), vec![admin.id.clone()]);
    assert_eq!(ids(&t.get("/api/v2/admin/accounts?username=bo", Some(&token)).await.expect(200)), vec![bob.id.clone()]);
    assert!(ids(&t.get("/api/v2/admin/accounts?origin=remote", Some(&token)).await.expect(200)).is_empty());
    let page = t.get("/api/v1/admin/accounts?limit=2", Some(&token)).await;
    assert_eq!(ids(&page.body), vec![carol.id.clone(), bob.id.clone()]);
    assert!(link(&page, "next").is_some());
    act(&t, &token, &bob, "silence").await.expect(200);
    assert_eq!(ids(&t.get("/api/v2/admin/accounts?status=silenced", Some(&token)).await.expect(200)), vec![bob.id.clone()]);
    let one = t.get(&format!("/api/v1/admin/accounts/{}", bob.id), Some(&token)).await.expect(200);
    assert_eq!((one["silenced"].clone(), one["suspended"].clone()), (json!(true), json!(false)));
    t.get("/api/v2/admin/accounts?status=sleeping", Some(&token)).await.expect(422);
    act(&t, &token, &bob, "explode").await.expect(422);
    t.get("/api/v1/admin/accounts/123456789", Some(&token)).await.expect(404);
}

#[tokio::test]
async fn a_suspension_makes_the_account_vanish_and_ends_its_sessions_and_streams_at_once() {
    let t = TestApp::spawn().await;
    let [admin, bob, carol] = t.register_all(["adam", "bob", "carol"]).await;
    let token = staff(&t, &admin, Role::Moderator).await;
    t.follow(&carol, &bob).await;
    let post = t.post_status(&bob, json!({"status": "soon gone"})).await;
    let boost = t.post(&format!("/api/v1/statuses/{}/reblog", id(&post)), Some(&carol.token), json!({})).await.expect(200);
    assert!(t.home_ids(&carol).await.contains(&id(&post)));
    let mut stream = Sse::open(&t, "/api/v1/streaming/user", Some(&bob.token)).await;

    act(&t, &token, &bob, "suspend").await.expect(200);
    assert!(stream.ends_within(Duration::from_secs(2)).await, "the open stream closed");
    t.get("/api/v1/accounts/verify_credentials", Some(&bob.token)).await.expect(401);
    let (client, secret) = t.create_app("read").await;
    let login = json!({"grant_type": "password", "client_id": client, "client_secret": secret, "username": "bob", "password": PASSWORD});
    assert!(t.post("/oauth/token", None, login.clone()).await.status.is_client_error(), "no new session either");
    for reader in [Some(carol.token.as_str()), None] {
        t.get(&format!("/api/v1/accounts/{}", bob.id), reader).await.expect(404);
        t.get(&format!("/api/v1/statuses/{}", id(&post)), reader).await.expect(404);
        let public = ids(&t.get("/api/v1/timelines/public", reader).await.expect(200));
        assert!(!public.contains(&id(&post)));
    }
    let home = t.home_ids(&carol).await;
    assert!(!home.contains(&id(&post)) && !home.contains(&id(&boost)), "{home:?}");
    let found = t.get("/api/v2/search?q=gone", Some(&carol.token)).await.expect(200);
    assert!(ids(&found["statuses"]).is_empty() && ids(&found["accounts"]).is_empty(), "{found}");
    // Moderators still see it, marked suspended.
    let view = t.get(&format!("/api/v1/admin/accounts/{}", bob.id), Some(&token)).await.expect(200);
    assert_eq!((view["suspended"].clone(), view["account"].clone()), (json!(true), Value::Null));

    let undone = t.post(&format!("/api/v1/admin/accounts/{}/unsuspend", bob.id), Some(&token), json!({})).await.expect(200);
    assert_eq!(undone["suspended"], false);
    t.get(&format!("/api/v1/statuses/{}", id(&post)), None).await.expect(200);
    t.post("/oauth/token", None, login).await.expect(200);
    // The suspension purged the account's statuses from cached homes (reads had dropped them
    // already): they stay out.
    assert!(!t.home_ids(&carol).await.contains(&id(&post)));
}

#[tokio::test]
async fn a_silenced_account_leaves_public_feeds_but_reaches_its_followers() {
    let t = TestApp::spawn().await;
    let [admin, bob, carol, dave] = t.register_all(["adam", "bob", "carol", "dave"]).await;
    let token = staff(&t, &admin, Role::Admin).await;
    t.follow(&carol, &bob).await;
    act(&t, &token, &bob, "silence").await.expect(200);
    let post = t.post_status(&bob, json!({"status": "quietly #news"})).await;
    t.settle().await;
    for reader in [Some(&dave), None] {
        let token = reader.map(|u| u.token.as_str());
        assert!(!ids(&t.get("/api/v1/timelines/public", token).await.expect(200)).contains(&id(&post)));
        assert!(!ids(&t.get("/api/v1/timelines/tag/news", token).await.expect(200)).contains(&id(&post)));
    }
    assert!(ids(&t.get("/api/v1/timelines/public", Some(&carol.token)).await.expect(200)).contains(&id(&post)), "a follower sees it");
    assert!(t.home_ids(&carol).await.contains(&id(&post)));
    assert!(ids(&t.get("/api/v1/timelines/public", Some(&bob.token)).await.expect(200)).contains(&id(&post)), "the author sees it");
    t.post(&format!("/api/v1/admin/accounts/{}/unsilence", bob.id), Some(&token), json!({})).await.expect(200);
    assert!(ids(&t.get("/api/v1/timelines/public", None).await.expect(200)).contains(&id(&post)));
}

#[tokio::test]
async fn a_disabled_account_keeps_its_profile_but_no_session_works() {
    let t = TestApp::spawn().await;
    let [admin, bob] = t.register_all(["adam", "bob"]).await;
    let token = staff(&t, &admin, Role::Admin).await;
    let post = t.post_status(&bob, json!({"status": "still here"})).await;
    act(&t, &token, &bob, "disable").await.expect(200);
    t.get("/api/v1/accounts/verify_credentials", Some(&bob.token)).await.expect(401);
    t.get(&format!("/api/v1/statuses/{}", id(&post)), None).await.expect(200);
    t.get(&format!("/api/v1/accounts/{}", bob.id), None).await.expect(200);
    t.post(&format!("/api/v1/admin/accounts/{}/enable", bob.id), Some(&token), json!({})).await.expect(200);
    t.get("/api/v1/accounts/verify_credentials", Some(&bob.token)).await.expect(200);
}

#[tokio::test]
async fn a_sensitized_accounts_media_show_as_sensitive() {
    let t = TestApp::spawn().await;
    let [admin, bob] = t.register_all(["adam", "bob"]).await;
    let token = staff(&t, &admin, Role::Admin).await;
    let media = crate::media::uploaded_png(&t, &bob).await;
    let post = t.post_status(&bob, json!({"status": "look", "media_ids": [media]})).await;
    let text_only = t.post_status(&bob, json!({"status": "just words"})).await;
    assert_eq!(post["sensitive"], false);
    act(&t, &token, &bob, "sensitive").await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/statuses/{}", id(&post)), None).await.expect(200)["sensitive"], true);
    assert_eq!(t.get(&format!("/api/v1/statuses/{}", id(&text_only)), None).await.expect(200)["sensitive"], false);
    t.post(&format!("/api/v1/admin/accounts/{}/unsensitive", bob.id), Some(&token), json!({})).await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/statuses/{}", id(&post)), None).await.expect(200)["sensitive"], false);
}

#[tokio::test]
async fn nobody_moderates_their_peers_or_superiors() {
    let t = TestApp::spawn().await;
    let [owner, admin, moderator, other] = t.register_all(["olive", "adam", "mona", "otto"]).await;
    staff(&t, &owner, Role::Owner).await;
    let admin_token = staff(&t, &admin, Role::Admin).await;
    let moderator_token = staff(&t, &moderator, Role::Moderator).await;
    staff(&t, &other, Role::Moderator).await;
    act(&t, &moderator_token, &admin, "suspend").await.expect(403);
    act(&t, &moderator_token, &other, "silence").await.expect(403);
    act(&t, &moderator_token, &moderator, "disable").await.expect(403);
    act(&t, &admin_token, &owner, "suspend").await.expect(403);
    act(&t, &admin_token, &moderator, "silence").await.expect(200);
}

#[tokio::test]
async fn moderators_work_through_reports_and_the_reporter_never_learns_the_outcome() {
    let t = TestApp::spawn_with(rules).await;
    let [admin, alice, bob] = t.register_all(["adam", "alice", "bob"]).await;
    let token = staff(&t, &admin, Role::Admin).await;
    let public = t.post_status(&bob, json!({"status": "rude in public"})).await;
    let filed = report(&t, &alice, json!({"account_id": bob.id, "status_ids": [id(&public)], "category": "violation", "rule_ids": ["1"], "comment": "mean"}))
        .await
        .expect(200);
    let open = t.get("/api/v1/admin/reports", Some(&token)).await.expect(200);
    assert_eq!(ids(&open), vec![id(&filed)]);
    let shown = &open[0];
    crate::assert_required(
        shown,
        "Admin::Report",
        &["id", "action_taken", "category", "comment", "forwarded", "created_at", "updated_at", "account", "target_account", "statuses", "rules"],
    );
    assert_eq!((shown["account"]["id"].clone(), shown["target_account"]["id"].clone()), (json!(alice.id), json!(bob.id)));
    assert_eq!((shown["statuses"][0]["id"].clone(), shown["rules"][0]["text"].clone()), (json!(id(&public)), json!("Be kind")));
    assert_eq!(ids(&t.get(&format!("/api/v1/admin/reports?target_account_id={}", bob.id), Some(&token)).await.expect(200)), vec![id(&filed)]);
    assert!(ids(&t.get(&format!("/api/v1/admin/reports?account_id={}", bob.id), Some(&token)).await.expect(200)).is_empty());

    let assigned = t.post(&format!("/api/v1/admin/reports/{}/assign_to_self", id(&filed)), Some(&token), json!({})).await.expect(200);
    assert_eq!(assigned["assigned_account"]["id"], admin.id.as_str());
    let unassigned = t.post(&format!("/api/v1/admin/reports/{}/unassign", id(&filed)), Some(&token), json!({})).await.expect(200);
    assert!(unassigned["assigned_account"].is_null());
    // Acting on the report's behalf resolves it.
    t.post(&format!("/api/v1/admin/accounts/{}/action", bob.id), Some(&token), json!({"type": "silence", "report_id": id(&filed)})).await.expect(200);
    assert!(ids(&t.get("/api/v1/admin/reports", Some(&token)).await.expect(200)).is_empty());
    let resolved = t.get("/api/v1/admin/reports?resolved=true", Some(&token)).await.expect(200);
    assert_eq!((resolved[0]["action_taken"].clone(), resolved[0]["action_taken_by_account"]["id"].clone()), (json!(true), json!(admin.id)));
    let reopened = t.post(&format!("/api/v1/admin/reports/{}/reopen", id(&filed)), Some(&token), json!({})).await.expect(200);
    assert_eq!(reopened["action_taken"], false);
    let again = t.post(&format!("/api/v1/admin/reports/{}/resolve", id(&filed)), Some(&token), json!({})).await.expect(200);
    assert_eq!(again["action_taken"], true);
    // Nothing tells the reporter: there is no route for a user to read reports.
    assert_eq!(t.get("/api/v1/reports", Some(&alice.token)).await.status.as_u16(), 405);
    t.get(&format!("/api/v1/admin/reports/{}", id(&filed)), Some(&alice.token)).await.expect(403);
    t.get("/api/v1/admin/reports/123456789", Some(&token)).await.expect(404);
}

#[tokio::test]
async fn the_command_line_creates_a_first_admin_and_changes_roles() {
    let dir = tempfile::tempdir().unwrap();
    let starling = env!("CARGO_BIN_EXE_starling");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(starling).args(args).arg("--data-dir").arg(dir.path()).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, out, err) = run(&["accounts", "create", "boss", "--email", "boss@example.org", "--role", "admin", "--password", PASSWORD]);
    assert!(ok && out.contains("created boss"), "{out}{err}");
    let (ok, _, err) = run(&["accounts", "create", "boss", "--email", "other@example.org"]);
    assert!(!ok && err.contains("taken"), "{err}");
    let (ok, out, err) = run(&["accounts", "create", "helper", "--email", "helper@example.org"]);
    assert!(ok && out.contains("password: "), "a generated password is printed: {out}{err}");
    let (ok, _, err) = run(&["accounts", "modify", "nobody", "--role", "admin"]);
    assert!(!ok && err.contains("nobody"), "{err}");
    let (ok, _, err) = run(&["accounts", "modify", "helper", "--role", "wizard"]);
    assert!(!ok && err.contains("unknown role"), "{err}");
    let (ok, out, err) = run(&["accounts", "modify", "helper", "--role", "moderator"]);
    assert!(ok && out.contains("moderator"), "{out}{err}");

    let t = TestApp::spawn_in(dir, |_| {}).await;
    let boss = User { id: String::new(), username: "boss".into(), token: String::new() };
    let token = admin_token(&t, &boss).await;
    let accounts = t.get("/api/v2/admin/accounts?permissions=staff", Some(&token)).await.expect(200);
    let roles: Vec<&str> = accounts.as_array().unwrap().iter().map(|a| a["role"]["name"].as_str().unwrap()).collect();
    assert_eq!(roles, vec!["Moderator", "Admin"]);
}

#[tokio::test]
async fn where_sign_ups_need_approval_a_moderator_approves_or_rejects_each() {
    let t = TestApp::spawn_with(|s| {
        let mut instance = s.core_config().instance;
        instance.registrations = core_app::config::Registrations::Approval;
        s.instance = Some(instance);
    })
    .await;
    let v2 = t.get("/api/v2/instance", None).await.expect(200);
    assert_eq!((v2["registrations"]["enabled"].clone(), v2["registrations"]["approval_required"].clone()), (json!(true), json!(true)));
    assert_eq!(t.get("/api/v1/instance", None).await.expect(200)["approval_required"], true);
    // The first admin comes from the command line, approved; the rest sign up and wait.
    let admin_id = core_app::admin::service::create_account(&t.app, "adam", "adam@example.org", PASSWORD, Role::Admin).await.unwrap();
    let adam = User { id: admin_id.to_string(), username: "adam".into(), token: String::new() };
    let token = admin_token(&t, &adam).await;
    let app_token = t.app_token("read write").await;
    let mut pending = Vec::new();
    for name in ["bob", "carol"] {
        let body =
            json!({"username": name, "email": format!("{name}@example.org"), "password": PASSWORD, "agreement": true, "reason": format!("{name} wants in")});
        let signed_up = t.post("/api/v1/accounts", Some(&app_token), body).await.expect(200);
        let user_token = signed_up["access_token"].as_str().unwrap().to_owned();
        t.get("/api/v1/accounts/verify_credentials", Some(&user_token)).await.expect(401);
        pending.push(user_token);
    }
    let waiting = t.get("/api/v2/admin/accounts?status=pending", Some(&token)).await.expect(200);
    let names: Vec<&str> = waiting.as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["carol", "bob"]);
    assert_eq!((waiting[1]["approved"].clone(), waiting[1]["invite_request"].clone()), (json!(false), json!("bob wants in")));
    let (bob_id, carol_id) = (waiting[1]["id"].as_str().unwrap().to_owned(), waiting[0]["id"].as_str().unwrap().to_owned());
    t.get(&format!("/api/v1/accounts/{bob_id}"), None).await.expect(404);

    let approved = t.post(&format!("/api/v1/admin/accounts/{bob_id}/approve"), Some(&token), json!({})).await.expect(200);
    assert_eq!(approved["approved"], true);
    t.get("/api/v1/accounts/verify_credentials", Some(&pending[0])).await.expect(200);
    t.get(&format!("/api/v1/accounts/{bob_id}"), None).await.expect(200);
    let rejected = t.post(&format!("/api/v1/admin/accounts/{carol_id}/reject"), Some(&token), json!({})).await.expect(200);
    assert_eq!(rejected["suspended"], true);
    t.get("/api/v1/accounts/verify_credentials", Some(&pending[1])).await.expect(401);
    // Only pending accounts are approved or rejected.
    t.post(&format!("/api/v1/admin/accounts/{bob_id}/reject"), Some(&token), json!({})).await.expect(403);
    assert!(ids(&t.get("/api/v2/admin/accounts?status=pending", Some(&token)).await.expect(200)).is_empty());
}
