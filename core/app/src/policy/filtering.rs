//! The notification policy (Mastodon 4.3): whether a notification that
//! [`feed::notification_wanted`](super::feed::notification_wanted) lets through is accepted,
//! filtered (kept apart in a notification request) or dropped, by what the recipient's policy
//! says of each category its sender falls in.
//!
//! Categories, as Mastodon: *not following* (the recipient does not follow the sender), *not
//! followers* (the sender does not follow the recipient, or has for less than 3 days), *new
//! accounts* (created less than 30 days ago, and not followed), *private mentions* (a direct
//! mention from an account not followed that does not answer a thread where the recipient
//! mentioned the sender), *limited accounts* (silenced by a moderator, and not followed).
//! A `drop` of any category that applies wins over a `filter`; an accepted request (a
//! permission) and the types Mastodon never filters (`update`, `poll`, admin ones) always pass.

use shared::id::Id;
use shared::wire::Visibility;

use crate::App;
use crate::error::ApiResult;
use crate::keys;
use crate::model::{self, AccountRecord, FollowRecord, ModerationRecord, NotificationPolicyRecord, PolicyAction, StatusRecord};
use crate::ports::Key;

use super::Relations;

/// Accounts younger than this are new (30 days, as Mastodon).
pub const NEW_ACCOUNT_MS: u64 = 30 * 24 * 3600 * 1000;
/// Followers of less than this still count as not following (3 days, as Mastodon).
pub const NEW_FOLLOWER_MS: u64 = 3 * 24 * 3600 * 1000;
/// Ancestors of a direct mention searched for the recipient's own mention of the sender.
const MAX_ANCESTORS: usize = 100;

/// What the policy looks at of a notification's sender, seen from the recipient.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sender {
    /// The recipient follows the sender.
    pub followed: bool,
    /// Since when (ms) the sender follows the recipient, if it does.
    pub follower_since: Option<u64>,
    /// When the sender's account was created (ms).
    pub created_at: u64,
    /// The recipient accepted a notification request of the sender's.
    pub permitted: bool,
    /// A moderator limited (silenced) the sender.
    pub limited: bool,
}

/// What `policy` does with a notification of type `kind` from `sender` at `now_ms`;
/// `unsolicited_private_mention`: it is a direct mention the recipient did not start.
pub fn action(policy: &NotificationPolicyRecord, kind: &str, sender: &Sender, unsolicited_private_mention: bool, now_ms: u64) -> PolicyAction {
    if sender.permitted || matches!(kind, "update" | "poll" | "admin.sign_up" | "admin.report") {
        return PolicyAction::Accept;
    }
    let not_following = !sender.followed;
    let not_follower = sender.follower_since.is_none_or(|since| since.saturating_add(NEW_FOLLOWER_MS) > now_ms);
    let new_account = not_following && sender.created_at.saturating_add(NEW_ACCOUNT_MS) > now_ms;
    let applying = [
        (policy.for_limited_accounts, not_following && sender.limited),
        (policy.for_not_following, not_following),
        (policy.for_not_followers, not_follower),
        (policy.for_new_accounts, new_account),
        (policy.for_private_mentions, not_following && unsolicited_private_mention),
    ];
    let any = |wanted: PolicyAction| applying.iter().any(|(set, applies)| *applies && *set == wanted);
    if any(PolicyAction::Drop) {
        PolicyAction::Drop
    } else if any(PolicyAction::Filter) {
        PolicyAction::Filter
    } else {
        PolicyAction::Accept
    }
}

/// `account`'s notification policy (Mastodon's defaults until it sets one).
pub async fn load_policy(app: &App, account: Id) -> ApiResult<NotificationPolicyRecord> {
    match app.store.get(&keys::notification_policy(account)).await? {
        Some(item) => model::decode(&item),
        None => Ok(NotificationPolicyRecord::default()),
    }
}

/// `account`'s notification policy as [`load_policy`], kept in process for `[timelines]
/// hot_ttl_ms` (`hot.rs`): every notification of a celebrity's reads it. A change made here
/// applies at once, one made on another process within that bound.
async fn kept_policy(app: &App, account: Id) -> ApiResult<NotificationPolicyRecord> {
    app.hot.policies.get_or_fill(account, load_policy(app, account)).await
}

/// Whether a category set to `action` holds its notifications back (filters or drops them).
fn held(action: PolicyAction) -> bool {
    action != PolicyAction::Accept
}

