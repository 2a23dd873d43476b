//! What the server is and allows: the instance entities (v2 and the older v1), server rules,
//! and the discovery documents (OAuth server metadata, NodeInfo).

use serde::{Deserialize, Serialize};

use super::Account;

/// `GET /api/v2/instance`: what the server is and what it allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// The domain in `acct`s.
    pub domain: String,
    /// Name.
    pub title: String,
    /// Version string; clients parse the leading Mastodon version.
    pub version: String,
    /// Where the source code is.
    pub source_url: String,
    /// Short description.
    pub description: String,
    /// Usage statistics.
    pub usage: InstanceUsage,
    /// Banner image.
    pub thumbnail: InstanceThumbnail,
    /// Icons in several sizes (none yet).
    pub icon: Vec<InstanceIcon>,
    /// Primary languages.
    pub languages: Vec<String>,
    /// Limits and URLs.
    pub configuration: InstanceConfiguration,
    /// Sign-up policy.
    pub registrations: InstanceRegistrations,
    /// API capability levels.
    pub api_versions: ApiVersions,
    /// Who runs it.
    pub contact: InstanceContact,
    /// Server rules.
    pub rules: Vec<Rule>,
}

/// Usage statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceUsage {
    /// Users.
    pub users: InstanceUsers,
}

/// User statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceUsers {
    /// Users active in the last month.
    pub active_month: u64,
}

/// Banner image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceThumbnail {
    /// Image URL.
    pub url: String,
    /// BlurHash.
    pub blurhash: Option<String>,
    /// The banner at other pixel densities.
    pub versions: ThumbnailVersions,
}

/// Limits and URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceConfiguration {
    /// URLs, among them the streaming API.
    pub urls: InstanceUrls,
    /// Web Push key.
    pub vapid: Vapid,
    /// Account limits.
    pub accounts: AccountLimits,
    /// Status limits.
    pub statuses: StatusLimits,
    /// Upload limits.
    pub media_attachments: MediaLimits,
    /// Poll limits.
    pub polls: PollLimits,
    /// Translation support.
    pub translation: Translation,
    /// Who may read which feeds.
    pub timelines_access: TimelinesAccess,
    /// Whether federation is limited.
    pub limited_federation: bool,
}

/// Status limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusLimits {
    /// Characters per status.
    pub max_characters: usize,
    /// Attachments per status.
    pub max_media_attachments: usize,
    /// What every URL counts as.
    pub characters_reserved_per_url: usize,
}

/// Sign-up policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRegistrations {
    /// Open for sign-ups.
    pub enabled: bool,
    /// Sign-ups need approval.
    pub approval_required: bool,
    /// A reason must be given.
    pub reason_required: bool,
    /// Custom message.
    pub message: Option<String>,
    /// Minimum age.
    pub min_age: Option<u32>,
    /// External sign-up page.
    pub url: Option<String>,
}

/// API capability levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiVersions {
    /// Mastodon API version number.
    pub mastodon: u32,
}

/// Who runs the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceContact {
    /// Contact e-mail.
    pub email: String,
    /// Contact account.
    pub account: Option<Account>,
}

/// An icon of the instance at one size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceIcon {
    /// Image URL.
    pub src: String,
    /// `WIDTHxHEIGHT`.
    pub size: String,
}

/// The banner at other pixel densities (`@1x`, `@2x`), when there are such versions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThumbnailVersions {
    /// Standard density.
    #[serde(rename = "@1x", default, skip_serializing_if = "Option::is_none")]
    pub x1: Option<String>,
    /// Double density.
    #[serde(rename = "@2x", default, skip_serializing_if = "Option::is_none")]
    pub x2: Option<String>,
}

/// A server rule users agree to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Its id.
    pub id: String,
    /// The rule.
    pub text: String,
    /// Longer explanation.
    pub hint: String,
}

/// `configuration.urls`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceUrls {
    /// Base URL of the streaming API (`wss://…`).
    pub streaming: String,
    /// Status page.
    pub status: Option<String>,
    /// About page.
    pub about: Option<String>,
    /// Privacy policy.
    pub privacy_policy: Option<String>,
    /// Terms of service.
    pub terms_of_service: Option<String>,
}

/// `configuration.vapid`: the key Web Push subscriptions are made against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vapid {
    /// VAPID public key.
    pub public_key: String,
}

/// `configuration.accounts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountLimits {
    /// Featured tags per account.
    pub max_featured_tags: u32,
    /// Pinned statuses per account.
    pub max_pinned_statuses: usize,
    /// Characters of a display name.
    pub max_display_name_length: usize,
    /// Characters of a bio.
    pub max_note_length: usize,
    /// Profile fields.
    pub max_profile_fields: usize,
    /// Characters of a field's name.
    pub profile_field_name_limit: usize,
    /// Characters of a field's value.
    pub profile_field_value_limit: usize,
}

/// `configuration.accounts` in the v1 instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountLimitsV1 {
    /// Featured tags per account.
    pub max_featured_tags: u32,
}

/// `configuration.media_attachments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaLimits {
    /// Accepted MIME types.
    pub supported_mime_types: Vec<String>,
    /// Characters of a description (alt text).
    pub description_limit: usize,
    /// Bytes of an image.
    pub image_size_limit: u64,
    /// Pixels of an image.
    pub image_matrix_limit: u64,
    /// Bytes of a video.
    pub video_size_limit: u64,
    /// Frames per second of a video.
    pub video_frame_rate_limit: u32,
    /// Pixels of a video frame.
    pub video_matrix_limit: u64,
}

