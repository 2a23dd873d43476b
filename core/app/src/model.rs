//! Stored records: what the item store holds, independent of the wire format.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use shared::id::Id;
use shared::wire::{QuotePolicy, Visibility};

use crate::error::ApiError;
use crate::ports::{Condition, Item, Key, Value, Write};

/// Serialises a record into a put.
pub fn put<T: Serialize>(key: Key, record: &T, condition: Condition) -> Result<Write, ApiError> {
    Ok(Write::Put { item: Item { key, value: Value::Doc(serde_json::to_vec(record).map_err(ApiError::internal)?) }, condition })
}

/// Reads a record back from an item; a counter or a corrupt document is an internal error.
pub fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, ApiError> {
    match &item.value {
        Value::Doc(bytes) => serde_json::from_slice(bytes).map_err(ApiError::internal),
        Value::Count(_) => Err(ApiError::internal(format!("expected a document at {:?}", item.key))),
    }
}

/// The value of a counter item (absent counts as zero; never negative on the wire).
pub fn count(item: Option<&Item>) -> u64 {
    match item.map(|i| &i.value) {
        Some(Value::Count(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

/// The count of a sharded counter: the sum of its shards' items, never below zero (one shard
/// may be: an undo counted on another shard than what it undoes, written before sharding).
pub fn sum_counts<'a>(items: impl IntoIterator<Item = Option<&'a Item>>) -> u64 {
    let sum: i64 = items
        .into_iter()
        .map(|item| match item.map(|i| &i.value) {
            Some(Value::Count(n)) => *n,
            _ => 0,
        })
        .sum();
    u64::try_from(sum).unwrap_or(0)
}

/// A pointer from one item to an id (uniqueness items, list entries, edges).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Ref {
    /// What it points at.
    pub id: Id,
}

/// An entry of the public (`PUB`) and hashtag (`T#`) timelines: the author, and whether the
/// status has media (for `only_media` without loading statuses). Reads as a [`Ref`] too.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PublicEntry {
    /// The author.
    pub id: Id,
    /// Whether the status has attachments.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub media: bool,
}

/// A follow edge.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct FollowRecord {
    /// The follow's own id (the cursor of follower/following lists).
    pub id: Id,
    /// Show the target's boosts in home.
    pub reblogs: bool,
    /// Notify on the target's posts.
    pub notify: bool,
}

/// An endorsement edge (a featured profile).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct EndorsementRecord {
    /// The endorsement's own id (the cursor of the endorsements list).
    pub id: Id,
}

/// A hashtag followed or featured by an account: the edge's own id (the cursor of its list).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TagFollowRecord {
    /// The follow's (or featured tag's) id.
    pub id: Id,
}

/// A list entry naming a hashtag (normalised).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TagName {
    /// The hashtag, normalised, without `#`.
    pub name: String,
}

/// A private note on an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoteRecord {
    /// The note's text.
    pub comment: String,
}

/// A block edge.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct BlockRecord {
    /// The block's own id (the cursor of the blocks list).
    pub id: Id,
}

/// A mute edge.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MuteRecord {
    /// The mute's own id (the cursor of the mutes list).
    pub id: Id,
    /// Notifications from the account are muted too.
    pub notifications: bool,
    /// When the mute lifts by itself (ms since the epoch); `None`: never.
    pub expires_at: Option<u64>,
}

impl MuteRecord {
    /// Whether the mute still holds at `now_ms`.
    pub fn active(&self, now_ms: u64) -> bool {
        self.expires_at.is_none_or(|end| end > now_ms)
    }
}

