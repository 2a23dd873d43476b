use serde_json::{Value, json};

use crate::{PASSWORD, TestApp, User, assert_required, id, ids, link, schema};

fn sign_up(username: &str, email: &str) -> Value {
    json!({"username": username, "email": email, "password": PASSWORD, "agreement": true})
}

async fn account(t: &TestApp, user: &User) -> Value {
    t.get(&format!("/api/v1/accounts/{}", user.id), None).await.expect(200)
}

// Registration.

#[tokio::test]
async fn signing_up_returns_a_token_for_the_new_account() {
    let t = TestApp::spawn().await;
    let app_token = t.app_token("read write follow").await;
    let token = t.post("/api/v1/accounts", Some(&app_token), sign_up("Alice_1", "alice@example.org")).await.expect(200);
    assert_required(&token, "Token", schema::TOKEN);
    assert_eq!(token["scope"], "follow read write", "the token gets the app's scopes");
    let me = t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(200);
    assert_eq!(me["username"], "Alice_1", "the username keeps its case");
    assert_eq!(me["acct"], "Alice_1");
    assert_eq!(me["statuses_count"], 0);
}

#[tokio::test]
async fn signing_up_accepts_a_form_body() {
    let t = TestApp::spawn().await;
    let app_token = t.app_token("read write").await;
    let form = [("username", "alice"), ("email", "alice@example.org"), ("password", PASSWORD), ("agreement", "1"), ("locale", "fr")];
    let token = t.post_form("/api/v1/accounts", Some(&app_token), &form).await.expect(200);
    let me = t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(200);
    assert_eq!(me["source"]["language"], "fr");
}

#[tokio::test]
async fn a_username_taken_in_another_case_is_refused() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let app_token = t.app_token("read write").await;
    let reply = t.post("/api/v1/accounts", Some(&app_token), sign_up("ALICE", "other@example.org")).await;
    assert_eq!(reply.error(), "Validation failed: Username has already been taken");
    reply.expect(422);
    // Nothing of the refused sign-up remains: its e-mail is still free.
    t.post("/api/v1/accounts", Some(&app_token), sign_up("carol", "other@example.org")).await.expect(200);
}

#[tokio::test]
async fn an_email_already_in_use_is_refused_in_any_case() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let app_token = t.app_token("read write").await;
    let reply = t.post("/api/v1/accounts", Some(&app_token), sign_up("alice2", "ALICE@Example.ORG")).await;
    assert_eq!(reply.error(), "Validation failed: Email has already been taken");
    reply.expect(422);
    t.get("/api/v1/accounts/lookup?acct=alice2", None).await.expect(404);
}

#[tokio::test]
async fn a_malformed_or_reserved_username_is_refused() {
    let t = TestApp::spawn().await;
    let app_token = t.app_token("read write").await;
    for (i, username) in ["", "has space", "dash-ed", "émile", "a".repeat(31).as_str(), "admin", "Root"].into_iter().enumerate() {
        let reply = t.post("/api/v1/accounts", Some(&app_token), sign_up(username, &format!("u{i}@example.org"))).await;
        assert!(reply.error().starts_with("Validation failed: username"), "{username:?}: {}", reply.body);
        reply.expect(422);
    }
    t.post("/api/v1/accounts", Some(&app_token), sign_up(&"a".repeat(30), "long@example.org")).await.expect(200);
}

#[tokio::test]
async fn a_password_that_is_too_short_or_too_long_is_refused() {
    let t = TestApp::spawn().await;
    let app_token = t.app_token("read write").await;
    for password in ["short".to_owned(), "1234567".to_owned(), "x".repeat(73)] {
        let reply = t
            .post("/api/v1/accounts", Some(&app_token), json!({"username": "alice", "email": "alice@example.org", "password": password, "agreement": true}))
            .await;
        assert!(reply.error().contains("password"), "{}", reply.body);
        reply.expect(422);
    }
}

#[tokio::test]
async fn an_invalid_email_is_refused() {
    let t = TestApp::spawn().await;
    let app_token = t.app_token("read write").await;
    for email in ["", "alice", "alice@localhost", "al ice@example.org", "@example.org"] {
        let reply = t.post("/api/v1/accounts", Some(&app_token), sign_up("alice", email)).await;
        assert_eq!(reply.status, 422, "{email:?}: {}", reply.body);
    }
}

#[tokio::test]
async fn signing_up_without_accepting_the_agreement_is_refused() {
    let t = TestApp::spawn().await;
    let app_token = t.app_token("read write").await;
    for agreement in [json!(false), json!(null), json!("0")] {
        let reply = t
            .post(
                "/api/v1/accounts",
                Some(&app_token),
                json!({"username": "alice", "email": "alice@example.org", "password": PASSWORD, "agreement": agreement}),
            )
            .await;
        assert_eq!(reply.error(), "Validation failed: Agreement must be accepted");
        reply.expect(422);
    }
}