/// `configuration.polls`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollLimits {
    /// Options per poll.
    pub max_options: u32,
    /// Characters per option.
    pub max_characters_per_option: u32,
    /// Shortest duration, seconds.
    pub min_expiration: u64,
    /// Longest duration, seconds.
    pub max_expiration: u64,
}

/// `configuration.translation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Translation {
    /// Whether statuses can be translated.
    pub enabled: bool,
}

/// `configuration.timelines_access`: who may read which feeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinesAccess {
    /// The public and local timelines.
    pub live_feeds: FeedAccess,
    /// Tag timelines.
    pub hashtag_feeds: FeedAccess,
    /// Trending-link timelines.
    pub trending_link_feeds: FeedAccess,
}

/// Who may read a kind of feed, for local and remote content: `public`, `authenticated` or
/// `disabled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedAccess {
    /// Local content.
    pub local: String,
    /// Remote content.
    pub remote: String,
}

/// `GET /api/v1/instance`: the older shape, still read by many clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceV1 {
    /// The domain.
    pub uri: String,
    /// Name.
    pub title: String,
    /// Short description.
    pub short_description: String,
    /// Description.
    pub description: String,
    /// Contact e-mail.
    pub email: String,
    /// Version string.
    pub version: String,
    /// URLs.
    pub urls: InstanceUrlsV1,
    /// Counts.
    pub stats: InstanceStats,
    /// Banner image URL.
    pub thumbnail: String,
    /// Primary languages.
    pub languages: Vec<String>,
    /// Open for sign-ups.
    pub registrations: bool,
    /// Sign-ups need approval.
    pub approval_required: bool,
    /// Invitations are enabled.
    pub invites_enabled: bool,
    /// Limits.
    pub configuration: InstanceConfigurationV1,
    /// Contact account.
    pub contact_account: Option<Account>,
    /// Server rules.
    pub rules: Vec<Rule>,
}

/// `urls` of the v1 instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceUrlsV1 {
    /// Base URL of the streaming API.
    pub streaming_api: String,
}

/// `stats` of the v1 instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceStats {
    /// Users.
    pub user_count: u64,
    /// Statuses.
    pub status_count: u64,
    /// Known other domains.
    pub domain_count: u64,
}

/// `configuration` of the v1 instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceConfigurationV1 {
    /// Account limits.
    pub accounts: AccountLimitsV1,
    /// Status limits.
    pub statuses: StatusLimits,
    /// Upload limits.
    pub media_attachments: MediaLimits,
    /// Poll limits.
    pub polls: PollLimits,
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthServerMetadata {
    /// The issuer, the server's base URL with a trailing slash.
    pub issuer: String,
    /// Where the API is documented.
    pub service_documentation: String,
    /// `/oauth/authorize`.
    pub authorization_endpoint: String,
    /// `/oauth/token`.
    pub token_endpoint: String,
    /// `/oauth/revoke`.
    pub revocation_endpoint: String,
    /// `/api/v1/apps`.
    pub app_registration_endpoint: String,
    /// Every scope.
    pub scopes_supported: Vec<String>,
    /// `code`.
    pub response_types_supported: Vec<String>,
    /// How the authorization response is returned.
    pub response_modes_supported: Vec<String>,
    /// PKCE methods.
    pub code_challenge_methods_supported: Vec<String>,
    /// Grant types the token endpoint takes.
    pub grant_types_supported: Vec<String>,
    /// How clients authenticate at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

/// `GET /.well-known/nodeinfo`: where the NodeInfo documents are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfoLinks {
    /// One link per schema version.
    pub links: Vec<NodeInfoLink>,
}

/// A NodeInfo document's schema and address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfoLink {
    /// The schema, e.g. `http://nodeinfo.diaspora.software/ns/schema/2.0`.
    pub rel: String,
    /// Where the document is.
    pub href: String,
}

/// `GET /nodeinfo/2.0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// `2.0`.
    pub version: String,
    /// The server software.
    pub software: NodeInfoSoftware,
    /// Federation protocols.
    pub protocols: Vec<String>,
    /// Third-party services.
    pub services: NodeInfoServices,
    /// Counts.
    pub usage: NodeInfoUsage,
    /// Open for sign-ups.
    pub open_registrations: bool,
    /// Free-form metadata.
    pub metadata: NodeInfoMetadata,
}

/// A piece of software and its version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfoSoftware {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Third-party services the server reads from and writes to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeInfoServices {
    /// Services it publishes to.
    pub outbound: Vec<String>,
    /// Services it reads from.
    pub inbound: Vec<String>,
}

/// NodeInfo counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfoUsage {
    /// User counts.
    pub users: NodeInfoUsers,
    /// Statuses posted here.
    pub local_posts: u64,
}

/// NodeInfo user counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfoUsers {
    /// All users.
    pub total: u64,
    /// Active in the last month.
    pub active_month: u64,
    /// Active in the last six months.
    pub active_halfyear: u64,
}

/// NodeInfo metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfoMetadata {
    /// The instance's name.
    pub node_name: String,
    /// The software whose API this one implements: libraries that detect server software accept
    /// a Mastodon-API implementation by it, as they do Mastodon's forks.
    pub upstream: NodeInfoSoftware,
}
