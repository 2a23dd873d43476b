//! Mastodon client-API entities as they cross the wire (Mastodon 4.x shapes).
//!
//! These are the only types that derive `Serialize` for responses. Domain types convert into
//! them at the boundary; nothing else in Starling depends on their layout.

use serde::{Deserialize, Serialize};

use crate::id::Id;

mod admin;
mod filters;
mod instance;
mod scheduled;
mod starling;

pub use admin::*;
pub use filters::*;
pub use instance::*;
pub use scheduled::*;
pub use starling::*;

/// `{}`: what Mastodon answers where there is nothing to return (dismissing a notification,
/// revoking a token, removing a push subscription).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// `created_at`-style timestamp: RFC 3339 UTC with milliseconds, from milliseconds since the epoch.
pub fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms % 1000)
}

/// Calendar date `YYYY-MM-DD` of a timestamp, as `last_status_at` is sent.
pub fn date(ms: u64) -> String {
    let (year, month, day) = civil_from_days(ms / 1000 / 86_400);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Howard Hinnant's days-to-civil algorithm, for days since 1970-01-01 (non-negative).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Who may see a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Everyone, on public timelines too.
    Public,
    /// Everyone, but kept off public timelines.
    Unlisted,
    /// Followers only.
    Private,
    /// Mentioned accounts only.
    Direct,
}

impl Visibility {
    /// Parses the API spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "public" => Some(Visibility::Public),
            "unlisted" => Some(Visibility::Unlisted),
            "private" => Some(Visibility::Private),
            "direct" => Some(Visibility::Direct),
            _ => None,
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
}

/// A custom emoji (Starling defines none yet, but the field is always present).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomEmoji {
    /// Name between colons.
    pub shortcode: String,
    /// Image URL.
    pub url: String,
    /// Non-animated image URL.
    pub static_url: String,
    /// Whether pickers show it.
    pub visible_in_picker: bool,
    /// Grouping in pickers.
    #[serde(default)]
    pub category: Option<String>,
}

/// A profile metadata field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Key.
    pub name: String,
    /// Value, as HTML.
    pub value: String,
    /// When the value was verified as a link back, if ever.
    #[serde(default)]
    pub verified_at: Option<String>,
}

/// The editable source of the signed-in account's profile (in `CredentialAccount`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSource {
    /// Default visibility of new posts.
    pub privacy: Visibility,
    /// Mark media sensitive by default.
    pub sensitive: bool,
    /// Default language (ISO 639-1), if any.
    pub language: Option<String>,
    /// Bio as plain text.
    pub note: String,
    /// Profile fields as plain text.
    pub fields: Vec<Field>,
    /// Pending follow requests.
    pub follow_requests_count: u64,
    /// Whether follower/following lists are hidden.
    pub hide_collections: bool,
    /// Whether the account appears in the directory.
    pub discoverable: bool,
    /// Whether public posts may be indexed for search.
    pub indexable: bool,
    /// Who may quote new posts by default.
    pub quote_policy: QuotePolicy,
}