/// Whether `policy` could filter or drop a notification of type `kind` from some sender: if not,
/// it is accepted whoever sent it. A private mention is only ever a `mention`.
fn may_hold_back(policy: &NotificationPolicyRecord, kind: &str) -> bool {
    held(policy.for_limited_accounts)
        || held(policy.for_not_following)
        || held(policy.for_not_followers)
        || held(policy.for_new_accounts)
        || (kind == "mention" && held(policy.for_private_mentions))
}

/// What `recipient`'s policy does with a notification of type `kind` from `from` about
/// `status` (the status record, when there is one); `relations`: the recipient's to `from`.
pub async fn notification_action(
    app: &App,
    recipient: Id,
    from: Id,
    kind: &str,
    status: Option<&StatusRecord>,
    relations: &Relations,
    now_ms: u64,
) -> ApiResult<PolicyAction> {
    let policy = kept_policy(app, recipient).await?;
    if !may_hold_back(&policy, kind) {
        // Nothing about the sender can change the answer: nothing more is read.
        return Ok(PolicyAction::Accept);
    }
    // What the policy asks of the sender, read from the sender's own partition only (a
    // celebrity's gets a notification per favourite): whether it follows the recipient, its age,
    // whether it is limited. A category the policy accepts needs no fact.
    let wanted = [
        held(policy.for_not_followers).then(|| keys::follow_edge(from, recipient)),
        held(policy.for_new_accounts).then(|| keys::account(from)),
        held(policy.for_limited_accounts).then(|| keys::moderation(from)),
    ];
    let asked: Vec<Key> = wanted.iter().flatten().cloned().collect();
    let mut items = if asked.is_empty() { Vec::new() } else { app.store.get_many(&asked).await? }.into_iter();
    let [follow, account, moderation] = wanted.map(|key| key.and_then(|_| items.next().flatten()));
    let limited = moderation.map(|i| model::decode::<ModerationRecord>(&i)).transpose()?.is_some_and(|m| m.silenced_at.is_some());
    let follower_since = follow.map(|i| model::decode::<FollowRecord>(&i)).transpose()?.map(|f| f.id.timestamp_millis());
    // A sender gone meanwhile counts as new: its notification is not rendered anyway.
    let created_at = account.map(|i| model::decode::<AccountRecord>(&i)).transpose()?.map_or(now_ms, |a| a.created_at);
    let sender = Sender { followed: relations.follows(from), follower_since, created_at, permitted: false, limited };
    let unsolicited = match status {
        Some(status) if kind == "mention" && status.visibility == Visibility::Direct && !sender.followed => {
            !answers_recipient(app, recipient, from, status).await?
        }
        _ => false,
    };
    let without_permission = action(&policy, kind, &sender, unsolicited, now_ms);
    if without_permission == PolicyAction::Accept {
        return Ok(PolicyAction::Accept);
    }
    // Held back, unless the recipient accepted the sender's notifications.
    let permitted = app.store.get(&keys::notification_permission(recipient, from)).await?.is_some();
    Ok(if permitted { PolicyAction::Accept } else { without_permission })
}

