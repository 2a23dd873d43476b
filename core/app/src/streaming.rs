//! Realtime streaming: a consumer of the event log publishes Mastodon's stream events
//! (`update`, `delete`, `status.update`; the notifications consumer adds `notification`) to
//! [`StreamHub`](crate::ports::StreamHub) channels, and clients listen over server-sent events
//! (`/api/v1/streaming/{user,public,hashtag,…}`) or one WebSocket (`/api/v1/streaming`)
//! carrying any number of subscriptions.
//!
//! Channels carry Mastodon's Redis names: `timeline:{account}` gets what that account's home
//! timeline gets (the fanout's recipients, by the same home rules) plus its notifications;
//! `timeline:public[:local][:media]` and `timeline:hashtag:{tag}[:local]` get public,
//! original statuses only. Payloads are rendered once, without viewer-specific fields, as
//! Mastodon does. Streams are live only: this consumer starts at the log's head and keeps
//! no checkpoint; clients catch up through the REST timelines.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::id::Id;
use shared::wire::{self};
use tokio::sync::{broadcast, mpsc, watch};

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::events::Event;
use crate::http::Params;
use crate::policy::{FeedItem, feed};
use crate::ports::StreamMessage;
use crate::{App, timelines};

/// How often an idle stream shows it is alive (SSE comment `:thump`, WebSocket ping).
const HEARTBEAT: Duration = Duration::from_secs(15);
/// Events read per batch.
const BATCH: usize = 256;

// ---- publishing -------------------------------------------------------------------------------

