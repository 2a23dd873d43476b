use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

use crate::{PASSWORD, TestApp, User, assert_required, schema};

/// Where the test client wants its codes.
const REDIRECT: &str = "https://client.example/callback";
/// RFC 7636 appendix B's verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// A registered client.
struct Client {
    id: String,
    secret: String,
}

async fn web_client(t: &TestApp) -> Client {
    let app = t
        .post(
            "/api/v1/apps",
            None,
            json!({"client_name": "web client", "redirect_uris": REDIRECT, "scopes": "read write follow", "website": "https://client.example"}),
        )
        .await
        .expect(200);
    Client { id: app["client_id"].as_str().unwrap().to_owned(), secret: app["client_secret"].as_str().unwrap().to_owned() }
}

/// An HTTP client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The consent form as a browser submits it, approving for alice with PKCE S256.
fn approval<'a>(client: &'a Client, state: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", &client.id),
        ("redirect_uri", REDIRECT),
        ("scope", "read write"),
        ("state", state),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("username", "alice"),
        ("password", PASSWORD),
        ("decision", "approve"),
    ]
}

async fn submit(t: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    browser().post(format!("{}/oauth/authorize", t.base)).form(form).send().await.unwrap()
}

/// The query of a redirect's `Location`, checking where it points.
fn redirect_query(response: &reqwest::Response, expected_base: &str) -> Vec<(String, String)> {
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&format!("{expected_base}?")), "redirects to the client: {location}");
    Url::parse(location).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Approves and returns the code from the redirect.
async fn authorize(t: &TestApp, client: &Client) -> String {
    let response = submit(t, &approval(client, "xyz")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    param(&redirect_query(&response, REDIRECT), "code").unwrap().to_owned()
}

async fn exchange(t: &TestApp, client: &Client, code: &str, verifier: Option<&str>) -> crate::Reply {
    let mut body = json!({"grant_type": "authorization_code", "client_id": client.id, "client_secret": client.secret, "redirect_uri": REDIRECT, "code": code});
    if let Some(v) = verifier {
        body["code_verifier"] = json!(v);
    }
    t.post("/oauth/token", None, body).await
}

#[tokio::test]
async fn password_grant_issues_a_token_that_verifies() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let (id, secret) = t.create_app("read write").await;
    let token = t
        .post(
            "/oauth/token",
            None,
            json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice@example.org", "password": PASSWORD, "scope": "read"}),
        )
        .await
        .expect(200);
    assert_required(&token, "Token", schema::TOKEN);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "read");
    let me = t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(200);
    assert_eq!(me["id"], alice.id.as_str());
}

#[tokio::test]
async fn a_revoked_token_is_refused() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    let token = t
        .post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice", "password": PASSWORD}))
        .await
        .expect(200);
    let access = token["access_token"].as_str().unwrap();
    t.get("/api/v1/accounts/verify_credentials", Some(access)).await.expect(200);
    t.post("/oauth/revoke", None, json!({"client_id": id, "client_secret": secret, "token": access})).await.expect(200);
    let reply = t.get("/api/v1/accounts/verify_credentials", Some(access)).await;
    assert_eq!(reply.error(), "The access token is invalid");
    reply.expect(401);
}

// Applications.

#[tokio::test]
async fn creating_an_app_returns_its_credentials() {
    let t = TestApp::spawn().await;
    let app = t.post("/api/v1/apps", None, json!({"client_name": "Tusky", "redirect_uris": "https://a.example/cb\nhttps://b.example/cb", "scopes": "read write:statuses", "website": "https://tusky.app"})).await.expect(200);
    assert_required(&app, "CredentialApplication", schema::CREDENTIAL_APPLICATION);
    assert_eq!(app["name"], "Tusky");
    assert_eq!(app["website"], "https://tusky.app");
    assert_eq!(app["redirect_uris"], json!(["https://a.example/cb", "https://b.example/cb"]));
    assert_eq!(app["redirect_uri"], "https://a.example/cb\nhttps://b.example/cb");
    assert_eq!(app["scopes"], json!(["read", "write:statuses"]));
    assert!(app["client_id"].as_str().unwrap().len() >= 32);
    assert!(app["client_secret"].as_str().unwrap().len() >= 32);
}

#[tokio::test]
async fn creating_an_app_accepts_forms_arrays_and_defaults_to_read() {
    let t = TestApp::spawn().await;
    let app = t.post_form("/api/v1/apps", None, &[("client_name", "form app"), ("redirect_uris", OOB)]).await.expect(200);
    assert_eq!(app["scopes"], json!(["read"]));
    let app =
        t.post("/api/v1/apps", None, json!({"client_name": "array app", "redirect_uris": ["https://a.example/cb", "myapp://callback"]})).await.expect(200);
    assert_eq!(app["redirect_uris"], json!(["https://a.example/cb", "myapp://callback"]));
}