/// The account's role (for `CredentialAccount`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// Role id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Permission bit set, as a string.
    pub permissions: String,
    /// Hex colour.
    pub color: String,
    /// Whether it shows on the profile.
    pub highlighted: bool,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Account id.
    pub id: Id,
    /// Local username.
    pub username: String,
    /// `username` for local accounts, `username@domain` for remote ones.
    pub acct: String,
    /// Profile display name.
    pub display_name: String,
    /// Whether follows need approval.
    pub locked: bool,
    /// Whether the account is automated.
    pub bot: bool,
    /// Whether the account appears in the directory.
    pub discoverable: bool,
    /// Whether public posts may be indexed.
    pub indexable: bool,
    /// Whether the account is a group.
    pub group: bool,
    /// Creation date (midnight UTC, as Mastodon rounds it).
    pub created_at: String,
    /// Bio, as HTML.
    pub note: String,
    /// Profile page.
    pub url: String,
    /// ActivityPub id.
    pub uri: String,
    /// Avatar image.
    pub avatar: String,
    /// Avatar, not animated.
    pub avatar_static: String,
    /// Header image.
    pub header: String,
    /// Header, not animated.
    pub header_static: String,
    /// Followers.
    pub followers_count: u64,
    /// Followed accounts.
    pub following_count: u64,
    /// Posts.
    pub statuses_count: u64,
    /// Date of the last post.
    pub last_status_at: Option<String>,
    /// Whether follower/following lists are hidden.
    pub hide_collections: bool,
    /// Whether search engines should skip the profile.
    pub noindex: bool,
    /// Emojis used in the profile.
    pub emojis: Vec<CustomEmoji>,
    /// Profile fields.
    pub fields: Vec<Field>,
    /// Roles shown on the profile.
    pub roles: Vec<Role>,
    /// Editable source, only for the signed-in account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<AccountSource>,
    /// Role, only for the signed-in account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// An account as `GET /api/v1/mutes` lists it: with when its mute ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutedAccount {
    /// The account.
    #[serde(flatten)]
    pub account: Account,
    /// When the mute lifts by itself; `null`: never.
    pub mute_expires_at: Option<String>,
}

/// A mention within a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusMention {
    /// Mentioned account id.
    pub id: Id,
    /// Its username.
    pub username: String,
    /// Its profile URL.
    pub url: String,
    /// Its acct.
    pub acct: String,
}

/// A hashtag as it appears within a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusTag {
    /// Tag name, without `#`.
    pub name: String,
    /// Tag timeline page.
    pub url: String,
}

/// Usage of a tag on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagHistory {
    /// Day, as a UNIX timestamp string.
    pub day: String,
    /// Posts that day.
    pub uses: String,
    /// Distinct accounts that day.
    pub accounts: String,
}

/// A hashtag entity (search results, `/api/v1/tags/:name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// Tag id.
    pub id: String,
    /// Name, without `#`.
    pub name: String,
    /// Tag timeline page.
    pub url: String,
    /// Recent daily usage.
    pub history: Vec<TagHistory>,
    /// Whether the viewer follows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<bool>,
    /// Whether the viewer features it on their profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featuring: Option<bool>,
}

/// A hashtag featured on a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturedTag {
    /// The featured tag's id.
    pub id: String,
    /// The hashtag, without `#`.
    pub name: String,
    /// The account's statuses with this hashtag.
    pub url: String,
    /// How many of the account's public statuses carry it (a string, as Mastodon sends it).
    pub statuses_count: String,
    /// The day of the newest of them (`YYYY-MM-DD`).
    pub last_status_at: Option<String>,
}

/// Results of `GET /api/v2/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// Matching accounts.
    pub accounts: Vec<Account>,
    /// Matching statuses.
    pub statuses: Vec<Status>,
    /// Matching hashtags.
    pub hashtags: Vec<Tag>,
}

/// An attached file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaAttachment {
    /// Attachment id.
    pub id: Id,
    /// `image`, `gifv`, `video`, `audio` or `unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Original file.
    pub url: Option<String>,
    /// Small preview.
    pub preview_url: Option<String>,
    /// Remote original, for remote media.
    pub remote_url: Option<String>,
    /// Dimensions, focus and so on.
    pub meta: serde_json::Value,
    /// Alt text.
    pub description: Option<String>,
    /// BlurHash of the image.
    pub blurhash: Option<String>,
}

/// The application that posted a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusApplication {
    /// App name.
    pub name: String,
    /// App homepage.
    pub website: Option<String>,
}