/// Runs until `stop` turns true, publishing what is logged from now on.
pub async fn run(app: App, mut stop: watch::Receiver<bool>) {
    let mut after = loop {
        match app.events.head().await {
            Ok(head) => break head,
            Err(e) => {
                tracing::warn!(error = %e, "streaming cannot read the log head; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    };
    loop {
        if *stop.borrow() {
            return;
        }
        let batch = tokio::select! {
            batch = app.events.read(after, BATCH, Duration::from_millis(500)) => batch,
            _ = stop.changed() => return,
        };
        match batch {
            Ok(batch) => {
                for logged in batch {
                    if let Err(e) = claim_and_publish(&app, logged.seq, &logged.event).await {
                        // Streams are best effort: one failure must not stall the others.
                        tracing::warn!(error = ?e, seq = logged.seq, "could not stream an event");
                    }
                    after = logged.seq;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "streaming cannot read the log; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Publishes one event unless another process sharing the hub has claimed it (each process
/// tails the same log).
async fn claim_and_publish(app: &App, seq: u64, event: &Event) -> ApiResult<()> {
    if app.streams.claim(seq).await? { publish_event(app, event).await } else { Ok(()) }
}

/// Publishes one event to every channel that should hear of it.
async fn publish_event(app: &App, event: &Event) -> ApiResult<()> {
    match event {
        Event::StatusCreated { status, author, visibility, reblog_of, in_reply_to_account, mentions } => {
            let Some(record) = app.status_records(&[*status]).await?.remove(status) else { return Ok(()) };
            let tags = record.tags.clone();
            let Some(rendered) = app.render_statuses(None, vec![record]).await?.pop() else { return Ok(()) };
            let payload = serde_json::to_string(&rendered).map_err(ApiError::internal)?;
            let item = FeedItem { author: *author, visibility: *visibility, reblog_of: *reblog_of, in_reply_to_account: *in_reply_to_account, mentions };
            let recipients = timelines::push_recipients(app, &item).await?;
            publish_to_homes(app, &recipients, "update", &payload).await;
            if feed::in_public(&item) {
                publish_public(app, "update", &payload, &tags, !rendered.media_attachments.is_empty()).await;
            }
        }
        Event::StatusUpdated { status, author } => {
            let Some(record) = app.status_records(&[*status]).await?.remove(status) else { return Ok(()) };
            let (visibility, in_reply_to, tags) = (record.visibility, record.in_reply_to_account_id, record.tags.clone());
            let mentions: Vec<Id> = record.mentions.iter().map(|m| m.id).collect();
            let Some(rendered) = app.render_statuses(None, vec![record]).await?.pop() else { return Ok(()) };
            let payload = serde_json::to_string(&rendered).map_err(ApiError::internal)?;
            let item = FeedItem { author: *author, visibility, reblog_of: None, in_reply_to_account: in_reply_to, mentions: &mentions };
            let recipients = timelines::push_recipients(app, &item).await?;
            publish_to_homes(app, &recipients, "status.update", &payload).await;
            if feed::in_public(&item) {
                publish_public(app, "status.update", &payload, &tags, !rendered.media_attachments.is_empty()).await;
            }
        }
        Event::StatusDeleted { status, author, visibility, reblog_of, mentions, tags } => {
            let payload = status.to_string();
            let item = FeedItem { author: *author, visibility: *visibility, reblog_of: *reblog_of, in_reply_to_account: None, mentions };
            let recipients = timelines::push_recipients(app, &item).await?;
            publish_to_homes(app, &recipients, "delete", &payload).await;
            if feed::in_public(&item) {
                publish_public(app, "delete", &payload, tags, true).await;
            }
        }
        Event::AccountCreated { .. }
        | Event::AccountUpdated { .. }
        | Event::Followed { .. }
        | Event::Unfollowed { .. }
        | Event::Favourited { .. }
        | Event::Unfavourited { .. } => {}
    }
    Ok(())
}

/// Sends a `notification` to its recipient's stream.
pub async fn publish_notification(app: &App, recipient: Id, notification: &wire::Notification) {
    match serde_json::to_string(notification) {
        Ok(payload) => publish(app, home_channel(recipient), "notification", &payload).await,
        Err(e) => tracing::warn!(error = %e, "could not serialise a notification"),
    }
}

/// Channels published to at once: a hub across the network answers each in a round trip.
const CONCURRENT_PUBLISHES: usize = 32;

async fn publish_to_homes(app: &App, recipients: &[Id], event: &str, payload: &str) {
    use futures_util::StreamExt as _;
    futures_util::stream::iter(recipients).for_each_concurrent(CONCURRENT_PUBLISHES, |recipient| publish(app, home_channel(*recipient), event, payload)).await;
}

async fn publish_public(app: &App, event: &str, payload: &str, tags: &[String], media: bool) {
    let mut channels = vec!["timeline:public".to_owned(), "timeline:public:local".to_owned()];
    if media {
        channels.extend(["timeline:public:media".to_owned(), "timeline:public:local:media".to_owned()]);
    }
    for tag in tags {
        channels.push(format!("timeline:hashtag:{tag}"));
        channels.push(format!("timeline:hashtag:{tag}:local"));
    }
    for channel in channels {
        publish(app, channel, event, payload).await;
    }
}

/// Publishes when someone listens (so a post to many followers costs one lookup per idle one).
async fn publish(app: &App, channel: String, event: &str, payload: &str) {
    let channel = channel.as_str();
    match app.streams.has_subscribers(channel).await {
        Ok(false) => {}
        Ok(true) => {
            let message = StreamMessage { event: event.to_owned(), payload: payload.to_owned() };
            if let Err(e) = app.streams.publish(channel, message).await {
                tracing::warn!(error = %e, channel, "stream publish failed");
            }
        }
        Err(e) => tracing::warn!(error = %e, channel, "stream hub unavailable"),
    }
}

/// The channel of an account's user stream.
fn home_channel(account: Id) -> String {
    format!("timeline:{account}")
}

// ---- subscriptions ----------------------------------------------------------------------------

/// What a client listens to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subscription {
    /// Home timeline events and notifications.
    User,
    /// Notifications only.
    UserNotification,
    /// Public statuses (all are local: Starling does not federate yet).
    Public { local: bool, remote: bool, media: bool },
    /// Public statuses with a hashtag.
    Hashtag { tag: String, local: bool },
}

impl Subscription {
    /// Parses Mastodon's stream names.
    fn parse(stream: &str, tag: Option<&str>, only_media: bool) -> ApiResult<Self> {
        let hashtag = |local| {
            let tag = tag
                .map(|t| t.trim().trim_start_matches('#'))
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::BadRequest("No tag for stream provided".into()))?;
            if !shared::text::is_valid_hashtag(tag) {
                return Err(ApiError::BadRequest("Invalid tag".into()));
            }
            Ok(Subscription::Hashtag { tag: shared::text::normalize_hashtag(tag), local })
        };
        Ok(match stream {
            "user" => Subscription::User,
            "user:notification" => Subscription::UserNotification,
            "public" => Subscription::Public { local: false, remote: false, media: only_media },
            "public:media" => Subscription::Public { local: false, remote: false, media: true },
            "public:local" => Subscription::Public { local: true, remote: false, media: only_media },
            "public:local:media" => Subscription::Public { local: true, remote: false, media: true },
            "public:remote" => Subscription::Public { local: false, remote: true, media: only_media },
            "public:remote:media" => Subscription::Public { local: false, remote: true, media: true },
            "hashtag" => hashtag(false)?,
            "hashtag:local" => hashtag(true)?,
            _ => return Err(ApiError::BadRequest("Unknown stream type".into())),
        })
    }

    /// The `stream` array messages carry on a WebSocket.
    fn names(&self) -> Vec<String> {
        match self {
            Subscription::User => vec!["user".into()],
            Subscription::UserNotification => vec!["user:notification".into()],
            Subscription::Public { local, remote, media } => {
                let place = if *local {
                    ":local"
                } else if *remote {
                    ":remote"
                } else {
                    ""
                };
                vec![format!("public{place}{}", if *media { ":media" } else { "" })]
            }
            Subscription::Hashtag { tag, local } => vec![if *local { "hashtag:local".into() } else { "hashtag".into() }, tag.clone()],
        }
    }

    /// Checks the caller may listen, returning the hub channel.
    fn authorize(&self, auth: &Auth) -> ApiResult<String> {
        Ok(match self {
            Subscription::User => home_channel(auth.user("read:statuses")?),
            Subscription::UserNotification => home_channel(auth.user("read:notifications")?),
            Subscription::Public { local, remote, media } => {
                auth.require("read:statuses")?;
                let place = if *local {
                    ":local"
                } else if *remote {
                    ":remote"
                } else {
                    ""
                };
                format!("timeline:public{place}{}", if *media { ":media" } else { "" })
            }
            Subscription::Hashtag { tag, local } => {
                auth.require("read:statuses")?;
                format!("timeline:hashtag:{tag}{}", if *local { ":local" } else { "" })
            }
        })
    }

    /// Whether a message on its channel is for this subscription.
    fn accepts(&self, message: &StreamMessage) -> bool {
        feed::stream_delivers(matches!(self, Subscription::UserNotification), &message.event)
    }
}

/// The caller of a streaming endpoint: the token comes from the `Authorization` header, the
/// `access_token` query parameter or, as browsers' WebSockets send it, `Sec-WebSocket-Protocol`.
pub struct StreamCaller {
    auth: Auth,
    /// The token when it came as the WebSocket subprotocol (echoed back, as browsers require).
    protocol: Option<String>,
}

impl FromRequestParts<App> for StreamCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let header_token = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
        });
        let query_token = || {
            let pairs: Vec<(String, String)> = serde_html_form::from_str(parts.uri.query().unwrap_or("")).ok()?;
            pairs.into_iter().find(|(k, _)| k == "access_token").map(|(_, v)| v).filter(|v| !v.is_empty())
        };
        let protocol = parts.headers.get(header::SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let (token, protocol) = match (header_token.or_else(query_token), protocol) {
            (Some(token), _) => (token, None),
            (None, Some(protocol)) => (protocol.clone(), Some(protocol)),
            (None, None) => return Err(ApiError::Unauthorized),
        };
        let auth = app.authenticate(&token).await?;
        Ok(StreamCaller { auth, protocol })
    }
}

// ---- server-sent events -----------------------------------------------------------------------

/// Query of the SSE endpoints.
#[derive(Deserialize, Default)]
pub struct StreamParams {
    #[serde(default)]
    tag: Option<String>,
    #[serde(default, deserialize_with = "crate::http::flag")]
    only_media: Option<bool>,
}

/// `GET /api/v1/streaming/health`.
pub async fn health() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "OK")
}

/// `GET /api/v1/streaming/user`.
pub async fn user(State(app): State<App>, caller: StreamCaller) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::User).await
}

