//! Web Push subscriptions (`/api/v1/push/subscription`, scope `push`, one per access token)
//! and the hand-over of new notifications to the [`PushPublisher`] (SNS in production),
//! filtered by each subscription's alerts and policy.
//!
//! Items: `PUSH#{token jti}` / `-` holds the subscription; `PUSHA#{account}` / `{jti}` lists an
//! account's subscriptions for delivery. A new subscription replaces the token's old one.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::id::Id;
use shared::wire;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{FlatInput, truthy};
use crate::model::{self, Ref};
use crate::policy::feed;
use crate::ports::{Condition, Key, PushMessage, Query, Write};
use crate::{App, keys};

/// Most subscriptions one account's notifications fan out to.
const MAX_PER_ACCOUNT: usize = 100;

/// A stored subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushRecord {
    id: Id,
    account: Id,
    endpoint: String,
    p256dh: String,
    auth: String,
    standard: bool,
    alerts: wire::WebPushAlerts,
    policy: String,
}

fn subscription_key(token: Id) -> Key {
    Key::new(format!("PUSH#{token}"), "-")
}

fn account_partition(account: Id) -> String {
    format!("PUSHA#{account}")
}

/// The `data[alerts][…]` and `data[policy]` (or top-level `policy`) of a body.
fn apply_data(pairs: &[(String, String)], alerts: &mut wire::WebPushAlerts, policy: &mut String) -> ApiResult<()> {
    for (key, value) in pairs {
        if let Some(name) = key.strip_prefix("data[alerts][").and_then(|k| k.strip_suffix(']')) {
            let on = truthy(value);
            match name {
                "mention" => alerts.mention = on,
                "status" => alerts.status = on,
                "reblog" => alerts.reblog = on,
                "follow" => alerts.follow = on,
                "follow_request" => alerts.follow_request = on,
                "favourite" => alerts.favourite = on,
                "poll" => alerts.poll = on,
                "update" => alerts.update = on,
                "admin.sign_up" => alerts.admin_sign_up = on,
                "admin.report" => alerts.admin_report = on,
                // Types this server does not have (quote, …) are accepted and ignored.
                _ => {}
            }
        } else if key == "data[policy]" || key == "policy" {
            if !matches!(value.as_str(), "all" | "followed" | "follower" | "none") {
                return Err(ApiError::invalid("Validation failed: Policy is not included in the list"));
            }
            value.clone_into(policy);
        }
    }
    Ok(())
}

fn render(app: &App, record: &PushRecord) -> wire::WebPushSubscription {
    wire::WebPushSubscription {
        id: record.id.to_string(),
        endpoint: record.endpoint.clone(),
        standard: Some(record.standard),
        alerts: record.alerts.clone(),
        server_key: app.push.as_ref().map(|p| p.server_key()).unwrap_or_default(),
        policy: record.policy.clone(),
    }
}

async fn load(app: &App, token: Id) -> ApiResult<Option<PushRecord>> {
    match app.store.get(&subscription_key(token)).await? {
        Some(item) => Ok(Some(model::decode(&item)?)),
        None => Ok(None),
    }
}

async fn save(app: &App, token: Id, record: &PushRecord) -> ApiResult<()> {
    let writes = vec![
        model::put(subscription_key(token), record, Condition::None)?,
        model::put(Key::new(account_partition(record.account), token.sort_key()), &Ref { id: token }, Condition::None)?,
    ];
    Ok(app.store.transact(writes, vec![]).await?)
}

/// POST: subscribes this token, replacing its previous subscription.
pub async fn create(State(app): State<App>, auth: Auth, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::WebPushSubscription>> {
    let account = auth.user("push")?;
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty());
    let endpoint = field("subscription[endpoint]").ok_or_else(|| ApiError::invalid("Validation failed: Endpoint can't be blank"))?;
    if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) || endpoint.len() > 2048 || endpoint.contains(char::is_whitespace) {
        return Err(ApiError::invalid("Validation failed: Endpoint is not a valid URL"));
    }
    let p256dh = field("subscription[keys][p256dh]").ok_or_else(|| ApiError::invalid("Validation failed: Key p256dh can't be blank"))?;
    let auth_secret = field("subscription[keys][auth]").ok_or_else(|| ApiError::invalid("Validation failed: Key auth can't be blank"))?;
    if p256dh.len() > 512 || auth_secret.len() > 512 {
        return Err(ApiError::invalid("Validation failed: Keys are too long"));
    }
    let standard = field("subscription[standard]").is_some_and(|v| truthy(&v));
    let mut alerts = wire::WebPushAlerts::default();
    let mut policy = "all".to_owned();
    apply_data(&pairs, &mut alerts, &mut policy)?;
    let record = PushRecord { id: app.next_id()?, account, endpoint, p256dh, auth: auth_secret, standard, alerts, policy };
    save(&app, auth.token, &record).await?;
    Ok(Json(render(&app, &record)))
}

/// GET: this token's subscription.
pub async fn show(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::WebPushSubscription>> {
    auth.user("push")?;
    let record = load(&app, auth.token).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(render(&app, &record)))
}

/// PUT: changes alerts and policy.
pub async fn update(State(app): State<App>, auth: Auth, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::WebPushSubscription>> {
    auth.user("push")?;
    let mut record = load(&app, auth.token).await?.ok_or(ApiError::NotFound)?;
    apply_data(&pairs, &mut record.alerts, &mut record.policy)?;
    save(&app, auth.token, &record).await?;
    Ok(Json(render(&app, &record)))
}

/// DELETE: removes this token's subscription (none is fine).
pub async fn remove(State(app): State<App>, auth: Auth) -> ApiResult<Json<serde_json::Value>> {
    let account = auth.user("push")?;
    let writes = vec![
        Write::Delete { key: subscription_key(auth.token), condition: Condition::None },
        Write::Delete { key: Key::new(account_partition(account), auth.token.sort_key()), condition: Condition::None },
    ];
    app.store.transact(writes, vec![]).await?;
    Ok(Json(serde_json::json!({})))
}

/// Whether `alerts` asks for notifications of `kind`.
fn wants(alerts: &wire::WebPushAlerts, kind: &str) -> bool {
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

async fn deliver_with(app: &App, publisher: &dyn crate::ports::PushPublisher, recipient: Id, from: Id, rendered: &wire::Notification) -> ApiResult<()> {
    let refs = app.store.query(&Query::partition(account_partition(recipient), MAX_PER_ACCOUNT)).await?;
    if refs.is_empty() {
        return Ok(());
    }
    let tokens: Vec<Id> = refs.iter().filter_map(|i| model::decode::<Ref>(i).ok().map(|r| r.id)).collect();
    let items = app.store.get_many(&tokens.iter().map(|t| subscription_key(*t)).collect::<Vec<_>>()).await?;
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