/// A post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Status id.
    pub id: Id,
    /// ActivityPub id.
    pub uri: String,
    /// HTML page.
    pub url: Option<String>,
    /// When posted.
    pub created_at: String,
    /// Author.
    pub account: Account,
    /// Body, as safe HTML.
    pub content: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// Whether media are hidden by default.
    pub sensitive: bool,
    /// Content warning.
    pub spoiler_text: String,
    /// Attachments.
    pub media_attachments: Vec<MediaAttachment>,
    /// Posting application, when known.
    pub application: Option<StatusApplication>,
    /// Mentions.
    pub mentions: Vec<StatusMention>,
    /// Hashtags.
    pub tags: Vec<StatusTag>,
    /// Custom emojis.
    pub emojis: Vec<CustomEmoji>,
    /// Boosts.
    pub reblogs_count: u64,
    /// Favourites.
    pub favourites_count: u64,
    /// Replies.
    pub replies_count: u64,
    /// Quotes.
    pub quotes_count: u64,
    /// Parent status.
    pub in_reply_to_id: Option<Id>,
    /// Parent's author.
    pub in_reply_to_account_id: Option<Id>,
    /// The boosted status, for a boost.
    pub reblog: Option<Box<Status>>,
    /// Attached poll.
    pub poll: Option<Poll>,
    /// Link preview card (not generated yet: always null).
    pub card: Option<serde_json::Value>,
    /// ISO 639 language.
    pub language: Option<String>,
    /// Plain-text source, only when deleting (for delete-and-redraft).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When last edited.
    pub edited_at: Option<String>,
    /// Viewer has favourited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favourited: Option<bool>,
    /// Viewer has boosted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reblogged: Option<bool>,
    /// Viewer muted the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    /// Viewer bookmarked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmarked: Option<bool>,
    /// Pinned by the author (only when the viewer is the author).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// The reader's filters that matched (signed-in readers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtered: Option<Vec<FilterResult>>,
    /// The quoted status, as this reader may see it (Mastodon's `Quote`; `ShallowQuote` inside
    /// a quoted status); null when the status quotes nothing.
    pub quote: Option<StatusQuote>,
    /// Who may quote the status, and whether this reader may.
    pub quote_approval: Option<QuoteApproval>,
}

/// A status's quote: Mastodon's `Quote` (`state` + `quoted_status`) on a status, its
/// `ShallowQuote` (`state` + `quoted_status_id`) on a status shown inside a quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusQuote {
    /// Whether the quote stands and this reader may see what it quotes.
    pub state: QuoteState,
    /// `Quote`: the quoted status rendered for this reader, null unless `accepted`.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub quoted_status: Option<Option<Box<Status>>>,
    /// `ShallowQuote`: the quoted status's id, null unless `accepted`.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub quoted_status_id: Option<Option<Id>>,
}

/// A field that may be absent (`None`) or present and null (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Mastodon's `QuoteStateEnum` (the states Starling produces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuoteState {
    /// The quote stands and the reader may see the quoted status.
    #[serde(rename = "accepted")]
    Accepted,
    /// The quoted status's author revoked the quote.
    #[serde(rename = "revoked")]
    Revoked,
    /// The quoted status was deleted.
    #[serde(rename = "deleted")]
    Deleted,
    /// The reader may not see the quoted status.
    #[serde(rename = "unauthorized")]
    Unauthorized,
    /// The reader blocks the quoted status's author.
    #[serde(rename = "blocked_account")]
    BlockedAccount,
}

/// Who may quote a status (`quote_approval_policy`, `source.quote_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotePolicy {
    /// Anyone who may see it.
    Public,
    /// The author's followers.
    Followers,
    /// Nobody but the author.
    Nobody,
}

/// Mastodon's `QuoteApproval`: a status's quote policy and what it means for this reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteApproval {
    /// Who may quote it and have the quote accepted at once.
    pub automatic: Vec<QuoteAudience>,
    /// Whose quotes the author reviews (Starling reviews none: always empty).
    pub manual: Vec<QuoteAudience>,
    /// What the policy means for this reader.
    pub current_user: QuoteApprovalCurrentUser,
}

/// Mastodon's `QuoteApprovalAutomaticEnum` (the audiences Starling's policies name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteAudience {
    /// Anyone.
    Public,
    /// The author's followers.
    Followers,
}

