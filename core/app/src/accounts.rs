//! Accounts and the social graph: sign-up, profiles, look-ups, relationships, follows.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use shared::handle::{DisplayName, Email, Password, Username};
use shared::id::Id;
use shared::token::Scopes;
use shared::wire::{self, Visibility};

use crate::auth::{Auth, MaybeAuth, hash_password};
use crate::error::{ApiError, ApiResult};
use crate::events::Event;
use crate::http::{FlatInput, Input, PageParams, Paged, Params, RequestUrl, flag, path_id, truthy};
use crate::model::{self, AccountRecord, CredentialsRecord, FollowRecord, Ref};
use crate::ports::{Condition, StoreError, Write};
use crate::{App, keys, now_ms};

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
}

/// `POST /api/v1/accounts`: registers an account and returns its first token.
pub async fn register(State(app): State<App>, auth: Auth, Input(body): Input<Register>) -> ApiResult<Json<wire::Token>> {
    auth.require("write:accounts")?;
    if !app.config.instance.registrations_open {
        return Err(ApiError::Forbidden("Registrations are closed".into()));
    }
    let username = Username::parse(body.username.trim())?;
    let email = Email::parse(&body.email)?;
    let password = Password::parse(&body.password)?;
    if body.agreement != Some(true) {
        return Err(ApiError::invalid("Validation failed: Agreement must be accepted"));
    }
    let language = body.locale.filter(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()));
    let id = app.next_id()?;
    let record = AccountRecord {
        id,
        username: username.as_str().to_owned(),
        display_name: String::new(),
        note: String::new(),
        locked: false,
        bot: false,
        discoverable: true,
        indexable: true,
        hide_collections: false,
        fields: Vec::new(),
        created_at: now_ms(),
        default_visibility: Visibility::Public,
        default_sensitive: false,
        default_language: language,
    };
    let credentials = CredentialsRecord { email: email.as_str().to_owned(), password_hash: hash_password(password.expose().to_owned()).await? };
    let writes = vec![
        model::put(keys::username(&username.canonical()), &Ref { id }, Condition::NotExists)?,
        model::put(keys::email(email.as_str()), &Ref { id }, Condition::NotExists)?,
        model::put(keys::account(id), &record, Condition::NotExists)?,
        model::put(keys::credentials(id), &credentials, Condition::NotExists)?,
        Write::Add { key: keys::meta("n#accounts"), delta: 1 },
        model::put(keys::account_listing(id), &Ref { id }, Condition::None)?,
    ];
    match app.store.transact(writes, vec![Event::AccountCreated { account: id }]).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index: 0 }) => return Err(ApiError::invalid("Validation failed: Username has already been taken")),
        Err(StoreError::ConditionFailed { index: 1 }) => return Err(ApiError::invalid("Validation failed: Email has already been taken")),
        Err(e) => return Err(e.into()),
    }
    let client = app.app_record_by_id(auth.app).await?;
    let scopes = Scopes::parse(&client.scopes).map_err(ApiError::internal)?;
    app.issue_token(&client, Some(id), &scopes).await.map(Json)
}

