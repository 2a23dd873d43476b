//! The store writes of the account use cases.

use shared::handle::Username;

use crate::error::ApiResult;
use crate::events::Event;
use crate::model::{self, AccountRecord, CredentialsRecord, ModerationRecord, PictureRecord, Ref};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why a registration did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterConflict {
    UsernameTaken,
    EmailTaken,
}

/// Creates the account: username and e-mail claims, profile, credentials, counters, listing.
pub async fn register(
    app: &App,
    username: &Username,
    record: &AccountRecord,
    credentials: &CredentialsRecord,
    moderation: Option<&ModerationRecord>,
) -> ApiResult<Result<(), RegisterConflict>> {
    let id = record.id;
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::username(&username.canonical()), &Ref { id }, Condition::NotExists)?, RegisterConflict::UsernameTaken);
    tx.guard(model::put(keys::email(&credentials.email), &Ref { id }, Condition::NotExists)?, RegisterConflict::EmailTaken);
    tx.push(model::put(keys::account(id), record, Condition::NotExists)?);
    tx.push(model::put(keys::credentials(id), credentials, Condition::NotExists)?);
    let shards = &app.config.shards;
    tx.push(Write::Add { key: keys::instance_counter_of(keys::InstanceCounter::Accounts, id, shards.instance_counters), delta: 1 });
    tx.push(model::put(keys::account_listing(id, shards.accounts), &Ref { id }, Condition::None)?);
    if let Some(moderation) = moderation {
        tx.push(model::put(keys::moderation(id), moderation, Condition::None)?);
    }
    Ok(tx.commit(app.store.as_ref(), vec![Event::AccountCreated { account: id }]).await?)
}

/// Why a profile change did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileConflict {
    /// The avatar or header changed since the profile was read.
    PicturesChanged,
}

/// The marker of `record`'s pictures (none without pictures).
fn pictures_marker(record: &AccountRecord) -> Option<crate::ports::Key> {
    (record.avatar.is_some() || record.header.is_some())
        .then(|| keys::profile_pictures(record.id, record.avatar.as_ref().map(PictureRecord::token), record.header.as_ref().map(PictureRecord::token)))
}

/// Saves `after`, the changed profile of an existing account read as `before`: on the condition
/// that its pictures are still `before`'s (their marker is rewritten, or moved, under `Exists`),
/// so a change read before a picture was replaced cannot bring back the replaced one's URLs.
pub async fn update_profile(app: &App, before: &AccountRecord, after: &AccountRecord) -> ApiResult<Result<(), ProfileConflict>> {
    let mut tx = Transaction::new();
    tx.push(model::put(keys::account(after.id), after, Condition::Exists)?);
    let id = Ref { id: after.id };
    match (pictures_marker(before), pictures_marker(after)) {
        (Some(old), Some(new)) if old == new => tx.guard(model::put(old, &id, Condition::Exists)?, ProfileConflict::PicturesChanged),
        (old, new) => {
            if let Some(old) = old {
                tx.guard(Write::Delete { key: old, condition: Condition::Exists }, ProfileConflict::PicturesChanged);
            }
            if let Some(new) = new {
                tx.guard(model::put(new, &id, Condition::NotExists)?, ProfileConflict::PicturesChanged);
            }
        }
    }
    let committed = tx.commit(app.store.as_ref(), vec![Event::AccountUpdated { account: after.id }]).await?;
    app.hot.accounts.forget(&after.id);
    Ok(committed)
}
