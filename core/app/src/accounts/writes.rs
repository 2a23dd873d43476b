//! The store writes of the account use cases.

use shared::handle::Username;

use crate::error::ApiResult;
use crate::events::Event;
use crate::model::{self, AccountRecord, CredentialsRecord, ModerationRecord, Ref};
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

/// Saves a changed profile (of an existing account).
pub async fn update_profile(app: &App, record: &AccountRecord) -> ApiResult<()> {
    let writes = vec![model::put(keys::account(record.id), record, Condition::Exists)?];
    Ok(app.store.transact(writes, vec![Event::AccountUpdated { account: record.id }]).await?)
}
