//! The single-table key layout, shared by every store adapter (and documented for DynamoDB in
//! ARCHITECTURE.md). Partition keys carry a type prefix; id-keyed sort keys use
//! [`Id::sort_key`] so byte order equals time order.

use shared::id::Id;

use crate::ports::Key;

/// Sort key of singleton items.
pub const ONE: &str = "-";

/// `A#{account}` / `profile`: the account record.
pub fn account(id: Id) -> Key {
    Key::new(format!("A#{id}"), "profile")
}

/// `A#{account}` / `cred`: login credentials (kept apart from the public profile).
pub fn credentials(id: Id) -> Key {
    Key::new(format!("A#{id}"), "cred")
}

/// `A#{account}` / `n#{name}`: an account counter (`followers`, `following`, `statuses`).
pub fn account_counter(id: Id, counter: AccountCounter) -> Key {
    Key::new(format!("A#{id}"), format!("n#{}", counter.as_str()))
}

/// `A#{account}` / `last_status`: when the account last posted.
pub fn last_status(id: Id) -> Key {
    Key::new(format!("A#{id}"), "last_status")
}

/// `A#{follower}` / `follows#{target}`: the follow edge, with the follow's id.
pub fn follow_edge(follower: Id, target: Id) -> Key {
    Key::new(format!("A#{follower}"), format!("follows#{target}"))
}

/// `A#{follower}` / `requests#{target}`: a pending request to follow a locked account (a
/// [`FollowRecord`](crate::model::FollowRecord) with the options the follow will take).
pub fn follow_request_edge(follower: Id, target: Id) -> Key {
    Key::new(format!("A#{follower}"), format!("requests#{target}"))
}

/// `A#{target}` / `requestedby#{follower}`: the request seen from the locked side.
pub fn requested_by(target: Id, follower: Id) -> Key {
    Key::new(format!("A#{target}"), format!("requestedby#{follower}"))
}

/// `FQ#{target}` / `{request id}`: pending requests to follow `target`, oldest first.
pub fn follow_request_listing(target: Id, request: Id) -> Key {
    Key::new(follow_requests_partition(target), request.sort_key())
}

/// Partition of [`follow_request_listing`].
pub fn follow_requests_partition(target: Id) -> String {
    format!("FQ#{target}")
}

/// `A#{blocker}` / `blocks#{target}`: the block edge, with the block's id.
pub fn block_edge(blocker: Id, target: Id) -> Key {
    Key::new(account_partition(blocker), format!("{BLOCKS_PREFIX}{target}"))
}

/// Sort-key prefix of [`block_edge`]s in an account's partition.
pub const BLOCKS_PREFIX: &str = "blocks#";

/// Sort-key prefix of [`blocked_by`] items in an account's partition.
pub const BLOCKED_BY_PREFIX: &str = "blockedby#";

/// Sort-key prefix of [`mute_edge`]s in an account's partition.
pub const MUTES_PREFIX: &str = "mutes#";

/// `A#{account}`: the partition of an account's own items (profile, counters, edges).
pub fn account_partition(account: Id) -> String {
    format!("A#{account}")
}

/// `A#{target}` / `blockedby#{blocker}`: the block seen from the blocked side, so a reader's
/// relations to a page's authors are all in the reader's own partition.
pub fn blocked_by(target: Id, blocker: Id) -> Key {
    Key::new(account_partition(target), format!("{BLOCKED_BY_PREFIX}{blocker}"))
}

/// `BL#{blocker}` / `{block id}`: accounts `blocker` blocks, in block order.
pub fn block_listing(blocker: Id, block: Id) -> Key {
    Key::new(blocks_partition(blocker), block.sort_key())
}

/// Partition of [`block_listing`].
pub fn blocks_partition(blocker: Id) -> String {
    format!("BL#{blocker}")
}

/// `A#{muter}` / `mutes#{target}`: the mute edge (its id, whether notifications are muted
/// too, when it ends).
pub fn mute_edge(muter: Id, target: Id) -> Key {
    Key::new(account_partition(muter), format!("{MUTES_PREFIX}{target}"))
}

/// `MU#{muter}` / `{mute id}`: accounts `muter` mutes, in mute order.
pub fn mute_listing(muter: Id, mute: Id) -> Key {
    Key::new(mutes_partition(muter), mute.sort_key())
}

