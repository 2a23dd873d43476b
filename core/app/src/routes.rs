//! The route table, all of it, and the middleware stack around it. Nothing imports this
//! module but the application wiring (`Application::router`).

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::normalize_path::NormalizePath;
use tower_http::trace::TraceLayer;

use crate::accounts::handlers as accounts;
use crate::admin::handlers as admin;
use crate::conversations::handlers as conversations;
use crate::endorsements::handlers as endorsements;
use crate::error::ApiError;
use crate::filters::handlers as filters;
use crate::instance::handlers as instance;
use crate::lists::handlers as lists;
use crate::media::handlers as media;
use crate::notifications::handlers as notifications;
use crate::oauth::handlers as oauth;
use crate::polls::handlers as polls;
use crate::push::handlers as push;
use crate::relationships::handlers as relationships;
use crate::reports::handlers as reports;
use crate::safety::handlers as safety;
use crate::search::handlers as search;
use crate::statuses::handlers as statuses;
use crate::statuses::scheduled::handlers as scheduled;
use crate::streaming::handlers as streaming;
use crate::tags::handlers as tags;
use crate::timelines::handlers as timelines;
use crate::web::handlers as web;
use crate::{App, ops, ratelimit};

/// Largest request body accepted outside media uploads.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the route table.
pub fn router(app: App) -> Router {
    let api = Router::new()
        .route("/api/v1/instance", get(instance::v1))
        .route("/api/v2/instance", get(instance::v2))
        .route("/api/v1/custom_emojis", get(instance::custom_emojis))
        .route("/api/v1/instance/rules", get(instance::rules))
        .route("/api/v1/preferences", get(instance::preferences))
        .route("/.well-known/oauth-authorization-server", get(instance::oauth_metadata))
        .route("/.well-known/nodeinfo", get(instance::nodeinfo_links))
        .route("/nodeinfo/2.0", get(instance::nodeinfo))
        .route("/api/starling/v1/keys", get(oauth::public_keys))
        .route("/api/starling/v1/revocations", get(oauth::revocations))
        .route("/api/v1/apps", post(oauth::create_app))
        .route("/api/v1/apps/verify_credentials", get(oauth::verify_app))
        .route("/oauth/authorize", get(oauth::authorize_page).post(oauth::authorize_submit))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/api/v1/accounts", get(accounts::show_many).post(accounts::register))
        .route("/api/v1/accounts/verify_credentials", get(accounts::verify_credentials))
        .route(
            "/api/v1/accounts/update_credentials",
            patch(accounts::update_credentials).layer(DefaultBodyLimit::max(crate::media::profile_upload_limit(&app.config.media))),
        )
        .route("/api/v1/profile/avatar", delete(accounts::delete_avatar))
        .route("/api/v1/profile/header", delete(accounts::delete_header))
        .route("/api/v1/accounts/lookup", get(accounts::lookup))
        .route("/api/v1/accounts/relationships", get(relationships::relationships))
        .route("/api/v1/accounts/{id}", get(accounts::show))
        .route("/api/v1/accounts/{id}/statuses", get(timelines::account_statuses))
        .route("/api/v1/accounts/{id}/follow", post(relationships::follow))
        .route("/api/v1/accounts/{id}/unfollow", post(relationships::unfollow))
        .route("/api/v1/accounts/{id}/followers", get(relationships::followers))
        .route("/api/v1/accounts/{id}/remove_from_followers", post(relationships::remove_from_followers))
        .route("/api/v1/follow_requests", get(relationships::follow_requests))
        .route("/api/v1/follow_requests/{id}/authorize", post(relationships::authorize))
        .route("/api/v1/follow_requests/{id}/reject", post(relationships::reject))
        .route("/api/v1/accounts/{id}/endorse", post(endorsements::endorse))
        .route("/api/v1/accounts/{id}/pin", post(endorsements::endorse))
        .route("/api/v1/accounts/{id}/unendorse", post(endorsements::unendorse))
        .route("/api/v1/accounts/{id}/unpin", post(endorsements::unendorse))
        .route("/api/v1/accounts/{id}/endorsements", get(endorsements::of_account))
        .route("/api/v1/endorsements", get(endorsements::mine))
        .route("/api/v1/accounts/{id}/note", post(endorsements::note))
        .route("/api/v1/accounts/{id}/block", post(safety::block))
        .route("/api/v1/accounts/{id}/unblock", post(safety::unblock))
        .route("/api/v1/accounts/{id}/mute", post(safety::mute))
        .route("/api/v1/accounts/{id}/unmute", post(safety::unmute))
        .route("/api/v1/blocks", get(safety::blocks))
        .route("/api/v1/reports", post(reports::file))
        .route("/api/v1/admin/accounts", get(admin::accounts))
        .route("/api/v2/admin/accounts", get(admin::accounts))
        .route("/api/v1/admin/accounts/{id}", get(admin::account))
        .route("/api/v1/admin/accounts/{id}/action", post(admin::action))
        .route("/api/v1/admin/accounts/{id}/enable", post(admin::enable))
        .route("/api/v1/admin/accounts/{id}/approve", post(admin::approve))
        .route("/api/v1/admin/accounts/{id}/reject", post(admin::reject))
        .route("/api/v1/admin/accounts/{id}/unsensitive", post(admin::unsensitive))
        .route("/api/v1/admin/accounts/{id}/unsilence", post(admin::unsilence))
        .route("/api/v1/admin/accounts/{id}/unsuspend", post(admin::unsuspend))
        .route("/api/v1/admin/reports", get(admin::reports))
        .route("/api/v1/admin/reports/{id}", get(admin::report))
        .route("/api/v1/admin/reports/{id}/assign_to_self", post(admin::assign_to_self))
        .route("/api/v1/admin/reports/{id}/unassign", post(admin::unassign))
        .route("/api/v1/admin/reports/{id}/resolve", post(admin::resolve))
        .route("/api/v1/admin/reports/{id}/reopen", post(admin::reopen))
        .route("/api/v1/mutes", get(safety::mutes))
        .route("/api/v1/accounts/{id}/following", get(relationships::following))
        .route("/api/v1/statuses", get(statuses::show_many).post(statuses::create))
        .route("/api/v1/statuses/{id}", get(statuses::show).put(statuses::edit).delete(statuses::delete))
        .route("/api/v1/statuses/{id}/history", get(statuses::history))
        .route("/api/v1/statuses/{id}/source", get(statuses::source))
        .route("/api/v1/statuses/{id}/context", get(statuses::context))
        .route("/api/v1/statuses/{id}/favourite", post(statuses::favourite))
        .route("/api/v1/statuses/{id}/unfavourite", post(statuses::unfavourite))
        .route("/api/v1/statuses/{id}/reblog", post(statuses::reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(statuses::unreblog))
        .route("/api/v1/statuses/{id}/bookmark", post(statuses::bookmark))
        .route("/api/v1/statuses/{id}/mute", post(statuses::mute))
        .route("/api/v1/statuses/{id}/pin", post(statuses::pin))
        .route("/api/v1/statuses/{id}/unpin", post(statuses::unpin))
        .route("/api/v1/statuses/{id}/unmute", post(statuses::unmute))
        .route("/api/v1/statuses/{id}/unbookmark", post(statuses::unbookmark))
        .route("/api/v1/statuses/{id}/favourited_by", get(statuses::favourited_by))
        .route("/api/v1/statuses/{id}/reblogged_by", get(statuses::reblogged_by))
        .route("/api/v1/statuses/{id}/quotes", get(statuses::quotes))
        .route("/api/v1/statuses/{id}/quotes/{quoting}/revoke", post(statuses::revoke_quote))
        .route("/api/v1/statuses/{id}/interaction_policy", put(statuses::interaction_policy))
        .route("/api/v1/scheduled_statuses", get(scheduled::index))
        .route("/api/v1/scheduled_statuses/{id}", get(scheduled::show).put(scheduled::update).delete(scheduled::delete))
        .route("/api/v1/polls/{id}", get(polls::show))
        .route("/api/v1/polls/{id}/votes", post(polls::vote))
        .route("/api/v1/bookmarks", get(statuses::bookmarks))
        .route("/api/v1/favourites", get(statuses::favourites))
        .route("/api/v1/timelines/home", get(timelines::home))
        .route("/api/starling/v1/timelines/home/version", get(timelines::home_version))
        .route("/api/v1/timelines/public", get(timelines::public))
        .route("/api/v1/timelines/tag/{hashtag}", get(timelines::tag))
        .merge(notifications_and_streaming())
        .merge(list_routes())
        .merge(conversation_routes())
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/avatars/original/missing.png", get(missing_image))
        .route("/headers/original/missing.png", get(missing_image))
        .route("/api/v2/search", get(search::search))
        .route("/api/v1/accounts/search", get(search::account_search))
        .route("/api/v1/tags/{name}", get(search::tag))
        .route("/api/v1/tags/{name}/follow", post(tags::follow))
        .route("/api/v1/tags/{name}/unfollow", post(tags::unfollow))
        .route("/api/v1/tags/{name}/feature", post(tags::feature))
        .route("/api/v1/tags/{name}/unfeature", post(tags::unfeature))
        .route("/api/v1/followed_tags", get(tags::followed))
        .route("/api/v1/featured_tags", get(tags::mine).post(tags::create))
        .route("/api/v1/featured_tags/suggestions", get(tags::suggestions))
        .route("/api/v1/featured_tags/{id}", delete(tags::delete))
        .route("/api/v1/accounts/{id}/featured_tags", get(tags::of_account))
        .route("/api/v1/push/subscription", get(push::show).post(push::create).put(push::update).delete(push::remove))
        .merge(media_routes(&app))
        .merge(filter_routes());
    let api = api
        .route("/", get(web::landing))
        .route("/@{username}", get(web::profile))
        .route("/@{username}/{id}", get(web::status))
        .route("/tags/{tag}", get(web::tag))
        .route("/web", get(crate::webapp::shell))
        .route("/web/assets/{version}/{file}", get(crate::webapp::asset))
        .route("/web/{*path}", get(crate::webapp::shell))
        .fallback(fallback)
        .method_not_allowed_fallback(|| async {
            (StatusCode::METHOD_NOT_ALLOWED, Json(shared::wire::Error { error: "Method not allowed".into(), error_description: None }))
        })
        .layer(axum::middleware::from_fn_with_state(app.clone(), ratelimit::limit))
        // Enforced where bodies are read ([`Input`]), so an oversized one gets the error envelope.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CorsLayer::permissive().expose_headers([
            header::LINK,
            header::HeaderName::from_static("x-ratelimit-limit"),
            header::HeaderName::from_static("x-ratelimit-remaining"),
            header::HeaderName::from_static("x-ratelimit-reset"),
        ]))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("handler panicked").into_response()))
        .layer(axum::middleware::from_fn_with_state(app.clone(), ops::track))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req.extensions().get::<MatchedPath>().map_or("", MatchedPath::as_str).to_owned();
            tracing::info_span!("request", method = %req.method(), route, user = tracing::field::Empty)
        }))
        .with_state(app);
    // Rails routes `/api/v1/instance/` like `/api/v1/instance`, and clients (Mastodon.py) rely on it.
    // Trimmed before routing, so it wraps the finished router.
    Router::new().fallback_service(NormalizePath::trim_trailing_slash(api))
}

