//! The followed- and featured-tag endpoints.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::wire;

use super::service::{self, Hashtag, TagRelation};
use crate::App;
use crate::auth::{Auth, MaybeAuth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{Input, PageParams, Paged, Params, RequestUrl, path_id};

/// The hashtag a path names; 404 when it is none (as `GET /api/v1/tags/:name`).
fn path_tag(raw: &str) -> ApiResult<Hashtag> {
    Hashtag::parse(raw).ok_or(ApiError::NotFound)
}

/// The Tag entity of `tag` with its history and the viewer's relation to it.
async fn tag_entity(app: &App, tag: &Hashtag, relation: TagRelation) -> ApiResult<wire::Tag> {
    let history = app.tag_history(tag.as_str()).await?;
    let mut entity = app.tag_entity(tag.as_str(), history);
    entity.following = Some(relation.following);
    entity.featuring = Some(relation.featuring);
    Ok(entity)
}

/// `POST /api/v1/tags/:name/follow`.
pub async fn follow(State(app): State<App>, auth: Auth, Path(name): Path<String>) -> ApiResult<Json<wire::Tag>> {
    let me = auth.user(Scope::WriteFollows)?;
    let tag = path_tag(&name)?;
    service::follow(&app, me, &tag).await?;
    tag_entity(&app, &tag, service::relation(&app, me, &tag).await?).await.map(Json)
}

/// `POST /api/v1/tags/:name/unfollow`.
pub async fn unfollow(State(app): State<App>, auth: Auth, Path(name): Path<String>) -> ApiResult<Json<wire::Tag>> {
    let me = auth.user(Scope::WriteFollows)?;
    let tag = path_tag(&name)?;
    service::unfollow(&app, me, &tag).await?;
    tag_entity(&app, &tag, service::relation(&app, me, &tag).await?).await.map(Json)
}

/// `POST /api/v1/tags/:name/feature` (Mastodon 4.4).
pub async fn feature(State(app): State<App>, auth: Auth, Path(name): Path<String>) -> ApiResult<Json<wire::Tag>> {
    let me = auth.user(Scope::WriteAccounts)?;
    let tag = path_tag(&name)?;
    service::feature(&app, me, &tag).await?;
    tag_entity(&app, &tag, service::relation(&app, me, &tag).await?).await.map(Json)
}

/// `POST /api/v1/tags/:name/unfeature` (Mastodon 4.4).
pub async fn unfeature(State(app): State<App>, auth: Auth, Path(name): Path<String>) -> ApiResult<Json<wire::Tag>> {
    let me = auth.user(Scope::WriteAccounts)?;
    let tag = path_tag(&name)?;
    service::unfeature(&app, me, &tag).await?;
    tag_entity(&app, &tag, service::relation(&app, me, &tag).await?).await.map(Json)
}

/// `GET /api/v1/followed_tags`: newest follow first, paged by the follows' ids (Link header).
/// Entries carry no usage history (a week's count per tag would cost a scan each).
pub async fn followed(State(app): State<App>, auth: Auth, Params(page): Params<PageParams>, url: RequestUrl) -> ApiResult<Paged<wire::Tag>> {
    let me = auth.user(Scope::ReadFollows)?;
    let window = page.request(100, 200)?.window();
    let (cursors, names) = service::followed_page(&app, me, &window).await?;
    let featured = service::featured_names(&app, me).await?;
    let tags = names
        .iter()
        .map(|name| {
            let mut entity = app.tag_entity(name, Vec::new());
            entity.following = Some(true);
            entity.featuring = Some(featured.contains(name));
            entity
        })
        .collect();
    Ok(Paged::new(&app, &url, tags, &cursors))
}

/// Body of `POST /api/v1/featured_tags`.
#[derive(Deserialize, Default)]
pub struct FeatureBody {
    #[serde(default)]
    name: Option<String>,
}

/// `GET /api/v1/featured_tags`: the caller's featured tags.
pub async fn mine(State(app): State<App>, auth: Auth) -> ApiResult<Json<Vec<wire::FeaturedTag>>> {
    let me = auth.user(Scope::ReadAccounts)?;
    service::featured_tags(&app, me).await.map(Json)
}

/// `POST /api/v1/featured_tags`: features `name` (422 when invalid or beyond the limit).
pub async fn create(State(app): State<App>, auth: Auth, Input(body): Input<FeatureBody>) -> ApiResult<Json<wire::FeaturedTag>> {
    let me = auth.user(Scope::WriteAccounts)?;
    let raw = body.name.unwrap_or_default();
    let tag = Hashtag::parse(&raw).ok_or_else(|| ApiError::invalid("Validation failed: Tag is invalid"))?;
    let id = service::feature(&app, me, &tag).await?.to_string();
    let featured = service::featured_tags(&app, me).await?;
    featured.into_iter().find(|t| t.id == id).map(Json).ok_or(ApiError::NotFound)
}

/// `DELETE /api/v1/featured_tags/:id`.
pub async fn delete(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user(Scope::WriteAccounts)?;
    service::unfeature_by_id(&app, me, path_id(&id)?).await?;
    Ok(Json(serde_json::json!({})))
}

/// `GET /api/v1/featured_tags/suggestions`: tags the caller used lately, not featured yet.
pub async fn suggestions(State(app): State<App>, auth: Auth) -> ApiResult<Json<Vec<wire::Tag>>> {
    let me = auth.user(Scope::ReadAccounts)?;
    let names = service::suggestions(&app, me).await?;
    Ok(Json(
        names
            .iter()
            .map(|name| {
                let mut entity = app.tag_entity(name, Vec::new());
                entity.featuring = Some(false);
                entity
            })
            .collect(),
    ))
}

/// `GET /api/v1/accounts/:id/featured_tags`: the tags an account features on its profile.
pub async fn of_account(State(app): State<App>, _auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<Vec<wire::FeaturedTag>>> {
    let account = path_id(&id)?;
    // As its profile: a missing (or suspended) account answers 404.
    app.account(account).await?;
    service::featured_tags(&app, account).await.map(Json)
}
