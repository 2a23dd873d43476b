//! The HTTP endpoints: thin handlers that extract, call the service, and render.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code, rejection::WebSocketUpgradeRejection};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::wire::{self, FilterContext};
use tokio::sync::{broadcast, mpsc, watch};

use super::hidden::Hidden;
use super::publisher::{HEARTBEAT, direct_channel, home_channel, list_channel};
use super::revoked::Revoked;
use crate::App;
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::policy::feed;
use crate::ports::StreamMessage;

// ---- subscriptions ----------------------------------------------------------------------------

/// What a client listens to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Subscription {
    /// Home timeline events and notifications.
    User,
    /// Notifications only.
    UserNotification,
    /// Public statuses (all are local: Starling does not federate yet).
    Public { local: bool, remote: bool, media: bool },
    /// Public statuses with a hashtag.
    Hashtag { tag: String, local: bool },
    /// What one of the caller's lists gets.
    List { list: shared::id::Id },
    /// The caller's direct conversations (`conversation` events).
    Direct,
}

impl Subscription {
    /// Parses Mastodon's stream names (`tag` for hashtag streams, `list` for the list stream).
    pub(crate) fn parse(stream: &str, tag: Option<&str>, list: Option<&str>, only_media: bool) -> ApiResult<Self> {
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
            "direct" => Subscription::Direct,
            "hashtag" => hashtag(false)?,
            "hashtag:local" => hashtag(true)?,
            "list" => {
                let list = list.map(str::trim).filter(|l| !l.is_empty()).ok_or_else(|| ApiError::BadRequest("No list for stream provided".into()))?;
                Subscription::List { list: list.parse().map_err(|_| ApiError::Forbidden(NOT_YOUR_LIST.into()))? }
            }
            _ => return Err(ApiError::BadRequest("Unknown stream type".into())),
        })
    }

    /// The `stream` array messages carry on a WebSocket.
    pub(crate) fn names(&self) -> Vec<String> {
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
            Subscription::List { list } => vec!["list".into(), list.to_string()],
            Subscription::Direct => vec!["direct".into()],
        }
    }

    /// Checks the caller may listen, returning the hub channel.
    pub(crate) async fn authorize(&self, app: &App, auth: &Auth) -> ApiResult<String> {
        Ok(match self {
            Subscription::User => home_channel(auth.user(Scope::ReadStatuses)?),
            Subscription::UserNotification => home_channel(auth.user(Scope::ReadNotifications)?),
            Subscription::Public { local, remote, media } => {
                auth.require(Scope::ReadStatuses)?;
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
                auth.require(Scope::ReadStatuses)?;
                format!("timeline:hashtag:{tag}{}", if *local { ":local" } else { "" })
            }
            Subscription::List { list } => {
                let me = auth.user(Scope::ReadStatuses)?;
                // Only the owner's partition holds a list: anyone else's is simply absent.
                if app.store.get(&crate::keys::list(me, *list)).await?.is_none() {
                    return Err(ApiError::Forbidden(NOT_YOUR_LIST.into()));
                }
                list_channel(*list)
            }
            Subscription::Direct => direct_channel(auth.user(Scope::ReadStatuses)?),
        })
    }

    /// Which of the reader's filters apply to an event named `event` on this subscription:
    /// notifications', or else the timeline's (home for the user stream, public otherwise).
    pub(crate) fn filter_context(&self, event: &str) -> FilterContext {
        match self {
            _ if event == "notification" => FilterContext::Notifications,
            Subscription::User | Subscription::UserNotification | Subscription::List { .. } | Subscription::Direct => FilterContext::Home,
            Subscription::Public { .. } | Subscription::Hashtag { .. } => FilterContext::Public,
        }
    }

    /// Whether a message on its channel is for this subscription.
    pub(crate) fn accepts(&self, message: &StreamMessage) -> bool {
        feed::stream_delivers(matches!(self, Subscription::UserNotification), &message.event)
    }
}

/// Mastodon's answer to a list stream of a list that is not the caller's.
const NOT_YOUR_LIST: &str = "Not authorized to stream this list";

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
    #[serde(default)]
    list: Option<String>,
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
    sse(app, caller.auth, Subscription::parse("public", None, None, p.only_media == Some(true))?).await
}

/// `GET /api/v1/streaming/public/local`.
pub async fn public_local(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("public:local", None, None, p.only_media == Some(true))?).await
}

/// `GET /api/v1/streaming/public/remote`.
pub async fn public_remote(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("public:remote", None, None, p.only_media == Some(true))?).await
}

/// `GET /api/v1/streaming/hashtag?tag=`.
pub async fn hashtag(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("hashtag", p.tag.as_deref(), None, false)?).await
}

/// `GET /api/v1/streaming/hashtag/local?tag=`.
pub async fn hashtag_local(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("hashtag:local", p.tag.as_deref(), None, false)?).await
}

/// `GET /api/v1/streaming/list?list=`: one of the caller's lists.
pub async fn list(State(app): State<App>, caller: StreamCaller, Params(p): Params<StreamParams>) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::parse("list", None, p.list.as_deref(), false)?).await
}

/// `GET /api/v1/streaming/direct`: the caller's direct conversations.
pub async fn direct(State(app): State<App>, caller: StreamCaller) -> ApiResult<Response> {
    sse(app, caller.auth, Subscription::Direct).await
}

/// What ends a stream's wait for its next message.
pub(crate) enum Next {
    Message(Arc<StreamMessage>),
    Skip,
    End,
}

/// Resolves once the server shuts down.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}