/// What an account may do on the server, beyond posting: Mastodon's default roles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    User,
    Moderator,
    Admin,
    Owner,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 4] = [Role::User, Role::Moderator, Role::Admin, Role::Owner];

    /// Its name, as configured and as the CLI takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Parses a role name (`user`, `moderator`, `admin`, `owner`).
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the role may use the admin API (moderators and up).
    pub fn is_staff(self) -> bool {
        self >= Role::Moderator
    }

    /// Mastodon's id of the default role.
    pub fn id(self) -> &'static str {
        match self {
            Role::User => "-99",
            Role::Moderator => "1",
            Role::Admin => "2",
            Role::Owner => "3",
        }
    }

    /// Mastodon's permission bits of the default role: moderators view the dashboard and the
    /// audit log and manage users, reports and hashtags; admins also the settings, rules, roles
    /// and the rest; the owner is `administrator` (everything).
    pub fn permissions(self) -> u64 {
        const ADMINISTRATOR: u64 = 1;
        const MODERATOR: u64 = (1 << 2) | (1 << 3) | (1 << 4) | (1 << 8) | (1 << 10);
        match self {
            Role::User => 0,
            Role::Moderator => MODERATOR,
            Role::Admin => {
                MODERATOR | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 9) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 15) | (1 << 17) | (1 << 18)
            }
            Role::Owner => ADMINISTRATOR,
        }
    }
}

/// An account's role and the moderators' actions on it. Kept apart from the profile, so a
/// profile update and a moderation action never overwrite each other. Absent: a plain user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModerationRecord {
    #[serde(default)]
    pub role: Role,
    /// Suspended since (ms): the account, its statuses and its sessions are gone.
    #[serde(default)]
    pub suspended_at: Option<u64>,
    /// Silenced since (ms): out of public feeds; reaches only its followers.
    #[serde(default)]
    pub silenced_at: Option<u64>,
    /// Logins disabled: no session works, the profile stays.
    #[serde(default)]
    pub disabled: bool,
    /// Its media are always shown as sensitive.
    #[serde(default)]
    pub sensitized: bool,
    /// Signed up where sign-ups need approval, and not approved yet: no session works and the
    /// profile is not shown.
    #[serde(default)]
    pub pending: bool,
    /// Why it asked to join.
    #[serde(default)]
    pub invite_request: Option<String>,
}

impl ModerationRecord {
    /// Whether the account's sessions may act.
    pub fn may_sign_in(&self) -> bool {
        self.suspended_at.is_none() && !self.disabled && !self.pending
    }
}

/// A report of an account (and some of its statuses) to the moderators.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportRecord {
    pub id: Id,
    /// Who filed it (never shown to the reported account).
    pub reporter: Id,
    pub target: Id,
    pub status_ids: Vec<Id>,
    pub comment: String,
    /// `spam`, `legal`, `violation` or `other`.
    pub category: String,
    /// Ids of the instance rules broken (`violation` only).
    pub rule_ids: Vec<String>,
    pub created_at: u64,
    pub updated_at: u64,
    /// The moderator handling it.
    #[serde(default)]
    pub assigned: Option<Id>,
    /// When it was resolved, and by whom.
    #[serde(default)]
    pub resolved: Option<(u64, Id)>,
}

/// An account's profile and preferences.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountRecord {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    /// Bio as written.
    pub note: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub hide_collections: bool,
    /// Profile fields as written (name, value).
    pub fields: Vec<(String, String)>,
    pub created_at: u64,
    pub default_visibility: Visibility,
    pub default_sensitive: bool,
    pub default_language: Option<String>,
    /// The avatar's files (absent: Mastodon's `missing.png`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<PictureRecord>,
    /// The header's files (absent: `missing.png`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<PictureRecord>,
    /// Who may quote new posts by default (absent: anyone, Mastodon's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_quote_policy: Option<QuotePolicy>,
}

/// A profile picture's files in the media store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PictureRecord {
    /// What `avatar`/`header` point at (animated for an animated upload).
    pub original: MediaFile,
    /// The first frame of an animated picture (`avatar_static`/`header_static`); absent: the original is still.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub still: Option<MediaFile>,
}

impl PictureRecord {
    /// The random part of its files' keys (`accounts/{id}/{picture}/{token}/…`): names this picture.
    pub fn token(&self) -> &str {
        self.original.key.split('/').nth(3).unwrap_or(&self.original.key)
    }

    /// The keys of its files.
    pub fn keys(&self) -> Vec<String> {
        std::iter::once(self.original.key.clone()).chain(self.still.as_ref().map(|f| f.key.clone())).collect()
    }
}

