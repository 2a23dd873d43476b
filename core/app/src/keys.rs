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

/// `A#{account}` / `pictures#{avatar token}#{header token}` (`-` for none): present while the
/// profile has a picture, named after its files; every profile write rewrites it (`Exists`) or
/// moves it, so a write read before a picture changed fails instead of restoring the old one.
pub fn profile_pictures(account: Id, avatar: Option<&str>, header: Option<&str>) -> Key {
    Key::new(format!("A#{account}"), format!("pictures#{}#{}", avatar.unwrap_or("-"), header.unwrap_or("-")))
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

/// `A#{owner}` / `endorses#{target}`: `owner` features `target` on its profile (its id).
pub fn endorse_edge(owner: Id, target: Id) -> Key {
    Key::new(account_partition(owner), format!("endorses#{target}"))
}

/// `EN#{owner}` / `{endorsement id}`: the accounts `owner` features, newest last.
pub fn endorsement_listing(owner: Id, endorsement: Id) -> Key {
    Key::new(endorsements_partition(owner), endorsement.sort_key())
}

/// Partition of [`endorsement_listing`].
pub fn endorsements_partition(owner: Id) -> String {
    format!("EN#{owner}")
}

/// `A#{account}` / `followstag#{tag}`: `account` follows hashtag `tag` (a
/// [`TagFollowRecord`](crate::model::TagFollowRecord): the follow's id).
pub fn tag_follow_edge(account: Id, tag: &str) -> Key {
    Key::new(account_partition(account), format!("followstag#{tag}"))
}

/// `FT#{account}` / `{tag follow id}`: the hashtags `account` follows (a
/// [`TagName`](crate::model::TagName)), the cursor of `GET /api/v1/followed_tags`.
pub fn followed_tag_listing(account: Id, follow: Id) -> Key {
    Key::new(followed_tags_partition(account), follow.sort_key())
}

/// Partition of [`followed_tag_listing`].
pub fn followed_tags_partition(account: Id) -> String {
    format!("FT#{account}")
}

/// `TF#{tag}` / `{tag follow id}`: the accounts following hashtag `tag` (a `Ref`), the index
/// fanout pages like `FR#`.
pub fn tag_follower(tag: &str, follow: Id) -> Key {
    Key::new(tag_followers_partition(tag), follow.sort_key())
}

/// Partition of [`tag_follower`].
pub fn tag_followers_partition(tag: &str) -> String {
    format!("TF#{tag}")
}

/// `A#{account}` / `featurestag#{tag}`: `account` features hashtag `tag` on its profile (a
/// [`TagFollowRecord`](crate::model::TagFollowRecord): the featured tag's id).
pub fn tag_feature_edge(account: Id, tag: &str) -> Key {
    Key::new(account_partition(account), format!("featurestag#{tag}"))
}

/// `FTG#{account}` / `{featured tag id}`: the hashtags `account` features (a
/// [`TagName`](crate::model::TagName)).
pub fn featured_tag_listing(account: Id, featured: Id) -> Key {
    Key::new(featured_tags_partition(account), featured.sort_key())
}

/// Partition of [`featured_tag_listing`].
pub fn featured_tags_partition(account: Id) -> String {
    format!("FTG#{account}")
}

/// `A#{account}` / `n#tag#{tag}`: how many of `account`'s listed (public) statuses carry `tag`
/// (featured tags' `statuses_count`; kept for every tag, so featuring one shows its past).
pub fn account_tag_count(account: Id, tag: &str) -> Key {
    Key::new(account_partition(account), format!("n#tag#{tag}"))
}

/// `A#{account}` / `taglast#{tag}`: when `account` last posted a listed status with `tag`.
pub fn account_tag_last(account: Id, tag: &str) -> Key {
    Key::new(account_partition(account), format!("taglast#{tag}"))
}

/// `A#{owner}` / `note#{target}`: `owner`'s private note on `target`.
pub fn note_edge(owner: Id, target: Id) -> Key {
    Key::new(account_partition(owner), format!("note#{target}"))
}

/// Sort-key prefix of [`blocked_by`] items in an account's partition.
pub const BLOCKED_BY_PREFIX: &str = "blockedby#";

/// Sort-key prefix of [`mute_edge`]s in an account's partition.
pub const MUTES_PREFIX: &str = "mutes#";

/// The stream-hub channel every core process listens to for moderation changes
/// (`hot_sync::moderation_changed`), and its one event (the payload names the account).
pub const MODERATION_CHANNEL: &str = "starling:moderation";
pub const MODERATION_CHANGED: &str = "moderation_changed";

/// `A#{account}`: the partition of an account's own items (profile, counters, edges).
pub fn account_partition(account: Id) -> String {
    format!("A#{account}")
}

/// `A#{target}` / `blockedby#{blocker}`: the block seen from the blocked side, so a reader's
/// relations to a page's authors are all in the reader's own partition.
pub fn blocked_by(target: Id, blocker: Id) -> Key {
    Key::new(account_partition(target), format!("{BLOCKED_BY_PREFIX}{blocker}"))
}

/// `A#{target}` / `followedby#{follower}`: the follow edge seen from the followed side (a `Ref`
/// to the follow), so a notification's check of its recipient's relations to the sender reads
/// the sender's partition, not a celebrity recipient's (`Relations::load_toward`).
pub fn followed_by(target: Id, follower: Id) -> Key {
    Key::new(account_partition(target), format!("{FOLLOWED_BY_PREFIX}{follower}"))
}

/// Sort-key prefix of [`followed_by`] items in an account's partition.
pub const FOLLOWED_BY_PREFIX: &str = "followedby#";

/// `A#{target}` / `mutedby#{muter}`: the mute edge seen from the muted side (the same
/// [`MuteRecord`](crate::model::MuteRecord) as [`mute_edge`]), for the same reason.
pub fn muted_by(target: Id, muter: Id) -> Key {
    Key::new(account_partition(target), format!("{MUTED_BY_PREFIX}{muter}"))
}

/// Sort-key prefix of [`muted_by`] items in an account's partition.
pub const MUTED_BY_PREFIX: &str = "mutedby#";

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

/// `A#{account}` / `n#relations`: counts changes to the account's blocks, mutes (either side
/// of a block) and filters: part of the home version, so the edge's cached home pages follow them.
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

/// `ACCTS[#{shard}]` / `{account}`: every local account, written at sign-up (search rebuilds
/// and the moderators' listing page it), in one of `shards` shards.
pub fn account_listing(id: Id, shards: u32) -> Key {
    Key::new(shard_partition(ACCOUNTS, shard_of(id, shards)), id.sort_key())
}

/// Partitions of [`account_listing`], one per shard.
pub fn account_listing_partitions(shards: u32) -> Vec<String> {
    shard_partitions(ACCOUNTS, shards)
}

/// Partition of [`account_listing`] (shard 0: every account listed before sharding).
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

/// `CELEB[#{shard}]` / `{account}`: accounts whose posts are pulled at read time instead of
/// fanned out, in one of `shards` shards.
pub fn celebrity(account: Id, shards: u32) -> Key {
    Key::new(shard_partition(CELEBRITIES, shard_of(account, shards)), account.sort_key())
}

/// Partitions of [`celebrity`], one per shard.
pub fn celebrity_partitions(shards: u32) -> Vec<String> {
    shard_partitions(CELEBRITIES, shards)
}

/// Partition of [`celebrity`] (shard 0).
pub const CELEBRITIES: &str = "CELEB";

/// `S#{status}` / `status`: the status record.
pub fn status(id: Id) -> Key {
    Key::new(format!("S#{id}"), "status")
}

/// `S#{status}[#{shard}]` / `n#{name}`: shard `shard` of a status counter (`replies`,
/// `reblogs`, `favourites`); the count is the sum of its shards. Shard 0 is the status's own
/// partition (every count written before sharding), the others partitions of their own, so a
/// viral status's counter updates spread over items and partitions
/// ([`counter_shard_of`]).
pub fn status_counter(id: Id, counter: StatusCounter, shard: u32) -> Key {
    Key::new(shard_partition(&format!("S#{id}"), shard), format!("n#{}", counter.as_str()))
}

/// The shard of a status counter (of `shards`) the change made by entry `by` (a favourite, a
/// boost, a reply) goes to: shard 0 unsharded; sharded, one of the `shards - 1` partitions of
/// the counter's own, never the status's (whose record every reader's process refills).
pub fn counter_shard_of(by: Id, shards: u32) -> u32 {
    if shards <= 1 { 0 } else { 1 + shard_of(by, shards - 1) }
}

/// Every shard of a status counter.
pub fn status_counter_shards(id: Id, counter: StatusCounter, shards: u32) -> impl Iterator<Item = Key> {
    (0..shards.max(1)).map(move |shard| status_counter(id, counter, shard))
}

/// `A#{account}` / `{kind}#{status}`: `account`'s favourite (`fav`), boost (`rb`) or bookmark
/// (`bm`) of the status (a `Ref` to the interaction: the favourite's, bookmark's or boost's id).
/// In the account's partition, not the status's: every reader of a viral status reads its own
/// three, and every favourite of it writes one (`migrations` moved the ones written before).
pub fn interaction(status: Id, kind: Interaction, account: Id) -> Key {
    Key::new(account_partition(account), format!("{}#{status}", kind.as_str()))
}

/// `S#{status}` / `{kind}#{account}`: where [`interaction`] was written before it moved to the
/// account's partition (`migrations::INTERACTIONS_TO_ACCOUNTS` moves them).
pub fn legacy_interaction(status: Id, kind: Interaction, account: Id) -> Key {
    Key::new(status_partition(status), format!("{}#{account}", kind.as_str()))
}

/// `S#{status}` / `edit#{revision id}`: one revision in the edit history.
pub fn revision(status: Id, revision: Id) -> Key {
    Key::new(format!("S#{status}"), format!("{REVISION_PREFIX}{}", revision.sort_key()))
}

/// Partition of a status's items (record, counters, [`revision`]s, quotes, poll votes).
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

/// `{schedule}` / `{due ms, 15 digits}#{id}`: an entry of a schedule of due work
/// ([`crate::due`]): time-ordered, so a scan reads what is due by now with one query
/// ([`due_before`]).
pub fn due(schedule: &str, at: u64, id: Id) -> Key {
    Key::new(schedule, format!("{at:015}#{id}"))
}

/// Sort key bounding the [`due`] entries due at or before `now_ms` from above.
pub fn due_before(now_ms: u64) -> String {
    format!("{now_ms:015}$")
}

/// When a [`due`] entry is due, from its sort key.
pub fn due_at(sk: &str) -> Option<u64> {
    sk.split('#').next()?.parse().ok()
}

/// `PX` / `{expires_at ms, 15 digits}#{status}`: a poll that has not ended yet, in time order
/// (a [`PollDue`](crate::model::PollDue)); the expiry scan deletes it (`Exists`, so one process
/// wins) in the transaction logging `PollEnded`.
pub fn poll_due(expires_at: u64, status: Id) -> Key {
    due(POLLS_DUE, expires_at, status)
}

/// Schedule of [`poll_due`].
pub const POLLS_DUE: &str = "PX";

/// `SX` / `{scheduled_at ms, 15 digits}#{scheduled status}`: a scheduled status waiting to be
/// published, in time order (a [`ScheduledDue`](crate::model::ScheduledDue)); the scheduler
/// deletes it (`Exists`, so one process wins) in the transaction that posts the status.
pub fn scheduled_due(at: u64, scheduled: Id) -> Key {
    due(SCHEDULED_DUE, at, scheduled)
}

/// Schedule of [`scheduled_due`].
pub const SCHEDULED_DUE: &str = "SX";

/// `SS#{account}` / `{scheduled status}`: the account's scheduled statuses (a
/// [`ScheduledRecord`](crate::model::ScheduledRecord)), paged by id; only the owner's partition
/// holds them, so nobody else can name one.
pub fn scheduled_status(account: Id, id: Id) -> Key {
    Key::new(scheduled_statuses_partition(account), id.sort_key())
}

/// Partition of [`scheduled_status`].
pub fn scheduled_statuses_partition(account: Id) -> String {
    format!("SS#{account}")
}

/// `A#{account}` / `scheduled#{yyyy-mm-dd}#{scheduled status}`: one small item per waiting
/// scheduled status, by its UTC day: what the limits (per account, per day) count.
pub fn scheduled_day(account: Id, day: &str, id: Id) -> Key {
    Key::new(account_partition(account), format!("{}{}", scheduled_day_prefix(day), id.sort_key()))
}

/// Sort-key prefix of every [`scheduled_day`] item of an account.
pub const SCHEDULED_DAYS_PREFIX: &str = "scheduled#";

/// Sort-key prefix of the [`scheduled_day`] items of one day.
pub fn scheduled_day_prefix(day: &str) -> String {
    format!("{SCHEDULED_DAYS_PREFIX}{day}#")
}

/// `IK#{account}#{digest}` / `scheduled`: an Idempotency-Key that scheduled a status, → the
/// scheduled status.
pub fn scheduled_idempotency(account: Id, digest: &str) -> Key {
    Key::new(format!("IK#{account}#{digest}"), "scheduled")
}

/// `MX` / `{due ms, 15 digits}#{media}`: a video or GIF waiting to be processed (→ its attempt),
/// in time order. Due at once when accepted; claiming moves the entry to `now + lease` (delete
/// `Exists` + put `NotExists` in one commit), so one process works on it and, should that one
/// die, another takes it when the lease ends.
pub fn media_job(due_ms: u64, media: Id) -> Key {
    Key::new(MEDIA_JOBS, format!("{due_ms:015}#{media}"))
}

/// Partition of [`media_job`].
pub const MEDIA_JOBS: &str = "MX";

/// Sort key bounding the [`media_job`] entries due at or before `now_ms` from above.
pub fn media_jobs_due_before(now_ms: u64) -> String {
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

/// `SL#{status}#{kind}[#{shard}]` / `{interaction id}`: who favourited (`fav`) or boosted
/// (`rb`) a status, in order, in one of `shards` shards (by the favourite's or boost's id).
pub fn interaction_list(status: Id, kind: Interaction, id: Id, shards: u32) -> Key {
    Key::new(shard_partition(&interaction_list_partition(status, kind), shard_of(id, shards)), id.sort_key())
}

/// Shard 0 of [`interaction_list`] (every entry written before sharding).
pub fn interaction_list_partition(status: Id, kind: Interaction) -> String {
    format!("SL#{status}#{}", kind.as_str())
}

/// Partitions of [`interaction_list`], one per shard.
pub fn interaction_list_partitions(status: Id, kind: Interaction, shards: u32) -> Vec<String> {
    shard_partitions(&interaction_list_partition(status, kind), shards)
}

/// `S#{quoted}` / `quote#{quoting}`: the quote `quoting` makes of status `quoted`, while it
/// stands (a [`Ref`](crate::model::Ref) to the quoting author): posted with the quoting
/// status, deleted with it or when the quoted author revokes the quote.
pub fn quote_edge(quoted: Id, quoting: Id) -> Key {
    Key::new(status_partition(quoted), format!("quote#{quoting}"))
}

/// `S#{quoted}` / `n#quotes`: how many quotes of the status stand (one item: quotes are rare
/// enough not to need the other counters' shards).
pub fn quotes_count(quoted: Id) -> Key {
    Key::new(status_partition(quoted), "n#quotes")
}

/// `SQ#{quoted}` / `{quoting}`: the quotes of a status that stand, in order (→ the quoting
/// author), what `GET /api/v1/statuses/:id/quotes` pages and `quoted_update` notifies.
pub fn quote_listing(quoted: Id, quoting: Id) -> Key {
    Key::new(quotes_partition(quoted), quoting.sort_key())
}

/// Partition of [`quote_listing`].
pub fn quotes_partition(quoted: Id) -> String {
    format!("SQ#{quoted}")
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

/// `T#{tag}[#{shard}]` / `{status}`: public statuses carrying a hashtag, in one of `shards`
/// shards.
pub fn tagged(tag: &str, status: Id, shards: u32) -> Key {
    Key::new(shard_partition(&tag_partition(tag), shard_of(status, shards)), status.sort_key())
}

/// Shard 0 of [`tagged`] (every entry written before sharding).
pub fn tag_partition(tag: &str) -> String {
    format!("T#{tag}")
}

/// Partitions of [`tagged`], one per shard.
pub fn tag_partitions(tag: &str, shards: u32) -> Vec<String> {
    shard_partitions(&tag_partition(tag), shards)
}

/// `PUB[#{shard}]` / `{status}`: the public (local) timeline, in one of `shards` shards.
pub fn public(status: Id, shards: u32) -> Key {
    Key::new(shard_partition(PUBLIC, shard_of(status, shards)), status.sort_key())
}

/// Partitions of [`public`], one per shard.
pub fn public_partitions(shards: u32) -> Vec<String> {
    shard_partitions(PUBLIC, shards)
}

/// Shard 0 of [`public`].
pub const PUBLIC: &str = "PUB";

/// The shard (of `shards`) an entry keyed by `id` is written to: a fixed hash of the id, the same
/// in every process and release, so the entry's deletion finds it. Not `id % shards`: the low
/// bits of an id are a per-millisecond sequence, mostly 0 at low rates.
pub fn shard_of(id: Id, shards: u32) -> u32 {
    if shards <= 1 {
        return 0;
    }
    // splitmix64's finaliser: every bit of the id moves every bit of the hash.
    let mut z = id.as_u64().wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % u64::from(shards)) as u32
}

/// Partition key of shard `shard` of `base`: `base` itself for shard 0 (what was written before
/// the partition was sharded stays there), `{base}#{shard}` for the others.
pub fn shard_partition(base: &str, shard: u32) -> String {
    if shard == 0 { base.to_owned() } else { format!("{base}#{shard}") }
}

/// The keys a deletion of sharded entry `key` (of partition `base`) removes: `key`, and the same
/// entry in shard 0 when `key` is in another (written before `base` was sharded).
pub fn with_unsharded(key: Key, base: &str) -> Vec<Key> {
    if key.pk == base {
        return vec![key];
    }
    let unsharded = Key::new(base, key.sk.clone());
    vec![key, unsharded]
}

/// Every shard's partition key of `base`.
pub fn shard_partitions(base: &str, shards: u32) -> Vec<String> {
    (0..shards.max(1)).map(|shard| shard_partition(base, shard)).collect()
}

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

/// `META` / `migration#{name}`: data migration `name` ran to its end (`migrations`).
pub fn migration_done(name: &str) -> Key {
    meta(&format!("migration#{name}"))
}

/// `META` / `{name}`: instance-wide singletons (signing keys, counters).
pub fn meta(name: &str) -> Key {
    Key::new("META", name)
}

/// `META[#{shard}]` / `n#{name}`: shard `shard` of an instance counter; the count is the sum of
/// its shards (and, for statuses, of [`legacy_status_count_shards`]).
pub fn instance_counter(counter: InstanceCounter, shard: u32) -> Key {
    Key::new(shard_partition("META", shard), format!("n#{}", counter.as_str()))
}

/// The shard of `counter` the change of entry `id` (a new account, a status) goes to.
pub fn instance_counter_of(counter: InstanceCounter, id: Id, shards: u32) -> Key {
    instance_counter(counter, shard_of(id, shards))
}

/// Every item `counter` is the sum of.
pub fn instance_counter_keys(counter: InstanceCounter, shards: u32) -> Vec<Key> {
    let mut keys: Vec<Key> = (0..shards.max(1)).map(|shard| instance_counter(counter, shard)).collect();
    if counter == InstanceCounter::Statuses {
        keys.extend(legacy_status_count_shards());
    }
    keys
}

/// `META` / `n#statuses#{0..15}`: the status count's items before [`instance_counter`] (16 items
/// of the `META` partition); no longer written, still summed.
pub fn legacy_status_count_shards() -> impl Iterator<Item = Key> {
    (0..16).map(|n| meta(&format!("n#statuses#{n}")))
}

/// An instance-wide counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceCounter {
    /// Local accounts (`n#accounts`).
    Accounts,
    /// Local statuses, boosts excluded (`n#statuses`).
    Statuses,
}

impl InstanceCounter {
    fn as_str(self) -> &'static str {
        match self {
            InstanceCounter::Accounts => "accounts",
            InstanceCounter::Statuses => "statuses",
        }
    }
}