#[tokio::test]
async fn creating_an_app_without_a_name_is_refused() {
    let t = TestApp::spawn().await;
    for body in
        [json!({"redirect_uris": OOB}), json!({"client_name": "   ", "redirect_uris": OOB}), json!({"client_name": "x".repeat(61), "redirect_uris": OOB})]
    {
        let reply = t.post("/api/v1/apps", None, body).await;
        assert!(reply.error().starts_with("Validation failed"), "{}", reply.body);
        reply.expect(422);
    }
}

#[tokio::test]
async fn creating_an_app_with_a_bad_redirect_uri_is_refused() {
    let t = TestApp::spawn().await;
    for uris in [
        json!(null),
        json!(""),
        json!("not a uri"),
        json!("no-scheme"),
        json!("https://client.example/cb#fragment"),
        json!(["https://ok.example/cb", "bad uri"]),
    ] {
        let reply = t.post("/api/v1/apps", None, json!({"client_name": "x", "redirect_uris": uris})).await;
        assert_eq!(reply.status, 422, "{uris} is refused: {}", reply.body);
    }
}

#[tokio::test]
async fn creating_an_app_with_an_unknown_scope_is_refused() {
    let t = TestApp::spawn().await;
    t.post("/api/v1/apps", None, json!({"client_name": "x", "redirect_uris": OOB, "scopes": "read admin:everything"})).await.expect(422);
}

#[tokio::test]
async fn app_verify_credentials_shows_the_tokens_app_without_its_secret() {
    let t = TestApp::spawn().await;
    let token = t.app_token("read").await;
    let app = t.get("/api/v1/apps/verify_credentials", Some(&token)).await.expect(200);
    assert_required(&app, "Application", schema::APPLICATION);
    assert_eq!(app["name"], "tests");
    assert!(app.get("client_secret").is_none());
    assert!(app.get("client_id").is_none());
    let alice = t.register("alice").await;
    assert_eq!(t.get("/api/v1/apps/verify_credentials", Some(&alice.token)).await.expect(200)["name"], "tests");
    t.get("/api/v1/apps/verify_credentials", None).await.expect(401);
    t.get("/api/v1/apps/verify_credentials", Some("stl1.garbage.token.here")).await.expect(401);
}

// The authorization-code flow.

#[tokio::test]
async fn the_authorize_page_renders_a_login_form_carrying_the_request() {
    let t = TestApp::spawn().await;
    let client = web_client(&t).await;
    let url = format!(
        "{}/oauth/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=read+write&state=s%26t&code_challenge={CHALLENGE}&code_challenge_method=S256",
        t.base, client.id
    );
    let response = browser().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let html = response.text().await.unwrap();
    assert!(html.contains("<form method=\"post\" action=\"/oauth/authorize\">"));
    assert!(html.contains("name=\"username\"") && html.contains("name=\"password\""));
    assert!(html.contains("web client"), "names the app");
    let hidden = hidden_fields(&html);
    assert_eq!(field(&hidden, "client_id"), client.id);
    assert_eq!(field(&hidden, "redirect_uri"), REDIRECT);
    assert_eq!(field(&hidden, "state"), "s&amp;t", "values are escaped");
    assert_eq!(field(&hidden, "code_challenge"), CHALLENGE);
    assert_eq!(field(&hidden, "scope"), "read write");
}

/// `(name, value)` of every hidden input, values as they appear in the HTML.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|rest| {
            let attr = |name: &str| {
                let start = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                rest[start..start + rest[start..].find('"').unwrap()].to_owned()
            };
            (attr("name"), attr("value"))
        })
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no hidden {name}"))
}

#[tokio::test]
async fn submitting_the_rendered_form_completes_the_flow() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let client = web_client(&t).await;
    let url = format!(
        "{}/oauth/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=read&state=abc&code_challenge={CHALLENGE}&code_challenge_method=S256",
        t.base, client.id
    );
    let html = browser().get(url).send().await.unwrap().text().await.unwrap();
    let mut form = hidden_fields(&html);
    form.extend([("username".into(), "alice@example.org".into()), ("password".into(), PASSWORD.into()), ("decision".into(), "approve".into())]);
    let response = browser().post(format!("{}/oauth/authorize", t.base)).form(&form).send().await.unwrap();
    let query = redirect_query(&response, REDIRECT);
    assert_eq!(param(&query, "state"), Some("abc"));
    let token = exchange(&t, &client, param(&query, "code").unwrap(), Some(VERIFIER)).await.expect(200);
    assert_eq!(token["scope"], "read");
    let me = t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(200);
    assert_eq!(me["id"], alice.id.as_str());
}

#[tokio::test]
async fn approving_redirects_with_code_and_state_and_the_code_exchanges_with_its_verifier() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let client = web_client(&t).await;
    let response = submit(&t, &approval(&client, "state-123")).await;
    // See Other: the browser follows the form post's redirect with a GET.
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let query = redirect_query(&response, REDIRECT);
    assert_eq!(param(&query, "state"), Some("state-123"));
    let code = param(&query, "code").unwrap();
    let token = exchange(&t, &client, code, Some(VERIFIER)).await.expect(200);
    assert_required(&token, "Token", schema::TOKEN);
    assert_eq!(token["scope"], "read write");
    assert!(token["refresh_token"].is_string());
    let me = t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(200);
    assert_eq!(me["id"], alice.id.as_str());
}