/// Login credentials; never rendered.
#[derive(Clone, Serialize, Deserialize)]
pub struct CredentialsRecord {
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// A mention as stored with a status.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MentionRecord {
    pub id: Id,
    pub username: String,
}

/// A status or boost.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusRecord {
    pub id: Id,
    pub account_id: Id,
    /// Text as written (empty for boosts).
    pub text: String,
    /// Rendered HTML of `text`.
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub language: Option<String>,
    pub in_reply_to_id: Option<Id>,
    pub in_reply_to_account_id: Option<Id>,
    pub reblog_of: Option<Id>,
    pub mentions: Vec<MentionRecord>,
    /// Normalised hashtags.
    pub tags: Vec<String>,
    pub application: Option<(String, Option<String>)>,
    pub created_at: u64,
    pub edited_at: Option<u64>,
    /// Attached media, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Id>,
    /// The thread's first status, for replies (`None`: the status starts its own thread, or
    /// was stored before threads were recorded, when it counts as its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Id>,
    /// The poll attached, if any (its votes are items of their own: `keys::poll_vote`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollRecord>,
    /// The status it quotes, if any (whether the quote still stands is the edge
    /// `keys::quote_edge`: a revoked quote has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<QuoteRecord>,
    /// Who may quote it (absent: nobody but its author, as Mastodon's statuses from before
    /// quotes); private and direct statuses are never quoted by others whatever it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_policy: Option<QuotePolicy>,
}

impl StatusRecord {
    /// A status of `account` with nothing in it yet (no text, no links to others), created now
    /// (`created_at`): what a boost is, and the start of a test's fixture.
    pub fn empty(id: Id, account: Id, visibility: Visibility, created_at: u64) -> Self {
        StatusRecord {
            id,
            account_id: account,
            text: String::new(),
            content: String::new(),
            spoiler_text: String::new(),
            sensitive: false,
            visibility,
            language: None,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            reblog_of: None,
            mentions: Vec::new(),
            tags: Vec::new(),
            application: None,
            created_at,
            edited_at: None,
            media: Vec::new(),
            conversation: None,
            poll: None,
            quote: None,
            quote_policy: None,
        }
    }
}

/// What a status quotes: the quoted status and its author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRecord {
    pub status: Id,
    pub account: Id,
}

/// A poll, kept in its status's record. Votes and counts are kept per `round`: an edit that
/// changes the options starts a new round, which resets the votes without deleting any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollRecord {
    /// The options' titles, in order.
    pub options: Vec<String>,
    /// When voting ends (ms since the epoch).
    pub expires_at: u64,
    /// Several options may be chosen.
    pub multiple: bool,
    /// Counts are shown only once the poll has ended (always to its author).
    pub hide_totals: bool,
    /// The voting round (see above).
    #[serde(default)]
    pub round: u32,
}

impl PollRecord {
    /// Whether voting has ended at `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at
    }
}

/// One account's vote in a poll: the options chosen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoteRecord {
    /// Who voted.
    pub account: Id,
    /// Option indexes, ascending.
    pub choices: Vec<usize>,
}

/// A pending poll end (`PX`): what the expiry scan turns into a `PollEnded` event.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PollDue {
    pub status: Id,
    pub author: Id,
}

/// A scheduled status waiting to be published (`SS#{account}`): what it was scheduled with,
/// posted as a status would be from a request when its time comes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScheduledRecord {
    pub id: Id,
    pub account: Id,
    /// When it is published (ms).
    pub scheduled_at: u64,
    pub text: String,
    /// As given (`None`: not given).
    pub spoiler_text: Option<String>,
    /// As given (`None`: the author's default at publication).
    pub sensitive: Option<bool>,
    /// As given, else the author's default when it was scheduled.
    pub visibility: Visibility,
    /// As given (`None`: the author's default at publication).
    pub language: Option<String>,
    pub in_reply_to: Option<Id>,
    /// Attachments, held for it (`M#{media}` → this id) until it is published or deleted.
    pub media: Vec<Id>,
    pub poll: Option<ScheduledPollRecord>,
    /// The `Idempotency-Key` it was scheduled with.
    pub idempotency: Option<String>,
    /// The OAuth application that scheduled it: its id and (name, website).
    pub application_id: Id,
    pub application: Option<(String, Option<String>)>,
}