/// `N#{account}[#{shard}]` / `{notification id}`: one of the account's notifications, newest
/// last, in one of `shards` shards (by the notification's id): a celebrity's are spread over
/// `[shards] notifications`, everyone else's written with `shards` = 1, to `N#{account}` alone.
pub fn notification_in(account: Id, id: Id, shards: u32) -> Key {
    Key::new(shard_partition(&notifications_partition(account), shard_of(id, shards)), id.sort_key())
}

/// Where notification `id` of `account` may be, written with `shards` shards or without: its
/// shard's key, and shard 0's (where it is when it was written unsharded).
pub fn notification_candidates(account: Id, id: Id, shards: u32) -> Vec<Key> {
    with_unsharded(notification_in(account, id, shards), &notifications_partition(account))
}

/// Shard 0 of [`notification_in`]: every notification of an account never sharded.
pub fn notifications_partition(account: Id) -> String {
    format!("N#{account}")
}

/// Partitions of [`notification_in`], one per shard.
pub fn notification_partitions(account: Id, shards: u32) -> Vec<String> {
    shard_partitions(&notifications_partition(account), shards)
}

/// `A#{account}` / `notifyshards`: the account's notifications may be spread over shards
/// ([`notification_in`]); written when it joins the celebrity set and when it leaves it, so its
/// reads merge every shard from then on (absent: `N#{account}` alone, unless it is in the set).
pub fn notification_shards_flag(account: Id) -> Key {
    Key::new(account_partition(account), "notifyshards")
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

/// `M#{media}` / `processing`: present while a video or GIF waits to be processed; its
/// processing deletes it (`Exists`) with the result, and an edit of the waiting attachment
/// rewrites it (`Exists`), so an edit read before the result cannot undo it.
pub fn media_processing(id: Id) -> Key {
    Key::new(format!("M#{id}"), "processing")
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
    /// Every kind.
    pub const ALL: [Interaction; 3] = [Interaction::Favourite, Interaction::Reblog, Interaction::Bookmark];

    fn as_str(self) -> &'static str {
        match self {
            Interaction::Favourite => "fav",
            Interaction::Reblog => "rb",
            Interaction::Bookmark => "bm",
        }
    }
}

