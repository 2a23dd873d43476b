//! The HTTP endpoints: thin handlers that extract, call the service, and render.

use axum::Json;
use axum::extract::State;
use shared::wire;

use crate::App;
use crate::auth::{Auth, Scope};
use crate::config::Registrations;
use crate::error::ApiResult;

/// The Mastodon version Starling's API corresponds to. Clients switch features on from it, so it
/// must not name a release whose new endpoints Starling lacks: 4.3 added grouped notifications
/// (`/api/v2/notifications`) and the notification policy, which are not here yet, so it says 4.2.
pub const MASTODON_COMPAT_VERSION: &str = "4.2.0";

/// `api_versions.mastodon`: Mastodon 4.3 introduced the field at 2 (grouped notifications and the
/// rest of 4.3's API); 1 tells clients that gate on it to use the 4.2 API. Quote posts (4.5's
/// `quoted_status_id`, `quote`, `/statuses/:id/quotes`, revoke, `interaction_policy`) are served,
/// but 4.5 advertises them as 7, which would also promise grouped notifications and the rest of
/// 4.3–4.5: clients find quotes through `quote_approval` on statuses instead.
pub const MASTODON_API_VERSION: u32 = 1;

pub(crate) fn version() -> String {
    format!("{MASTODON_COMPAT_VERSION} (compatible; Starling {})", env!("CARGO_PKG_VERSION"))
}

/// `configuration.media_attachments`, from the configured limits.
fn media_limits(app: &App) -> wire::MediaLimits {
    let m = &app.config.media;
    wire::MediaLimits {
        supported_mime_types: crate::media::pipeline::SUPPORTED_MIME_TYPES.iter().map(|&t| t.to_owned()).collect(),
        description_limit: m.description_limit,
        image_size_limit: m.image_size_limit,
        image_matrix_limit: m.image_matrix_limit,
        video_size_limit: m.video_size_limit,
        video_frame_rate_limit: 120,
        video_matrix_limit: 8_294_400,
    }
}

/// `configuration.polls`: the configured limits (`[polls]`).
fn poll_limits(app: &App) -> wire::PollLimits {
    let p = &app.config.polls;
    wire::PollLimits {
        max_options: p.max_options as u32,
        max_characters_per_option: p.max_characters_per_option as u32,
        min_expiration: p.min_expiration,
        max_expiration: p.max_expiration,
    }
}

fn status_limits(app: &App) -> wire::StatusLimits {
    let l = &app.config.limits;
    wire::StatusLimits {
        max_characters: l.max_status_chars,
        max_media_attachments: l.max_media_attachments,
        characters_reserved_per_url: shared::text::URL_PLACEHOLDER_LENGTH,
    }
}

fn thumbnail_url(app: &App) -> String {
    format!("{}/avatars/original/missing.png", app.config.instance.base_url)
}

pub(crate) async fn status_count(app: &App) -> ApiResult<u64> {
    Ok(app.instance_counts().await?.1)
}

pub(crate) async fn user_count(app: &App) -> ApiResult<u64> {
    Ok(app.instance_counts().await?.0)
}

/// `GET /api/v2/instance`.
pub async fn v2(State(app): State<App>) -> ApiResult<Json<wire::Instance>> {
    let i = &app.config.instance;
    let l = &app.config.limits;
    let public = || wire::FeedAccess { local: "public".into(), remote: "public".into() };
    Ok(Json(wire::Instance {
        domain: i.domain.clone(),
        title: i.title.clone(),
        version: version(),
        source_url: "https://example.invalid/starling".into(),
        description: i.description.clone(),
        usage: wire::InstanceUsage { users: wire::InstanceUsers { active_month: user_count(&app).await? } },
        thumbnail: wire::InstanceThumbnail { url: thumbnail_url(&app), blurhash: None, versions: wire::ThumbnailVersions::default() },
        icon: Vec::new(),
        languages: vec!["en".into()],
        configuration: wire::InstanceConfiguration {
            urls: wire::InstanceUrls {
                streaming: i.streaming_base(),
                status: None,
                about: Some(format!("{}/about", i.base_url)),
                privacy_policy: None,
                terms_of_service: None,
            },
            vapid: wire::Vapid { public_key: String::new() },
            accounts: wire::AccountLimits {
                max_featured_tags: 10,
                max_pinned_statuses: crate::statuses::service::MAX_PINNED,
                max_display_name_length: shared::handle::MAX_DISPLAY_NAME_LEN,
                max_note_length: l.max_note_chars,
                max_profile_fields: l.max_profile_fields,
                profile_field_name_limit: 255,
                profile_field_value_limit: 255,
            },
            statuses: status_limits(&app),
            media_attachments: media_limits(&app),
            polls: poll_limits(&app),
            translation: wire::Translation { enabled: false },
            timelines_access: wire::TimelinesAccess { live_feeds: public(), hashtag_feeds: public(), trending_link_feeds: public() },
            limited_federation: false,
        },
        registrations: wire::InstanceRegistrations {
            enabled: i.registrations != Registrations::Closed,
            approval_required: i.registrations == Registrations::Approval,
            reason_required: false,
            message: None,
            min_age: None,
            url: None,
        },
        api_versions: wire::ApiVersions { mastodon: MASTODON_API_VERSION },
        contact: wire::InstanceContact { email: i.contact_email.clone(), account: None },
        rules: i.rules(),
    }))
}

