//! Web Push subscriptions (`/api/v1/push/subscription`, scope `push`, one per access token)
//! and the hand-over of new notifications to the [`PushPublisher`] (SNS in production),
//! filtered by each subscription's alerts and policy.
//!
//! Items: `PUSH#{token jti}` / `-` holds the subscription; `PUSHA#{account}` / `{jti}` lists an
//! account's subscriptions for delivery. A new subscription replaces the token's old one.
//!
//! [`handlers`] (HTTP) → [`service`] (subscriptions, delivery).

pub mod handlers;
pub mod service;

pub(crate) use self::service::deliver;