// ---- lists --------------------------------------------------------------------------------------

/// `LS#{owner}` / `{list}`: one of `owner`'s lists (a [`ListRecord`](crate::model::ListRecord)).
/// Only the owner's own partition holds it, so a list is found through its owner or not at all.
pub fn list(owner: Id, list: Id) -> Key {
    Key::new(lists_partition(owner), list.sort_key())
}

/// Partition of [`list`]: an account's lists, oldest first.
pub fn lists_partition(owner: Id) -> String {
    format!("LS#{owner}")
}

/// `LI#{list}` / `m#{account}`: `account` is a member of `list` (the membership's id).
pub fn list_member(list: Id, account: Id) -> Key {
    Key::new(format!("LI#{list}"), format!("m#{account}"))
}

/// `LI#{list}` / `n#members`: how many members `list` has.
pub fn list_member_count(list: Id) -> Key {
    Key::new(format!("LI#{list}"), "n#members")
}

/// `LA#{list}` / `{membership id}`: the members of `list`, in the order they were added.
pub fn list_member_listing(list: Id, membership: Id) -> Key {
    Key::new(list_members_partition(list), membership.sort_key())
}

/// Partition of [`list_member_listing`].
pub fn list_members_partition(list: Id) -> String {
    format!("LA#{list}")
}