#[tokio::test]
async fn signing_up_needs_a_token_with_write_accounts() {
    let t = TestApp::spawn().await;
    let body = sign_up("bob", "bob@example.org");
    t.post("/api/v1/accounts", None, body.clone()).await.expect(401);
    let read_app = t.app_token("read").await;
    t.post("/api/v1/accounts", Some(&read_app), body.clone()).await.expect(403);
    let alice = t.register("alice").await;
    let read_user = t.token_with_scopes(&alice, "read write:statuses").await;
    let reply = t.post("/api/v1/accounts", Some(&read_user), body).await;
    assert_eq!(reply.error(), "This action is outside the authorized scopes");
    reply.expect(403);
    t.get("/api/v1/accounts/lookup?acct=bob", None).await.expect(404);
}

// The signed-in account.

#[tokio::test]
async fn verify_credentials_returns_the_account_with_its_source() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_required(&me, "CredentialAccount", schema::CREDENTIAL_ACCOUNT);
    assert_eq!(me["id"], alice.id.as_str());
    assert_eq!(me["source"]["privacy"], "public");
    assert_eq!(me["source"]["sensitive"], false);
    assert_eq!(me["source"]["note"], "");
    assert_eq!(me["source"]["fields"], json!([]));
    assert_eq!(me["avatar"], format!("{}/avatars/original/missing.png", t.base));
    let public = account(&t, &alice).await;
    assert!(public.get("source").is_none(), "only the owner sees the source");
    assert_required(&public, "Account", schema::ACCOUNT);
}

#[tokio::test]
async fn updating_display_name_and_note_as_a_form() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let me = t
        .patch_form(
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
            &[("display_name", "  Alice A.  "), ("note", "Hello <world>\n\nSecond https://example.org")],
        )
        .await
        .expect(200);
    assert_eq!(me["display_name"], "Alice A.");
    let note = me["note"].as_str().unwrap();
    assert!(note.starts_with("<p>Hello &lt;world&gt;</p><p>Second <a href=\"https://example.org\""), "{note}");
    assert_eq!(me["source"]["note"], "Hello <world>\n\nSecond https://example.org");
    let public = account(&t, &alice).await;
    assert_eq!(public["display_name"], "Alice A.");
    assert_eq!(public["note"], me["note"]);
}

#[tokio::test]
async fn updating_profile_fields_as_a_form() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let form = [
        ("fields_attributes[0][name]", "Website"),
        ("fields_attributes[0][value]", "https://alice.example"),
        ("fields_attributes[1][name]", "Pronouns"),
        ("fields_attributes[1][value]", "she/her"),
    ];
    let me = t.patch_form("/api/v1/accounts/update_credentials", Some(&alice.token), &form).await.expect(200);
    assert_eq!(me["fields"][0]["name"], "Website");
    assert_eq!(me["fields"][1]["value"], "she/her");
    assert_eq!(me["fields"].as_array().unwrap().len(), 2);
    assert_eq!(me["source"]["fields"][0]["value"], "https://alice.example");
    assert_eq!(account(&t, &alice).await["fields"][1]["name"], "Pronouns");
}

#[tokio::test]
async fn updating_profile_fields_as_json_arrays_or_indexed_objects() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let me = t
        .patch(
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
            json!({"fields_attributes": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}),
        )
        .await
        .expect(200);
    assert_eq!(me["source"]["fields"], json!([{"name": "a", "value": "1", "verified_at": null}, {"name": "b", "value": "2", "verified_at": null}]));
    let me = t
        .patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"fields_attributes": {"0": {"name": "only", "value": "one"}}}))
        .await
        .expect(200);
    assert_eq!(me["fields"].as_array().unwrap().len(), 1);
    assert_eq!(me["fields"][0]["name"], "only");
    // Fields not mentioned stay as they are.
    let me = t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"display_name": "Alice"})).await.expect(200);
    assert_eq!(me["fields"][0]["name"], "only");
}

#[tokio::test]
async fn profile_text_is_escaped_when_rendered() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let me = t
        .patch(
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
            json!({"fields_attributes": [{"name": "<b>x</b>", "value": "\"quoted\" & <i>"}], "note": "<script>alert(1)</script>"}),
        )
        .await
        .expect(200);
    assert_eq!(me["fields"][0]["name"], "&lt;b&gt;x&lt;/b&gt;");
    assert_eq!(me["fields"][0]["value"], "&quot;quoted&quot; &amp; &lt;i&gt;");
    assert!(!me["note"].as_str().unwrap().contains("<script>"));
    assert_eq!(me["source"]["fields"][0]["name"], "<b>x</b>", "the source keeps what was written");
}