/// `GET /api/v1/instance` (the older shape, still read by many clients).
pub async fn v1(State(app): State<App>) -> ApiResult<Json<wire::InstanceV1>> {
    let i = &app.config.instance;
    Ok(Json(wire::InstanceV1 {
        uri: i.domain.clone(),
        title: i.title.clone(),
        short_description: i.description.clone(),
        description: i.description.clone(),
        email: i.contact_email.clone(),
        version: version(),
        urls: wire::InstanceUrlsV1 { streaming_api: i.streaming_base() },
        stats: wire::InstanceStats { user_count: user_count(&app).await?, status_count: status_count(&app).await?, domain_count: 0 },
        thumbnail: thumbnail_url(&app),
        languages: vec!["en".into()],
        registrations: i.registrations != Registrations::Closed,
        approval_required: i.registrations == Registrations::Approval,
        invites_enabled: false,
        configuration: wire::InstanceConfigurationV1 {
            accounts: wire::AccountLimitsV1 { max_featured_tags: 10 },
            statuses: status_limits(&app),
            media_attachments: media_limits(&app),
            polls: poll_limits(&app),
        },
        contact_account: None,
        rules: i.rules(),
    }))
}

/// `GET /api/v1/instance/rules`.
pub async fn rules(State(app): State<App>) -> Json<Vec<wire::Rule>> {
    Json(app.config.instance.rules())
}

/// `GET /api/v1/custom_emojis`: none are defined.
pub async fn custom_emojis() -> Json<Vec<wire::CustomEmoji>> {
    Json(Vec::new())
}

/// `GET /api/v1/preferences`.
pub async fn preferences(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::Preferences>> {
    let me = auth.user(Scope::ReadAccounts)?;
    let r = app.account_record(me).await?;
    Ok(Json(wire::Preferences {
        default_visibility: r.default_visibility,
        default_sensitive: r.default_sensitive,
        default_language: r.default_language,
        expand_media: "default".into(),
        expand_spoilers: false,
    }))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
pub async fn oauth_metadata(State(app): State<App>) -> Json<wire::OAuthServerMetadata> {
    let base = &app.config.instance.base_url;
    let strings = |items: &[&str]| items.iter().map(|&s| s.to_owned()).collect();
    Json(wire::OAuthServerMetadata {
        issuer: format!("{base}/"),
        service_documentation: "https://docs.joinmastodon.org/".into(),
        authorization_endpoint: format!("{base}/oauth/authorize"),
        token_endpoint: format!("{base}/oauth/token"),
        revocation_endpoint: format!("{base}/oauth/revoke"),
        app_registration_endpoint: format!("{base}/api/v1/apps"),
        scopes_supported: strings(shared::token::KNOWN_SCOPES),
        response_types_supported: strings(&["code"]),
        response_modes_supported: strings(&["query", "fragment", "form_post"]),
        code_challenge_methods_supported: strings(&["S256"]),
        grant_types_supported: strings(&["authorization_code", "password", "client_credentials", "refresh_token"]),
        token_endpoint_auth_methods_supported: strings(&["client_secret_basic", "client_secret_post"]),
    })
}

/// `GET /.well-known/nodeinfo`.
pub async fn nodeinfo_links(State(app): State<App>) -> Json<wire::NodeInfoLinks> {
    Json(wire::NodeInfoLinks {
        links: vec![wire::NodeInfoLink {
            rel: "http://nodeinfo.diaspora.software/ns/schema/2.0".into(),
            href: format!("{}/nodeinfo/2.0", app.config.instance.base_url),
        }],
    })
}

/// `GET /nodeinfo/2.0`.
pub async fn nodeinfo(State(app): State<App>) -> ApiResult<Json<wire::NodeInfo>> {
    let users = user_count(&app).await?;
    Ok(Json(wire::NodeInfo {
        version: "2.0".into(),
        software: wire::NodeInfoSoftware { name: "starling".into(), version: env!("CARGO_PKG_VERSION").into() },
        protocols: vec!["activitypub".into()],
        services: wire::NodeInfoServices::default(),
        usage: wire::NodeInfoUsage {
            users: wire::NodeInfoUsers { total: users, active_month: users, active_halfyear: users },
            local_posts: status_count(&app).await?,
        },
        open_registrations: app.config.instance.registrations != Registrations::Closed,
        metadata: wire::NodeInfoMetadata {
            node_name: app.config.instance.title.clone(),
            upstream: wire::NodeInfoSoftware { name: "mastodon".into(), version: MASTODON_COMPAT_VERSION.into() },
        },
    }))
}