/// Filters: v2 (filters, their keywords and statuses) and v1 (one keyword each).
fn filter_routes() -> Router<App> {
    Router::new()
        .route("/api/v2/filters", get(filters::list).post(filters::create))
        .route("/api/v2/filters/{id}", get(filters::show).put(filters::update).delete(filters::delete))
        .route("/api/v2/filters/{id}/keywords", get(filters::keywords).post(filters::add_keyword))
        .route("/api/v2/filters/{id}/statuses", get(filters::statuses).post(filters::add_status))
        .route("/api/v2/filters/keywords/{id}", get(filters::show_keyword).put(filters::update_keyword).delete(filters::delete_keyword))
        .route("/api/v2/filters/statuses/{id}", get(filters::show_status).delete(filters::delete_status))
        .route("/api/v1/filters", get(filters::list_v1).post(filters::create_v1))
        .route("/api/v1/filters/{id}", get(filters::show_v1).put(filters::update_v1).delete(filters::delete_v1))
}

/// Notifications, read markers and the streaming API.
fn notifications_and_streaming() -> Router<App> {
    Router::new()
        .route("/api/v1/notifications", get(notifications::list))
        .route("/api/v1/notifications/unread_count", get(notifications::unread_count))
        .route("/api/v1/notifications/clear", post(notifications::clear))
        .route("/api/v1/notifications/{id}", get(notifications::show))
        .route("/api/v1/notifications/{id}/dismiss", post(notifications::dismiss))
        .route("/api/v2/notifications/policy", get(notifications::policy).patch(notifications::update_policy))
        .route("/api/v1/notifications/requests", get(notifications::requests))
        .route("/api/v1/notifications/requests/merged", get(notifications::requests_merged))
        .route("/api/v1/notifications/requests/accept", post(notifications::accept_requests))
        .route("/api/v1/notifications/requests/dismiss", post(notifications::dismiss_requests))
        .route("/api/v1/notifications/requests/{id}", get(notifications::request))
        .route("/api/v1/notifications/requests/{id}/accept", post(notifications::accept_request))
        .route("/api/v1/notifications/requests/{id}/dismiss", post(notifications::dismiss_request))
        .route("/api/v1/markers", get(notifications::markers).post(notifications::save_markers))
        .route("/api/v1/streaming", get(streaming::websocket))
        .route("/api/v1/streaming/", get(streaming::websocket))
        .route("/api/v1/streaming/health", get(streaming::health))
        .route("/api/v1/streaming/user", get(streaming::user))
        .route("/api/v1/streaming/user/notification", get(streaming::user_notification))
        .route("/api/v1/streaming/public", get(streaming::public))
        .route("/api/v1/streaming/public/local", get(streaming::public_local))
        .route("/api/v1/streaming/public/remote", get(streaming::public_remote))
        .route("/api/v1/streaming/hashtag", get(streaming::hashtag))
        .route("/api/v1/streaming/hashtag/local", get(streaming::hashtag_local))
}

