//! The list endpoints: thin handlers that extract, build a typed command, call the service and
//! render.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::id::Id;
use shared::wire::{self, ListRepliesPolicy};

use super::service::{self, ChangeMembers, CreateList, ListTitle, UpdateList};
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{Input, PageParams, Paged, Params, RequestUrl, flag, path_id, string_list};
use crate::model::ListRecord;
use crate::{App, keys};

/// Body of `POST /api/v1/lists` and `PUT /api/v1/lists/:id`.
#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    exclusive: Option<bool>,
}

fn replies_policy(raw: Option<&str>) -> ApiResult<Option<ListRepliesPolicy>> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => ListRepliesPolicy::parse(raw)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("Validation failed: Replies policy '{raw}' is not a valid replies policy (followed, list or none)"))),
    }
}

fn render(list: ListRecord) -> wire::List {
    wire::List { id: list.id, title: list.title, replies_policy: list.replies_policy, exclusive: list.exclusive }
}

/// `GET /api/v1/lists`: the caller's lists.
pub async fn index(State(app): State<App>, auth: Auth) -> ApiResult<Json<Vec<wire::List>>> {
    let me = auth.user(Scope::ReadLists)?;
    Ok(Json(service::lists(&app, me).await?.into_iter().map(render).collect()))
}

/// `POST /api/v1/lists`.
pub async fn create(State(app): State<App>, auth: Auth, Input(p): Input<ListParams>) -> ApiResult<Json<wire::List>> {
    let me = auth.user(Scope::WriteLists)?;
    let cmd = CreateList {
        owner: me,
        title: ListTitle::parse(p.title.as_deref().unwrap_or(""))?,
        replies_policy: replies_policy(p.replies_policy.as_deref())?.unwrap_or_default(),
        exclusive: p.exclusive.unwrap_or(false),
    };
    Ok(Json(render(service::create(&app, cmd).await?)))
}

/// `GET /api/v1/lists/:id` (404 for another account's list).
pub async fn show(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::List>> {
    let me = auth.user(Scope::ReadLists)?;
    Ok(Json(render(service::list(&app, me, path_id(&id)?).await?)))
}

/// `PUT /api/v1/lists/:id`.
pub async fn update(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<ListParams>) -> ApiResult<Json<wire::List>> {
    let me = auth.user(Scope::WriteLists)?;
    let cmd = UpdateList {
        owner: me,
        list: path_id(&id)?,
        title: p.title.as_deref().map(ListTitle::parse).transpose()?,
        replies_policy: replies_policy(p.replies_policy.as_deref())?,
        exclusive: p.exclusive,
    };
    Ok(Json(render(service::update(&app, cmd).await?)))
}

/// `DELETE /api/v1/lists/:id`.
pub async fn delete(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user(Scope::WriteLists)?;
    service::delete(&app, me, path_id(&id)?).await?;
    Ok(Json(serde_json::json!({})))
}

/// `GET /api/v1/lists/:id/accounts`: the members, most recently added first, paginated.
pub async fn accounts(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Account>> {
    let me = auth.user(Scope::ReadLists)?;
    let list = service::list(&app, me, path_id(&id)?).await?;
    Paged::accounts(&app, keys::list_members_partition(list.id), &page, &url).await
}

/// The accounts of `POST` / `DELETE /api/v1/lists/:id/accounts`, as JSON (`account_ids`) or a
/// form (`account_ids[]`), in the body or, for `DELETE`, the query.
#[derive(Deserialize, Default)]
pub struct MemberParams {
    #[serde(default, deserialize_with = "string_list")]
    account_ids: Vec<String>,
    #[serde(default, rename = "account_ids[]", deserialize_with = "string_list")]
    account_ids_form: Vec<String>,
}

impl MemberParams {
    fn ids(&self) -> ApiResult<Vec<Id>> {
        self.account_ids.iter().chain(&self.account_ids_form).map(|s| path_id(s.trim())).collect()
    }
}

/// `POST /api/v1/lists/:id/accounts`: adds accounts the caller follows.
pub async fn add_accounts(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<MemberParams>) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user(Scope::WriteLists)?;
    let list = path_id(&id)?;
    let accounts = p.ids()?;
    if accounts.is_empty() {
        return Err(ApiError::invalid("Validation failed: account_ids is missing"));
    }
    service::add_members(&app, ChangeMembers { owner: me, list, accounts }).await?;
    Ok(Json(serde_json::json!({})))
}

/// `DELETE /api/v1/lists/:id/accounts`.
pub async fn remove_accounts(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
    Params(query): Params<MemberParams>,
    Input(body): Input<MemberParams>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user(Scope::WriteLists)?;
    let list = path_id(&id)?;
    let mut accounts = query.ids()?;
    accounts.extend(body.ids()?);
    service::remove_members(&app, ChangeMembers { owner: me, list, accounts }).await?;
    Ok(Json(serde_json::json!({})))
}

/// `GET /api/v1/accounts/:id/lists`: the caller's lists holding that account.
pub async fn account_lists(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Vec<wire::List>>> {
    let me = auth.user(Scope::ReadLists)?;
    let account = app.account_record(path_id(&id)?).await?;
    Ok(Json(service::lists_containing(&app, me, account.id).await?.into_iter().map(render).collect()))
}

/// `GET /api/v1/timelines/list/:id`.
pub async fn timeline(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Status>> {
    let me = auth.user(Scope::ReadLists)?;
    let list = service::list(&app, me, path_id(&id)?).await?;
    let window = page.request(20, 40)?.window();
    let ids = app.list_ids(me, &list, &window).await?;
    let statuses = app.feed_statuses(Some(me), &ids).await?;
    Ok(Paged::new(&app, &url, statuses, &ids))
}