#[tokio::test]
async fn too_many_profile_fields_are_refused_and_nothing_changes() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let fields: Vec<Value> = (0..5).map(|i| json!({"name": format!("n{i}"), "value": "v"})).collect();
    let reply = t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"display_name": "Changed", "fields_attributes": fields})).await;
    assert!(reply.error().starts_with("Validation failed"));
    reply.expect(422);
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["display_name"], "");
    assert_eq!(me["fields"], json!([]));
    let four: Vec<Value> = (0..4).map(|i| json!({"name": format!("n{i}"), "value": "v"})).collect();
    t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"fields_attributes": four})).await.expect(200);
}

#[tokio::test]
async fn over_long_profile_values_are_refused() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for body in [
        json!({"display_name": "x".repeat(31)}),
        json!({"note": "x".repeat(501)}),
        json!({"fields_attributes": [{"name": "x".repeat(256), "value": "v"}]}),
        json!({"source": {"privacy": "secret"}}),
    ] {
        let reply = t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
    }
    t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"display_name": "x".repeat(30), "note": "x".repeat(500)})).await.expect(200);
}

#[tokio::test]
async fn source_privacy_sets_the_default_visibility_of_new_posts() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let me = t.patch_form("/api/v1/accounts/update_credentials", Some(&alice.token), &[("source[privacy]", "private")]).await.expect(200);
    assert_eq!(me["source"]["privacy"], "private");
    assert_eq!(t.post_status(&alice, json!({"status": "followers only"})).await["visibility"], "private");
    let me =
        t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"source": {"privacy": "unlisted", "sensitive": true}})).await.expect(200);
    assert_eq!(me["source"]["privacy"], "unlisted");
    assert_eq!(me["source"]["sensitive"], true);
    let post = t.post_status(&alice, json!({"status": "quiet"})).await;
    assert_eq!(post["visibility"], "unlisted");
    assert_eq!(post["sensitive"], true);
    assert_eq!(t.post_status(&alice, json!({"status": "loud", "visibility": "public"})).await["visibility"], "public");
}

#[tokio::test]
async fn profile_flags_are_updated_from_form_booleans() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let me = t
        .patch_form("/api/v1/accounts/update_credentials", Some(&alice.token), &[("bot", "1"), ("discoverable", "false"), ("hide_collections", "true")])
        .await
        .expect(200);
    assert_eq!(me["bot"], true);
    assert_eq!(me["discoverable"], false);
    assert_eq!(me["source"]["hide_collections"], true);
}

#[tokio::test]
async fn update_credentials_needs_write_accounts() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    t.patch("/api/v1/accounts/update_credentials", None, json!({"display_name": "x"})).await.expect(401);
    let read_only = t.token_with_scopes(&alice, "read").await;
    t.patch("/api/v1/accounts/update_credentials", Some(&read_only), json!({"display_name": "x"})).await.expect(403);
    assert_eq!(account(&t, &alice).await["display_name"], "");
}

// Looking accounts up.

#[tokio::test]
async fn an_account_is_shown_to_anyone_by_id() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let shown = account(&t, &alice).await;
    assert_eq!(shown["username"], "alice");
    assert_eq!(shown["url"], format!("{}/@alice", t.base));
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", alice.id), Some(&bob.token)).await.expect(200)["id"], alice.id.as_str());
}

#[tokio::test]
async fn an_unknown_or_malformed_account_id_is_404() {
    let t = TestApp::spawn().await;
    for path in ["/api/v1/accounts/123456789", "/api/v1/accounts/abc", "/api/v1/accounts/-1", "/api/v1/accounts/99999999999999999999999"] {
        let reply = t.get(path, None).await;
        assert_eq!(reply.error(), "Record not found", "{path}");
        reply.expect(404);
    }
}

#[tokio::test]
async fn lookup_finds_a_local_account_by_acct_in_any_form() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let domain = t.app.config().instance.domain.clone();
    for acct in ["alice".to_owned(), "@alice".to_owned(), "ALICE".to_owned(), format!("alice@{domain}"), format!("@alice@{}", domain.to_uppercase())] {
        let found = t.get(&format!("/api/v1/accounts/lookup?acct={acct}"), None).await.expect(200);
        assert_eq!(found["id"], alice.id.as_str(), "{acct}");
    }
}

#[tokio::test]
async fn lookup_of_an_unknown_or_remote_acct_is_404() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    for query in ["acct=bob", "acct=alice@elsewhere.example", "acct=", "", "acct=not%20valid"] {
        t.get(&format!("/api/v1/accounts/lookup?{query}"), None).await.expect(404);
    }
}

// Relationships and follows.

