//! The use cases and the reads they share; no HTTP type reaches here.

use serde::{Deserialize, Serialize};
use shared::id::Id;
use shared::wire;

use crate::error::{ApiError, ApiResult};
use crate::model::{self, Ref};
use crate::policy::feed;
use crate::ports::{Condition, PushMessage, Query};
use crate::{App, keys};

/// Most subscriptions one account's notifications fan out to.
pub(crate) const MAX_PER_ACCOUNT: usize = 100;

/// A stored subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushRecord {
    pub(crate) id: Id,
    pub(crate) account: Id,
    pub(crate) endpoint: String,
    pub(crate) p256dh: String,
    pub(crate) auth: String,
    pub(crate) standard: bool,
    pub(crate) alerts: wire::WebPushAlerts,
    pub(crate) policy: String,
}

pub(crate) async fn load(app: &App, token: Id) -> ApiResult<Option<PushRecord>> {
    match app.store.get(&keys::push_subscription(token)).await? {
        Some(item) => Ok(Some(model::decode(&item)?)),
        None => Ok(None),
    }
}

pub(crate) async fn save(app: &App, token: Id, record: &PushRecord) -> ApiResult<()> {
    let writes = vec![
        model::put(keys::push_subscription(token), record, Condition::None)?,
        model::put(keys::account_push_subscription(record.account, token), &Ref { id: token }, Condition::None)?,
    ];
    Ok(app.store.transact(writes, vec![]).await?)
}

/// Whether `alerts` asks for notifications of `kind`.
pub(crate) fn wants(alerts: &wire::WebPushAlerts, kind: &str) -> bool {
    match kind {
        "mention" => alerts.mention,
        "status" => alerts.status,
        "reblog" => alerts.reblog,
        "follow" => alerts.follow,
        "follow_request" => alerts.follow_request,
        "favourite" => alerts.favourite,
        "poll" => alerts.poll,
        "update" => alerts.update,
        _ => false,
    }
}

/// Hands a new notification of `recipient` to the publisher, once per subscription that
/// wants its type and accepts its sender under its policy. Failures are logged (push is
/// best-effort, like streaming).
pub(crate) async fn deliver(app: &App, recipient: Id, from: Id, rendered: &wire::Notification) {
    let Some(publisher) = app.push.clone() else { return };
    if let Err(e) = deliver_with(app, publisher.as_ref(), recipient, from, rendered).await {
        tracing::warn!(error = ?e, account = %recipient, "push delivery failed");
    }
}

pub(crate) async fn deliver_with(
    app: &App,
    publisher: &dyn crate::ports::PushPublisher,
    recipient: Id,
    from: Id,
    rendered: &wire::Notification,
) -> ApiResult<()> {
    let refs = app.store.query(&Query::partition(keys::account_push_partition(recipient), MAX_PER_ACCOUNT)).await?;
    if refs.is_empty() {
        return Ok(());
    }
    let tokens: Vec<Id> = refs.iter().filter_map(|i| model::decode::<Ref>(i).ok().map(|r| r.id)).collect();
    let items = app.store.get_many(&tokens.iter().map(|t| keys::push_subscription(*t)).collect::<Vec<_>>()).await?;
    let kind = rendered.kind.clone();
    let payload = serde_json::to_string(rendered).map_err(ApiError::internal)?;
    let (mut follows, mut followed_by) = (None, None);
    for item in items.into_iter().flatten() {
        let record: PushRecord = model::decode(&item)?;
        if record.account != recipient || !wants(&record.alerts, &kind) {
            continue;
        }
        let related = match record.policy.as_str() {
            "followed" => *follows.get_or_insert(app.store.get(&keys::follow_edge(recipient, from)).await?.is_some()),
            "follower" => *followed_by.get_or_insert(app.store.get(&keys::follow_edge(from, recipient)).await?.is_some()),
            _ => false,
        };
        let allowed = feed::push_accepts(&record.policy, related);
        if !allowed {
            continue;
        }
        let message = PushMessage {
            subscription: record.id,
            account: recipient,
            endpoint: record.endpoint,
            p256dh: record.p256dh,
            auth: record.auth,
            standard: record.standard,
            notification_type: kind.clone(),
            notification_id: rendered.id.to_string(),
            notification: payload.clone(),
        };
        if let Err(e) = publisher.publish(&message).await {
            tracing::warn!(error = %e, subscription = %record.id, "push hand-over failed");
        }
    }
    Ok(())
}
