//! The account endpoints: sign-up, credentials, profiles, look-ups.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::handle::{DisplayName, Email, Password, Username};
use shared::wire::{self, Visibility};

use super::service::{self, RegisterAccount, UpdateProfile};
use crate::App;
use crate::auth::{Auth, MaybeAuth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{FormWithFiles, Input, Params, flag, path_id, truthy};
use crate::media::pipeline::Picture;

/// Body of `POST /api/v1/accounts`.
#[derive(Deserialize)]
pub struct Register {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, deserialize_with = "flag")]
    agreement: Option<bool>,
    #[serde(default)]
    locale: Option<String>,
    /// Why the applicant wants to join (shown to moderators when sign-ups need approval).
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /api/v1/accounts`: registers an account and returns its first token.
pub async fn register(State(app): State<App>, auth: Auth, Input(body): Input<Register>) -> ApiResult<Json<wire::Token>> {
    auth.require(Scope::WriteAccounts)?;
    if app.config.instance.registrations == crate::config::Registrations::Closed {
        return Err(ApiError::Forbidden("Registrations are closed".into()));
    }
    let command = RegisterAccount {
        username: Username::parse(body.username.trim())?,
        email: Email::parse(&body.email)?,
        password: Password::parse(&body.password)?,
        agreement: body.agreement == Some(true),
        locale: body.locale,
        reason: body.reason,
        client: auth.app,
    };
    service::register(&app, command).await.map(Json)
}

/// `GET /api/v1/accounts/verify_credentials`.
pub async fn verify_credentials(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::Account>> {
    let me = if auth.scopes.allows(Scope::Profile.as_str()) { auth.user(Scope::Profile)? } else { auth.user(Scope::ReadAccounts)? };
    app.credential_account(me).await.map(Json)
}

/// `PATCH /api/v1/accounts/update_credentials`: text fields as JSON, a form or multipart;
/// `avatar` and `header` as multipart files.
pub async fn update_credentials(State(app): State<App>, auth: Auth, form: FormWithFiles) -> ApiResult<Json<wire::Account>> {
    let me = auth.user(Scope::WriteAccounts)?;
    let FormWithFiles { pairs, files } = form;
    let mut update = UpdateProfile::of(me);
    for (name, bytes) in files {
        match name.as_str() {
            "avatar" => update.avatar = Some(bytes),
            "header" => update.header = Some(bytes),
            _ => {}
        }
    }
    let mut fields: std::collections::BTreeMap<usize, (Option<String>, Option<String>)> = std::collections::BTreeMap::new();
    let mut fields_given = false;
    for (key, value) in pairs {
        match key.as_str() {
            "display_name" => update.display_name = Some(DisplayName::parse(&value)?),
            "note" => update.note = Some(value),
            "locked" => update.locked = Some(truthy(&value)),
            "bot" => update.bot = Some(truthy(&value)),
            "discoverable" => update.discoverable = Some(truthy(&value)),
            "indexable" => update.indexable = Some(truthy(&value)),
            "hide_collections" => update.hide_collections = Some(truthy(&value)),
            "source[privacy]" => {
                update.privacy = Some(Visibility::parse(&value).ok_or_else(|| ApiError::invalid("Validation failed: Privacy is not a valid visibility"))?);
            }
            "source[sensitive]" => update.sensitive = Some(truthy(&value)),
            "source[quote_policy]" => update.quote_policy = Some(crate::policy::quotes::parse_policy(&value)?),
            "source[language]" => update.language = Some(Some(value).filter(|v| !v.is_empty())),
            // A picture sent as a text part: its bytes (an empty one is refused as empty).
            "avatar" => update.avatar = Some(value.into_bytes()),
            "header" => update.header = Some(value.into_bytes()),
            other => {
                if let Some(rest) = other.strip_prefix("fields_attributes[") {
                    fields_given = true;
                    let (index, attr) = rest.split_once("][").ok_or_else(|| ApiError::invalid("Validation failed: malformed fields_attributes"))?;
                    let index: usize = index.parse().map_err(|_| ApiError::invalid("Validation failed: malformed fields_attributes"))?;
                    let slot = fields.entry(index).or_default();
                    match attr.trim_end_matches(']') {
                        "name" => slot.0 = Some(value),
                        "value" => slot.1 = Some(value),
                        _ => {}
                    }
                }
            }
        }
    }
    if fields_given {
        update.fields = Some(
            fields
                .into_values()
                .map(|(n, v)| (n.unwrap_or_default().trim().to_owned(), v.unwrap_or_default().trim().to_owned()))
                .filter(|(n, v)| !n.is_empty() || !v.is_empty())
                .collect(),
        );
    }
    service::update_profile(&app, update).await?;
    app.credential_account(me).await.map(Json)
}

/// `DELETE /api/v1/profile/avatar`: back to the default avatar; returns the CredentialAccount.
pub async fn delete_avatar(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::Account>> {
    delete_picture(&app, &auth, Picture::Avatar).await
}

/// `DELETE /api/v1/profile/header`: back to the default header.
pub async fn delete_header(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::Account>> {
    delete_picture(&app, &auth, Picture::Header).await
}

async fn delete_picture(app: &App, auth: &Auth, which: Picture) -> ApiResult<Json<wire::Account>> {
    let me = auth.user(Scope::WriteAccounts)?;
    service::remove_picture(app, me, which).await?;
    app.credential_account(me).await.map(Json)
}

/// `GET /api/v1/accounts?id[]=`: several accounts at once, in the order asked, leaving out those
/// missing (or gone).
pub async fn show_many(
    State(app): State<App>,
    _auth: MaybeAuth,
    Params(p): Params<crate::statuses::handlers::IdsParams>,
) -> ApiResult<Json<Vec<wire::Account>>> {
    app.account_list(&p.ids()).await.map(Json)
}

/// `GET /api/v1/accounts/:id`.
pub async fn show(State(app): State<App>, _auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<wire::Account>> {
    app.account(path_id(&id)?).await.map(Json)
}

/// Query of `GET /api/v1/accounts/lookup`.
#[derive(Deserialize)]
pub struct LookupParams {
    #[serde(default)]
    acct: String,
}

/// `GET /api/v1/accounts/lookup?acct=`.
pub async fn lookup(State(app): State<App>, _auth: MaybeAuth, Params(p): Params<LookupParams>) -> ApiResult<Json<wire::Account>> {
    let acct = p.acct.trim().trim_start_matches('@');
    let local = match acct.split_once('@') {
        Some((user, domain)) if domain.eq_ignore_ascii_case(&app.config.instance.domain) => user,
        Some(_) => return Err(ApiError::NotFound),
        None => acct,
    };
    let id = app.account_id_by_username(local).await?.ok_or(ApiError::NotFound)?;
    app.account(id).await.map(Json)
}