#[tokio::test]
async fn an_authorization_code_can_be_exchanged_only_once() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let client = web_client(&t).await;
    let code = authorize(&t, &client).await;
    exchange(&t, &client, &code, Some(VERIFIER)).await.expect(200);
    let again = exchange(&t, &client, &code, Some(VERIFIER)).await;
    assert_eq!(again.error(), "invalid_grant");
    again.expect(400);
}

#[tokio::test]
async fn a_wrong_or_missing_code_verifier_is_refused() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let client = web_client(&t).await;
    let code = authorize(&t, &client).await;
    let wrong = exchange(&t, &client, &code, Some("not-the-verifier-not-the-verifier-not-the-verifier")).await;
    assert_eq!(wrong.error(), "invalid_grant");
    wrong.expect(400);
    let code = authorize(&t, &client).await;
    let missing = exchange(&t, &client, &code, None).await;
    assert_eq!(missing.error(), "invalid_grant");
    missing.expect(400);
    let unknown = exchange(&t, &client, "no-such-code", Some(VERIFIER)).await;
    assert_eq!(unknown.error(), "invalid_grant");
    unknown.expect(400);
}

#[tokio::test]
async fn a_code_is_bound_to_its_client_and_redirect_uri() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let client = web_client(&t).await;
    let other = web_client(&t).await;
    let code = authorize(&t, &client).await;
    let stolen = exchange(&t, &other, &code, Some(VERIFIER)).await;
    assert_eq!(stolen.error(), "invalid_grant");
    stolen.expect(400);
    let code = authorize(&t, &client).await;
    let redirected = t
        .post("/oauth/token", None, json!({"grant_type": "authorization_code", "client_id": client.id, "client_secret": client.secret, "redirect_uri": "https://evil.example/cb", "code": code, "code_verifier": VERIFIER}))
        .await;
    assert_eq!(redirected.error(), "invalid_grant");
    redirected.expect(400);
}

#[tokio::test]
async fn a_wrong_password_re_renders_the_form_with_401() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let client = web_client(&t).await;
    for (username, password) in [("alice", "wrong password!"), ("nobody", PASSWORD), ("not a username", PASSWORD)] {
        let mut form = approval(&client, "xyz");
        form.retain(|(k, _)| *k != "username" && *k != "password");
        form.extend([("username", username), ("password", password)]);
        let response = submit(&t, &form).await;
        assert_eq!(response.status(), 401, "{username}");
        assert!(response.headers().get("location").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("Invalid username, e-mail or password."));
        assert!(html.contains("<form method=\"post\""), "the form is shown again");
        assert_eq!(field(&hidden_fields(&html), "state"), "xyz");
    }
}

#[tokio::test]
async fn denying_redirects_with_access_denied_and_the_state() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let client = web_client(&t).await;
    let mut form = approval(&client, "keep-me");
    form.retain(|(k, _)| *k != "decision");
    form.push(("decision", "deny"));
    let response = submit(&t, &form).await;
    assert!(response.status().is_redirection());
    let query = redirect_query(&response, REDIRECT);
    assert_eq!(param(&query, "error"), Some("access_denied"));
    assert_eq!(param(&query, "state"), Some("keep-me"));
    assert_eq!(param(&query, "code"), None);
}

#[tokio::test]
async fn authorize_shows_an_error_page_for_unknown_clients_and_unregistered_redirect_uris() {
    let t = TestApp::spawn().await;
    let client = web_client(&t).await;
    for query in [
        format!("response_type=code&client_id=nope&redirect_uri={REDIRECT}"),
        format!("response_type=code&client_id={}&redirect_uri=https://evil.example/cb", client.id),
    ] {
        let response = browser().get(format!("{}/oauth/authorize?{query}", t.base)).send().await.unwrap();
        assert_eq!(response.status(), 400, "never redirects to an unverified URI");
        assert!(response.headers().get("location").is_none());
        assert!(response.text().await.unwrap().contains("Authorization error"));
    }
}

#[tokio::test]
async fn authorize_redirects_bad_requests_back_to_the_client_with_an_error() {
    let t = TestApp::spawn().await;
    let client = web_client(&t).await;
    let cases = [
        (format!("response_type=token&client_id={}&redirect_uri={REDIRECT}&state=s", client.id), "unsupported_response_type"),
        (format!("response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=admin:read&state=s", client.id), "invalid_scope"),
        (format!("response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=push&state=s", client.id), "invalid_scope"),
        (
            format!("response_type=code&client_id={}&redirect_uri={REDIRECT}&code_challenge=abc&code_challenge_method=S512&state=s", client.id),
            "invalid_request",
        ),
    ];
    for (query, error) in cases {
        let response = browser().get(format!("{}/oauth/authorize?{query}", t.base)).send().await.unwrap();
        let query = redirect_query(&response, REDIRECT);
        assert_eq!(param(&query, "error"), Some(error));
        assert_eq!(param(&query, "state"), Some("s"));
    }
}