/// The poll of a [`ScheduledRecord`], as asked for (validated again at publication).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScheduledPollRecord {
    pub options: Vec<String>,
    /// Seconds from publication.
    pub expires_in: u64,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// A scheduled status waiting in the `SX` schedule: whose it is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ScheduledDue {
    pub id: Id,
    pub account: Id,
}

impl StatusRecord {
    /// The thread the status belongs to, named by its first status: what a conversation mute
    /// applies to.
    pub fn thread(&self) -> Id {
        self.conversation.unwrap_or(self.id)
    }
}

/// Flags of an `AS#` entry, so profile filters and home rebuilds need not load every status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountStatusEntry {
    /// The boosted status, for a boost.
    pub reblog_of: Option<Id>,
    /// The author of the status replied to, for a reply.
    pub in_reply_to_account: Option<Id>,
    pub media: bool,
    pub visibility: Visibility,
    /// For a direct status, the accounts it mentions (whose homes it may be in).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Id>,
}

/// One revision of a status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevisionRecord {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: u64,
    /// Media attached in this revision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Id>,
}

/// A registered OAuth application.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppRecord {
    pub id: Id,
    pub client_id: String,
    /// SHA-256 of the client secret.
    pub secret_digest: String,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
}

/// An authorization code awaiting exchange.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeRecord {
    pub client_id: String,
    pub account: Id,
    pub redirect_uri: String,
    pub scopes: String,
    pub challenge: Option<(String, String)>,
    pub expires_at: u64,
}

/// An issued access token, for revocation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub account: Option<Id>,
    pub app: Id,
    pub client_id: String,
    pub scopes: String,
    pub expires_at: Option<u64>,
    pub revoked: bool,
    /// The refresh token paired with it, by digest.
    pub refresh_digest: Option<String>,
}

/// A refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub account: Option<Id>,
    pub app: Id,
    pub client_id: String,
    pub scopes: String,
    /// The access token it was issued with (revoked together).
    pub jti: Id,
}

/// A notification, as stored in `N#{account}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationRecord {
    pub id: Id,
    /// `mention`, `status`, `reblog`, `follow`, `favourite` or `update`.
    pub kind: String,
    /// Who acted.
    pub from: Id,
    /// The status acted on (for a boost: the boosted status).
    pub status: Option<Id>,
    pub created_at: u64,
    /// Held back by the recipient's notification policy: listed only with `include_filtered`,
    /// grouped in a notification request until accepted (then cleared) or dismissed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub filtered: bool,
}

/// The notification an undoable act (follow, favourite, boost) gave its target, and the
/// position of the event that made it: an undo logged after it takes it back, a replayed older
/// undo does not.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ActNotification {
    pub id: Id,
    pub seq: u64,
}

/// What a notification policy does with one category of sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyAction {
    /// Notify as usual.
    Accept,
    /// Keep the notification apart, in a notification request.
    Filter,
    /// Make no notification.
    Drop,
}

impl PolicyAction {
    /// Parses `accept`, `filter` or `drop`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "accept" => Some(PolicyAction::Accept),
            "filter" => Some(PolicyAction::Filter),
            "drop" => Some(PolicyAction::Drop),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyAction::Accept => "accept",
            PolicyAction::Filter => "filter",
            PolicyAction::Drop => "drop",
        }
    }
}

/// An account's notification policy (Mastodon 4.3); absent: [`Default`], Mastodon's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPolicyRecord {
    pub for_not_following: PolicyAction,
    pub for_not_followers: PolicyAction,
    pub for_new_accounts: PolicyAction,
    pub for_private_mentions: PolicyAction,
    /// No account is limited until moderation exists: stored, without effect yet.
    pub for_limited_accounts: PolicyAction,
}

impl Default for NotificationPolicyRecord {
    fn default() -> Self {
        NotificationPolicyRecord {
            for_not_following: PolicyAction::Accept,
            for_not_followers: PolicyAction::Accept,
            for_new_accounts: PolicyAction::Accept,
            for_private_mentions: PolicyAction::Filter,
            for_limited_accounts: PolicyAction::Filter,
        }
    }
}