#[tokio::test]
async fn relationships_are_returned_for_each_requested_account_in_order() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&carol, &alice).await;
    let rels = t.get(&format!("/api/v1/accounts/relationships?id[]={}&id[]={}", bob.id, carol.id), Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&rels), vec![bob.id.clone(), carol.id.clone()]);
    assert_required(&rels[0], "Relationship", schema::RELATIONSHIP);
    assert_eq!((rels[0]["following"].clone(), rels[0]["followed_by"].clone()), (json!(true), json!(false)));
    assert_eq!((rels[1]["following"].clone(), rels[1]["followed_by"].clone()), (json!(false), json!(true)));
    let single = t.get(&format!("/api/v1/accounts/relationships?id={}", bob.id), Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&single), vec![bob.id.clone()]);
}

#[tokio::test]
async fn relationships_skip_unknown_and_malformed_ids() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let rels = t.get(&format!("/api/v1/accounts/relationships?id[]=123456789&id[]=junk&id[]={0}&id[]={0}", bob.id), Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&rels), vec![bob.id.clone()]);
    assert_eq!(t.get("/api/v1/accounts/relationships", Some(&alice.token)).await.expect(200), json!([]));
}

#[tokio::test]
async fn following_changes_the_counts_on_both_sides_and_unfollowing_restores_them() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let rel = t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&bob.token), json!({})).await.expect(200);
    assert_required(&rel, "Relationship", schema::RELATIONSHIP);
    assert_eq!(rel["id"], alice.id.as_str());
    assert_eq!(rel["following"], true);
    assert_eq!(rel["showing_reblogs"], true);
    assert_eq!(rel["notifying"], false);
    assert_eq!(account(&t, &alice).await["followers_count"], 1);
    assert_eq!(account(&t, &bob).await["following_count"], 1);
    let back = t.get(&format!("/api/v1/accounts/relationships?id[]={}", bob.id), Some(&alice.token)).await.expect(200);
    assert_eq!(back[0]["followed_by"], true);
    let rel = t.post(&format!("/api/v1/accounts/{}/unfollow", alice.id), Some(&bob.token), json!({})).await.expect(200);
    assert_eq!(rel["following"], false);
    assert_eq!(account(&t, &alice).await["followers_count"], 0);
    assert_eq!(account(&t, &bob).await["following_count"], 0);
}

#[tokio::test]
async fn following_twice_keeps_one_follow_and_updates_its_options() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    let rel = t.post_form(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&bob.token), &[("reblogs", "false"), ("notify", "true")]).await.expect(200);
    assert_eq!((rel["following"].clone(), rel["showing_reblogs"].clone(), rel["notifying"].clone()), (json!(true), json!(false), json!(true)));
    assert_eq!(account(&t, &alice).await["followers_count"], 1);
    assert_eq!(account(&t, &bob).await["following_count"], 1);
    let followers = t.get(&format!("/api/v1/accounts/{}/followers", alice.id), None).await.expect(200);
    assert_eq!(ids(&followers), vec![bob.id.clone()]);
}

#[tokio::test]
async fn following_yourself_is_forbidden() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&alice.token), json!({})).await.expect(403);
    assert_eq!(account(&t, &alice).await["following_count"], 0);
}

#[tokio::test]
async fn following_or_unfollowing_an_unknown_account_is_404() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for target in ["123456789", "junk"] {
        t.post(&format!("/api/v1/accounts/{target}/follow"), Some(&alice.token), json!({})).await.expect(404);
        t.post(&format!("/api/v1/accounts/{target}/unfollow"), Some(&alice.token), json!({})).await.expect(404);
    }
    assert_eq!(account(&t, &alice).await["following_count"], 0);
}

#[tokio::test]
async fn unfollowing_someone_not_followed_changes_nothing() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let rel = t.post(&format!("/api/v1/accounts/{}/unfollow", alice.id), Some(&bob.token), json!({})).await.expect(200);
    assert_eq!(rel["following"], false);
    assert_eq!(account(&t, &alice).await["followers_count"], 0);
    assert_eq!(account(&t, &bob).await["following_count"], 0);
}

#[tokio::test]
async fn followers_and_following_list_accounts_newest_follow_first() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&bob, &alice).await;
    t.follow(&carol, &alice).await;
    t.follow(&alice, &carol).await;
    let followers = t.get(&format!("/api/v1/accounts/{}/followers", alice.id), None).await.expect(200);
    assert_eq!(ids(&followers), vec![carol.id.clone(), bob.id.clone()]);
    assert_required(&followers[0], "Account", schema::ACCOUNT);
    let following = t.get(&format!("/api/v1/accounts/{}/following", alice.id), None).await.expect(200);
    assert_eq!(ids(&following), vec![carol.id.clone()]);
    assert_eq!(t.get(&format!("/api/v1/accounts/{}/following", bob.id), None).await.expect(200), json!([account(&t, &alice).await]));
}

