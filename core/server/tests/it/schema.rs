//! Required fields of Mastodon entities, as listed by the `required` arrays (nested objects
//! included, as dotted paths) of the schemas in `shared/mastodon-openapi.json`. Kept here so
//! the suite stays hermetic; regenerate from the spec when it changes.

/// `Account`.
pub const ACCOUNT: &[&str] = &[
    "acct",
    "avatar",
    "avatar_static",
    "bot",
    "created_at",
    "display_name",
    "emojis",
    "fields",
    "followers_count",
    "following_count",
    "group",
    "header",
    "header_static",
    "id",
    "indexable",
    "locked",
    "note",
    "statuses_count",
    "uri",
    "username",
];

/// `CredentialAccount`.
pub const CREDENTIAL_ACCOUNT: &[&str] = &[
    "acct",
    "avatar",
    "avatar_static",
    "bot",
    "created_at",
    "display_name",
    "emojis",
    "fields",
    "followers_count",
    "following_count",
    "group",
    "header",
    "header_static",
    "id",
    "indexable",
    "locked",
    "note",
    "role",
    "source",
    "source.fields",
    "source.follow_requests_count",
    "source.indexable",
    "source.note",
    "source.privacy",
    "source.sensitive",
    "statuses_count",
    "uri",
    "username",
];

/// `Status`.
pub const STATUS: &[&str] = &[
    "account",
    "content",
    "created_at",
    "emojis",
    "favourites_count",
    "id",
    "media_attachments",
    "mentions",
    "reblogs_count",
    "replies_count",
    "sensitive",
    "spoiler_text",
    "tags",
    "uri",
    "visibility",
];

/// `StatusEdit`.
pub const STATUS_EDIT: &[&str] = &["account", "content", "created_at", "emojis", "media_attachments", "sensitive", "spoiler_text"];

/// `StatusSource`.
pub const STATUS_SOURCE: &[&str] = &["id", "spoiler_text", "text"];

/// `Context`.
pub const CONTEXT: &[&str] = &["ancestors", "descendants"];

/// `Relationship`.
pub const RELATIONSHIP: &[&str] = &[
    "blocked_by",
    "blocking",
    "domain_blocking",
    "endorsed",
    "followed_by",
    "following",
    "id",
    "muting",
    "muting_notifications",
    "note",
    "notifying",
    "requested",
    "requested_by",
    "showing_reblogs",
];

/// `Token`.
pub const TOKEN: &[&str] = &["access_token", "created_at", "scope", "token_type"];

/// `Application`.
pub const APPLICATION: &[&str] = &["id", "name", "redirect_uri", "redirect_uris", "scopes", "vapid_key"];

/// `CredentialApplication`.
pub const CREDENTIAL_APPLICATION: &[&str] = &["client_id", "client_secret", "id", "name", "redirect_uri", "redirect_uris", "scopes", "vapid_key"];

/// `Instance`.
pub const INSTANCE: &[&str] = &[
    "api_versions",
    "api_versions.mastodon",
    "configuration",
    "configuration.accounts",
    "configuration.accounts.max_featured_tags",
    "configuration.accounts.max_pinned_statuses",
    "configuration.media_attachments",
    "configuration.media_attachments.image_matrix_limit",
    "configuration.media_attachments.image_size_limit",
    "configuration.media_attachments.supported_mime_types",
    "configuration.media_attachments.video_frame_rate_limit",
    "configuration.media_attachments.video_matrix_limit",
    "configuration.media_attachments.video_size_limit",
    "configuration.polls",
    "configuration.polls.max_characters_per_option",
    "configuration.polls.max_expiration",
    "configuration.polls.max_options",
    "configuration.polls.min_expiration",
    "configuration.statuses",
    "configuration.statuses.characters_reserved_per_url",
    "configuration.statuses.max_characters",
    "configuration.statuses.max_media_attachments",
    "configuration.translation",
    "configuration.translation.enabled",
    "configuration.urls",
    "contact",
    "contact.email",
    "description",
    "domain",
    "icon",
    "languages",
    "registrations",
    "registrations.approval_required",
    "registrations.enabled",
    "rules",
    "source_url",
    "thumbnail",
    "thumbnail.url",
    "title",
    "usage",
    "usage.users",
    "usage.users.active_month",
    "version",
];

/// `V1Instance`.
pub const V1_INSTANCE: &[&str] = &[
    "approval_required",
    "configuration",
    "configuration.accounts",
    "configuration.accounts.max_featured_tags",
    "configuration.media_attachments",
    "configuration.media_attachments.image_matrix_limit",
    "configuration.media_attachments.image_size_limit",
    "configuration.media_attachments.supported_mime_types",
    "configuration.media_attachments.video_frame_rate_limit",
    "configuration.media_attachments.video_matrix_limit",
    "configuration.media_attachments.video_size_limit",
    "configuration.polls",
    "configuration.polls.max_characters_per_option",
    "configuration.polls.max_expiration",
    "configuration.polls.max_options",
    "configuration.polls.min_expiration",
    "configuration.statuses",
    "configuration.statuses.characters_reserved_per_url",
    "configuration.statuses.max_characters",
    "configuration.statuses.max_media_attachments",
    "description",
    "email",
    "invites_enabled",
    "languages",
    "registrations",
    "rules",
    "short_description",
    "stats",
    "stats.domain_count",
    "stats.status_count",
    "stats.user_count",
    "title",
    "uri",
    "urls",
    "urls.streaming_api",
    "version",
];

/// `Preferences`.
pub const PREFERENCES: &[&str] = &["posting:default:sensitive", "posting:default:visibility", "reading:expand:media", "reading:expand:spoilers"];

/// `Error`.
pub const ERROR: &[&str] = &["error"];

/// `NotificationPolicy`.
pub const NOTIFICATION_POLICY: &[&str] = &[
    "for_limited_accounts",
    "for_new_accounts",
    "for_not_followers",
    "for_not_following",
    "for_private_mentions",
    "summary",
    "summary.pending_notifications_count",
    "summary.pending_requests_count",
];

/// `NotificationRequest`.
pub const NOTIFICATION_REQUEST: &[&str] = &["account", "created_at", "id", "notifications_count", "updated_at"];

/// `ScheduledStatus`.
pub const SCHEDULED_STATUS: &[&str] =
    &["id", "media_attachments", "params", "params.application_id", "params.text", "params.visibility", "params.with_rate_limit", "scheduled_at"];