/// Partition of [`mute_listing`].
pub fn mutes_partition(muter: Id) -> String {
    format!("MU#{muter}")
}

/// `A#{account}` / `mutesthread#{thread}`: `account` hears nothing more of the thread that
/// starts with status `thread`.
pub fn thread_mute(account: Id, thread: Id) -> Key {
    Key::new(format!("A#{account}"), format!("mutesthread#{thread}"))
}

/// `A#{account}` / `n#relations`: counts changes to the account's blocks and mutes (either side
/// of a block): part of the home version, so the edge's cached home pages follow them.
pub fn relations_counter(account: Id) -> Key {
    Key::new(account_partition(account), "n#relations")
}

/// `A#{account}` / `mute_ends`: when the account's timed mutes end (ms), so the home version
/// changes as each one lifts.
pub fn mute_ends(account: Id) -> Key {
    Key::new(account_partition(account), "mute_ends")
}

/// `META` / `n#moderation`: counts moderators' actions on any account (they change what every
/// home shows: part of the home version).
pub fn moderation_epoch() -> Key {
    meta("n#moderation")
}

/// `A#{account}` / `moderation`: the account's role and the moderators' actions on it.
pub fn moderation(account: Id) -> Key {
    Key::new(account_partition(account), "moderation")
}

/// `RP#{report}`: a report.
pub fn report(id: Id) -> Key {
    Key::new(format!("RP#{id}"), ONE)
}

/// `REPORTS#{open|resolved}` / `{report}`: the reports moderators work through, by state.
pub fn report_listing(resolved: bool, id: Id) -> Key {
    Key::new(reports_partition(resolved), id.sort_key())
}

/// Partition of [`report_listing`].
pub fn reports_partition(resolved: bool) -> String {
    format!("REPORTS#{}", if resolved { "resolved" } else { "open" })
}

/// `ACCTS` / `{account}`: every local account, written at sign-up (search rebuilds page it).
pub fn account_listing(id: Id) -> Key {
    Key::new(ACCOUNTS, id.sort_key())
}

/// Partition of [`account_listing`].
pub const ACCOUNTS: &str = "ACCTS";

/// `U#{username lowercase}`: username → account id (uniqueness).
pub fn username(canonical: &str) -> Key {
    Key::new(format!("U#{canonical}"), ONE)
}

/// `E#{email}`: e-mail → account id (uniqueness).
pub fn email(canonical: &str) -> Key {
    Key::new(format!("E#{canonical}"), ONE)
}

/// `FG#{follower}` / `{follow id}`: accounts `follower` follows, in follow order.
pub fn following(follower: Id, follow: Id) -> Key {
    Key::new(following_partition(follower), follow.sort_key())
}

/// Partition of [`following`].
pub fn following_partition(follower: Id) -> String {
    format!("FG#{follower}")
}

/// `FR#{target}` / `{follow id}`: accounts following `target`, in follow order.
pub fn followers(target: Id, follow: Id) -> Key {
    Key::new(followers_partition(target), follow.sort_key())
}

/// Partition of [`followers`].
pub fn followers_partition(target: Id) -> String {
    format!("FR#{target}")
}

/// `CELEB` / `{account}`: accounts whose posts are pulled at read time instead of fanned out.
pub fn celebrity(account: Id) -> Key {
    Key::new(CELEBRITIES, account.sort_key())
}

/// Partition of [`celebrity`].
pub const CELEBRITIES: &str = "CELEB";

/// `S#{status}` / `status`: the status record.
pub fn status(id: Id) -> Key {
    Key::new(format!("S#{id}"), "status")
}

/// `S#{status}` / `n#{name}`: a status counter (`replies`, `reblogs`, `favourites`).
pub fn status_counter(id: Id, counter: StatusCounter) -> Key {
    Key::new(format!("S#{id}"), format!("n#{}", counter.as_str()))
}

/// `S#{status}` / `{kind}#{account}`: `account`'s favourite (`fav`), boost (`rb`) or
/// bookmark (`bm`) of the status.
pub fn interaction(status: Id, kind: Interaction, account: Id) -> Key {
    Key::new(format!("S#{status}"), format!("{}#{account}", kind.as_str()))
}