/// `GET /api/v1/streaming/user/notification`.
pub async fn user_notification(State(app): State<App>, caller: StreamCaller) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::UserNotification).await
}

/// `GET /api/v1/streaming/public`.
pub async fn public(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("public", None, p.only_media == Some(true))?).await
}

/// `GET /api/v1/streaming/public/local`.
pub async fn public_local(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("public:local", None, p.only_media == Some(true))?).await
}

/// `GET /api/v1/streaming/public/remote`.
pub async fn public_remote(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("public:remote", None, p.only_media == Some(true))?).await
}

/// `GET /api/v1/streaming/hashtag?tag=`.
pub async fn hashtag(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("hashtag", p.tag.as_deref(), false)?).await
}

/// `GET /api/v1/streaming/hashtag/local?tag=`.
pub async fn hashtag_local(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("hashtag:local", p.tag.as_deref(), false)?).await
}

/// What ends a stream's wait for its next message.
enum Next {
    Message(Arc<StreamMessage>),
    Skip,
    End,
}

/// Resolves once the server shuts down.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}

async fn next_message(rx: &mut broadcast::Receiver<Arc<StreamMessage>>, shutdown: &mut watch::Receiver<bool>) -> Next {
    tokio::select! {
        received = rx.recv() => match received {
            Ok(message) => Next::Message(message),
            // A slow client skips what it missed; REST fills the gap.
            Err(broadcast::error::RecvError::Lagged(_)) => Next::Skip,
            Err(broadcast::error::RecvError::Closed) => Next::End,
        },
        _ = stopped(shutdown) => Next::End,
    }
}

