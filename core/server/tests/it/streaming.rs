use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::{TestApp, User, id};

/// How long a test waits for an event that should come.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// A server-sent events connection, read event by event.
pub(crate) struct Sse {
    response: reqwest::Response,
    buffer: String,
}

/// One server-sent event: its name and data.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) event: String,
    pub(crate) data: String,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

impl Sse {
    pub(crate) async fn open(t: &TestApp, path: &str, token: Option<&str>) -> Sse {
        let response = Self::connect(t, path, token).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Sse { response, buffer: String::new() }
    }

    async fn connect(t: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = t.http.get(format!("{}{path}", t.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    /// The next event (comments skipped), or `None` when none comes within `wait`.
    pub(crate) async fn next_within(&mut self, wait: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if event.is_empty() && data.is_empty() {
                    continue;
                }
                return Some(Received { event, data });
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?.ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Whether the server ends the response within `wait` (events and comments before the end
    /// are read and dropped).
    pub(crate) async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(_))) => {}
                Ok(Ok(None) | Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    pub(crate) async fn next(&mut self) -> Received {
        self.next_within(WAIT).await.expect("an event within the wait")
    }
}

pub(crate) fn ws_url(t: &TestApp, query: &str) -> String {
    format!("{}/api/v1/streaming{query}", t.base.replacen("http", "ws", 1))
}

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON text message of a WebSocket (pings skipped).
pub(crate) async fn ws_next_within(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next()).await.ok()??.ok()?;
        if let Message::Text(text) = message {
            return Some(serde_json::from_str(text.as_str()).unwrap());
        }
    }
}

pub(crate) async fn ws_next(socket: &mut Socket) -> Value {
    ws_next_within(socket, WAIT).await.expect("a message within the wait")
}

async fn ws_send(socket: &mut Socket, message: Value) {
    socket.send(Message::Text(message.to_string().into())).await.unwrap();
    // Subscriptions have no acknowledgement (as in Mastodon); give the server a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

async fn two_users(t: &TestApp) -> (User, User) {
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    t.follow(&alice, &bob).await;
    (alice, bob)
}

#[tokio::test]
async fn the_health_check_answers_ok() {
    let t = TestApp::spawn().await;
    let reply = t.get("/api/v1/streaming/health", None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, "OK");
}

#[tokio::test]
async fn the_user_stream_sends_home_updates_notifications_edits_and_deletes() {
    let t = TestApp::spawn().await;
    let (alice, bob) = two_users(&t).await;
    let mut stream = Sse::open(&t, "/api/v1/streaming/user", Some(&alice.token)).await;

    let post = t.post_status(&bob, json!({"status": "for my followers"})).await;
    let update = stream.next().await;
    assert_eq!(update.event, "update");
    assert_eq!(update.json()["id"], id(&post));
    assert_eq!(update.json()["account"]["id"], bob.id.as_str());

    let mention = t.post_status(&bob, json!({"status": "@alice look"})).await;
    let mut seen = [stream.next().await, stream.next().await];
    seen.sort_by(|a, b| a.event.cmp(&b.event));
    assert_eq!(seen[0].event, "notification");
    assert_eq!(seen[0].json()["type"], "mention");
    assert_eq!(seen[0].json()["status"]["id"], id(&mention));
    assert_eq!(seen[1].event, "update");

    t.put(&format!("/api/v1/statuses/{}", id(&post)), Some(&bob.token), json!({"status": "edited"})).await.expect(200);
    let edit = stream.next().await;
    assert_eq!(edit.event, "status.update");
    assert!(edit.json()["content"].as_str().unwrap().contains("edited"));

    t.delete(&format!("/api/v1/statuses/{}", id(&post)), Some(&bob.token)).await.expect(200);
    let delete = stream.next().await;
    assert_eq!(delete.event, "delete");
    assert_eq!(delete.data, id(&post), "the payload is the bare id");
}

#[tokio::test]
async fn the_user_stream_follows_home_rules() {
    let t = TestApp::spawn().await;
    let (alice, bob) = two_users(&t).await;
    let carol = t.register("carol").await;
    let mut stream = Sse::open(&t, "/api/v1/streaming/user", Some(&alice.token)).await;
    t.post_status(&carol, json!({"status": "alice does not follow me"})).await;
    t.post_status(&bob, json!({"status": "@carol just us", "visibility": "direct"})).await;
    let root = t.post_status(&carol, json!({"status": "root"})).await;
    t.post_status(&bob, json!({"status": "reply to a stranger", "in_reply_to_id": id(&root)})).await;
    let private = t.post_status(&bob, json!({"status": "followers only", "visibility": "private"})).await;
    let next = stream.next().await;
    assert_eq!((next.event.as_str(), next.json()["id"].clone()), ("update", json!(id(&private))), "only the private post reaches a follower's home");
}

#[tokio::test]
async fn the_notification_stream_sends_notifications_only() {
    let t = TestApp::spawn().await;
    let (alice, bob) = two_users(&t).await;
    let mut stream = Sse::open(&t, "/api/v1/streaming/user/notification", Some(&alice.token)).await;
    t.post_status(&bob, json!({"status": "not a notification"})).await;
    t.follow(&bob, &alice).await;
    let next = stream.next().await;
    assert_eq!(next.event, "notification");
    assert_eq!(next.json()["type"], "follow");
    assert_eq!(next.json()["account"]["id"], bob.id.as_str());
}

#[tokio::test]
async fn public_and_hashtag_streams_carry_public_statuses_only() {
    let t = TestApp::spawn().await;
    let (alice, bob) = two_users(&t).await;
    let mut public = Sse::open(&t, "/api/v1/streaming/public", Some(&alice.token)).await;
    let mut local = Sse::open(&t, "/api/v1/streaming/public/local", Some(&alice.token)).await;
    let mut tag = Sse::open(&t, "/api/v1/streaming/hashtag?tag=Rust", Some(&alice.token)).await;
    t.post_status(&bob, json!({"status": "quiet #rust", "visibility": "unlisted"})).await;
    t.post_status(&bob, json!({"status": "secret #rust", "visibility": "private"})).await;
    let original = t.post_status(&alice, json!({"status": "loud"})).await;
    t.post(&format!("/api/v1/statuses/{}/reblog", id(&original)), Some(&bob.token), json!({})).await.expect(200);
    let tagged = t.post_status(&bob, json!({"status": "hello #rust"})).await;
    assert_eq!(public.next().await.json()["id"], id(&original));
    assert_eq!(public.next().await.json()["id"], id(&tagged), "boosts are not on the public stream");
    assert_eq!(local.next().await.json()["id"], id(&original));
    assert_eq!(tag.next().await.json()["id"], id(&tagged), "the tag is matched case-insensitively; unlisted and private stay out");
    t.delete(&format!("/api/v1/statuses/{}", id(&tagged)), Some(&bob.token)).await.expect(200);
    let delete = tag.next().await;
    assert_eq!((delete.event.as_str(), delete.data.as_str()), ("delete", id(&tagged).as_str()));
}

#[tokio::test]
async fn streams_need_a_valid_token_with_the_right_scope() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    for path in ["/api/v1/streaming/user", "/api/v1/streaming/public", "/api/v1/streaming/hashtag?tag=x"] {
        assert_eq!(Sse::connect(&t, path, None).await.status(), 401, "{path}");
        assert_eq!(Sse::connect(&t, path, Some("not-a-token")).await.status(), 401, "{path}");
    }
    let notifications_only = t.token_with_scopes(&alice, "read:notifications").await;
    assert_eq!(Sse::connect(&t, "/api/v1/streaming/user", Some(&notifications_only)).await.status(), 403);
    assert_eq!(Sse::connect(&t, "/api/v1/streaming/public", Some(&notifications_only)).await.status(), 403);
    Sse::open(&t, "/api/v1/streaming/user/notification", Some(&notifications_only)).await;
    let statuses_only = t.token_with_scopes(&alice, "read:statuses").await;
    assert_eq!(Sse::connect(&t, "/api/v1/streaming/user/notification", Some(&statuses_only)).await.status(), 403);
    let app_only = t.app_token("read").await;
    assert_eq!(Sse::connect(&t, "/api/v1/streaming/user", Some(&app_only)).await.status(), 422);
    Sse::open(&t, "/api/v1/streaming/public", Some(&app_only)).await;
    assert_eq!(Sse::connect(&t, "/api/v1/streaming/hashtag", Some(&alice.token)).await.status(), 400, "a tag is required");
    // The token may come as a query parameter (browsers' EventSource cannot send headers).
    Sse::open(&t, &format!("/api/v1/streaming/user?access_token={}", alice.token), None).await;
}

#[tokio::test]
async fn a_websocket_streams_its_subscriptions_with_stream_names() {
    let t = TestApp::spawn().await;
    let (alice, bob) = two_users(&t).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=user&access_token={}", alice.token))).await.unwrap();

    let post = t.post_status(&bob, json!({"status": "over the socket"})).await;
    let update = ws_next(&mut socket).await;
    assert_eq!(update["stream"], json!(["user"]));
    assert_eq!(update["event"], "update");
    let status: Value = serde_json::from_str(update["payload"].as_str().unwrap()).unwrap();
    assert_eq!(status["id"], id(&post));

    t.follow(&bob, &alice).await;
    let notification = ws_next(&mut socket).await;
    assert_eq!(notification["event"], "notification");
    let payload: Value = serde_json::from_str(notification["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["type"], "follow");

    t.delete(&format!("/api/v1/statuses/{}", id(&post)), Some(&bob.token)).await.expect(200);
    let delete = ws_next(&mut socket).await;
    assert_eq!((delete["event"].as_str(), delete["payload"].as_str()), (Some("delete"), Some(id(&post).as_str())));

    // More subscriptions on the same socket; unsubscribing stops one.
    ws_send(&mut socket, json!({"type": "subscribe", "stream": "hashtag", "tag": "Cats"})).await;
    ws_send(&mut socket, json!({"type": "unsubscribe", "stream": "user"})).await;
    let tagged = t.post_status(&bob, json!({"status": "#cats"})).await;
    let message = ws_next(&mut socket).await;
    assert_eq!(message["stream"], json!(["hashtag", "cats"]));
    assert_eq!(serde_json::from_str::<Value>(message["payload"].as_str().unwrap()).unwrap()["id"], id(&tagged));
    assert!(ws_next_within(&mut socket, Duration::from_millis(500)).await.is_none(), "no user-stream copy after unsubscribing");

    ws_send(&mut socket, json!({"type": "subscribe", "stream": "nonsense"})).await;
    let error = ws_next(&mut socket).await;
    assert_eq!(error["status"], 400);
    assert_eq!(error["error"], "Unknown stream type");
}

#[tokio::test]
async fn a_websocket_accepts_the_token_as_header_or_subprotocol_and_refuses_bad_ones() {
    let t = TestApp::spawn().await;
    let (alice, bob) = two_users(&t).await;

    let mut request = ws_url(&t, "?stream=public").into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {}", alice.token).parse().unwrap());
    let (mut by_header, _) = tokio_tungstenite::connect_async(request).await.unwrap();

    let mut request = ws_url(&t, "").into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", alice.token.parse().unwrap());
    let (mut by_protocol, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], alice.token.as_str(), "the subprotocol is echoed");
    ws_send(&mut by_protocol, json!({"type": "subscribe", "stream": "public:local"})).await;

    let post = t.post_status(&bob, json!({"status": "public news"})).await;
    for (socket, stream) in [(&mut by_header, "public"), (&mut by_protocol, "public:local")] {
        let message = ws_next(socket).await;
        assert_eq!(message["stream"], json!([stream]));
        assert_eq!(serde_json::from_str::<Value>(message["payload"].as_str().unwrap()).unwrap()["id"], id(&post));
    }

    for query in ["?stream=user".to_owned(), "?stream=user&access_token=bad".to_owned()] {
        match tokio_tungstenite::connect_async(ws_url(&t, &query)).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
            other => panic!("expected 401 for {query}, got {other:?}"),
        }
    }
    match tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=nope&access_token={}", alice.token))).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 400),
        other => panic!("expected 400, got {other:?}"),
    }
    let reply = t.get("/api/v1/streaming", Some(&alice.token)).await;
    assert_eq!(reply.status, 400, "plain HTTP is not a WebSocket: {:?}", reply.body);
}

#[tokio::test]
async fn streams_pass_through_the_edge() {
    let t = TestApp::spawn_with(|s| s.edge.enabled = true).await;
    let (alice, bob) = two_users(&t).await;
    let mut sse = Sse::open(&t, "/api/v1/streaming/user", Some(&alice.token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=user&access_token={}", alice.token))).await.unwrap();
    let post = t.post_status(&bob, json!({"status": "@alice through the edge"})).await;
    let mut events = [sse.next().await.event, sse.next().await.event];
    events.sort();
    assert_eq!(events, ["notification", "update"], "SSE is not buffered by the edge");
    let mut events: Vec<String> = Vec::new();
    for _ in 0..2 {
        events.push(ws_next(&mut socket).await["event"].as_str().unwrap().to_owned());
    }
    events.sort();
    assert_eq!(events, ["notification", "update"], "the WebSocket upgrade passes the edge");
    let _ = post;
}

#[tokio::test]
async fn shutting_down_ends_open_streams() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let mut sse = Sse::open(&t, "/api/v1/streaming/user", Some(&alice.token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=user&access_token={}", alice.token))).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), t.stop()).await.expect("the server stops despite open streams");
    assert!(sse.next_within(Duration::from_secs(1)).await.is_none());
    assert!(ws_next_within(&mut socket, Duration::from_secs(1)).await.is_none());
}

#[tokio::test]
async fn instance_information_advertises_the_streaming_url() {
    let t = TestApp::spawn().await;
    let streaming = t.base.replacen("http", "ws", 1);
    assert_eq!(t.get("/api/v1/instance", None).await.expect(200)["urls"]["streaming_api"], streaming.as_str());
    assert_eq!(t.get("/api/v2/instance", None).await.expect(200)["configuration"]["urls"]["streaming"], streaming.as_str());
}

// ---- streams end with their token ----------------------------------------------------------

/// A token for `user` from an app of its own, with the app's credentials to revoke it.
pub(crate) async fn revocable_token(t: &TestApp, user: &User) -> (String, String, String) {
    let (client_id, secret) = t.create_app("read write follow").await;
    let token = t
        .post(
            "/oauth/token",
            None,
            json!({"grant_type": "password", "client_id": client_id, "client_secret": secret, "username": user.username, "password": crate::PASSWORD}),
        )
        .await
        .expect(200);
    (token["access_token"].as_str().unwrap().to_owned(), client_id, secret)
}

/// Whether the server closes the WebSocket within `wait`, returning its close frame's code.
pub(crate) async fn ws_closed_within(socket: &mut Socket, wait: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await.ok()? {
            Some(Ok(Message::Close(frame))) => return Some(frame.map_or(1005, |f| f.code.into())),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Some(1006),
        }
    }
}

/// The re-check is far off, so whatever closes within a second or two came by announcement.
pub(crate) fn late_recheck(s: &mut core_server::Settings) {
    s.auth = Some(core_app::config::AuthConfig { stream_recheck_secs: 600, ..Default::default() });
}

#[tokio::test]
async fn revoking_a_token_ends_its_server_sent_event_streams_at_once() {
    let t = TestApp::spawn_with(late_recheck).await;
    let (alice, bob) = two_users(&t).await;
    let (token, client_id, secret) = revocable_token(&t, &alice).await;
    let mut user = Sse::open(&t, "/api/v1/streaming/user", Some(&token)).await;
    let mut public = Sse::open(&t, "/api/v1/streaming/public", Some(&token)).await;
    let mut other = Sse::open(&t, "/api/v1/streaming/user", Some(&alice.token)).await;
    t.post_status(&bob, json!({"status": "before"})).await;
    assert_eq!(user.next().await.event, "update", "the stream works before the revocation");

    t.post("/oauth/revoke", None, json!({"client_id": client_id, "client_secret": secret, "token": token})).await.expect(200);
    assert!(user.ends_within(Duration::from_secs(2)).await, "the user stream ends within 2 s of the revocation");
    assert!(public.ends_within(Duration::from_secs(2)).await, "so does a public stream of the same token");
    t.post_status(&bob, json!({"status": "after"})).await;
    let update = other.next().await;
    assert_eq!(update.event, "update");
    assert_eq!(update.json()["content"], "<p>before</p>");
    assert_eq!(other.next().await.json()["content"], "<p>after</p>", "a stream of another token of the same account stays open");
}

#[tokio::test]
async fn revoking_a_token_closes_its_websocket_with_a_close_frame() {
    let t = TestApp::spawn_with(late_recheck).await;
    let (alice, bob) = two_users(&t).await;
    let (token, client_id, secret) = revocable_token(&t, &alice).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=user&access_token={token}"))).await.unwrap();
    ws_send(&mut socket, json!({"type": "subscribe", "stream": "hashtag", "tag": "later"})).await;
    t.post_status(&bob, json!({"status": "before"})).await;
    assert_eq!(ws_next(&mut socket).await["event"], "update");

    t.post("/oauth/revoke", None, json!({"client_id": client_id, "client_secret": secret, "token": token})).await.expect(200);
    assert_eq!(ws_closed_within(&mut socket, Duration::from_secs(2)).await, Some(1008), "a close frame (policy) within 2 s of the revocation");
}

#[tokio::test]
async fn closing_an_accounts_streams_ends_every_stream_of_every_token_it_has() {
    let t = TestApp::spawn_with(late_recheck).await;
    let (alice, bob) = two_users(&t).await;
    let second = t.token_with_scopes(&alice, "read").await;
    let mut sse = Sse::open(&t, "/api/v1/streaming/user", Some(&alice.token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=public&access_token={second}"))).await.unwrap();
    let mut bobs = Sse::open(&t, "/api/v1/streaming/user", Some(&bob.token)).await;

    // What moderation (suspension, disabling) calls once the account can no longer sign in.
    core_app::revocation::close_account_streams(&t.app, alice.id.parse().unwrap()).await;
    assert!(sse.ends_within(Duration::from_secs(2)).await, "the SSE stream of one token ends");
    assert_eq!(ws_closed_within(&mut socket, Duration::from_secs(2)).await, Some(1008), "the WebSocket of another token closes");
    t.post_status(&bob, json!({"status": "still here"})).await;
    assert_eq!(bobs.next().await.event, "update", "another account's stream stays open");
}

#[tokio::test]
async fn a_stream_whose_token_expires_closes_at_its_next_recheck() {
    // Expiry is announced by no one: the periodic re-check is what closes the stream, as it
    // closes one whose revocation announcement was lost.
    let t =
        TestApp::spawn_with(|s| s.auth = Some(core_app::config::AuthConfig { access_token_ttl_secs: 6, stream_recheck_secs: 1, ..Default::default() })).await;
    let alice = t.register("alice").await;
    let mut sse = Sse::open(&t, "/api/v1/streaming/user", Some(&alice.token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=user&access_token={}", alice.token))).await.unwrap();
    assert!(!sse.ends_within(Duration::from_millis(500)).await, "open while the token is valid");
    assert!(sse.ends_within(Duration::from_secs(8)).await, "the SSE stream ends within a re-check period of the expiry");
    assert_eq!(ws_closed_within(&mut socket, Duration::from_secs(2)).await, Some(1008), "the WebSocket too");
}

#[tokio::test]
async fn a_revoked_tokens_streams_end_through_the_edge_too() {
    let t = TestApp::spawn_with(|s| {
        s.edge.enabled = true;
        late_recheck(s);
    })
    .await;
    let alice = t.register("alice").await;
    let (token, client_id, secret) = revocable_token(&t, &alice).await;
    let mut sse = Sse::open(&t, "/api/v1/streaming/user", Some(&token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&t, &format!("?stream=user&access_token={token}"))).await.unwrap();
    t.post("/oauth/revoke", None, json!({"client_id": client_id, "client_secret": secret, "token": token})).await.expect(200);
    assert!(sse.ends_within(Duration::from_secs(2)).await, "the edge passes the end of the response on");
    assert_eq!(ws_closed_within(&mut socket, Duration::from_secs(2)).await, Some(1008), "and the close frame");
}
