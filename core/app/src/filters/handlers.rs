//! The filter endpoints (v2 and v1). Bodies come as JSON or forms in Rails' bracket notation
//! (`context[]`, `keywords_attributes[][keyword]`), read through [`FlatInput`].

use axum::Json;
use axum::extract::{Path, State};
use shared::wire;

use super::service::{self, FilterChanges, KeywordChange, V1Filter};
use crate::App;
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{FlatInput, path_id, truthy};
use crate::model::{FilterKeywordRecord, FilterRecord};
use crate::policy::filters::{entity, keyword_entity, status_entity};

// ---- v2 -----------------------------------------------------------------------------------------

/// `GET /api/v2/filters`.
pub async fn list(State(app): State<App>, auth: Auth) -> ApiResult<Json<Vec<wire::Filter>>> {
    let me = auth.user(Scope::ReadFilters)?;
    Ok(Json(service::list(&app, me).await?.iter().map(|f| entity(f, true)).collect()))
}

/// `GET /api/v2/filters/:id`.
pub async fn show(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Filter>> {
    let me = auth.user(Scope::ReadFilters)?;
    Ok(Json(entity(&service::find(&app, me, path_id(&id)?).await?, true)))
}

/// `POST /api/v2/filters`.
pub async fn create(State(app): State<App>, auth: Auth, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::Filter>> {
    let me = auth.user(Scope::WriteFilters)?;
    Ok(Json(entity(&service::create(&app, me, changes(&pairs)?).await?, true)))
}

/// `PUT /api/v2/filters/:id`.
pub async fn update(State(app): State<App>, auth: Auth, Path(id): Path<String>, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::Filter>> {
    let me = auth.user(Scope::WriteFilters)?;
    let filter = path_id(&id)?;
    Ok(Json(entity(&service::update(&app, me, filter, changes(&pairs)?).await?, true)))
}

/// `DELETE /api/v2/filters/:id`.
pub async fn delete(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteFilters)?;
    service::delete(&app, me, path_id(&id)?).await?;
    Ok(Json(wire::Empty {}))
}

/// `GET /api/v2/filters/:id/keywords`.
pub async fn keywords(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Vec<wire::FilterKeyword>>> {
    let me = auth.user(Scope::ReadFilters)?;
    Ok(Json(service::find(&app, me, path_id(&id)?).await?.keywords.iter().map(keyword_entity).collect()))
}

/// `POST /api/v2/filters/:id/keywords`.
pub async fn add_keyword(State(app): State<App>, auth: Auth, Path(id): Path<String>, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::FilterKeyword>> {
    let me = auth.user(Scope::WriteFilters)?;
    let filter = path_id(&id)?;
    let keyword = field(&pairs, "keyword").unwrap_or_default().to_owned();
    let whole_word = field(&pairs, "whole_word").is_none_or(truthy);
    Ok(Json(keyword_entity(&service::add_keyword(&app, me, filter, keyword, whole_word).await?)))
}

/// `GET /api/v2/filters/keywords/:id`.
pub async fn show_keyword(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::FilterKeyword>> {
    let me = auth.user(Scope::ReadFilters)?;
    Ok(Json(keyword_entity(&service::find_keyword(&app, me, path_id(&id)?).await?.1)))
}

/// `PUT /api/v2/filters/keywords/:id`.
pub async fn update_keyword(State(app): State<App>, auth: Auth, Path(id): Path<String>, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::FilterKeyword>> {
    let me = auth.user(Scope::WriteFilters)?;
    let keyword = path_id(&id)?;
    let text = field(&pairs, "keyword").map(str::to_owned);
    let whole_word = field(&pairs, "whole_word").map(truthy);
    Ok(Json(keyword_entity(&service::update_keyword(&app, me, keyword, text, whole_word).await?)))
}

/// `DELETE /api/v2/filters/keywords/:id`.
pub async fn delete_keyword(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteFilters)?;
    service::delete_keyword(&app, me, path_id(&id)?).await?;
    Ok(Json(wire::Empty {}))
}

/// `GET /api/v2/filters/:id/statuses`.
pub async fn statuses(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Vec<wire::FilterStatus>>> {
    let me = auth.user(Scope::ReadFilters)?;
    Ok(Json(service::find(&app, me, path_id(&id)?).await?.statuses.iter().map(status_entity).collect()))
}

/// `POST /api/v2/filters/:id/statuses`.
pub async fn add_status(State(app): State<App>, auth: Auth, Path(id): Path<String>, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::FilterStatus>> {
    let me = auth.user(Scope::WriteFilters)?;
    let filter = path_id(&id)?;
    let status = field(&pairs, "status_id").ok_or_else(|| ApiError::invalid("Validation failed: Status can't be blank"))?;
    let status = status.trim().parse().map_err(|_| ApiError::NotFound)?;
    Ok(Json(status_entity(&service::add_status(&app, me, filter, status).await?)))
}

/// `GET /api/v2/filters/statuses/:id`.
pub async fn show_status(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::FilterStatus>> {
    let me = auth.user(Scope::ReadFilters)?;
    Ok(Json(status_entity(&service::find_status(&app, me, path_id(&id)?).await?.1)))
}

/// `DELETE /api/v2/filters/statuses/:id`.
pub async fn delete_status(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteFilters)?;
    service::delete_status(&app, me, path_id(&id)?).await?;
    Ok(Json(wire::Empty {}))
}

// ---- v1 -----------------------------------------------------------------------------------------

/// `GET /api/v1/filters`: every keyword of every filter, as a v1 filter.
pub async fn list_v1(State(app): State<App>, auth: Auth) -> ApiResult<Json<Vec<wire::V1Filter>>> {
    let me = auth.user(Scope::ReadFilters)?;
    let filters = service::list(&app, me).await?;
    Ok(Json(filters.iter().flat_map(|f| f.keywords.iter().map(move |k| v1_entity(f, k))).collect()))
}

/// `GET /api/v1/filters/:id` (a keyword's id).
pub async fn show_v1(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::V1Filter>> {
    let me = auth.user(Scope::ReadFilters)?;
    let (filter, keyword) = service::find_keyword(&app, me, path_id(&id)?).await?;
    Ok(Json(v1_entity(&filter, &keyword)))
}

/// `POST /api/v1/filters`.
pub async fn create_v1(State(app): State<App>, auth: Auth, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::V1Filter>> {
    let me = auth.user(Scope::WriteFilters)?;
    let (filter, keyword) = service::create_v1(&app, me, v1_filter(&pairs)?).await?;
    Ok(Json(v1_entity(&filter, &keyword)))
}

/// `PUT /api/v1/filters/:id`.
pub async fn update_v1(State(app): State<App>, auth: Auth, Path(id): Path<String>, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::V1Filter>> {
    let me = auth.user(Scope::WriteFilters)?;
    let keyword = path_id(&id)?;
    let (filter, keyword) = service::update_v1(&app, me, keyword, v1_filter(&pairs)?).await?;
    Ok(Json(v1_entity(&filter, &keyword)))
}

/// `DELETE /api/v1/filters/:id`: removes the keyword only (its filter stays, as Mastodon).
pub async fn delete_v1(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Empty>> {
    let me = auth.user(Scope::WriteFilters)?;
    service::delete_keyword(&app, me, path_id(&id)?).await?;
    Ok(Json(wire::Empty {}))
}

fn v1_entity(filter: &FilterRecord, keyword: &FilterKeywordRecord) -> wire::V1Filter {
    wire::V1Filter {
        id: keyword.id.to_string(),
        phrase: keyword.keyword.clone(),
        context: filter.context.clone(),
        whole_word: keyword.whole_word,
        expires_at: filter.expires_at.map(wire::timestamp),
        irreversible: filter.action == wire::FilterAction::Hide,
    }
}

// ---- bodies -------------------------------------------------------------------------------------

/// The last value of a plain field.
fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The values of a list field: `name`, `name[]` or `name[N]`.
fn list_field(pairs: &[(String, String)], name: &str) -> Option<Vec<String>> {
    let values: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == name || k.strip_prefix(name).is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']') && !rest[1..].contains('[')))
        .map(|(_, v)| v.clone())
        .collect();
    (!values.is_empty() || pairs.iter().any(|(k, _)| k == name)).then_some(values)
}

/// `expires_in` in seconds: empty means never (Mastodon clears the expiry then).
fn expires_in(pairs: &[(String, String)]) -> ApiResult<Option<Option<u64>>> {
    match field(pairs, "expires_in").map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(text) => {
            let secs: f64 = text.parse().map_err(|_| ApiError::invalid("Validation failed: Expires in is not a number"))?;
            if !secs.is_finite() || secs < 0.0 {
                return Err(ApiError::invalid("Validation failed: Expires in must be greater than or equal to 0"));
            }
            Ok(Some(Some(secs as u64)))
        }
    }
}

/// A v2 filter body.
fn changes(pairs: &[(String, String)]) -> ApiResult<FilterChanges> {
    Ok(FilterChanges {
        title: field(pairs, "title").map(str::to_owned),
        context: list_field(pairs, "context"),
        action: field(pairs, "filter_action").map(str::to_owned),
        expires_in: expires_in(pairs)?,
        keywords: keywords_attributes(pairs),
    })
}

/// `keywords_attributes` as Rails reads them: `[N][field]` groups by `N`; in `[][field]` a
/// field already set starts the next keyword.
fn keywords_attributes(pairs: &[(String, String)]) -> Vec<KeywordChange> {
    let mut out: Vec<(Option<String>, KeywordChange, Vec<String>)> = Vec::new();
    for (key, value) in pairs {
        let Some(rest) = key.strip_prefix("keywords_attributes[") else { continue };
        let Some((index, rest)) = rest.split_once(']') else { continue };
        let Some(name) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else { continue };
        let at = if index.is_empty() {
            match out.last() {
                Some((None, _, seen)) if !seen.iter().any(|s| s == name) => out.len() - 1,
                _ => {
                    out.push((None, KeywordChange::default(), Vec::new()));
                    out.len() - 1
                }
            }
        } else {
            match out.iter().position(|(i, _, _)| i.as_deref() == Some(index)) {
                Some(at) => at,
                None => {
                    out.push((Some(index.to_owned()), KeywordChange::default(), Vec::new()));
                    out.len() - 1
                }
            }
        };
        let (_, change, seen) = &mut out[at];
        seen.push(name.to_owned());
        match name {
            "id" => change.id = Some(value.clone()),
            "keyword" => change.keyword = Some(value.clone()),
            "whole_word" => change.whole_word = Some(truthy(value)),
            "_destroy" => change.destroy = truthy(value),
            _ => {}
        }
    }
    out.into_iter().map(|(_, change, _)| change).collect()
}

/// A v1 filter body.
fn v1_filter(pairs: &[(String, String)]) -> ApiResult<V1Filter> {
    Ok(V1Filter {
        phrase: field(pairs, "phrase").map(str::to_owned),
        context: list_field(pairs, "context"),
        irreversible: field(pairs, "irreversible").map(truthy),
        whole_word: field(pairs, "whole_word").map(truthy),
        expires_in: expires_in(pairs)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn keywords_attributes_read_in_both_bracket_notations() {
        let empty = keywords_attributes(&pairs(&[
            ("keywords_attributes[][keyword]", "a"),
            ("keywords_attributes[][whole_word]", "false"),
            ("keywords_attributes[][keyword]", "b"),
        ]));
        assert_eq!(empty.iter().map(|k| k.keyword.clone().unwrap_or_default()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(empty[0].whole_word, Some(false));
        let indexed = keywords_attributes(&pairs(&[
            ("keywords_attributes[0][keyword]", "a"),
            ("keywords_attributes[1][id]", "7"),
            ("keywords_attributes[1][_destroy]", "true"),
            ("keywords_attributes[0][whole_word]", "1"),
        ]));
        assert_eq!(indexed.len(), 2);
        assert_eq!((indexed[0].keyword.as_deref(), indexed[0].whole_word), (Some("a"), Some(true)));
        assert!(indexed[1].destroy && indexed[1].id.as_deref() == Some("7"));
    }

    #[test]
    fn contexts_read_as_lists_in_any_notation() {
        assert_eq!(list_field(&pairs(&[("context[]", "home"), ("context[]", "public")]), "context"), Some(vec!["home".to_owned(), "public".to_owned()]));
        assert_eq!(list_field(&pairs(&[("context[0]", "home")]), "context"), Some(vec!["home".to_owned()]));
        assert_eq!(list_field(&pairs(&[("title", "x")]), "context"), None);
    }
}