async fn sse(app: App, auth: Auth, subscription: Subscription) -> ApiResult<Response> {
    let channel = subscription.authorize(&auth)?;
    let rx = app.streams.subscribe(&channel).await?;
    let shutdown = app.shutdown.subscribe();
    let events = futures_util::stream::unfold((rx, shutdown, subscription), |(mut rx, mut shutdown, subscription)| async move {
        loop {
            match next_message(&mut rx, &mut shutdown).await {
                Next::Message(m) if subscription.accepts(&m) => {
                    let event = SseEvent::default().event(&m.event).data(&m.payload);
                    return Some((Ok::<_, Infallible>(event), (rx, shutdown, subscription)));
                }
                Next::Message(_) | Next::Skip => {}
                Next::End => return None,
            }
        }
    });
    let mut response = Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("thump")).into_response();
    // Proxies (nginx) must pass events through as they come.
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

// ---- WebSocket --------------------------------------------------------------------------------

/// Query of `GET /api/v1/streaming` (WebSocket).
#[derive(Deserialize, Default)]
pub struct SocketParams {
    #[serde(default)]
    stream: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    list: Option<String>,
}

/// `GET /api/v1/streaming`: one WebSocket, any number of subscriptions.
pub async fn websocket(
    State(app): State<App>,
    caller: StreamCaller,
    Params(p): Params<SocketParams>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = upgrade.map_err(|_| ApiError::BadRequest("Expected a WebSocket upgrade".into()))?;
    let _ = p.list;
    let initial = match p.stream.as_deref().filter(|s| !s.is_empty()) {
        Some(stream) => {
            let subscription = Subscription::parse(stream, p.tag.as_deref(), false)?;
            let channel = subscription.authorize(&caller.auth)?;
            // Subscribed before the upgrade completes: nothing published after the client
            // sees `101 Switching Protocols` is missed.
            Some((subscription, app.streams.subscribe(&channel).await?))
        }
        None => None,
    };
    let upgrade = match caller.protocol {
        Some(token) => upgrade.protocols([token]),
        None => upgrade,
    };
    let auth = caller.auth;
    Ok(upgrade.on_upgrade(move |socket| connection(app, auth, socket, initial)))
}

/// A client's subscribe or unsubscribe message.
#[derive(Deserialize)]
struct Command {
    #[serde(rename = "type")]
    kind: String,
    stream: String,
    #[serde(default)]
    tag: Option<String>,
}