#[tokio::test]
async fn plain_pkce_is_refused_as_only_s256_is_supported() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let client = web_client(&t).await;
    for method in ["plain", ""] {
        let mut form = approval(&client, "s");
        form.retain(|(k, _)| *k != "code_challenge_method");
        form.push(("code_challenge_method", method));
        let response = submit(&t, &form).await;
        let query = redirect_query(&response, REDIRECT);
        assert_eq!(param(&query, "error"), Some("invalid_request"), "method {method:?}");
        assert_eq!(param(&query, "code"), None);
    }
}

#[tokio::test]
async fn authorization_without_pkce_still_works_for_confidential_clients() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let client = web_client(&t).await;
    let form: Vec<(&str, &str)> = approval(&client, "s").into_iter().filter(|(k, _)| !k.starts_with("code_challenge")).collect();
    let response = submit(&t, &form).await;
    let code = param(&redirect_query(&response, REDIRECT), "code").unwrap().to_owned();
    exchange(&t, &client, &code, None).await.expect(200);
}

#[tokio::test]
async fn the_out_of_band_redirect_shows_the_code_on_a_page() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let (id, secret) = t.create_app("read write").await;
    let form = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", OOB),
        ("scope", "read"),
        ("username", "alice"),
        ("password", PASSWORD),
        ("decision", "approve"),
    ];
    let response = submit(&t, &form).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let start = html.find("<code class=\"code\">").unwrap() + "<code class=\"code\">".len();
    let code = &html[start..start + html[start..].find('<').unwrap()];
    let token = t
        .post("/oauth/token", None, json!({"grant_type": "authorization_code", "client_id": id, "client_secret": secret, "redirect_uri": OOB, "code": code}))
        .await
        .expect(200);
    let me = t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(200);
    assert_eq!(me["id"], alice.id.as_str());
}

// The token endpoint's other grants.

#[tokio::test]
async fn client_credentials_issue_an_app_token_without_a_user() {
    let t = TestApp::spawn().await;
    let (id, secret) = t.create_app("read write").await;
    let token =
        t.post("/oauth/token", None, json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "scope": "read"})).await.expect(200);
    assert_eq!(token["scope"], "read");
    let access = token["access_token"].as_str().unwrap();
    t.get("/api/v1/apps/verify_credentials", Some(access)).await.expect(200);
    let reply = t.get("/api/v1/accounts/verify_credentials", Some(access)).await;
    assert_eq!(reply.error(), "This method requires an authenticated user");
    reply.expect(422);
    let defaulted = t.post("/oauth/token", None, json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret})).await.expect(200);
    assert_eq!(defaulted["scope"], "read");
}

#[tokio::test]
async fn a_token_cannot_exceed_its_apps_scopes() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    for grant in [json!({"grant_type": "client_credentials"}), json!({"grant_type": "password", "username": "alice", "password": PASSWORD})] {
        let mut body = grant;
        body["client_id"] = json!(id);
        body["client_secret"] = json!(secret);
        body["scope"] = json!("read write");
        let reply = t.post("/oauth/token", None, body).await;
        assert_eq!(reply.error(), "invalid_scope");
        reply.expect(400);
    }
}

#[tokio::test]
async fn the_password_grant_refuses_a_wrong_password_or_unknown_user() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    for (username, password) in [("alice", "wrong password"), ("nobody", PASSWORD), ("nobody@example.org", PASSWORD)] {
        let reply = t
            .post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": username, "password": password}))
            .await;
        assert_eq!(reply.error(), "invalid_grant");
        reply.expect(400);
    }
    let missing = t.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice"})).await;
    assert_eq!(missing.error(), "invalid_request");
    missing.expect(400);
}

#[tokio::test]
async fn logins_are_case_insensitive_for_usernames_and_emails() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    for username in ["ALICE", "Alice@Example.org"] {
        t.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": username, "password": PASSWORD}))
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn a_refresh_token_rotates_the_pair() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let (id, secret) = t.create_app("read write").await;
    let first = t
        .post(
            "/oauth/token",
            None,
            json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice", "password": PASSWORD, "scope": "read"}),
        )
        .await
        .expect(200);
    let refresh = |token: &str| json!({"grant_type": "refresh_token", "client_id": id, "client_secret": secret, "refresh_token": token});
    let second = t.post("/oauth/token", None, refresh(first["refresh_token"].as_str().unwrap())).await.expect(200);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["scope"], "read", "the scopes carry over");
    t.get("/api/v1/accounts/verify_credentials", first["access_token"].as_str()).await.expect(401);
    let me = t.get("/api/v1/accounts/verify_credentials", second["access_token"].as_str()).await.expect(200);
    assert_eq!(me["id"], alice.id.as_str());
    let reused = t.post("/oauth/token", None, refresh(first["refresh_token"].as_str().unwrap())).await;
    assert_eq!(reused.error(), "invalid_grant");
    reused.expect(400);
    t.post("/oauth/token", None, refresh(second["refresh_token"].as_str().unwrap())).await.expect(200);
}