#[tokio::test]
async fn followers_paginate_with_limit_and_link_headers() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let mut fans = Vec::new();
    for name in ["f1", "f2", "f3"] {
        let fan = t.register(name).await;
        t.follow(&fan, &alice).await;
        fans.push(fan);
    }
    let first = t.get(&format!("/api/v1/accounts/{}/followers?limit=1", alice.id), None).await;
    assert!(link(&first, "next").unwrap().contains("max_id="));
    assert!(link(&first, "next").unwrap().contains("limit=1"), "other parameters are kept");
    assert!(link(&first, "prev").unwrap().contains("min_id="));
    let second = t.follow_link(&first, "next", None).await;
    let third = t.follow_link(&second, "next", None).await;
    let pages: Vec<Vec<String>> = [&first, &second, &third].into_iter().map(|r| ids(&r.body)).collect();
    assert_eq!(pages, vec![vec![fans[2].id.clone()], vec![fans[1].id.clone()], vec![fans[0].id.clone()]]);
    let end = t.follow_link(&third, "next", None).await;
    assert!(link(&end, "next").is_none(), "an empty page has no links");
    assert_eq!(end.expect(200), json!([]));
    // And back: the prev link of the last page returns the page before it.
    let back = t.follow_link(&third, "prev", None).await;
    assert_eq!(ids(&back.expect(200)), vec![fans[1].id.clone()]);
}

#[tokio::test]
async fn following_paginates_with_link_headers() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let mut idols = Vec::new();
    for name in ["i1", "i2", "i3"] {
        let idol = t.register(name).await;
        t.follow(&alice, &idol).await;
        idols.push(idol.id);
    }
    let first = t.get(&format!("/api/v1/accounts/{}/following?limit=2", alice.id), Some(&alice.token)).await;
    let next = t.follow_link(&first, "next", Some(&alice.token)).await;
    assert_eq!(ids(&first.expect(200)), vec![idols[2].clone(), idols[1].clone()]);
    assert_eq!(ids(&next.expect(200)), vec![idols[0].clone()]);
}

#[tokio::test]
async fn follow_lists_of_an_unknown_account_are_404() {
    let t = TestApp::spawn().await;
    t.get("/api/v1/accounts/123456789/followers", None).await.expect(404);
    t.get("/api/v1/accounts/junk/following", None).await.expect(404);
}

#[tokio::test]
async fn hidden_collections_are_empty_to_others_but_not_the_owner() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    t.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({"hide_collections": true})).await.expect(200);
    assert_eq!(t.get(&format!("/api/v1/accounts/{}/followers", alice.id), Some(&bob.token)).await.expect(200), json!([]));
    assert_eq!(ids(&t.get(&format!("/api/v1/accounts/{}/followers", alice.id), Some(&alice.token)).await.expect(200)), vec![bob.id.clone()]);
}

// An account's statuses.

#[tokio::test]
async fn an_accounts_statuses_are_listed_newest_first_with_filters() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let bobs = t.post_status(&bob, json!({"status": "bob's"})).await;
    let first = t.post_status(&alice, json!({"status": "first #news"})).await;
    let reply = t.post_status(&alice, json!({"status": "reply", "in_reply_to_id": id(&bobs)})).await;
    let thread = t.post_status(&alice, json!({"status": "self-thread", "in_reply_to_id": id(&first)})).await;
    let boost = t.post(&format!("/api/v1/statuses/{}/reblog", id(&bobs)), Some(&alice.token), json!({})).await.expect(200);
    let path = format!("/api/v1/accounts/{}/statuses", alice.id);
    assert_eq!(ids(&t.get(&path, None).await.expect(200)), vec![id(&boost), id(&thread), id(&reply), id(&first)]);
    assert_eq!(
        ids(&t.get(&format!("{path}?exclude_replies=true"), None).await.expect(200)),
        vec![id(&boost), id(&thread), id(&first)],
        "threads are not replies to others"
    );
    assert_eq!(ids(&t.get(&format!("{path}?exclude_reblogs=true"), None).await.expect(200)), vec![id(&thread), id(&reply), id(&first)]);
    assert_eq!(ids(&t.get(&format!("{path}?tagged=News"), None).await.expect(200)), vec![id(&first)]);
    assert_eq!(t.get(&format!("{path}?pinned=true"), None).await.expect(200), json!([]));
    assert_eq!(t.get(&format!("{path}?only_media=true"), None).await.expect(200), json!([]));
    let page = t.get(&format!("{path}?limit=2"), None).await;
    let rest = t.follow_link(&page, "next", None).await;
    assert_eq!(ids(&rest.expect(200)), vec![id(&reply), id(&first)]);
}

