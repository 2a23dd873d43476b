//! The endorsement and note use cases.

use shared::id::Id;

use super::writes::{self, EndorseConflict};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, EndorsementRecord, NoteRecord};
use crate::transaction::RACE_RETRIES;
use crate::{App, keys};

/// Most accounts one account endorses.
pub const MAX_ENDORSEMENTS: usize = 40;
/// Longest note on an account, in characters (Mastodon's limit).
pub const MAX_NOTE_CHARS: usize = 2000;

/// Makes `owner` feature `target` on its profile (idempotent). Only an account it follows.
pub async fn endorse(app: &App, owner: Id, target: Id) -> ApiResult<()> {
    app.account_record(target).await?;
    for _ in 0..RACE_RETRIES {
        if endorsement(app, owner, target).await?.is_some() {
            return Ok(());
        }
        let Some(follow) = app.follow_edge(owner, target).await? else {
            return Err(ApiError::Unprocessable("You must be following this account to endorse it".into()));
        };
        let listed = app.store.query(&crate::ports::Query::partition(keys::endorsements_partition(owner), MAX_ENDORSEMENTS)).await?;
        if listed.len() >= MAX_ENDORSEMENTS {
            return Err(ApiError::Unprocessable(format!("You can endorse at most {MAX_ENDORSEMENTS} accounts")));
        }
        match writes::endorse(app, owner, target, &follow, &EndorsementRecord { id: app.next_id()? }).await? {
            Ok(()) => return Ok(()),
            Err(EndorseConflict::Changed) => continue,
        }
    }
    Err(ApiError::Conflict("The endorsement kept changing; try again".into()))
}

/// Makes `owner` stop featuring `target` (idempotent).
pub async fn unendorse(app: &App, owner: Id, target: Id) -> ApiResult<()> {
    app.account_record(target).await?;
    for _ in 0..RACE_RETRIES {
        let Some(endorsement) = endorsement(app, owner, target).await? else { return Ok(()) };
        match writes::unendorse(app, owner, target, &endorsement).await? {
            Ok(()) => return Ok(()),
            Err(EndorseConflict::Changed) => continue,
        }
    }
    Ok(())
}

/// Sets `owner`'s private note on `target`; empty clears it.
pub async fn note(app: &App, owner: Id, target: Id, comment: String) -> ApiResult<()> {
    app.account_record(target).await?;
    if comment.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::Unprocessable(format!("Validation failed: Comment is too long (maximum is {MAX_NOTE_CHARS} characters)")));
    }
    writes::note(app, owner, target, &NoteRecord { comment }).await
}

/// `owner`'s endorsement of `target`, if any.
pub async fn endorsement(app: &App, owner: Id, target: Id) -> ApiResult<Option<EndorsementRecord>> {
    app.store.get(&keys::endorse_edge(owner, target)).await?.map(|item| model::decode(&item)).transpose()
}