/// Mastodon's `QuoteApprovalCurrentUserEnum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteApprovalCurrentUser {
    /// The reader's quote would be accepted at once.
    Automatic,
    /// The reader's quote would wait for the author's review.
    Manual,
    /// The reader may not quote it.
    Denied,
    /// Not known (an anonymous reader).
    Unknown,
}

/// A poll attached to a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Poll {
    /// The poll's id (Starling: its status's).
    pub id: Id,
    /// When voting ends.
    pub expires_at: Option<String>,
    /// Whether voting has ended.
    pub expired: bool,
    /// Whether several options may be chosen.
    pub multiple: bool,
    /// Votes cast (one per option chosen).
    pub votes_count: u64,
    /// Accounts that voted.
    pub voters_count: Option<u64>,
    /// The options, in order.
    pub options: Vec<PollOption>,
    /// Custom emojis.
    pub emojis: Vec<CustomEmoji>,
    /// Whether the viewer voted (or wrote the poll); only for a signed-in viewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voted: Option<bool>,
    /// The indexes the viewer chose; only for a signed-in viewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_votes: Option<Vec<usize>>,
}

/// One option of a [`Poll`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollOption {
    /// Its text.
    pub title: String,
    /// Votes for it; `null` while totals are hidden.
    pub votes_count: Option<u64>,
}

/// One revision of a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusEdit {
    /// Body, as HTML.
    pub content: String,
    /// Content warning.
    pub spoiler_text: String,
    /// Sensitive flag.
    pub sensitive: bool,
    /// When this revision was made.
    pub created_at: String,
    /// Author.
    pub account: Account,
    /// Poll at that revision.
    pub poll: Option<serde_json::Value>,
    /// Attachments at that revision.
    pub media_attachments: Vec<MediaAttachment>,
    /// Emojis.
    pub emojis: Vec<CustomEmoji>,
}

/// A status's plain-text source, for editing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusSource {
    /// Status id.
    pub id: Id,
    /// Text as written.
    pub text: String,
    /// Content warning as written.
    pub spoiler_text: String,
}

/// The thread around a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// Parents, oldest first.
    pub ancestors: Vec<Status>,
    /// Replies, depth-first in posting order.
    pub descendants: Vec<Status>,
}

/// The viewer's relationship to an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relationship {
    /// The other account.
    pub id: Id,
    /// Viewer follows it.
    pub following: bool,
    /// Viewer sees its boosts.
    pub showing_reblogs: bool,
    /// Viewer is notified of its posts.
    pub notifying: bool,
    /// Languages the viewer follows it in.
    pub languages: Option<Vec<String>>,
    /// It follows the viewer.
    pub followed_by: bool,
    /// Viewer blocks it.
    pub blocking: bool,
    /// It blocks the viewer.
    pub blocked_by: bool,
    /// Viewer mutes it.
    pub muting: bool,
    /// Viewer mutes its notifications.
    pub muting_notifications: bool,
    /// Viewer's follow request is pending.
    pub requested: bool,
    /// Its follow request to the viewer is pending.
    pub requested_by: bool,
    /// Viewer blocks its domain.
    pub domain_blocking: bool,
    /// Viewer features it.
    pub endorsed: bool,
    /// Viewer's private note.
    pub note: String,
}

/// An OAuth application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// App id.
    pub id: Id,
    /// Name.
    pub name: String,
    /// Homepage.
    pub website: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Redirect URIs, newline-joined (legacy field).
    pub redirect_uri: String,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Web Push key.
    pub vapid_key: String,
    /// Client id (only when creating the app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Client secret (only when creating the app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// When the secret expires (0: never; only when creating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<u64>,
}