#[tokio::test]
async fn a_refresh_token_works_only_for_its_own_client() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    let (other_id, other_secret) = t.create_app("read").await;
    let token = t
        .post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice", "password": PASSWORD}))
        .await
        .expect(200);
    let reply = t
        .post(
            "/oauth/token",
            None,
            json!({"grant_type": "refresh_token", "client_id": other_id, "client_secret": other_secret, "refresh_token": token["refresh_token"]}),
        )
        .await;
    assert_eq!(reply.error(), "invalid_grant");
    reply.expect(400);
    t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(200);
    let missing = t.post("/oauth/token", None, json!({"grant_type": "refresh_token", "client_id": id, "client_secret": secret})).await;
    assert_eq!(missing.error(), "invalid_request");
    missing.expect(400);
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_with_invalid_client() {
    let t = TestApp::spawn().await;
    let (id, _) = t.create_app("read").await;
    for body in [
        json!({"grant_type": "client_credentials", "client_id": id, "client_secret": "wrong"}),
        json!({"grant_type": "client_credentials", "client_id": "unknown", "client_secret": "wrong"}),
        json!({"grant_type": "client_credentials", "client_id": id}),
        json!({"grant_type": "client_credentials"}),
    ] {
        let reply = t.post("/oauth/token", None, body).await;
        assert_eq!(reply.error(), "invalid_client");
        assert!(reply.body["error_description"].is_string());
        reply.expect(401);
    }
}

#[tokio::test]
async fn client_credentials_may_come_in_a_basic_authorization_header() {
    let t = TestApp::spawn().await;
    let (id, secret) = t.create_app("read").await;
    let response =
        t.http.post(format!("{}/oauth/token", t.base)).basic_auth(&id, Some(&secret)).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let wrong =
        t.http.post(format!("{}/oauth/token", t.base)).basic_auth(&id, Some("nope")).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn an_unsupported_or_missing_grant_type_is_a_400() {
    let t = TestApp::spawn().await;
    let (id, secret) = t.create_app("read").await;
    let reply = t.post("/oauth/token", None, json!({"grant_type": "implicit", "client_id": id, "client_secret": secret})).await;
    assert_eq!(reply.error(), "unsupported_grant_type");
    reply.expect(400);
    let reply = t.post("/oauth/token", None, json!({"client_id": id, "client_secret": secret})).await;
    assert_eq!(reply.error(), "invalid_request");
    reply.expect(400);
}

// Revocation and the edge's verification material.

#[tokio::test]
async fn revoking_needs_the_tokens_own_client() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    let wrong = t.post("/oauth/revoke", None, json!({"client_id": id, "client_secret": "wrong", "token": alice.token})).await;
    assert_eq!(wrong.error(), "invalid_client");
    wrong.expect(401);
    // Another client's token is not this client's to revoke.
    let foreign = t.post("/oauth/revoke", None, json!({"client_id": id, "client_secret": secret, "token": alice.token})).await;
    assert_eq!(foreign.error(), "unauthorized_client");
    foreign.expect(403);
    t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    // Unknown tokens are fine, as RFC 7009 asks.
    t.post("/oauth/revoke", None, json!({"client_id": id, "client_secret": secret, "token": "garbage"})).await.expect(200);
    let missing = t.post("/oauth/revoke", None, json!({"client_id": id, "client_secret": secret})).await;
    assert_eq!(missing.error(), "invalid_request");
    missing.expect(400);
}

#[tokio::test]
async fn another_clients_refresh_token_cannot_be_revoked() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    let (other_id, other_secret) = t.create_app("read").await;
    let token = t
        .post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice", "password": PASSWORD}))
        .await
        .expect(200);
    t.post("/oauth/revoke", None, json!({"client_id": other_id, "client_secret": other_secret, "token": token["refresh_token"]})).await.expect(403);
    t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(200);
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_access_token_and_lists_it_for_the_edge() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    let token = t
        .post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice", "password": PASSWORD}))
        .await
        .expect(200);
    assert_eq!(t.get("/api/starling/v1/revocations", None).await.expect(200)["revoked"], json!([]));
    t.post("/oauth/revoke", None, json!({"client_id": id, "client_secret": secret, "token": token["refresh_token"]})).await.expect(200);
    t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(401);
    let revoked = t.get("/api/starling/v1/revocations", None).await.expect(200);
    assert_eq!(revoked["revoked"].as_array().unwrap().len(), 1);
    let refreshed = t
        .post("/oauth/token", None, json!({"grant_type": "refresh_token", "client_id": id, "client_secret": secret, "refresh_token": token["refresh_token"]}))
        .await;
    assert_eq!(refreshed.error(), "invalid_grant");
}

