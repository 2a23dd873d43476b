//! The store writes of moderation.

use shared::id::Id;

use crate::error::ApiResult;
use crate::events::Event;
use crate::model::{self, ModerationRecord};
use crate::ports::{Condition, Write};
use crate::{App, keys};

/// Writes `account`'s role and moderation state (last writer wins: moderators' actions on one
/// account are rare and each states the whole outcome), announcing the change to the consumers
/// (a suspension purges cached homes).
pub async fn put_moderation(app: &App, account: Id, record: &ModerationRecord) -> ApiResult<()> {
    let writes = vec![model::put(keys::moderation(account), record, Condition::None)?, Write::Add { key: keys::moderation_epoch(), delta: 1 }];
    app.store.transact(writes, vec![Event::AccountUpdated { account }]).await?;
    crate::hot_sync::moderation_changed(app, account).await;
    Ok(())
}