/// `LM#{account}` / `{list}`: a list `account` is a member of, with the list's owner (what
/// fanout reads to reach the list timelines of an author's posts).
pub fn member_of(account: Id, list: Id) -> Key {
    Key::new(member_of_partition(account), list.sort_key())
}

/// Partition of [`member_of`].
pub fn member_of_partition(account: Id) -> String {
    format!("LM#{account}")
}

/// `FL#{account}` / `{filter}#{version}`: one of an account's filters, with its keywords and
/// statuses. An update replaces the item by the next version (delete `Exists` + put
/// `NotExists`), so two concurrent updates of one filter cannot both win.
pub fn filter(account: Id, filter: Id, version: u64) -> Key {
    Key::new(filters_partition(account), format!("{}#{version:08x}", filter.sort_key()))
}

/// Partition of [`filter`]: all of an account's filters (read whole, one query per request
/// that applies them).
pub fn filters_partition(account: Id) -> String {
    format!("FL#{account}")
}

/// `CV#{account}` / `c#{conversation}`: one of an account's direct conversations (a
/// [`ConversationRecord`](crate::model::ConversationRecord)). Only the account's own partition
/// holds it, so a conversation is found through its reader or not at all.
pub fn conversation(account: Id, conversation: Id) -> Key {
    Key::new(format!("CV#{account}"), format!("c#{}", conversation.sort_key()))
}

