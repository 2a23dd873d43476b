//! The account use cases: registration and profile updates.

use shared::handle::{DisplayName, Email, Password, Username};
use shared::id::Id;
use shared::token::Scopes;
use shared::wire::{self, Visibility};

use super::writes::{self, RegisterConflict};
use crate::auth::hash_password;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccountRecord, CredentialsRecord, ModerationRecord, Ref};
use crate::{App, keys, now_ms};

/// Register an account through client application `client`.
pub struct RegisterAccount {
    pub username: Username,
    pub email: Email,
    pub password: Password,
    /// The server's rules were accepted.
    pub agreement: bool,
    /// The preferred language, when it is a two-letter code.
    pub locale: Option<String>,
    /// Why the applicant wants to join (sign-ups that need approval).
    pub reason: Option<String>,
    /// The application registering it (its scopes become the first token's).
    pub client: Id,
}

/// Change a profile; `None` keeps the value.
pub struct UpdateProfile {
    pub account: Id,
    pub display_name: Option<DisplayName>,
    pub note: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub indexable: Option<bool>,
    pub hide_collections: Option<bool>,
    pub privacy: Option<Visibility>,
    pub sensitive: Option<bool>,
    /// `Some(None)` clears the default language.
    pub language: Option<Option<String>>,
    /// Replaces every profile field (name, value).
    pub fields: Option<Vec<(String, String)>>,
}

impl UpdateProfile {
    /// An update of `account` that changes nothing yet.
    pub fn of(account: Id) -> Self {
        UpdateProfile {
            account,
            display_name: None,
            note: None,
            locked: None,
            bot: None,
            discoverable: None,
            indexable: None,
            hide_collections: None,
            privacy: None,
            sensitive: None,
            language: None,
            fields: None,
        }
    }
}

/// Most characters kept of a sign-up's reason.
const MAX_REASON_CHARS: usize = 500;

/// Registers an account and returns its first token.
pub async fn register(app: &App, cmd: RegisterAccount) -> ApiResult<wire::Token> {
    if !cmd.agreement {
        return Err(ApiError::invalid("Validation failed: Agreement must be accepted"));
    }
    let language = cmd.locale.filter(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()));
    // Where sign-ups need approval, the token is issued as Mastodon does, but works only once
    // a moderator approves the account.
    let pending = (app.config.instance.registrations == crate::config::Registrations::Approval).then(|| ModerationRecord {
        pending: true,
        invite_request: cmd.reason.map(|r| r.chars().take(MAX_REASON_CHARS).collect()),
        ..ModerationRecord::default()
    });
    let id = create(app, &cmd.username, &cmd.email, &cmd.password, language, pending.as_ref()).await?;
    let client = app.app_record_by_id(cmd.client).await?;
    let scopes = Scopes::parse(&client.scopes).map_err(ApiError::internal)?;
    app.issue_token(&client, Some(id), &scopes).await
}

/// Creates an account (sign-up, or an operator's command); the username and e-mail must be free.
/// `moderation`: the new account's moderation record, if it starts with one (awaiting approval).
pub async fn create(
    app: &App,
    username: &Username,
    email: &Email,
    password: &Password,
    language: Option<String>,
    moderation: Option<&ModerationRecord>,
) -> ApiResult<Id> {
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
    match writes::register(app, username, &record, &credentials, moderation).await? {
        Ok(()) => Ok(id),
        Err(RegisterConflict::UsernameTaken) => Err(ApiError::invalid("Validation failed: Username has already been taken")),
        Err(RegisterConflict::EmailTaken) => Err(ApiError::invalid("Validation failed: Email has already been taken")),
    }
}

/// Applies a profile update.
pub async fn update_profile(app: &App, cmd: UpdateProfile) -> ApiResult<()> {
    let limits = &app.config.limits;
    let mut record = app.account_record(cmd.account).await?;
    let was_locked = record.locked;
    if let Some(name) = cmd.display_name {
        record.display_name = name.as_str().to_owned();
    }
    if let Some(note) = cmd.note {
        if shared::text::countable_length(&note) > limits.max_note_chars {
            return Err(ApiError::invalid(format!("Validation failed: Note is too long (maximum is {} characters)", limits.max_note_chars)));
        }
        record.note = note;
    }
    record.locked = cmd.locked.unwrap_or(record.locked);
    record.bot = cmd.bot.unwrap_or(record.bot);
    record.discoverable = cmd.discoverable.unwrap_or(record.discoverable);
    record.indexable = cmd.indexable.unwrap_or(record.indexable);
    record.hide_collections = cmd.hide_collections.unwrap_or(record.hide_collections);
    record.default_visibility = cmd.privacy.unwrap_or(record.default_visibility);
    record.default_sensitive = cmd.sensitive.unwrap_or(record.default_sensitive);
    if let Some(language) = cmd.language {
        record.default_language = language;
    }
    if let Some(list) = cmd.fields {
        if list.len() > limits.max_profile_fields {
            return Err(ApiError::invalid(format!("Validation failed: at most {} profile fields", limits.max_profile_fields)));
        }
        if list.iter().any(|(n, v)| n.chars().count() > 255 || v.chars().count() > 255) {
            return Err(ApiError::invalid("Validation failed: profile fields are limited to 255 characters"));
        }
        record.fields = list;
    }
    writes::update_profile(app, &record).await?;
    if was_locked && !record.locked {
        // As Mastodon: unlocking lets in everyone who asked.
        crate::relationships::service::authorize_all(app, record.id).await?;
    }
    Ok(())
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
}