pub(crate) async fn next_message(rx: &mut broadcast::Receiver<Arc<StreamMessage>>, shutdown: &mut watch::Receiver<bool>) -> Next {
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

pub(crate) async fn sse(app: App, auth: Auth, subscription: Subscription) -> ApiResult<Response> {
    let channel = subscription.authorize(&app, &auth).await?;
    let revoked = Revoked::watch(&app, &auth).await?;
    let hidden = Hidden::watch(&app, auth.account).await?;
    let rx = app.streams.subscribe(&channel).await?;
    let shutdown = app.shutdown.subscribe();
    let state = (rx, shutdown, subscription, revoked, hidden);
    let events = futures_util::stream::unfold(state, |(mut rx, mut shutdown, subscription, mut revoked, hidden)| async move {
        loop {
            let next = tokio::select! {
                next = next_message(&mut rx, &mut shutdown) => next,
                // Ends the response: the token no longer authenticates.
                () = revoked.closed() => Next::End,
            };
            match next {
                Next::Message(m) if subscription.accepts(&m) => {
                    let Some(m) = hidden.pass(subscription.filter_context(&m.event), m) else { continue };
                    let event = SseEvent::default().event(&m.event).data(&m.payload);
                    return Some((Ok::<_, Infallible>(event), (rx, shutdown, subscription, revoked, hidden)));
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
    let revoked = Revoked::watch(&app, &caller.auth).await?;
    let hidden = Hidden::watch(&app, caller.auth.account).await?;
    let initial = match p.stream.as_deref().filter(|s| !s.is_empty()) {
        Some(stream) => {
            let subscription = Subscription::parse(stream, p.tag.as_deref(), p.list.as_deref(), false)?;
            let channel = subscription.authorize(&app, &caller.auth).await?;
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
    Ok(upgrade.on_upgrade(move |socket| connection(app, auth, socket, initial, revoked, hidden)))
}

/// A client's subscribe or unsubscribe message.
#[derive(Deserialize)]
pub(crate) struct Command {
    #[serde(rename = "type")]
    kind: String,
    stream: String,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    list: Option<String>,
}

pub(crate) type Outgoing = (Vec<String>, Arc<StreamMessage>);

pub(crate) async fn connection(
    app: App,
    auth: Auth,
    mut socket: WebSocket,
    initial: Option<(Subscription, broadcast::Receiver<Arc<StreamMessage>>)>,
    mut revoked: Revoked,
    hidden: Hidden,
) {
    let (tx, mut rx) = mpsc::channel::<Outgoing>(256);
    let mut subscriptions: HashMap<Subscription, tokio::task::AbortHandle> = HashMap::new();
    let mut shutdown = app.shutdown.subscribe();
    if let Some((subscription, rx)) = initial {
        forward(&app, &mut subscriptions, subscription, rx, &tx, &hidden);
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Err(e) = command(&app, &auth, &mut subscriptions, text.as_str(), &tx, &hidden).await
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
            () = revoked.closed() => {
                let frame = CloseFrame { code: close_code::POLICY, reason: "The access token is no longer valid".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                break;
            }
        }
    }
    for handle in subscriptions.values() {
        handle.abort();
    }
}

/// Applies one client message.
pub(crate) async fn command(
    app: &App,
    auth: &Auth,
    subscriptions: &mut HashMap<Subscription, tokio::task::AbortHandle>,
    text: &str,
    tx: &mpsc::Sender<Outgoing>,
    hidden: &Hidden,
) -> ApiResult<()> {
    let command: Command = serde_json::from_str(text).map_err(|_| ApiError::BadRequest("Invalid message".into()))?;
    let subscription = Subscription::parse(&command.stream, command.tag.as_deref(), command.list.as_deref(), false)?;
    match command.kind.as_str() {
        "subscribe" => {
            let channel = subscription.authorize(app, auth).await?;
            subscribe(app, subscriptions, subscription, &channel, tx, hidden).await
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
pub(crate) async fn subscribe(
    app: &App,
    subscriptions: &mut HashMap<Subscription, tokio::task::AbortHandle>,
    subscription: Subscription,
    channel: &str,
    tx: &mpsc::Sender<Outgoing>,
    hidden: &Hidden,
) -> ApiResult<()> {
    if subscriptions.contains_key(&subscription) {
        return Ok(());
    }
    let rx = app.streams.subscribe(channel).await?;
    forward(app, subscriptions, subscription, rx, tx, hidden);
    Ok(())
}

/// Forwards a channel's messages for `subscription` into the connection's queue.
pub(crate) fn forward(
    app: &App,
    subscriptions: &mut HashMap<Subscription, tokio::task::AbortHandle>,
    subscription: Subscription,
    mut rx: broadcast::Receiver<Arc<StreamMessage>>,
    tx: &mpsc::Sender<Outgoing>,
    hidden: &Hidden,
) {
    let hidden = hidden.clone();
    let mut shutdown = app.shutdown.subscribe();
    let names = subscription.names();
    let tx = tx.clone();
    let filter = subscription.clone();
    let task = tokio::spawn(async move {
        loop {
            match next_message(&mut rx, &mut shutdown).await {
                Next::Message(m) if filter.accepts(&m) => {
                    let Some(m) = hidden.pass(filter.filter_context(&m.event), m) else { continue };
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
pub(crate) fn error_message(e: &ApiError) -> Message {
    let (error, status) = match e {
        ApiError::BadRequest(m) => (m.clone(), 400),
        ApiError::Unauthorized => ("Missing access token".to_owned(), 401),
        ApiError::Forbidden(m) => (m.clone(), 403),
        ApiError::Unprocessable(m) => (m.clone(), 422),
        _ => ("Error".to_owned(), 500),
    };
    Message::Text(serde_json::json!({ "error": error, "status": status }).to_string().into())
}