/// `S#{status}` / `edit#{revision id}`: one revision in the edit history.
pub fn revision(status: Id, revision: Id) -> Key {
    Key::new(format!("S#{status}"), format!("{REVISION_PREFIX}{}", revision.sort_key()))
}

/// Partition of a status's items (record, counters, interactions, [`revision`]s).
pub fn status_partition(status: Id) -> String {
    format!("S#{status}")
}

/// `S#{status}` / `poll#{round}#v#{account}`: `account`'s vote in round `round` of the
/// status's poll (a [`VoteRecord`](crate::model::VoteRecord); one per voter, `NotExists`).
pub fn poll_vote(status: Id, round: u32, account: Id) -> Key {
    Key::new(status_partition(status), format!("{}{account}", poll_votes_prefix(round)))
}

/// Sort-key prefix of the [`poll_vote`]s of one round.
pub fn poll_votes_prefix(round: u32) -> String {
    format!("poll#{round}#v#")
}

/// `S#{status}` / `poll#{round}#n#{option}`: votes for one option in one round (a counter).
pub fn poll_option_votes(status: Id, round: u32, option: usize) -> Key {
    Key::new(status_partition(status), format!("poll#{round}#n#{option}"))
}

/// `S#{status}` / `poll#{round}#voters`: accounts that voted in one round (a counter).
pub fn poll_voters(status: Id, round: u32) -> Key {
    Key::new(status_partition(status), format!("poll#{round}#voters"))
}

/// `PX` / `{expires_at ms, 15 digits}#{status}`: a poll that has not ended yet, in time order
/// (a [`PollDue`](crate::model::PollDue)); the expiry scan deletes it (`Exists`, so one process
/// wins) in the transaction logging `PollEnded`.
pub fn poll_due(expires_at: u64, status: Id) -> Key {
    Key::new(POLLS_DUE, format!("{expires_at:015}#{status}"))
}

/// Partition of [`poll_due`].
pub const POLLS_DUE: &str = "PX";

/// Sort key bounding the [`poll_due`] entries ending at or before `now_ms` from above.
pub fn polls_due_before(now_ms: u64) -> String {
    format!("{now_ms:015}$")
}

/// Sort-key prefix of [`revision`]s in the [`status_partition`].
pub const REVISION_PREFIX: &str = "edit#";

/// `AS#{account}` / `{status}`: the account's statuses and boosts, newest last.
pub fn account_status(account: Id, status: Id) -> Key {
    Key::new(account_statuses_partition(account), status.sort_key())
}

/// Partition of [`account_status`].
pub fn account_statuses_partition(account: Id) -> String {
    format!("AS#{account}")
}

/// `AP#{account}` / `{status}`: pinned statuses.
pub fn pinned(account: Id, status: Id) -> Key {
    Key::new(pinned_partition(account), status.sort_key())
}

/// Partition of [`pinned`].
pub fn pinned_partition(account: Id) -> String {
    format!("AP#{account}")
}

/// `SR#{parent}` / `{reply}`: direct replies of a status.
pub fn reply(parent: Id, reply: Id) -> Key {
    Key::new(replies_partition(parent), reply.sort_key())
}

/// Partition of [`reply`].
pub fn replies_partition(parent: Id) -> String {
    format!("SR#{parent}")
}

/// `SL#{status}#{kind}` / `{interaction id}`: who favourited (`fav`) or boosted (`rb`) a
/// status, in order.
pub fn interaction_list(status: Id, kind: Interaction, id: Id) -> Key {
    Key::new(interaction_list_partition(status, kind), id.sort_key())
}

/// Partition of [`interaction_list`].
pub fn interaction_list_partition(status: Id, kind: Interaction) -> String {
    format!("SL#{status}#{}", kind.as_str())
}

/// `AL#{account}#{kind}` / `{interaction id}`: the account's favourites (`fav`) or
/// bookmarks (`bm`), newest last.
pub fn account_list(account: Id, kind: Interaction, id: Id) -> Key {
    Key::new(account_list_partition(account, kind), id.sort_key())
}

/// Partition of [`account_list`].
pub fn account_list_partition(account: Id, kind: Interaction) -> String {
    format!("AL#{account}#{}", kind.as_str())
}

/// `T#{tag}` / `{status}`: public statuses carrying a hashtag.
pub fn tagged(tag: &str, status: Id) -> Key {
    Key::new(tag_partition(tag), status.sort_key())
}