/// `GET /api/v1/accounts/verify_credentials`.
pub async fn verify_credentials(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::Account>> {
    let me = if auth.scopes.allows("profile") { auth.user("profile")? } else { auth.user("read:accounts")? };
    app.credential_account(me).await.map(Json)
}

/// `PATCH /api/v1/accounts/update_credentials`.
pub async fn update_credentials(State(app): State<App>, auth: Auth, FlatInput(pairs): FlatInput) -> ApiResult<Json<wire::Account>> {
    let me = auth.user("write:accounts")?;
    let mut record = app.account_record(me).await?;
    let mut fields: BTreeMap<usize, (Option<String>, Option<String>)> = BTreeMap::new();
    let mut fields_given = false;
    for (key, value) in pairs {
        match key.as_str() {
            "display_name" => record.display_name = DisplayName::parse(&value)?.as_str().to_owned(),
            "note" => {
                if shared::text::countable_length(&value) > app.config.limits.max_note_chars {
                    return Err(ApiError::invalid(format!("Validation failed: Note is too long (maximum is {} characters)", app.config.limits.max_note_chars)));
                }
                record.note = value;
            }
            "locked" => record.locked = truthy(&value),
            "bot" => record.bot = truthy(&value),
            "discoverable" => record.discoverable = truthy(&value),
            "indexable" => record.indexable = truthy(&value),
            "hide_collections" => record.hide_collections = truthy(&value),
            "source[privacy]" => {
                record.default_visibility =
                    Visibility::parse(&value).ok_or_else(|| ApiError::invalid("Validation failed: Privacy is not a valid visibility"))?;
            }
            "source[sensitive]" => record.default_sensitive = truthy(&value),
            "source[language]" => record.default_language = Some(value).filter(|v| !v.is_empty()),
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
        let list: Vec<(String, String)> = fields
            .into_values()
            .map(|(n, v)| (n.unwrap_or_default().trim().to_owned(), v.unwrap_or_default().trim().to_owned()))
            .filter(|(n, v)| !n.is_empty() || !v.is_empty())
            .collect();
        if list.len() > app.config.limits.max_profile_fields {
            return Err(ApiError::invalid(format!("Validation failed: at most {} profile fields", app.config.limits.max_profile_fields)));
        }
        if list.iter().any(|(n, v)| n.chars().count() > 255 || v.chars().count() > 255) {
            return Err(ApiError::invalid("Validation failed: profile fields are limited to 255 characters"));
        }
        record.fields = list;
    }
    app.store.transact(vec![model::put(keys::account(me), &record, Condition::Exists)?], vec![Event::AccountUpdated { account: me }]).await?;
    app.credential_account(me).await.map(Json)
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

/// Query of `GET /api/v1/accounts/relationships`.
#[derive(Deserialize)]
pub struct RelationshipParams {
    #[serde(default, rename = "id[]")]
    ids: Vec<String>,
    #[serde(default)]
    id: Vec<String>,
}

/// `GET /api/v1/accounts/relationships?id[]=`.
pub async fn relationships(State(app): State<App>, auth: Auth, Params(p): Params<RelationshipParams>) -> ApiResult<Json<Vec<wire::Relationship>>> {
    let me = auth.user("read:follows")?;
    let mut ids: Vec<Id> = p.ids.iter().chain(p.id.iter()).filter_map(|s| s.parse().ok()).take(100).collect();
    // As Mastodon: one relationship per existing account, whatever else was asked.
    let known = app.account_records(&ids).await?;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| known.contains_key(id) && seen.insert(*id));
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(app.relationship(me, id).await?);
    }
    Ok(Json(out))
}

/// Body of `POST /api/v1/accounts/:id/follow`.
#[derive(Deserialize, Default)]
pub struct FollowOptions {
    #[serde(default, deserialize_with = "flag")]
    reblogs: Option<bool>,
    #[serde(default, deserialize_with = "flag")]
    notify: Option<bool>,
}

/// `POST /api/v1/accounts/:id/follow`.
pub async fn follow(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(options): Input<FollowOptions>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user("write:follows")?;
    let target = path_id(&id)?;
    app.follow(me, target, options.reblogs, options.notify).await?;
    app.relationship(me, target).await.map(Json)
}

/// `POST /api/v1/accounts/:id/unfollow`.
pub async fn unfollow(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::Relationship>> {
    let me = auth.user("write:follows")?;
    let target = path_id(&id)?;
    app.account_record(target).await?;
    app.unfollow(me, target).await?;
    app.relationship(me, target).await.map(Json)
}

/// `GET /api/v1/accounts/:id/followers`.
pub async fn followers(
    State(app): State<App>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Account>> {
    follow_list(app, auth, id, page, url, keys::followers_partition).await
}

/// `GET /api/v1/accounts/:id/following`.
pub async fn following(
    State(app): State<App>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
    url: RequestUrl,
) -> ApiResult<Paged<wire::Account>> {
    follow_list(app, auth, id, page, url, keys::following_partition).await
}

async fn follow_list(app: App, auth: MaybeAuth, id: String, page: PageParams, url: RequestUrl, partition: fn(Id) -> String) -> ApiResult<Paged<wire::Account>> {
    let viewer = auth.viewer("read:accounts")?;
    let owner = app.account_record(path_id(&id)?).await?;
    if owner.hide_collections && viewer != Some(owner.id) {
        return Ok(Paged::new(&app, &url, Vec::new(), &[]));
    }
    let window = page.request(40, 80)?.window();
    let (cursors, accounts) = app.ref_page(partition(owner.id), &window).await?;
    let rendered = app.account_list(&accounts).await?;
    Ok(Paged::new(&app, &url, rendered, &cursors))
}

impl App {
    /// Finds a local account id by username (case-insensitive).
    pub async fn account_id_by_username(&self, username: &str) -> ApiResult<Option<Id>> {
        let Ok(username) = Username::parse_existing(username) else { return Ok(None) };
        match self.store.get(&keys::username(&username.canonical())).await? {
            Some(item) => Ok(Some(model::decode::<Ref>(&item)?.id)),
            None => Ok(None),
        }
    }

    /// The follow edge from `follower` to `target`, if any.
    pub async fn follow_edge(&self, follower: Id, target: Id) -> ApiResult<Option<FollowRecord>> {
        match self.store.get(&keys::follow_edge(follower, target)).await? {
            Some(item) => model::decode(&item).map(Some),
            None => Ok(None),
        }
    }

    /// The viewer's relationship to `other`.
    pub async fn relationship(&self, viewer: Id, other: Id) -> ApiResult<wire::Relationship> {
        let items = self.store.get_many(&[keys::follow_edge(viewer, other), keys::follow_edge(other, viewer)]).await?;
        let outgoing: Option<FollowRecord> = match &items[0] {
            Some(item) => Some(model::decode(item)?),
            None => None,
        };
        Ok(wire::Relationship {
            id: other,
            following: outgoing.is_some(),
            showing_reblogs: outgoing.is_some_and(|f| f.reblogs),
            notifying: outgoing.is_some_and(|f| f.notify),
            languages: None,
            followed_by: items[1].is_some(),
            blocking: false,
            blocked_by: false,
            muting: false,
            muting_notifications: false,
            requested: false,
            requested_by: false,
            domain_blocking: false,
            endorsed: false,
            note: String::new(),
        })
    }

    /// Makes `follower` follow `target` (idempotent; repeated calls update the options).
    pub async fn follow(&self, follower: Id, target: Id, reblogs: Option<bool>, notify: Option<bool>) -> ApiResult<()> {
        if follower == target {
            return Err(ApiError::Forbidden("You cannot follow yourself".into()));
        }
        self.account_record(target).await?;
        if let Some(mut existing) = self.follow_edge(follower, target).await? {
            existing.reblogs = reblogs.unwrap_or(existing.reblogs);
            existing.notify = notify.unwrap_or(existing.notify);
            let subscription = if existing.notify {
                model::put(keys::notify_subscriber(target, follower), &Ref { id: follower }, Condition::None)?
            } else {
                Write::Delete { key: keys::notify_subscriber(target, follower), condition: Condition::None }
            };
            self.store.transact(vec![model::put(keys::follow_edge(follower, target), &existing, Condition::Exists)?, subscription], vec![]).await?;
            return Ok(());
        }
        let edge = FollowRecord { id: self.next_id()?, reblogs: reblogs.unwrap_or(true), notify: notify.unwrap_or(false) };
        let mut writes = vec![
            model::put(keys::follow_edge(follower, target), &edge, Condition::NotExists)?,
            model::put(keys::following(follower, edge.id), &Ref { id: target }, Condition::NotExists)?,
            model::put(keys::followers(target, edge.id), &Ref { id: follower }, Condition::NotExists)?,
            Write::Add { key: keys::account_counter(follower, "following"), delta: 1 },
            Write::Add { key: keys::account_counter(target, "followers"), delta: 1 },
        ];
        if edge.notify {
            writes.push(model::put(keys::notify_subscriber(target, follower), &Ref { id: follower }, Condition::None)?);
        }
        match self.store.transact(writes, vec![Event::Followed { follower, target }]).await {
            // A concurrent identical follow won; the outcome is the same.
            Ok(()) | Err(StoreError::ConditionFailed { index: 0 }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes `follower` stop following `target` (idempotent).
    pub async fn unfollow(&self, follower: Id, target: Id) -> ApiResult<()> {
        let Some(edge) = self.follow_edge(follower, target).await? else { return Ok(()) };
        let writes = vec![
            Write::Delete { key: keys::follow_edge(follower, target), condition: Condition::Exists },
            Write::Delete { key: keys::following(follower, edge.id), condition: Condition::None },
            Write::Delete { key: keys::followers(target, edge.id), condition: Condition::None },
            Write::Add { key: keys::account_counter(follower, "following"), delta: -1 },
            Write::Add { key: keys::account_counter(target, "followers"), delta: -1 },
            Write::Delete { key: keys::notify_subscriber(target, follower), condition: Condition::None },
        ];
        match self.store.transact(writes, vec![Event::Unfollowed { follower, target }]).await {
            Ok(()) | Err(StoreError::ConditionFailed { index: 0 }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
