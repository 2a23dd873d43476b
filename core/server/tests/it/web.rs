//! The public web pages: server-rendered HTML for anonymous readers, with link-preview meta,
//! never showing what is not public.

use serde_json::json;

use crate::{TestApp, User, id};

/// A page as a browser gets it: status, headers, HTML.
async fn page(t: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = t.http.get(format!("{}{path}", t.base)).header("accept", "text/html,application/xhtml+xml").send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn meta(html: &str, property: &str) -> Option<String> {
    let needle = format!("property=\"{property}\" content=\"");
    let start = html.find(&needle)? + needle.len();
    Some(html[start..start + html[start..].find('"')?].to_owned())
}

async fn with_posts(t: &TestApp) -> (User, User, String, String) {
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let public = t.post_status(&alice, json!({"status": "Hello from the open web #starlingweb"})).await;
    let private = t.post_status(&alice, json!({"status": "followers only secret", "visibility": "private"})).await;
    t.settle().await;
    (alice, bob, id(&public), id(&private))
}

#[tokio::test]
async fn the_landing_page_says_what_the_instance_is_and_shows_recent_public_posts() {
    let t = TestApp::spawn().await;
    let (..) = with_posts(&t).await;
    let (status, headers, html) = page(&t, "/").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(headers["cache-control"].to_str().unwrap().starts_with("public, max-age="), "cacheable by the edge");
    assert!(html.contains("Hello from the open web") && !html.contains("followers only secret"), "{html}");
    assert!(html.contains("sign up"), "how to join");
    assert_eq!(meta(&html, "og:type").as_deref(), Some("website"));
    assert!(html.contains("<html lang=\"en\">") && html.contains("<main>"), "landmarks for assistive technology");
    assert!(!html.contains("<script"), "readable without JavaScript");
}

#[tokio::test]
async fn a_profile_shows_public_posts_with_link_preview_meta() {
    let t = TestApp::spawn().await;
    let (alice, _bob, public, private) = with_posts(&t).await;
    t.post(&format!("/api/v1/statuses/{public}/pin"), Some(&alice.token), json!({})).await.expect(200);
    let (status, _, html) = page(&t, "/@alice").await;
    assert_eq!(status, 200);
    assert_eq!(meta(&html, "og:type").as_deref(), Some("profile"));
    assert_eq!(meta(&html, "og:url"), Some(format!("{}/@alice", t.base)));
    assert!(meta(&html, "og:image").is_some_and(|i| i.starts_with("http")), "the avatar unfurls");
    assert!(html.contains(&format!("<link rel=\"canonical\" href=\"{}/@alice\">", t.base)));
    assert!(html.contains(&format!("<link rel=\"alternate\" type=\"application/json\" href=\"{}/api/v1/accounts/{}\">", t.base, alice.id)));
    assert!(html.contains("Pinned") && html.contains("Hello from the open web"));
    assert!(!html.contains("followers only secret") && !html.contains(&private), "non-public posts are not on the page");
    let (status, _, _) = page(&t, "/@nobody").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_profile_pages_back_through_older_posts() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let mut posted = Vec::new();
    for i in 0..21 {
        posted.push(id(&t.post_status(&alice, json!({"status": format!("post number {i} here")})).await));
    }
    let (_, _, first) = page(&t, "/@alice").await;
    assert!(first.contains("post number 20 here") && !first.contains("post number 0 here"));
    let older = format!("/@alice?max_id={}", posted[1]);
    assert!(first.contains(&older.replace('&', "&amp;")), "a link to the older page: {first}");
    let (_, _, second) = page(&t, &older).await;
    assert!(second.contains("post number 0 here") && !second.contains("post number 20 here"));
}

#[tokio::test]
async fn a_status_page_shows_its_thread_and_unfurls() {
    let t = TestApp::spawn().await;
    let (alice, bob, public, private) = with_posts(&t).await;
    let reply = t.post_status(&bob, json!({"status": "@alice a public reply", "in_reply_to_id": public})).await;
    t.settle().await;
    let url = format!("/@alice/{public}");
    let (status, headers, html) = page(&t, &url).await;
    assert_eq!(status, 200, "{html}");
    assert!(headers["cache-control"].to_str().unwrap().contains("max-age"));
    assert_eq!(meta(&html, "og:type").as_deref(), Some("article"));
    assert_eq!(meta(&html, "og:url"), Some(format!("{}{url}", t.base)));
    assert_eq!(meta(&html, "og:description").as_deref(), Some("Hello from the open web #starlingweb"));
    assert!(html.contains("name=\"twitter:card\""));
    assert!(html.contains(&format!("href=\"{}/api/v1/statuses/{public}\"", t.base)));
    assert!(html.contains("class=\"focus\"") && html.contains("a public reply"), "the thread's replies");
    // The reply's own page shows what it answers.
    let (_, _, reply_page) = page(&t, &format!("/@bob/{}", id(&reply))).await;
    assert!(reply_page.contains("Hello from the open web"));

    for (path, why) in [
        (format!("/@alice/{private}"), "a followers-only status"),
        (format!("/@bob/{public}"), "someone else's status under this name"),
        ("/@alice/999999999".to_owned(), "an unknown status"),
        ("/@alice/not-an-id".to_owned(), "not an id"),
    ] {
        let (status, headers, html) = page(&t, &path).await;
        assert_eq!(status, 404, "{why}");
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"), "{why}: an HTML page for browsers");
        assert!(!html.contains("followers only secret"), "{why}");
    }
    let _ = alice;
}

#[tokio::test]
async fn tag_pages_list_public_posts_with_the_tag() {
    let t = TestApp::spawn().await;
    with_posts(&t).await;
    let (status, _, html) = page(&t, "/tags/StarlingWeb").await;
    assert_eq!(status, 200);
    assert!(html.contains("#starlingweb") && html.contains("Hello from the open web"));
    let (status, _, _) = page(&t, "/tags/not%20a%20tag").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_suspended_accounts_pages_are_gone() {
    let t = TestApp::spawn().await;
    let (_alice, bob, public, _) = with_posts(&t).await;
    core_app::admin::service::set_role(&t.app, bob.id.parse().unwrap(), core_app::model::Role::Admin).await.unwrap();
    let (client, secret) = t.create_app("read write admin:write").await;
    let body = json!({"grant_type": "password", "client_id": client, "client_secret": secret, "username": "bob", "password": crate::PASSWORD, "scope": "read write admin:write"});
    let admin = t.post("/oauth/token", None, body).await.expect(200)["access_token"].as_str().unwrap().to_owned();
    let alice_id = t.get("/api/v1/accounts/lookup?acct=alice", None).await.expect(200)["id"].as_str().unwrap().to_owned();
    t.post(&format!("/api/v1/admin/accounts/{alice_id}/action"), Some(&admin), json!({"type": "suspend"})).await.expect(200);
    for path in ["/@alice".to_owned(), format!("/@alice/{public}")] {
        let (status, _, html) = page(&t, &path).await;
        assert_eq!(status, 410, "{path}");
        assert!(!html.contains("Hello from the open web"));
    }
}

#[tokio::test]
async fn browsers_get_html_404s_and_the_api_keeps_json() {
    let t = TestApp::spawn().await;
    let (status, headers, html) = page(&t, "/no/such/page").await;
    assert_eq!(status, 404);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html") && html.contains("Not found"));
    let (status, headers, body) = page(&t, "/api/v1/no_such_endpoint").await;
    assert_eq!(status, 404);
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"), "{body}");
    // Without asking for HTML, the JSON envelope as before.
    assert_eq!(t.get("/no/such/page", None).await.expect(404)["error"], "Record not found");
}

#[tokio::test]
async fn the_web_app_is_served_under_web_with_versioned_immutable_assets() {
    let t = TestApp::spawn().await;
    // The shell, at /web and at any deep link (reloads work), revalidated each time.
    let (status, headers, html) = page(&t, "/web/statuses/123").await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    let start = html.find("/web/assets/").expect("the shell names its assets") + "/web/assets/".len();
    let version = &html[start..start + html[start..].find('/').unwrap()];
    assert!(html.contains(&format!("<script type=\"module\" src=\"/web/assets/{version}/app.js\">")), "{html}");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let again = t.http.get(format!("{}/web", t.base)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 304, "an unchanged shell is not sent again");
    // Every asset the shell and the modules name is there, immutable; another version is not.
    for file in ["app.js", "api.js", "view.js", "text.js", "status.js", "compose.js", "pages.js", "style.css"] {
        let response = t.http.get(format!("{}/web/assets/{version}/{file}", t.base)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{file}");
        assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
        let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with(if file.ends_with(".js") { "text/javascript" } else { "text/css" }), "{file}: {kind}");
        let body = response.text().await.unwrap();
        for import in body.split("from './").skip(1) {
            let name = &import[..import.find('\'').unwrap()];
            assert!(["api.js", "view.js", "text.js", "status.js", "compose.js", "pages.js"].contains(&name), "{file} imports {name}, which is not served");
        }
    }
    let stale = t.http.get(format!("{}/web/assets/000000000000/app.js", t.base)).send().await.unwrap();
    assert_eq!(stale.status().as_u16(), 404);
    // The public pages lead to the app.
    let (_, _, landing) = page(&t, "/").await;
    assert!(landing.contains("href=\"/web/login\"") && landing.contains("href=\"/web/signup\""), "{landing}");
}