#[tokio::test]
async fn an_accounts_private_statuses_are_listed_only_for_followers() {
    let t = TestApp::spawn().await;
    let [alice, follower, stranger] = t.register_all(["alice", "follower", "stranger"]).await;
    t.follow(&follower, &alice).await;
    let public = t.post_status(&alice, json!({"status": "public"})).await;
    let unlisted = t.post_status(&alice, json!({"status": "unlisted", "visibility": "unlisted"})).await;
    let private = t.post_status(&alice, json!({"status": "private", "visibility": "private"})).await;
    let direct = t.post_status(&alice, json!({"status": "@follower direct", "visibility": "direct"})).await;
    let path = format!("/api/v1/accounts/{}/statuses", alice.id);
    assert_eq!(ids(&t.get(&path, None).await.expect(200)), vec![id(&unlisted), id(&public)]);
    assert_eq!(ids(&t.get(&path, Some(&stranger.token)).await.expect(200)), vec![id(&unlisted), id(&public)]);
    assert_eq!(ids(&t.get(&path, Some(&follower.token)).await.expect(200)), vec![id(&direct), id(&private), id(&unlisted), id(&public)]);
    assert_eq!(ids(&t.get(&path, Some(&alice.token)).await.expect(200)), vec![id(&direct), id(&private), id(&unlisted), id(&public)]);
}

#[tokio::test]
async fn statuses_of_an_unknown_account_are_404() {
    let t = TestApp::spawn().await;
    t.get("/api/v1/accounts/123456789/statuses", None).await.expect(404);
    t.get("/api/v1/accounts/junk/statuses", None).await.expect(404);
}

/// A `multipart/form-data` body as browsers and many apps send profile updates.
fn multipart(parts: &[(&str, Option<&str>, &str)]) -> (String, String) {
    let boundary = "----starling-test-boundary";
    let mut body = String::new();
    for (name, filename, value) in parts {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""));
        if let Some(file) = filename {
            body.push_str(&format!("; filename=\"{file}\"\r\nContent-Type: image/png"));
        }
        body.push_str(&format!("\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn updating_credentials_accepts_multipart_text_fields_but_not_files() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let (content_type, body) =
        multipart(&[("display_name", None, "Multi Part"), ("fields_attributes[0][name]", None, "k"), ("fields_attributes[0][value]", None, "v")]);
    let url = format!("{}/api/v1/accounts/update_credentials", t.base);
    let response = t.http.patch(&url).bearer_auth(&alice.token).header("content-type", content_type).body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["display_name"], "Multi Part");
    assert_eq!(me["fields"][0]["value"], "v");
    let (content_type, body) = multipart(&[("avatar", Some("me.png"), "not really a png")]);
    let response = t.http.patch(&url).bearer_auth(&alice.token).header("content-type", content_type).body(body).send().await.unwrap();
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn a_malformed_body_is_refused_with_an_error_envelope() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let url = format!("{}/api/v1/accounts/update_credentials", t.base);
    let response = t.http.patch(&url).bearer_auth(&alice.token).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().starts_with("Invalid JSON body"));
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", alice.id), None).await.expect(200)["display_name"], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_follows_and_unfollows_all_succeed_and_leave_a_consistent_relationship() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    for round in 0..3 {
        let requests = (0..40).map(|i| {
            let action = if i % 2 == 0 { "follow" } else { "unfollow" };
            // Options on some follows make them update an existing edge.
            let body = if i % 4 == 0 { json!({"notify": round % 2 == 0}) } else { json!({}) };
            let (t, alice, bob) = (&t, &alice, &bob);
            async move { t.post(&format!("/api/v1/accounts/{}/{action}", alice.id), Some(&bob.token), body).await }
        });
        for reply in futures_util::future::join_all(requests).await {
            assert_eq!(reply.status, 200, "every request is answered, never a 500: {}", reply.body);
            assert_eq!(reply.body["id"], alice.id.as_str());
        }
        let relationships = t.get(&format!("/api/v1/accounts/relationships?id[]={}", alice.id), Some(&bob.token)).await.expect(200);
        let expected = usize::from(relationships[0]["following"].as_bool().unwrap());
        assert_eq!(account(&t, &alice).await["followers_count"], expected);
        assert_eq!(account(&t, &bob).await["following_count"], expected);
        let followers = t.get(&format!("/api/v1/accounts/{}/followers", alice.id), Some(&bob.token)).await.expect(200);
        let following = t.get(&format!("/api/v1/accounts/{}/following", bob.id), Some(&bob.token)).await.expect(200);
        assert_eq!(ids(&followers).len(), expected, "no orphaned follower entry");
        assert_eq!(ids(&following).len(), expected, "no orphaned following entry");
    }
}

// Profile pictures.

mod pictures {
    use std::io::Cursor;

    use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
    use image::{AnimationDecoder, DynamicImage, Frame, ImageFormat, RgbImage, RgbaImage};
    use reqwest::multipart::{Form, Part};
    use serde_json::Value;