/// Partition of [`tagged`].
pub fn tag_partition(tag: &str) -> String {
    format!("T#{tag}")
}

/// `PUB` / `{status}`: the public (local) timeline.
pub fn public(status: Id) -> Key {
    Key::new(PUBLIC, status.sort_key())
}

/// Partition of [`public`].
pub const PUBLIC: &str = "PUB";

/// `IK#{account}#{digest}`: an Idempotency-Key already used, → the status it created.
pub fn idempotency(account: Id, digest: &str) -> Key {
    Key::new(format!("IK#{account}#{digest}"), ONE)
}

/// `APP#{client id}`: an OAuth application.
pub fn app(client_id: &str) -> Key {
    Key::new(format!("APP#{client_id}"), ONE)
}

/// `APPID#{app id}`: app id → client id.
pub fn app_by_id(id: Id) -> Key {
    Key::new(format!("APPID#{id}"), ONE)
}

/// `CODE#{digest}`: an unused authorization code.
pub fn auth_code(digest: &str) -> Key {
    Key::new(format!("CODE#{digest}"), ONE)
}

/// `TOK#{jti}`: an issued access token (revocation is recorded here).
pub fn token(jti: Id) -> Key {
    Key::new(format!("TOK#{jti}"), ONE)
}

/// `RT#{digest}`: a refresh token.
pub fn refresh_token(digest: &str) -> Key {
    Key::new(format!("RT#{digest}"), ONE)
}

/// `REVOKED` / `{jti}`: revoked tokens not yet expired, published to the edge.
pub fn revoked(jti: Id) -> Key {
    Key::new(REVOKED, jti.sort_key())
}

/// Partition of [`revoked`].
pub const REVOKED: &str = "REVOKED";

/// `META` / `{name}`: instance-wide singletons (signing keys, counters).
pub fn meta(name: &str) -> Key {
    Key::new("META", name)
}

/// Shards of the instance-wide status counter: spread so no single item is hot.
pub const STATUS_COUNT_SHARDS: u64 = 16;

/// `META` / `n#statuses#{shard}`: the shard of the status counter a new status bumps.
pub fn status_count_shard(status: Id) -> Key {
    meta(&format!("n#statuses#{}", status.as_u64() % STATUS_COUNT_SHARDS))
}

/// `N#{account}` / `{notification id}`: the account's notifications, newest last.
pub fn notification(account: Id, id: Id) -> Key {
    Key::new(notifications_partition(account), id.sort_key())
}

/// Partition of [`notification`].
pub fn notifications_partition(account: Id) -> String {
    format!("N#{account}")
}

/// `ND#{account}#{event seq}#{type}`: the notification one logged event gave `account`, so a
/// replayed event finds it and creates nothing (kept after a dismissal for the same reason).
pub fn notification_dedupe(account: Id, seq: u64, kind: &str) -> Key {
    Key::new(format!("ND#{account}#{seq:016x}#{kind}"), ONE)
}

/// `NA#{account}#{type}#{from}#{status}` / `1`: the notification `from`'s undoable act (a
/// `follow`, `favourite` or `reblog`, of `status`) gave `account`, so the undo finds it.
pub fn act_notification(account: Id, kind: &str, from: Id, status: Option<Id>) -> Key {
    let status = status.map_or(0, Id::as_u64);
    Key::new(format!("NA#{account}#{kind}#{from}#{status}"), ONE)
}

/// `A#{account}` / `notification_policy`: the account's notification policy (absent: defaults).
pub fn notification_policy(account: Id) -> Key {
    Key::new(account_partition(account), "notification_policy")
}

/// `A#{account}` / `notifypermit#{from}`: `account` accepted a notification request of
/// `from`, whose notifications the policy no longer filters.
pub fn notification_permission(account: Id, from: Id) -> Key {
    Key::new(account_partition(account), format!("notifypermit#{from}"))
}

/// `A#{account}` / `notifyrequest#{from}`: the pending notification request of `from`'s
/// filtered notifications to `account`.
pub fn notification_request(account: Id, from: Id) -> Key {
    Key::new(account_partition(account), format!("notifyrequest#{from}"))
}

/// `A#{account}` / `n#notifyrequest#{from}`: how many notifications that request holds (a counter).
pub fn notification_request_count(account: Id, from: Id) -> Key {
    Key::new(account_partition(account), format!("n#notifyrequest#{from}"))
}