type Outgoing = (Vec<String>, Arc<StreamMessage>);

async fn connection(app: App, auth: Auth, mut socket: WebSocket, initial: Option<(Subscription, broadcast::Receiver<Arc<StreamMessage>>)>) {
    let (tx, mut rx) = mpsc::channel::<Outgoing>(256);
    let mut subscriptions: HashMap<Subscription, tokio::task::AbortHandle> = HashMap::new();
    let mut shutdown = app.shutdown.subscribe();
    if let Some((subscription, rx)) = initial {
        forward(&app, &mut subscriptions, subscription, rx, &tx);
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Err(e) = command(&app, &auth, &mut subscriptions, text.as_str(), &tx).await
                        && socket.send(error_message(&e)).await.is_err()
                    {
                        break;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            Some((stream, message)) = rx.recv() => {
                let event = wire::StreamEvent { stream, event: message.event.clone(), payload: message.payload.clone() };
                let Ok(text) = serde_json::to_string(&event) else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            _ = heartbeat.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            _ = stopped(&mut shutdown) => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
        }
    }
    for handle in subscriptions.values() {
        handle.abort();
    }
}

/// Applies one client message.
async fn command(
    app: &App,
    auth: &Auth,
    subscriptions: &mut HashMap<Subscription, tokio::task::AbortHandle>,
    text: &str,
    tx: &mpsc::Sender<Outgoing>,
) -> ApiResult<()> {
    let command: Command = serde_json::from_str(text).map_err(|_| ApiError::BadRequest("Invalid message".into()))?;
    let subscription = Subscription::parse(&command.stream, command.tag.as_deref(), false)?;
    match command.kind.as_str() {
        "subscribe" => {
            let channel = subscription.authorize(auth)?;
            subscribe(app, subscriptions, subscription, &channel, tx).await
        }
        "unsubscribe" => {
            if let Some(handle) = subscriptions.remove(&subscription) {
                handle.abort();
            }
            Ok(())
        }
        _ => Err(ApiError::BadRequest("Unknown message type".into())),
    }
}

/// Starts forwarding a channel into the connection (subscribing twice is a no-op).
async fn subscribe(
    app: &App,
    subscriptions: &mut HashMap<Subscription, tokio::task::AbortHandle>,
    subscription: Subscription,
    channel: &str,
    tx: &mpsc::Sender<Outgoing>,
) -> ApiResult<()> {
    if subscriptions.contains_key(&subscription) {
        return Ok(());
    }
    let rx = app.streams.subscribe(channel).await?;
    forward(app, subscriptions, subscription, rx, tx);
    Ok(())
}

/// Forwards a channel's messages for `subscription` into the connection's queue.
fn forward(
    app: &App,
    subscriptions: &mut HashMap<Subscription, tokio::task::AbortHandle>,
    subscription: Subscription,
    mut rx: broadcast::Receiver<Arc<StreamMessage>>,
    tx: &mpsc::Sender<Outgoing>,
) {
    let mut shutdown = app.shutdown.subscribe();
    let names = subscription.names();
    let tx = tx.clone();
    let filter = subscription.clone();
    let task = tokio::spawn(async move {
        loop {
            match next_message(&mut rx, &mut shutdown).await {
                Next::Message(m) if filter.accepts(&m) => {
                    if tx.send((names.clone(), m)).await.is_err() {
                        return;
                    }
                }
                Next::Message(_) | Next::Skip => {}
                Next::End => return,
            }
        }
    });
    subscriptions.insert(subscription, task.abort_handle());
}

/// Mastodon's in-band error: `{"error": "...", "status": 400}`.
fn error_message(e: &ApiError) -> Message {
    let (error, status) = match e {
        ApiError::BadRequest(m) => (m.clone(), 400),
        ApiError::Unauthorized => ("Missing access token".to_owned(), 401),
        ApiError::Forbidden(m) => (m.clone(), 403),
        ApiError::Unprocessable(m) => (m.clone(), 422),
        _ => ("Error".to_owned(), 500),
    };
    Message::Text(serde_json::json!({ "error": error, "status": status }).to_string().into())
}