/// Lists, their members and their timelines.
fn list_routes() -> Router<App> {
    Router::new()
        .route("/api/v1/lists", get(lists::index).post(lists::create))
        .route("/api/v1/lists/{id}", get(lists::show).put(lists::update).delete(lists::delete))
        .route("/api/v1/lists/{id}/accounts", get(lists::accounts).post(lists::add_accounts).delete(lists::remove_accounts))
        .route("/api/v1/accounts/{id}/lists", get(lists::account_lists))
        .route("/api/v1/timelines/list/{id}", get(lists::timeline))
        .route("/api/v1/streaming/list", get(streaming::list))
}

/// Direct conversations and their stream.
fn conversation_routes() -> Router<App> {
    Router::new()
        .route("/api/v1/conversations", get(conversations::index))
        .route("/api/v1/conversations/{id}", delete(conversations::delete))
        .route("/api/v1/conversations/{id}/read", post(conversations::read))
        .route("/api/v1/streaming/direct", get(streaming::direct))
}

/// Media routes, with a body limit sized for the largest upload (only here).
fn media_routes(app: &App) -> Router<App> {
    let upload_limit = crate::media::upload_limit(&app.config.media);
    Router::new()
        .route("/api/v1/media", post(media::create_v1).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/api/v2/media", post(media::create_v2).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/api/v1/media/{id}", get(media::show).put(media::update).delete(media::destroy))
        .route("/api/starling/v1/media/{id}/complete", post(media::complete))
        .route("/system/media/{id}/{token}/{file}", get(media::serve))
        .route("/system/media/{id}/{file}", get(media::serve_untokened))
        .route("/system/accounts/{id}/{picture}/{token}/{file}", get(media::serve_profile))
}

/// The placeholder avatar and header Mastodon serves for accounts without one.
async fn missing_image() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], include_bytes!("missing.png").as_slice())
}

/// What matches no route: the API's JSON 404, or for a browser asking for a page outside the
/// API, the HTML one.
async fn fallback(axum::extract::State(app): axum::extract::State<App>, request: Request) -> axum::response::Response {
    let path = request.uri().path();
    let wants_html = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    let api = ["/api/", "/oauth/", "/.well-known/", "/nodeinfo/", "/system/"].iter().any(|p| path.starts_with(p));
    if wants_html && !api {
        return crate::web::handlers::not_found(&app, crate::web::service::Missing::NotFound);
    }
    ApiError::NotFound.into_response()
}