/// A notification request: the filtered notifications one account sent another, grouped.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct NotificationRequestRecord {
    /// The request's id (its listing's sort key, the cursor).
    pub id: Id,
    /// The sender.
    pub from: Id,
    pub created_at: u64,
    pub updated_at: u64,
    /// The newest status among its notifications.
    pub last_status: Option<Id>,
}

/// A read marker.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MarkerRecord {
    pub last_read_id: Id,
    pub version: u64,
    pub updated_at: u64,
}

/// One stored file of a media attachment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MediaFile {
    /// Key in the media store.
    pub key: String,
    /// MIME type it is served with.
    pub mime: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// A media attachment: processed and stored files plus their description.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MediaRecord {
    pub id: Id,
    /// The uploader, the only one who may see it before it is attached, change or attach it.
    pub account_id: Id,
    /// `image` or `video`.
    pub kind: String,
    pub original: MediaFile,
    pub small: Option<MediaFile>,
    /// Mastodon's `meta` without `focus` (dimensions of `original` and `small`).
    pub meta: serde_json::Value,
    pub blurhash: Option<String>,
    pub description: Option<String>,
    /// Focal point, each coordinate in -1.0..=1.0.
    pub focus: Option<(f64, f64)>,
    pub created_at: u64,
    /// A video or GIF not processed yet (`original` is then the upload, never served) or whose
    /// processing failed; absent once processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<MediaProcessing>,
}

/// The processing state of a video or GIF attachment.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct MediaProcessing {
    /// Becomes a silent looping MP4 (`gifv`), else an H.264/AAC video.
    pub gifv: bool,
    /// Processing failed for good (the upload is unusable, or every attempt failed).
    pub failed: bool,
}

/// A media job (`MX`): the attachment and how many times it was claimed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct MediaJob {
    pub media: Id,
    pub attempt: u32,
}

/// A direct conversation as one of its participants has it (`keys::conversation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRecord {
    /// Its id, derived from the other participants (`conversations::service::conversation_id`).
    pub id: Id,
    /// The other participants, ascending (empty: a note to self).
    pub participants: Vec<Id>,
    /// Its newest status; `None` once its reader removed it (or its last status was deleted).
    pub last_status: Option<Id>,
    /// Whether a status by someone else arrived since the reader last read it.
    pub unread: bool,
    /// The newest status when its reader last removed it: older ones stay out if it comes back.
    #[serde(default)]
    pub removed_through: Option<Id>,
    /// Bumped by every change (`keys::conversation_revision`).
    pub revision: u64,
}

/// A list, under its owner's partition (`keys::list`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListRecord {
    pub id: Id,
    pub title: String,
    pub replies_policy: shared::wire::ListRepliesPolicy,
    pub exclusive: bool,
}

/// An account's membership of a list (`keys::list_member`): the id of its listing entry.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MembershipRecord {
    pub id: Id,
}

/// A list an account is a member of, seen from the member's side (`keys::member_of`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ListOf {
    pub owner: Id,
}

/// One of an account's filters (`FL#{account}`), keywords and statuses included (bounded, so
/// one item holds them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterRecord {
    pub id: Id,
    /// Bumped by every update: part of the item's sort key.
    pub version: u64,
    pub title: String,
    pub context: Vec<shared::wire::FilterContext>,
    pub action: shared::wire::FilterAction,
    /// Milliseconds since the epoch; `None`: never expires.
    pub expires_at: Option<u64>,
    pub keywords: Vec<FilterKeywordRecord>,
    pub statuses: Vec<FilterStatusRecord>,
}

impl FilterRecord {
    /// Whether the filter still applies at `now_ms`.
    pub fn active(&self, now_ms: u64) -> bool {
        self.expires_at.is_none_or(|at| at > now_ms)
    }
}

/// A keyword of a [`FilterRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterKeywordRecord {
    pub id: Id,
    pub keyword: String,
    pub whole_word: bool,
}

/// A status named by a [`FilterRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterStatusRecord {
    pub id: Id,
    pub status: Id,
}