/// `CV#{account}` / `v#{conversation}#{revision}`: the revision of a conversation record its
/// last writer left. A change deletes it (`Exists`) and puts the next (`NotExists`), so two
/// concurrent changes of one conversation cannot both win.
pub fn conversation_revision(account: Id, conversation: Id, revision: u64) -> Key {
    Key::new(format!("CV#{account}"), format!("v#{}#{revision:016x}", conversation.sort_key()))
}

/// `CVL#{account}` / `{last status}`: an account's live conversations by their newest status
/// (a [`Ref`](crate::model::Ref) to the conversation): what `GET /api/v1/conversations` pages
/// through, newest activity first.
pub fn conversation_listing(account: Id, last_status: Id) -> Key {
    Key::new(conversations_partition(account), last_status.sort_key())
}

/// Partition of [`conversation_listing`].
pub fn conversations_partition(account: Id) -> String {
    format!("CVL#{account}")
}

/// `CVS#{account}` / `{status}`: which of the account's conversations a direct status is in (a
/// [`Ref`](crate::model::Ref)). Put `NotExists` when the status joins: a replayed event adds
/// nothing twice; it stays after its owner removes the conversation, so a replay does not
/// bring it back either.
pub fn conversation_status(account: Id, status: Id) -> Key {
    Key::new(format!("CVS#{account}"), status.sort_key())
}

