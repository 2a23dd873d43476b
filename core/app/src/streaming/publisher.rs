//! Publishing logged events to stream channels.

use std::time::Duration;

use shared::id::Id;
use shared::wire;
use tokio::sync::watch;

use crate::error::{ApiError, ApiResult};
use crate::events::Event;
use crate::policy::{self, FeedItem, feed};
use crate::ports::StreamMessage;
use crate::{App, conversations, timelines};

/// How often an idle stream shows it is alive (SSE comment `:thump`, WebSocket ping).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(15);
/// Events read per batch.
pub(crate) const BATCH: usize = 256;

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
            batch = app.events.read(&after, BATCH, Duration::from_millis(500)) => batch,
            _ = stop.changed() => return,
        };
        match batch {
            Ok(batch) => {
                for logged in &batch {
                    if let Err(e) = claim_and_publish(&app, logged.seq, &logged.event).await {
                        // Streams are best effort: one failure must not stall the others.
                        tracing::warn!(error = ?e, seq = logged.seq, "could not stream an event");
                    }
                }
                after.advance(&batch);
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
pub(crate) async fn claim_and_publish(app: &App, seq: u64, event: &Event) -> ApiResult<()> {
    if app.streams.claim(seq).await? { publish_event(app, event).await } else { Ok(()) }
}

/// Publishes one event to every channel that should hear of it.
pub(crate) async fn publish_event(app: &App, event: &Event) -> ApiResult<()> {
    match event {
        Event::StatusCreated { status, author, visibility, reblog_of, in_reply_to_account, mentions } => {
            let Some(record) = app.status_records(&[*status]).await?.remove(status) else { return Ok(()) };
            let tags = record.tags.clone();
            let Some(rendered) = app.render_statuses(None, vec![record]).await?.pop() else { return Ok(()) };
            let payload = serde_json::to_string(&rendered).map_err(ApiError::internal)?;
            let item = FeedItem { author: *author, visibility: *visibility, reblog_of: *reblog_of, in_reply_to_account: *in_reply_to_account, mentions };
            let recipients = timelines::push_recipients(app, &item, &tags).await?;
            publish_to_homes(app, &recipients, "update", &payload).await;
            publish_to_lists(app, &item, "update", &payload).await?;
            if feed::in_public(&item) {
                publish_public(app, "update", &payload, &tags, !rendered.media_attachments.is_empty()).await;
            }
        }
        Event::StatusUpdated { status, author } => {
            let Some(record) = app.status_records(&[*status]).await?.remove(status) else { return Ok(()) };
            if record.visibility == shared::wire::Visibility::Direct {
                publish_edited_conversations(app, &record).await?;
            }
            let (visibility, in_reply_to, tags) = (record.visibility, record.in_reply_to_account_id, record.tags.clone());
            let mentions: Vec<Id> = record.mentions.iter().map(|m| m.id).collect();
            let Some(rendered) = app.render_statuses(None, vec![record]).await?.pop() else { return Ok(()) };
            let payload = serde_json::to_string(&rendered).map_err(ApiError::internal)?;
            let item = FeedItem { author: *author, visibility, reblog_of: None, in_reply_to_account: in_reply_to, mentions: &mentions };
            let recipients = timelines::push_recipients(app, &item, &tags).await?;
            publish_to_homes(app, &recipients, "status.update", &payload).await;
            publish_to_lists(app, &item, "status.update", &payload).await?;
            if feed::in_public(&item) {
                publish_public(app, "status.update", &payload, &tags, !rendered.media_attachments.is_empty()).await;
            }
        }
        Event::StatusDeleted { status, author, visibility, reblog_of, mentions, tags } => {
            let payload = status.to_string();
            let item = FeedItem { author: *author, visibility: *visibility, reblog_of: *reblog_of, in_reply_to_account: None, mentions };
            let recipients = timelines::push_recipients(app, &item, tags).await?;
            publish_to_homes(app, &recipients, "delete", &payload).await;
            for list in policy::lists::lists_with(app, *author).await? {
                publish(app, list_channel(list.list), "delete", &payload).await;
            }
            if feed::in_public(&item) {
                publish_public(app, "delete", &payload, tags, true).await;
            }
        }
        Event::AccountCreated { .. }
        | Event::AccountUpdated { .. }
        | Event::Followed { .. }
        | Event::Unfollowed { .. }
        | Event::FollowRequested { .. }
        | Event::FollowRequestClosed { .. }
        | Event::Favourited { .. }
        | Event::Unfavourited { .. }
        | Event::PollEnded { .. } => {}
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
pub(crate) const CONCURRENT_PUBLISHES: usize = 32;

pub(crate) async fn publish_to_homes(app: &App, recipients: &[Id], event: &str, payload: &str) {
    use futures_util::StreamExt as _;
    futures_util::stream::iter(recipients).for_each_concurrent(CONCURRENT_PUBLISHES, |recipient| publish(app, home_channel(*recipient), event, payload)).await;
}

pub(crate) async fn publish_public(app: &App, event: &str, payload: &str, tags: &[String], media: bool) {
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
pub(crate) async fn publish(app: &App, channel: String, event: &str, payload: &str) {
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

/// Publishes to the streams of the lists whose timelines `item` goes to.
async fn publish_to_lists(app: &App, item: &FeedItem<'_>, event: &str, payload: &str) -> ApiResult<()> {
    let lists = policy::lists::lists_with(app, item.author).await?;
    for list in policy::lists::list_recipients(app, item, &lists).await? {
        publish(app, list_channel(list.list), event, payload).await;
    }
    Ok(())
}

/// The channel of a list's stream (Mastodon's name).
pub(crate) fn list_channel(list: Id) -> String {
    format!("timeline:list:{list}")
}

/// The channel of an account's direct stream (Mastodon's name).
pub(crate) fn direct_channel(account: Id) -> String {
    format!("timeline:direct:{account}")
}

/// Sends a `conversation` to its reader's direct stream.
pub async fn publish_conversation(app: &App, reader: Id, conversation: &wire::Conversation) {
    match serde_json::to_string(conversation) {
        Ok(payload) => publish(app, direct_channel(reader), "conversation", &payload).await,
        Err(e) => tracing::warn!(error = %e, "could not serialise a conversation"),
    }
}

/// An edited direct status: its conversations where it is the newest, to their readers'
/// direct streams.
async fn publish_edited_conversations(app: &App, record: &crate::model::StatusRecord) -> ApiResult<()> {
    for reader in conversations::service::recipients(app, record).await? {
        let Some(conversation) = conversations::service::holding(app, reader, record.id).await? else { continue };
        if conversation.last_status != Some(record.id) {
            continue;
        }
        if let Some(rendered) = conversations::service::render(app, reader, &[conversation]).await?.pop() {
            publish_conversation(app, reader, &rendered).await;
        }
    }
    Ok(())
}

/// The channel of an account's user stream.
pub(crate) fn home_channel(account: Id) -> String {
    format!("timeline:{account}")
}