    use crate::{Reply, TestApp, User};

    const SECRET: &[u8] = b"StarlingCam-SECRET";

    fn encode(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    /// A PNG carrying the secret in a chunk after its image data (decoders skip it; the
    /// pipeline must not keep it).
    fn png_with_secret(width: u32, height: u32) -> Vec<u8> {
        let mut png = encode(width, height, ImageFormat::Png);
        let iend = png.len() - 12;
        let mut chunk = (u32::try_from(SECRET.len()).unwrap()).to_be_bytes().to_vec();
        chunk.extend(b"zzZz");
        chunk.extend(SECRET);
        chunk.extend([0, 0, 0, 0]);
        png.splice(iend..iend, chunk);
        png
    }

    fn animated_gif(frames: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = GifEncoder::new(&mut out);
            encoder.set_repeat(Repeat::Infinite).unwrap();
            for i in 0..frames {
                let shade = u8::try_from(i * 80 % 256).unwrap();
                encoder.encode_frame(Frame::new(RgbaImage::from_pixel(120, 60, image::Rgba([shade, 255 - shade, 0, 255])))).unwrap();
            }
        }
        out
    }

    async fn update(t: &TestApp, user: &User, form: Form) -> Reply {
        let res = t.http.patch(format!("{}/api/v1/accounts/update_credentials", t.base)).bearer_auth(&user.token).multipart(form).send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }

    fn file(name: &str, bytes: Vec<u8>) -> Part {
        Part::bytes(bytes).file_name(name.to_owned()).mime_str("application/octet-stream").unwrap()
    }

    async fn fetch(t: &TestApp, url: &str) -> (u16, String, Vec<u8>) {
        let res = t.http.get(url).send().await.unwrap();
        let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        (res.status().as_u16(), kind, res.bytes().await.unwrap().to_vec())
    }

    fn size_of(bytes: &[u8]) -> (u32, u32) {
        let img = image::load_from_memory(bytes).unwrap();
        (img.width(), img.height())
    }

    fn picture_files(t: &TestApp) -> Vec<std::path::PathBuf> {
        crate::media::stored_files(t).into_iter().filter(|p| p.to_string_lossy().contains("/accounts/")).collect()
    }