#[tokio::test]
async fn the_public_keys_are_published_as_ed25519_jwks() {
    let t = TestApp::spawn().await;
    let keys = t.get("/api/starling/v1/keys", None).await.expect(200);
    let key = &keys["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    let alice = t.register("alice").await;
    let kid = alice.token.split('.').nth(1).unwrap();
    assert_eq!(key["kid"], kid, "tokens name the published key");
}

// Authentication and scopes on every route.

/// Every route that needs a token, with a body where it takes one.
fn authenticated_routes(account: &str, status: &str) -> Vec<(Method, String, Option<Value>)> {
    let post = |path: String| (Method::POST, path, Some(json!({})));
    vec![
        (Method::GET, "/api/v1/apps/verify_credentials".into(), None),
        post("/api/v1/accounts".into()),
        (Method::GET, "/api/v1/accounts/verify_credentials".into(), None),
        (Method::PATCH, "/api/v1/accounts/update_credentials".into(), Some(json!({"display_name": "x"}))),
        (Method::DELETE, "/api/v1/profile/avatar".into(), None),
        (Method::DELETE, "/api/v1/profile/header".into(), None),
        (Method::GET, format!("/api/v1/accounts/relationships?id[]={account}"), None),
        post(format!("/api/v1/accounts/{account}/follow")),
        post(format!("/api/v1/accounts/{account}/unfollow")),
        (Method::POST, "/api/v1/statuses".into(), Some(json!({"status": "hello"}))),
        (Method::PUT, format!("/api/v1/statuses/{status}"), Some(json!({"status": "edited"}))),
        (Method::DELETE, format!("/api/v1/statuses/{status}"), None),
        (Method::GET, format!("/api/v1/statuses/{status}/source"), None),
        post(format!("/api/v1/statuses/{status}/favourite")),
        post(format!("/api/v1/statuses/{status}/unfavourite")),
        post(format!("/api/v1/statuses/{status}/reblog")),
        post(format!("/api/v1/statuses/{status}/unreblog")),
        post(format!("/api/v1/statuses/{status}/bookmark")),
        post(format!("/api/v1/statuses/{status}/unbookmark")),
        (Method::GET, format!("/api/v1/statuses/{status}/quotes"), None),
        post(format!("/api/v1/statuses/{status}/quotes/{status}/revoke")),
        (Method::PUT, format!("/api/v1/statuses/{status}/interaction_policy"), Some(json!({"quote_approval_policy": "nobody"}))),
        (Method::GET, "/api/v1/bookmarks".into(), None),
        (Method::GET, "/api/v1/scheduled_statuses".into(), None),
        (Method::GET, format!("/api/v1/scheduled_statuses/{status}"), None),
        (Method::PUT, format!("/api/v1/scheduled_statuses/{status}"), Some(json!({"scheduled_at": "2999-01-01T00:00:00Z"}))),
        (Method::DELETE, format!("/api/v1/scheduled_statuses/{status}"), None),
        (Method::GET, "/api/v1/favourites".into(), None),
        (Method::GET, "/api/v1/timelines/home".into(), None),
        (Method::GET, "/api/starling/v1/timelines/home/version".into(), None),
        (Method::GET, "/api/v1/preferences".into(), None),
        post("/api/v1/tags/rust/follow".into()),
        post("/api/v1/tags/rust/unfollow".into()),
        (Method::GET, "/api/v1/followed_tags".into(), None),
        (Method::GET, "/api/v1/featured_tags".into(), None),
        (Method::POST, "/api/v1/featured_tags".into(), Some(json!({"name": "rust"}))),
        (Method::GET, "/api/v1/featured_tags/suggestions".into(), None),
        (Method::DELETE, "/api/v1/featured_tags/1".into(), None),
        post("/api/v1/tags/rust/feature".into()),
    ]
}

/// Routes anyone may read, where a token is optional.
fn public_routes(account: &str, status: &str) -> Vec<String> {
    vec![
        format!("/api/v1/accounts/{account}"),
        "/api/v1/accounts/lookup?acct=alice".into(),
        format!("/api/v1/accounts/{account}/statuses"),
        format!("/api/v1/accounts/{account}/followers"),
        format!("/api/v1/accounts/{account}/following"),
        format!("/api/v1/statuses/{status}"),
        format!("/api/v1/statuses/{status}/context"),
        format!("/api/v1/statuses/{status}/history"),
        format!("/api/v1/statuses/{status}/favourited_by"),
        format!("/api/v1/statuses/{status}/reblogged_by"),
        "/api/v1/timelines/public".into(),
        "/api/v1/timelines/tag/rust".into(),
    ]
}

async fn alice_and_a_status(t: &TestApp) -> (User, String) {
    let alice = t.register("alice").await;
    let status = t.post_status(&alice, json!({"status": "hello #rust"})).await;
    (alice, crate::id(&status))
}

#[tokio::test]
async fn every_authenticated_route_refuses_a_missing_token_with_401() {
    let t = TestApp::spawn().await;
    let (alice, status) = alice_and_a_status(&t).await;
    for (method, path, body) in authenticated_routes(&alice.id, &status) {
        let reply = t.request(method.clone(), &path, None, body.map(crate::Body::Json)).await;
        assert_eq!(reply.status, 401, "{method} {path}: {}", reply.body);
        assert_eq!(reply.error(), "The access token is invalid", "{method} {path}");
        assert!(reply.headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    }
    t.get(&format!("/api/v1/statuses/{status}"), None).await.expect(200);
}

#[tokio::test]
async fn every_authenticated_route_refuses_a_garbage_or_foreign_token_with_401() {
    let t = TestApp::spawn().await;
    let (alice, status) = alice_and_a_status(&t).await;
    // Signed by another instance's key: well-formed, but not ours.
    let other = TestApp::spawn().await;
    let foreign = other.register("alice").await.token;
    for token in ["garbage", "stl1.k1.e30.AAAA", foreign.as_str()] {
        for (method, path, body) in authenticated_routes(&alice.id, &status) {
            let reply = t.request(method.clone(), &path, Some(token), body.map(crate::Body::Json)).await;
            assert_eq!(reply.status, 401, "{method} {path} with {token}: {}", reply.body);
            assert_required(&reply.body, "Error", schema::ERROR);
        }
    }
}

#[tokio::test]
async fn a_garbage_token_on_a_public_route_is_401_rather_than_anonymous() {
    let t = TestApp::spawn().await;
    let (alice, status) = alice_and_a_status(&t).await;
    for path in public_routes(&alice.id, &status) {
        t.get(&path, None).await.expect(200);
        let reply = t.get(&path, Some("garbage")).await;
        assert_eq!(reply.status, 401, "GET {path}: {}", reply.body);
        assert_eq!(reply.error(), "The access token is invalid");
    }
}

#[tokio::test]
async fn a_read_only_token_cannot_write() {
    let t = TestApp::spawn().await;
    let (alice, status) = alice_and_a_status(&t).await;
    let bob = t.register("bob").await;
    let read_only = t.token_with_scopes(&bob, "read").await;
    let reply = t.post("/api/v1/statuses", Some(&read_only), json!({"status": "not allowed"})).await;
    assert_eq!(reply.error(), "This action is outside the authorized scopes");
    reply.expect(403);
    let writes = authenticated_routes(&alice.id, &status).into_iter().filter(|(m, p, _)| *m != Method::GET && p != "/api/v1/accounts");
    for (method, path, body) in writes {
        let reply = t.request(method.clone(), &path, Some(&read_only), body.map(crate::Body::Json)).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.body);
    }
    // Nothing was done on bob's behalf.
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", bob.id), None).await.expect(200)["statuses_count"], 0);
    assert_eq!(t.get(&format!("/api/v1/statuses/{status}"), None).await.expect(200)["favourites_count"], 0);
}

#[tokio::test]
async fn a_write_only_token_cannot_read_private_things() {
    let t = TestApp::spawn().await;
    let (alice, status) = alice_and_a_status(&t).await;
    let write_only = t.token_with_scopes(&alice, "write").await;
    let reads = authenticated_routes(&alice.id, &status).into_iter().filter(|(m, p, _)| *m == Method::GET && p != "/api/v1/apps/verify_credentials");
    for (method, path, _) in reads {
        let reply = t.request(method.clone(), &path, Some(&write_only), None).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.body);
    }
    t.post("/api/v1/statuses", Some(&write_only), json!({"status": "writing is fine"})).await.expect(200);
}