/// `CVM#{account}#{conversation}` / `{status}`: the statuses of one conversation, oldest first
/// (a [`Ref`](crate::model::Ref) to the status): where the newest left when it is deleted.
pub fn conversation_member(account: Id, conversation: Id, status: Id) -> Key {
    Key::new(conversation_members_partition(account, conversation), status.sort_key())
}

/// Partition of [`conversation_member`].
pub fn conversation_members_partition(account: Id, conversation: Id) -> String {
    format!("CVM#{account}#{conversation}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_of_an_id_is_pinned_and_spreads_the_ids_of_one_millisecond() {
        // Pinned: a deletion finds its entry by computing this again, in another process or
        // release; a different hash would orphan every sharded entry written before.
        assert_eq!(shard_of(Id::from_u64(0x0123_4567_89ab_cdef), 16), 13);
        assert_eq!(shard_of(Id::from_u64(42), 7), 5);
        assert_eq!(shard_of(Id::from_u64(42), 1), 0);
        // Ids of one millisecond and node differ only in their low bits (the sequence).
        let mut per_shard = [0u32; 4];
        for seq in 0..400u64 {
            per_shard[shard_of(Id::from_u64((1_700_000_000_000 << 16) | seq), 4) as usize] += 1;
        }
        assert!(per_shard.iter().all(|n| (60..=140).contains(n)), "{per_shard:?}");
    }

    #[test]
    fn shard_0_is_the_unsharded_key() {
        assert_eq!(shard_partitions(PUBLIC, 3), ["PUB", "PUB#1", "PUB#2"]);
        assert_eq!(tag_partitions("rust", 2), ["T#rust", "T#rust#1"]);
        assert_eq!(status_counter(Id::from_u64(7), StatusCounter::Favourites, 0), Key::new("S#7", "n#favourites"));
        assert_eq!(instance_counter(InstanceCounter::Accounts, 0), meta("n#accounts"), "the count of before is shard 0");
        let key = public(Id::from_u64(0x0123_4567_89ab_cdef), 16);
        assert_eq!(key.pk, "PUB#13");
        assert_eq!(with_unsharded(key.clone(), PUBLIC), [key.clone(), Key::new(PUBLIC, key.sk.clone())]);
        assert_eq!(with_unsharded(public(Id::from_u64(1), 1), PUBLIC).len(), 1);
    }

    #[test]
    fn a_notification_written_unsharded_keeps_todays_key_and_a_sharded_one_is_also_looked_for_there() {
        let (account, id) = (Id::from_u64(7), Id::from_u64(0x0123_4567_89ab_cdef));
        let unsharded = Key::new("N#7", id.sort_key());
        assert_eq!(notification_in(account, id, 1), unsharded, "shards = 1: the key of before sharding");
        let sharded = notification_in(account, id, 16);
        assert_eq!(sharded, Key::new("N#7#13", id.sort_key()), "the shard shard_of picks");
        assert_eq!(notification_candidates(account, id, 16), [sharded, unsharded.clone()]);
        assert_eq!(notification_candidates(account, id, 1), [unsharded]);
        assert_eq!(notification_partitions(account, 3), ["N#7", "N#7#1", "N#7#2"]);
    }
}