/// An OAuth token response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// The bearer token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Issue time, UNIX seconds.
    pub created_at: u64,
    /// Seconds until the access token expires, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// Token to obtain a new access token with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The error envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Error {
    /// Human-readable message (OAuth endpoints: the error code).
    pub error: String,
    /// Longer explanation (OAuth endpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// The signed-in user's preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preferences {
    /// Default visibility.
    #[serde(rename = "posting:default:visibility")]
    pub default_visibility: Visibility,
    /// Default sensitivity.
    #[serde(rename = "posting:default:sensitive")]
    pub default_sensitive: bool,
    /// Default language.
    #[serde(rename = "posting:default:language")]
    pub default_language: Option<String>,
    /// `default`, `show_all` or `hide_all`.
    #[serde(rename = "reading:expand:media")]
    pub expand_media: String,
    /// Expand content warnings.
    #[serde(rename = "reading:expand:spoilers")]
    pub expand_spoilers: bool,
}

/// Something that happened to the user: a mention, boost, favourite, follow, post or edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Notification id (the pagination cursor).
    pub id: Id,
    /// `mention`, `status`, `reblog`, `follow`, `favourite` or `update`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened.
    pub created_at: String,
    /// `ungrouped-{id}`: Starling does not group notifications.
    pub group_key: String,
    /// Who acted.
    pub account: Account,
    /// The status acted on (mention, status, reblog, favourite, update).
    pub status: Option<Status>,
}

/// `GET /api/v1/notifications/unread_count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnreadCount {
    /// Unread notifications, capped at the request's limit.
    pub count: u64,
}

/// `GET/PATCH /api/v2/notifications/policy`: what happens to notifications from each kind of
/// sender (`accept`, `filter` or `drop`), and what is waiting in notification requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationPolicy {
    /// Accounts the user does not follow.
    pub for_not_following: String,
    /// Accounts not following the user (or following for less than three days).
    pub for_not_followers: String,
    /// Accounts created in the past 30 days.
    pub for_new_accounts: String,
    /// Direct mentions the user did not start, from accounts the user does not follow.
    pub for_private_mentions: String,
    /// Accounts limited by a moderator (stored; no account is limited until moderation exists).
    pub for_limited_accounts: String,
    /// What the policy's filter holds back.
    pub summary: NotificationPolicySummary,
}

/// The `summary` of a [`NotificationPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationPolicySummary {
    /// Accounts with pending filtered notifications (capped at 100).
    pub pending_requests_count: u64,
    /// Filtered notifications pending in those requests.
    pub pending_notifications_count: u64,
}

/// The filtered notifications from one account, waiting to be accepted or dismissed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationRequest {
    /// The request's id (the pagination cursor).
    pub id: Id,
    /// When the first filtered notification from the account came.
    pub created_at: String,
    /// When the latest one came.
    pub updated_at: String,
    /// Who sent them.
    pub account: Account,
    /// How many were filtered (a string, as Mastodon sends it).
    pub notifications_count: String,
    /// The most recent status among them.
    pub last_status: Option<Status>,
}

/// `GET /api/v1/notifications/requests/merged`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    /// Whether accepted requests' notifications are back in the list (always: Starling merges
    /// them before answering the accept).
    pub merged: bool,
}

/// One message of the streaming API: `event` names it, `payload` is the entity as a JSON
/// string (or a bare id for `delete`), `stream` names the subscription on WebSockets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamEvent {
    /// The subscriptions this message belongs to (WebSocket only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stream: Vec<String>,
    /// `update`, `notification`, `delete` or `status.update`.
    pub event: String,
    /// The entity, serialised.
    pub payload: String,
}

/// A direct conversation as one participant sees it (`GET /api/v1/conversations`): the other
/// participants, the newest status, whether it is unread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// The conversation's id (the reader's own: each participant's differs).
    pub id: Id,
    /// Whether a status arrived since the reader last read it.
    pub unread: bool,
    /// The other participants (the reader alone in a note to self).
    pub accounts: Vec<Account>,
    /// The newest status the reader may see.
    pub last_status: Option<Status>,
}

/// A list of accounts its owner follows, read as a timeline of its own (`GET /api/v1/lists`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List {
    /// The list's id.
    pub id: Id,
    /// The owner's name for it.
    pub title: String,
    /// Which replies its timeline shows.
    pub replies_policy: ListRepliesPolicy,
    /// Whether its members' posts stay out of the owner's home timeline.
    pub exclusive: bool,
}

