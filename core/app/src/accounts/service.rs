//! The account use cases: registration and profile updates.

use shared::handle::{DisplayName, Email, Password, Username};
use shared::id::Id;
use shared::token::Scopes;
use shared::wire::{self, Visibility};

use super::writes::{self, ProfileConflict, RegisterConflict};
use crate::auth::hash_password;
use crate::error::{ApiError, ApiResult};
use crate::media::pipeline::Picture;
use crate::model::{self, AccountRecord, CredentialsRecord, ModerationRecord, PictureRecord, Ref};
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
    /// Who may quote new posts by default.
    pub quote_policy: Option<shared::wire::QuotePolicy>,
    /// Replaces every profile field (name, value).
    pub fields: Option<Vec<(String, String)>>,
    /// A new avatar, as uploaded (processed by the media pipeline).
    pub avatar: Option<Vec<u8>>,
    /// A new header, as uploaded.
    pub header: Option<Vec<u8>>,
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
            quote_policy: None,
            fields: None,
            avatar: None,
            header: None,
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
        avatar: None,
        header: None,
        default_quote_policy: None,
    };
    let credentials = CredentialsRecord { email: email.as_str().to_owned(), password_hash: hash_password(password.expose().to_owned()).await? };
    match writes::register(app, username, &record, &credentials, moderation).await? {
        Ok(()) => Ok(id),
        Err(RegisterConflict::UsernameTaken) => Err(ApiError::invalid("Validation failed: Username has already been taken")),
        Err(RegisterConflict::EmailTaken) => Err(ApiError::invalid("Validation failed: Email has already been taken")),
    }
}

/// The text and flag changes of `cmd` applied to `record` (validated).
fn apply(record: &mut AccountRecord, cmd: &UpdateProfile, limits: &crate::config::Limits) -> ApiResult<()> {
    if let Some(name) = &cmd.display_name {
        record.display_name = name.as_str().to_owned();
    }
    if let Some(note) = &cmd.note {
        if shared::text::countable_length(note) > limits.max_note_chars {
            return Err(ApiError::invalid(format!("Validation failed: Note is too long (maximum is {} characters)", limits.max_note_chars)));
        }
        record.note.clone_from(note);
    }
    record.locked = cmd.locked.unwrap_or(record.locked);
    record.bot = cmd.bot.unwrap_or(record.bot);
    record.discoverable = cmd.discoverable.unwrap_or(record.discoverable);
    record.indexable = cmd.indexable.unwrap_or(record.indexable);
    record.hide_collections = cmd.hide_collections.unwrap_or(record.hide_collections);
    record.default_visibility = cmd.privacy.unwrap_or(record.default_visibility);
    record.default_sensitive = cmd.sensitive.unwrap_or(record.default_sensitive);
    if let Some(policy) = cmd.quote_policy {
        record.default_quote_policy = Some(policy);
    }
    if let Some(language) = &cmd.language {
        record.default_language.clone_from(language);
    }
    if let Some(list) = &cmd.fields {
        if list.len() > limits.max_profile_fields {
            return Err(ApiError::invalid(format!("Validation failed: at most {} profile fields", limits.max_profile_fields)));
        }
        if list.iter().any(|(n, v)| n.chars().count() > 255 || v.chars().count() > 255) {
            return Err(ApiError::invalid("Validation failed: profile fields are limited to 255 characters"));
        }
        record.fields.clone_from(list);
    }
    Ok(())
}

/// Applies a profile update. New pictures are processed and stored first (once); the profile is
/// then committed on the condition that its pictures are still those read (else re-read and
/// applied again), and only then are the replaced pictures' files removed.
pub async fn update_profile(app: &App, mut cmd: UpdateProfile) -> ApiResult<()> {
    let limits = &app.config.limits;
    // Every other field is checked before any picture is stored, so a refusal leaves nothing behind.
    apply(&mut app.account_record(cmd.account).await?, &cmd, limits)?;
    let mut new: Vec<(Picture, PictureRecord)> = Vec::new();
    for (which, upload) in [(Picture::Avatar, cmd.avatar.take()), (Picture::Header, cmd.header.take())] {
        let Some(bytes) = upload else { continue };
        match app.store_profile_picture(cmd.account, which, bytes).await {
            Ok(picture) => new.push((which, picture)),
            Err(e) => {
                app.remove_files(&new.iter().flat_map(|(_, p)| p.keys()).collect::<Vec<_>>()).await;
                return Err(e);
            }
        }
    }
    let stored: Vec<String> = new.iter().flat_map(|(_, p)| p.keys()).collect();
    let committed = commit_profile(app, cmd.account, |record| {
        apply(record, &cmd, limits)?;
        for (which, picture) in &new {
            *slot(record, *which) = Some(picture.clone());
        }
        Ok(())
    })
    .await;
    let (before, after) = match committed {
        Ok(records) => records,
        Err(e) => {
            app.remove_files(&stored).await;
            return Err(e);
        }
    };
    if before.locked && !after.locked {
        // As Mastodon: unlocking lets in everyone who asked.
        crate::relationships::service::authorize_all(app, after.id).await?;
    }
    Ok(())
}

fn slot(record: &mut AccountRecord, which: Picture) -> &mut Option<PictureRecord> {
    match which {
        Picture::Avatar => &mut record.avatar,
        Picture::Header => &mut record.header,
    }
}

/// Reads the profile, changes it with `change` and commits it on the condition that its pictures
/// are still those read (re-reading on a lost race); then removes the files of pictures the
/// profile no longer names. Returns the profile before and after.
async fn commit_profile(app: &App, account: Id, change: impl Fn(&mut AccountRecord) -> ApiResult<()>) -> ApiResult<(AccountRecord, AccountRecord)> {
    for _ in 0..crate::transaction::RACE_RETRIES {
        let before = app.account_record(account).await?;
        let mut after = before.clone();
        change(&mut after)?;
        match writes::update_profile(app, &before, &after).await? {
            Ok(()) => {
                let kept: Vec<String> = [&after.avatar, &after.header].into_iter().flatten().flat_map(PictureRecord::keys).collect();
                let gone: Vec<String> =
                    [&before.avatar, &before.header].into_iter().flatten().flat_map(PictureRecord::keys).filter(|k| !kept.contains(k)).collect();
                // The profile no longer names them: no entity renders their URLs any more.
                app.remove_files(&gone).await;
                return Ok((before, after));
            }
            Err(ProfileConflict::PicturesChanged) => continue,
        }
    }
    Err(ApiError::Conflict("The profile kept changing; try again".into()))
}

/// Removes `account`'s avatar or header (back to the default picture), then its files.
pub async fn remove_picture(app: &App, account: Id, which: Picture) -> ApiResult<()> {
    commit_profile(app, account, |record| {
        *slot(record, which) = None;
        Ok(())
    })
    .await
    .map(|_| ())
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