#[tokio::test]
async fn granular_scopes_grant_exactly_their_part() {
    let t = TestApp::spawn().await;
    let (alice, status) = alice_and_a_status(&t).await;
    let bob = t.register("bob").await;
    let statuses_only = t.token_with_scopes(&bob, "write:statuses read:statuses").await;
    t.post("/api/v1/statuses", Some(&statuses_only), json!({"status": "fine"})).await.expect(200);
    t.get("/api/v1/timelines/home", Some(&statuses_only)).await.expect(200);
    t.post(&format!("/api/v1/statuses/{status}/favourite"), Some(&statuses_only), json!({})).await.expect(403);
    t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&statuses_only), json!({})).await.expect(403);
    // Legacy `follow` still grants following.
    let follow = t.token_with_scopes(&bob, "follow").await;
    t.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&follow), json!({})).await.expect(200);
    t.get(&format!("/api/v1/accounts/relationships?id[]={}", alice.id), Some(&follow)).await.expect(200);
    // `profile` is enough to see who you are, not to read the rest.
    let profile = t.token_with_scopes(&bob, "profile").await;
    assert_eq!(t.get("/api/v1/accounts/verify_credentials", Some(&profile)).await.expect(200)["id"], bob.id.as_str());
    t.get("/api/v1/timelines/home", Some(&profile)).await.expect(403);
}