/// Which replies a list's timeline shows (replies by a member to itself always show).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListRepliesPolicy {
    /// Replies to any account the owner follows.
    Followed,
    /// Replies to the list's members.
    #[default]
    List,
    /// No replies to others.
    None,
}

impl ListRepliesPolicy {
    /// Parses the API spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "followed" => Some(Self::Followed),
            "list" => Some(Self::List),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// Where the user stopped reading a timeline (`home` or `notifications`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// The newest id read.
    pub last_read_id: Id,
    /// Bumped on every change.
    pub version: u64,
    /// When it last changed.
    pub updated_at: String,
}

/// `GET /ready` (Starling's operational endpoint): whether every configured backend answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Readiness {
    /// `ready` when every backend answered, `unavailable` otherwise (served with 503).
    pub status: String,
    /// One entry per backend port, in a fixed order.
    pub backends: Vec<BackendState>,
}

/// One backend's answer to a readiness ping; the failure cause is logged, never sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendState {
    /// The port: `store`, `events`, `timelines`, `rate_limits`, `search` or `media`.
    pub name: String,
    /// Whether it answered within the ping timeout.
    pub up: bool,
    /// How long the ping took, in milliseconds.
    pub latency_ms: f64,
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(date(1_709_251_199_999), "2024-02-29");
    }

    #[test]
    fn visibility_round_trips_its_api_spelling() {
        for v in ["public", "unlisted", "private", "direct"] {
            assert_eq!(Visibility::parse(v).unwrap().as_str(), v);
        }
        assert_eq!(Visibility::parse("everyone"), None);
    }

    #[test]
    fn preferences_use_mastodons_colon_keys() {
        let p = Preferences {
            default_visibility: Visibility::Public,
            default_sensitive: false,
            default_language: None,
            expand_media: "default".into(),
            expand_spoilers: false,
        };
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["posting:default:visibility"], "public");
    }
}

/// Which notification types a Web Push subscription delivers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebPushAlerts {
    /// Someone mentioned you.
    pub mention: bool,
    /// An account you subscribed to posted.
    pub status: bool,
    /// Your status was boosted.
    pub reblog: bool,
    /// Someone followed you.
    pub follow: bool,
    /// Someone requested to follow you.
    pub follow_request: bool,
    /// Your status was favourited.
    pub favourite: bool,
    /// A poll ended.
    pub poll: bool,
    /// A status you interacted with was edited.
    pub update: bool,
    /// A user signed up (admins).
    #[serde(rename = "admin.sign_up")]
    pub admin_sign_up: bool,
    /// A report was filed (admins).
    #[serde(rename = "admin.report")]
    pub admin_report: bool,
}

/// A Web Push subscription of one access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebPushSubscription {
    /// Its id.
    pub id: String,
    /// Where push messages go.
    pub endpoint: String,
    /// Whether messages follow the standardised Web Push (RFC 8030/8291/8292).
    pub standard: Option<bool>,
    /// What is delivered.
    pub alerts: WebPushAlerts,
    /// The push sender's VAPID public key.
    pub server_key: String,
    /// From whom: `all`, `followed`, `follower` or `none`.
    pub policy: String,
}

/// `POST /api/v1/reports`: a report as its reporter sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Its id.
    pub id: String,
    /// Whether a moderator acted on it (the reporter is not told: always false here).
    pub action_taken: bool,
    /// When a moderator acted.
    pub action_taken_at: Option<String>,
    /// `spam`, `legal`, `violation` or `other`.
    pub category: String,
    /// The reporter's comment.
    pub comment: String,
    /// Whether it was forwarded to the account's server (all accounts are local: no).
    pub forwarded: bool,
    /// When it was filed.
    pub created_at: String,
    /// The reported statuses.
    pub status_ids: Option<Vec<String>>,
    /// The rules broken (`violation`).
    pub rule_ids: Option<Vec<String>>,
    /// The reported account.
    pub target_account: Account,
}