/// `NR#{account}` / `{request id}`: `account`'s pending notification requests ([`Ref`]s to
/// the senders), oldest first.
///
/// [`Ref`]: crate::model::Ref
pub fn notification_request_listing(account: Id, request: Id) -> Key {
    Key::new(notification_requests_partition(account), request.sort_key())
}

/// Partition of [`notification_request_listing`].
pub fn notification_requests_partition(account: Id) -> String {
    format!("NR#{account}")
}

/// `NF#{account}#{from}` / `{notification id}`: the filtered notifications `from` gave
/// `account`, what accepting or dismissing their request moves or deletes.
pub fn filtered_notification(account: Id, from: Id, notification: Id) -> Key {
    Key::new(filtered_notifications_partition(account, from), notification.sort_key())
}

/// Partition of [`filtered_notification`].
pub fn filtered_notifications_partition(account: Id, from: Id) -> String {
    format!("NF#{account}#{from}")
}

/// `NS#{target}` / `{follower}`: followers who asked to be notified of `target`'s posts.
pub fn notify_subscriber(target: Id, follower: Id) -> Key {
    Key::new(notify_subscribers_partition(target), follower.sort_key())
}

/// Partition of [`notify_subscriber`].
pub fn notify_subscribers_partition(target: Id) -> String {
    format!("NS#{target}")
}

/// `A#{account}` / `marker#{timeline}`: the read marker of `home` or `notifications`.
pub fn marker(account: Id, timeline: &str) -> Key {
    Key::new(format!("A#{account}"), format!("marker#{timeline}"))
}

/// `A#{account}` / `login_lock`: until when (ms) password logins to the account are refused,
/// after too many failures.
pub fn login_lock(account: Id) -> Key {
    Key::new(format!("A#{account}"), "login_lock")
}

/// `M#{media}` / `media`: a media attachment record (owned by its uploader).
pub fn media(id: Id) -> Key {
    Key::new(format!("M#{id}"), "media")
}

/// `M#{media}` / `status`: the status the attachment is attached to; written with
/// `NotExists` in the status's transaction, so one attachment never joins two statuses.
pub fn media_attachment(id: Id) -> Key {
    Key::new(format!("M#{id}"), "status")
}

/// `PUSH#{token jti}` / `-`: the Web Push subscription of an access token.
pub fn push_subscription(token: Id) -> Key {
    Key::new(format!("PUSH#{token}"), ONE)
}

/// `PUSHA#{account}` / `{token jti}`: an account's Web Push subscriptions, for delivery.
pub fn account_push_subscription(account: Id, token: Id) -> Key {
    Key::new(account_push_partition(account), token.sort_key())
}

/// Partition of [`account_push_subscription`].
pub fn account_push_partition(account: Id) -> String {
    format!("PUSHA#{account}")
}

/// An account counter (`n#…` on the profile partition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountCounter {
    Followers,
    Following,
    Statuses,
}

impl AccountCounter {
    /// Every account counter, in the order rendering reads them.
    pub const ALL: [AccountCounter; 3] = [AccountCounter::Followers, AccountCounter::Following, AccountCounter::Statuses];

    fn as_str(self) -> &'static str {
        match self {
            AccountCounter::Followers => "followers",
            AccountCounter::Following => "following",
            AccountCounter::Statuses => "statuses",
        }
    }
}

/// A status counter (`n#…` on the status partition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCounter {
    Replies,
    Reblogs,
    Favourites,
}

impl StatusCounter {
    /// Every status counter.
    pub const ALL: [StatusCounter; 3] = [StatusCounter::Replies, StatusCounter::Reblogs, StatusCounter::Favourites];

    fn as_str(self) -> &'static str {
        match self {
            StatusCounter::Replies => "replies",
            StatusCounter::Reblogs => "reblogs",
            StatusCounter::Favourites => "favourites",
        }
    }
}

/// An account's interaction with a status: its keys' `fav` / `rb` / `bm` segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Favourite,
    Reblog,
    Bookmark,
}

impl Interaction {
    fn as_str(self) -> &'static str {
        match self {
            Interaction::Favourite => "fav",
            Interaction::Reblog => "rb",
            Interaction::Bookmark => "bm",
        }
    }
}
