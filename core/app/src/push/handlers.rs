//! The HTTP endpoints: thin handlers that extract, call the service, and render.

use axum::Json;
use axum::extract::State;
use shared::wire;

use super::service::{PushRecord, load, save};
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{FlatInput, truthy};
use crate::ports::{Condition, Write};
use crate::{App, keys};

/// The `data[alerts][…]` and `data[policy]` (or top-level `policy`) of a body.
pub(crate) fn apply_data(pairs: &[(String, String)], alerts: &mut wire::WebPushAlerts, policy: &mut String) -> ApiResult<()> {
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

pub(crate) fn render(app: &App, record: &PushRecord) -> wire::WebPushSubscription {
    wire::WebPushSubscription {
        id: record.id.to_string(),
        endpoint: record.endpoint.clone(),
        standard: Some(record.standard),
        alerts: record.alerts.clone(),
        server_key: app.push.as_ref().map(|p| p.server_key()).unwrap_or_default(),
        policy: record.policy.clone(),
    }
}

/// POST: subscribes this token, replacing its previous subscription.
pub async fn create(State(app): State<App>, auth: Auth, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::WebPushSubscription>> {
    let account = auth.user(Scope::Push)?;
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
    auth.user(Scope::Push)?;
    let record = load(&app, auth.token).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(render(&app, &record)))
}

/// PUT: changes alerts and policy.
pub async fn update(State(app): State<App>, auth: Auth, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::WebPushSubscription>> {
    auth.user(Scope::Push)?;
    let mut record = load(&app, auth.token).await?.ok_or(ApiError::NotFound)?;
    apply_data(&pairs, &mut record.alerts, &mut record.policy)?;
    save(&app, auth.token, &record).await?;
    Ok(Json(render(&app, &record)))
}

/// DELETE: removes this token's subscription (none is fine).
pub async fn remove(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::Empty>> {
    let account = auth.user(Scope::Push)?;
    let writes = vec![
        Write::Delete { key: keys::push_subscription(auth.token), condition: Condition::None },
        Write::Delete { key: keys::account_push_subscription(account, auth.token), condition: Condition::None },
    ];
    app.store.transact(writes, vec![]).await?;
    Ok(Json(wire::Empty {}))
}