#[tokio::test]
async fn an_app_token_cannot_act_as_a_user() {
    let t = TestApp::spawn().await;
    let (alice, status) = alice_and_a_status(&t).await;
    let app_token = t.app_token("read write follow").await;
    for (method, path, body) in authenticated_routes(&alice.id, &status) {
        if path == "/api/v1/apps/verify_credentials" || path == "/api/v1/accounts" {
            continue;
        }
        let reply = t.request(method.clone(), &path, Some(&app_token), body.map(crate::Body::Json)).await;
        assert_eq!(reply.status, 422, "{method} {path}: {}", reply.body);
    }
}

#[tokio::test]
async fn a_token_may_come_as_an_access_token_query_parameter() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let me = t.get(&format!("/api/v1/accounts/verify_credentials?access_token={}", alice.token), None).await.expect(200);
    assert_eq!(me["id"], alice.id.as_str());
}

#[tokio::test]
async fn tokens_and_revocations_survive_a_restart() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    let revoked = t
        .post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice", "password": PASSWORD}))
        .await
        .expect(200);
    t.post("/oauth/revoke", None, json!({"client_id": id, "client_secret": secret, "token": revoked["access_token"]})).await.expect(200);
    let dir = t.stop().await;
    let t = TestApp::spawn_in(dir, |_| {}).await;
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["id"], alice.id.as_str());
    t.get("/api/v1/accounts/verify_credentials", revoked["access_token"].as_str()).await.expect(401);
    t.post("/oauth/token", None, json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret})).await.expect(200);
}

#[tokio::test]
async fn the_code_exchange_requires_the_authorization_requests_redirect_uri() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let client = web_client(&t).await;
    let code = authorize(&t, &client).await;
    let without = t
        .post(
            "/oauth/token",
            None,
            json!({"grant_type": "authorization_code", "client_id": client.id, "client_secret": client.secret, "code": code, "code_verifier": VERIFIER}),
        )
        .await;
    assert_eq!(without.error(), "invalid_grant", "RFC 6749 §4.1.3: redirect_uri is required when the request had one");
    without.expect(400);
    let code = authorize(&t, &client).await;
    exchange(&t, &client, &code, Some(VERIFIER)).await.expect(200);
}

#[tokio::test]
async fn creating_an_app_refuses_script_data_and_file_redirect_uris_and_a_website_that_is_not_a_web_url() {
    let t = TestApp::spawn().await;
    for uri in [
        "javascript:alert(1)",
        "JavaScript://client.example/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "about:blank",
        "blob:https://client.example/1",
        "https:no-host",
        "http:///path-only",
    ] {
        let reply = t.post("/api/v1/apps", None, json!({"client_name": "x", "redirect_uris": uri})).await;
        assert_eq!(reply.status, 422, "{uri} is refused: {}", reply.body);
        assert!(reply.error().starts_with("Validation failed"), "{}", reply.body);
    }
    for website in ["javascript:alert(1)", "not a url", "ftp://files.example", "data:,x", "client.example"] {
        let reply = t.post("/api/v1/apps", None, json!({"client_name": "x", "redirect_uris": REDIRECT, "website": website})).await;
        assert_eq!(reply.status, 422, "website {website} is refused: {}", reply.body);
    }
    for uri in [REDIRECT, "http://localhost:8080/cb", "com.example.app:/oauth", "myapp://callback", OOB] {
        let reply = t.post("/api/v1/apps", None, json!({"client_name": "x", "redirect_uris": uri, "website": "https://client.example/about"})).await;
        assert_eq!(reply.status, 200, "{uri} is accepted: {}", reply.body);
    }
}

#[tokio::test]
async fn failed_logins_are_also_limited_per_account_from_any_address() {
    let t = TestApp::spawn_with(|s| {
        let limits = s.rate_limits.as_mut().unwrap();
        limits.trust_forwarded_for = true;
        limits.login_failures.limit = 3;
        limits.login_failures.period_secs = 3600;
    })
    .await;
    t.register("alice").await;
    t.register("bob").await;
    let (id, secret) = t.create_app("read write").await;
    let grant = |username: &str, password: &str, address: u32| {
        let body = json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": username, "password": password});
        t.http.post(format!("{}/oauth/token", t.base)).header("x-forwarded-for", format!("203.0.113.{address}")).json(&body).send()
    };
    // Each guess from another address: the per-address limit never sees more than one.
    let mut codes = Vec::new();
    for address in 1..=5 {
        codes.push(grant("alice", "wrong password!", address).await.unwrap().status().as_u16());
    }
    assert_eq!(codes, vec![400, 400, 400, 429, 429], "the account's failures are counted whatever the address");
    let locked = grant("alice", crate::PASSWORD, 6).await.unwrap();
    assert_eq!(locked.status(), 429, "while locked even the right password is not checked");
    assert!(locked.headers().contains_key("retry-after"));
    assert_eq!(grant("bob", crate::PASSWORD, 7).await.unwrap().status(), 200, "other accounts are unaffected");
    // The authorize form shares the account's count.
    let client = web_client(&t).await;
    let response =
        browser().post(format!("{}/oauth/authorize", t.base)).header("x-forwarded-for", "203.0.113.8").form(&approval(&client, "s")).send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("location").is_none(), "no code while locked");
}