    #[tokio::test]
    async fn avatar_and_header_are_cropped_stripped_served_replaced_and_removed() {
        let t = TestApp::spawn().await;
        let alice = t.register("alice").await;
        let before = t.get(&format!("/api/v1/accounts/{}", alice.id), None).await.expect(200);
        assert!(before["avatar"].as_str().unwrap().ends_with("/avatars/original/missing.png"), "{before}");
        let form = Form::new()
            .text("display_name", "Alice")
            .part("avatar", file("me.png", png_with_secret(800, 600)))
            .part("header", file("banner.jpg", encode(3000, 1200, ImageFormat::Jpeg)));
        let me = update(&t, &alice, form).await.expect(200);
        assert_eq!(me["display_name"], "Alice");
        let avatar = me["avatar"].as_str().unwrap().to_owned();
        assert!(avatar.starts_with(&format!("{}/system/accounts/{}/avatar/", t.base, alice.id)), "{avatar}");
        assert_eq!(me["avatar_static"], avatar, "a still picture is its own static version");
        let (status, kind, bytes) = fetch(&t, &avatar).await;
        assert_eq!((status, kind.as_str()), (200, "image/png"));
        assert_eq!(size_of(&bytes), (400, 400), "cropped to fill 400×400");
        assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET), "metadata is stripped");
        let header = me["header_static"].as_str().unwrap().to_owned();
        assert_eq!(me["header"], header);
        let (status, kind, bytes) = fetch(&t, &header).await;
        assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
        assert_eq!(size_of(&bytes), (1500, 500));
        // Every entity carries them: the public account, statuses' accounts.
        let public = t.get(&format!("/api/v1/accounts/{}", alice.id), None).await.expect(200);
        assert_eq!((public["avatar"].as_str(), public["header"].as_str()), (Some(avatar.as_str()), Some(header.as_str())));
        let status = t.post_status(&alice, serde_json::json!({"status": "new look"})).await;
        assert_eq!(status["account"]["avatar"], avatar);
        assert_eq!(picture_files(&t).len(), 2);

        // Replacing: a new URL, the old one gone with its file.
        let me = update(&t, &alice, Form::new().part("avatar", file("again.webp", encode(50, 100, ImageFormat::WebP)))).await.expect(200);
        let replaced = me["avatar"].as_str().unwrap().to_owned();
        assert_ne!(replaced, avatar);
        assert_eq!(me["header"], header, "the header stays");
        let (status, kind, bytes) = fetch(&t, &replaced).await;
        assert_eq!((status, kind.as_str()), (200, "image/webp"));
        assert_eq!(size_of(&bytes), (400, 400), "small pictures are scaled up, as Mastodon");
        assert_eq!(fetch(&t, &avatar).await.0, 404);
        assert_eq!(picture_files(&t).len(), 2);

        // Removing: back to the defaults; scope write:accounts.
        let reader = t.token_with_scopes(&alice, "read").await;
        assert_eq!(t.delete("/api/v1/profile/avatar", Some(&reader)).await.status, 403);
        let me = t.delete("/api/v1/profile/avatar", Some(&alice.token)).await.expect(200);
        assert!(me["avatar"].as_str().unwrap().ends_with("/avatars/original/missing.png"), "{me}");
        assert_eq!(me["avatar_static"], me["avatar"]);
        assert!(me["source"].is_object(), "the CredentialAccount");
        assert_eq!(me["header"], header);
        assert_eq!(fetch(&t, &replaced).await.0, 404);
        let me = t.delete("/api/v1/profile/header", Some(&alice.token)).await.expect(200);
        assert!(me["header"].as_str().unwrap().ends_with("/headers/original/missing.png"), "{me}");
        assert_eq!(fetch(&t, &header).await.0, 404);
        assert!(picture_files(&t).is_empty(), "{:?}", picture_files(&t));
        t.delete("/api/v1/profile/header", Some(&alice.token)).await.expect(200);
    }

    #[tokio::test]
    async fn an_animated_avatar_stays_animated_and_gets_a_static_version() {
        let t = TestApp::spawn().await;
        let alice = t.register("alice").await;
        let me = update(&t, &alice, Form::new().part("avatar", file("dance.gif", animated_gif(3)))).await.expect(200);
        let (avatar, still) = (me["avatar"].as_str().unwrap().to_owned(), me["avatar_static"].as_str().unwrap().to_owned());
        assert_ne!(avatar, still);
        let (status, kind, bytes) = fetch(&t, &avatar).await;
        assert_eq!((status, kind.as_str()), (200, "image/gif"));
        let frames = GifDecoder::new(Cursor::new(bytes)).unwrap().into_frames().collect_frames().unwrap();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].buffer().dimensions(), (400, 400));
        let (status, kind, bytes) = fetch(&t, &still).await;
        assert_eq!((status, kind.as_str()), (200, "image/png"));
        assert_eq!(size_of(&bytes), (400, 400));
        // A single-frame GIF is a still picture: stored as PNG.
        let me = update(&t, &alice, Form::new().part("header", file("flat.gif", animated_gif(1)))).await.expect(200);
        assert_eq!(me["header"], me["header_static"]);
        let (_, kind, bytes) = fetch(&t, me["header"].as_str().unwrap()).await;
        assert_eq!((kind.as_str(), size_of(&bytes)), ("image/png", (1500, 500)));
    }

    #[tokio::test]
    async fn bad_pictures_are_refused_with_422_and_change_nothing() {
        let t = TestApp::spawn_with(|s| {
            s.media = Some(core_app::config::MediaConfig { image_matrix_limit: 1000 * 1000, profile_image_size_limit: 200_000, ..Default::default() })
        })
        .await;
        let alice = t.register("alice").await;
        let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
        mp4.extend([0u8; 512]);
        let noise: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let mut too_big = encode(20, 20, ImageFormat::Png);
        too_big.extend(&noise);
        let cases: [(&str, Vec<u8>, &str); 6] = [
            ("not an image", b"hello, I am text".to_vec(), "Image must be"),
            ("a video", mp4, "Image must be"),
            ("empty", Vec::new(), "empty"),
            ("a decompression bomb", encode(1001, 1000, ImageFormat::Png), "pixels"),
            ("too large a file", too_big, "larger than"),
            ("a truncated picture", encode(64, 64, ImageFormat::Png)[..200].to_vec(), "could not be processed"),
        ];
        for (what, bytes, message) in cases {
            for field in ["avatar", "header"] {
                let form = Form::new().text("display_name", "Changed").part(field, file("x.png", bytes.clone()));
                let reply = update(&t, &alice, form).await;
                assert_eq!(reply.status, 422, "{what} as {field}: {}", reply.body);
                assert!(reply.error().contains(message), "{what}: {}", reply.body);
            }
        }
        // A good avatar with a bad header: neither is taken.
        let form = Form::new().part("avatar", file("ok.png", encode(30, 30, ImageFormat::Png))).part("header", file("bad.png", b"nope".to_vec()));
        assert_eq!(update(&t, &alice, form).await.status, 422);
        let me = t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
        assert_eq!(me["display_name"], "");
        assert!(me["avatar"].as_str().unwrap().ends_with("missing.png"));
        assert!(me["header"].as_str().unwrap().ends_with("missing.png"));
        assert!(picture_files(&t).is_empty(), "{:?}", picture_files(&t));
    }
}