/// Whether `status` (by `from`) replies into a thread where `recipient` mentioned `from`: an
/// ancestor by the recipient mentioning the sender (the conversation is the recipient's).
async fn answers_recipient(app: &App, recipient: Id, from: Id, status: &StatusRecord) -> ApiResult<bool> {
    let mut parent = status.in_reply_to_id;
    for _ in 0..MAX_ANCESTORS {
        let Some(id) = parent else { return Ok(false) };
        let Some(item) = app.store.get(&keys::status(id)).await? else { return Ok(false) };
        let ancestor: StatusRecord = model::decode(&item)?;
        if ancestor.account_id == recipient && ancestor.mentions.iter().any(|m| m.id == from) {
            return Ok(true);
        }
        parent = ancestor.in_reply_to_id;
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 100 * 24 * 3600 * 1000;
    const OLD: u64 = NOW - NEW_ACCOUNT_MS - 1;

    fn policy(set: &[(&str, PolicyAction)]) -> NotificationPolicyRecord {
        let mut p = NotificationPolicyRecord {
            for_not_following: PolicyAction::Accept,
            for_not_followers: PolicyAction::Accept,
            for_new_accounts: PolicyAction::Accept,
            for_private_mentions: PolicyAction::Accept,
            for_limited_accounts: PolicyAction::Accept,
        };
        for (field, value) in set {
            match *field {
                "not_following" => p.for_not_following = *value,
                "not_followers" => p.for_not_followers = *value,
                "new_accounts" => p.for_new_accounts = *value,
                "private_mentions" => p.for_private_mentions = *value,
                _ => p.for_limited_accounts = *value,
            }
        }
        p
    }

    fn stranger() -> Sender {
        Sender { created_at: OLD, ..Sender::default() }
    }

    #[test]
    fn each_category_applies_only_to_its_senders() {
        let followed = Sender { followed: true, ..stranger() };
        let p = policy(&[("not_following", PolicyAction::Filter)]);
        assert_eq!(action(&p, "mention", &stranger(), false, NOW), PolicyAction::Filter);
        assert_eq!(action(&p, "mention", &followed, false, NOW), PolicyAction::Accept);

        let p = policy(&[("not_followers", PolicyAction::Drop)]);
        let follower = Sender { follower_since: Some(NOW - NEW_FOLLOWER_MS - 1), ..stranger() };
        let new_follower = Sender { follower_since: Some(NOW - 1000), ..stranger() };
        assert_eq!(action(&p, "favourite", &follower, false, NOW), PolicyAction::Accept);
        assert_eq!(action(&p, "favourite", &new_follower, false, NOW), PolicyAction::Drop, "a follower of less than 3 days");

        let p = policy(&[("new_accounts", PolicyAction::Filter)]);
        let new = Sender { created_at: NOW - 1000, ..stranger() };
        assert_eq!(action(&p, "follow", &new, false, NOW), PolicyAction::Filter);
        assert_eq!(action(&p, "follow", &stranger(), false, NOW), PolicyAction::Accept);
        assert_eq!(action(&p, "follow", &Sender { followed: true, ..new }, false, NOW), PolicyAction::Accept, "a followed new account");

        let p = policy(&[("private_mentions", PolicyAction::Drop)]);
        assert_eq!(action(&p, "mention", &stranger(), true, NOW), PolicyAction::Drop);
        assert_eq!(action(&p, "mention", &stranger(), false, NOW), PolicyAction::Accept);
        assert_eq!(action(&p, "mention", &followed, true, NOW), PolicyAction::Accept);

        let p = policy(&[("limited", PolicyAction::Drop)]);
        assert_eq!(action(&p, "mention", &Sender { limited: true, ..stranger() }, false, NOW), PolicyAction::Drop);
        assert_eq!(action(&p, "mention", &stranger(), false, NOW), PolicyAction::Accept);
    }

    #[test]
    fn a_policy_that_accepts_every_category_needs_nothing_of_the_sender() {
        let open = policy(&[]);
        assert!(!may_hold_back(&open, "favourite") && !may_hold_back(&open, "mention"));
        assert!(may_hold_back(&NotificationPolicyRecord::default(), "favourite"), "Mastodon's defaults filter limited accounts");
        let private_mentions_only = policy(&[("private_mentions", PolicyAction::Filter)]);
        assert!(!may_hold_back(&private_mentions_only, "favourite"), "a private mention is only a mention");
        assert!(may_hold_back(&private_mentions_only, "mention"));
        for field in ["not_following", "not_followers", "new_accounts", "limited"] {
            assert!(may_hold_back(&policy(&[(field, PolicyAction::Filter)]), "reblog"), "{field}");
        }
        // Where nothing can hold back, every sender gets what `action` would give: accept.
        let senders = [stranger(), Sender { created_at: NOW - 1000, limited: true, ..stranger() }];
        for sender in senders {
            assert_eq!(action(&open, "mention", &sender, true, NOW), PolicyAction::Accept);
            assert_eq!(action(&private_mentions_only, "favourite", &sender, false, NOW), PolicyAction::Accept);
        }
    }

    #[test]
    fn drop_wins_over_filter_and_permissions_and_edits_always_pass() {
        let p = policy(&[("not_following", PolicyAction::Filter), ("not_followers", PolicyAction::Drop)]);
        assert_eq!(action(&p, "mention", &stranger(), false, NOW), PolicyAction::Drop);
        assert_eq!(action(&p, "mention", &Sender { permitted: true, ..stranger() }, false, NOW), PolicyAction::Accept);
        assert_eq!(action(&p, "update", &stranger(), false, NOW), PolicyAction::Accept);
    }

    #[test]
    fn mastodons_defaults_filter_only_unsolicited_private_mentions() {
        let p = NotificationPolicyRecord::default();
        assert_eq!(action(&p, "mention", &stranger(), true, NOW), PolicyAction::Filter);
        assert_eq!(action(&p, "mention", &Sender { created_at: NOW, ..stranger() }, false, NOW), PolicyAction::Accept);
    }
}
