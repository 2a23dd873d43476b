//! The listener's connection limits: silent connections cannot starve real clients, and are
//! closed after the header-read timeout; stalled connections after the idle timeout; the client
//! address comes from `x-forwarded-for` only with the edge's secret.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::TestApp;

/// Whether the server closes `stream` within `within` (EOF or reset on read).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0_u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A response (e.g. 408) may come first: keep reading until the close.
            Ok(Ok(_)) => {}
        }
    }
}

fn address(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn silent_connections_past_the_cap_do_not_starve_requests_and_close_after_the_header_timeout() {
    const CAP: usize = 8;
    let app = TestApp::spawn_with(|s| {
        s.server.max_connections = CAP;
        s.server.header_read_timeout_secs = 2;
        s.server.idle_timeout_secs = 60;
    })
    .await;
    let addr = address(&app);
    let mut silent = Vec::new();
    for _ in 0..CAP + 12 {
        silent.push(TcpStream::connect(&addr).await.unwrap());
    }
    // One more that starts a request head and never finishes it (slowloris).
    let mut partial = TcpStream::connect(&addr).await.unwrap();
    partial.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A real client is served at once, while silent connections hold every slot.
    for _ in 0..3 {
        let started = Instant::now();
        let reply = reqwest::Client::new().get(format!("{}/health", app.base)).timeout(Duration::from_secs(5)).send().await;
        let reply = reply.expect("a normal request is served while silent connections fill the cap");
        assert_eq!(reply.status(), 200);
        assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    }

    // The cap holds: all but at most CAP of the silent ones were closed already.
    let mut open_now = 0;
    for stream in &mut silent {
        if !closed_within(stream, Duration::from_millis(50)).await {
            open_now += 1;
        }
    }
    assert!(open_now <= CAP, "{open_now} silent connections still open past a cap of {CAP}");

    // Every silent one, and the unfinished head, is closed by the header-read timeout (2 s).
    let started = Instant::now();
    for stream in silent.iter_mut().chain(std::iter::once(&mut partial)) {
        assert!(closed_within(stream, Duration::from_secs(4)).await, "a silent connection outlived the header-read timeout");
    }
    assert!(started.elapsed() < Duration::from_secs(4), "closing took {:?}", started.elapsed());
    app.stop().await;
}

#[tokio::test]
async fn a_stalled_request_body_is_closed_after_the_idle_timeout() {
    let app = TestApp::spawn_with(|s| {
        s.server.header_read_timeout_secs = 30;
        s.server.idle_timeout_secs = 2;
    })
    .await;
    let mut stalled = TcpStream::connect(address(&app)).await.unwrap();
    stalled
        .write_all(b"POST /api/v1/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"client_name\":")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut stalled, Duration::from_secs(5)).await, "a stalled body kept its connection open");
    assert!(started.elapsed() >= Duration::from_millis(1500), "closed too early: {:?}", started.elapsed());
    // Keep-alive connections between requests are bounded by the header-read timeout instead:
    // a live client is unaffected.
    assert_eq!(reqwest::get(format!("{}/health", app.base)).await.unwrap().status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_forwarded_address_counts_only_with_the_edge_secret() {
    let app = TestApp::spawn_with(|s| {
        s.server.edge_secret = Some("edge-secret-for-tests".into());
        let mut limits = s.rate_limits.clone().unwrap();
        limits.sign_ups.limit = 1;
        s.rate_limits = Some(limits);
    })
    .await;
    let (id, secret) = app.create_app("read write").await;
    let token = app
        .post("/oauth/token", None, serde_json::json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "scope": "read write"}))
        .await
        .expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let sign_up = |n: u32, headers: Vec<(&'static str, &'static str)>| {
        let (app, token) = (&app, token.clone());
        async move {
            let mut req = app.http.post(format!("{}/api/v1/accounts", app.base)).bearer_auth(token).json(&serde_json::json!({
                "username": format!("user{n}"), "email": format!("user{n}@example.org"), "password": "correct horse battery", "agreement": true
            }));
            for (k, v) in headers {
                req = req.header(k, v);
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    let edge = |ip: &'static str| vec![("x-forwarded-for", ip), ("x-starling-edge-secret", "edge-secret-for-tests")];
    // Two clients behind the edge get a sign-up each; a second one from the same client does not.
    assert_eq!(sign_up(1, edge("198.51.100.1")).await, 200);
    assert_eq!(sign_up(2, edge("198.51.100.2")).await, 200);
    assert_eq!(sign_up(3, edge("198.51.100.2")).await, 429);
    // Without the right secret the header is ignored: every such request is the peer (127.0.0.1).
    assert_eq!(sign_up(4, vec![("x-forwarded-for", "198.51.100.3"), ("x-starling-edge-secret", "wrong")]).await, 200);
    assert_eq!(sign_up(5, vec![("x-forwarded-for", "198.51.100.4")]).await, 429);
    app.stop().await;
}
