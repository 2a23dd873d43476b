//! Quote posts: who may quote a status (its quote policy, as Mastodon's automatic approval:
//! nothing waits for a manual review here), what `quote_approval` tells a reader, and what a
//! quote shows its reader — never a status that reader may not see.

use std::collections::HashMap;

use shared::id::Id;
use shared::wire::{self, QuoteApprovalCurrentUser, QuoteAudience, QuotePolicy, QuoteState, Visibility};

use crate::App;
use crate::error::{ApiError, ApiResult};
use crate::keys;
use crate::model::{self, StatusRecord};
use crate::policy::visibility;

/// A `quote_approval_policy` / `source[quote_policy]` value, or 422.
pub fn parse_policy(value: &str) -> ApiResult<QuotePolicy> {
    match value {
        "public" => Ok(QuotePolicy::Public),
        "followers" => Ok(QuotePolicy::Followers),
        "nobody" => Ok(QuotePolicy::Nobody),
        _ => Err(ApiError::invalid("Validation failed: Quote approval policy is not included in the list")),
    }
}

/// The policy that applies to `status`: private and direct statuses are quoted by nobody but
/// their author, whatever was asked (as Mastodon); statuses from before quotes by nobody.
pub fn effective(status: &StatusRecord) -> QuotePolicy {
    match status.visibility {
        Visibility::Private | Visibility::Direct => QuotePolicy::Nobody,
        Visibility::Public | Visibility::Unlisted => status.quote_policy.unwrap_or(QuotePolicy::Nobody),
    }
}

/// Whether `quoter`'s quote of `status` is accepted at once (`follows_author`: the quoter
/// follows its author). The author may always quote their own status.
pub fn automatic(quoter: Id, status: &StatusRecord, follows_author: bool) -> bool {
    if quoter == status.account_id {
        return true;
    }
    match effective(status) {
        QuotePolicy::Public => true,
        QuotePolicy::Followers => follows_author,
        QuotePolicy::Nobody => false,
    }
}

/// Whether [`automatic`] for `quoter` turns on whether they follow `status`'s author (so
/// that edge must be read).
pub fn asks_follow(quoter: Id, status: &StatusRecord) -> bool {
    quoter != status.account_id && effective(status) == QuotePolicy::Followers
}

/// `quote_approval` of `status` for `reader` (`follows_author`: the reader follows its author).
pub fn approval(reader: Option<Id>, status: &StatusRecord, follows_author: bool) -> wire::QuoteApproval {
    let automatic_for = match effective(status) {
        QuotePolicy::Public => vec![QuoteAudience::Public],
        QuotePolicy::Followers => vec![QuoteAudience::Followers],
        QuotePolicy::Nobody => Vec::new(),
    };
    let current_user = match reader {
        None => QuoteApprovalCurrentUser::Unknown,
        Some(reader) if automatic(reader, status, follows_author) => QuoteApprovalCurrentUser::Automatic,
        Some(_) => QuoteApprovalCurrentUser::Denied,
    };
    wire::QuoteApproval { automatic: automatic_for, manual: Vec::new(), current_user }
}

/// Checks that `quoter` may quote `status` now: 404 when they may not see it (its existence is
/// not revealed), 422 when its policy refuses them.
pub async fn check(app: &App, quoter: Id, status: &StatusRecord) -> ApiResult<()> {
    if visibility::visible(app, Some(quoter), vec![status.clone()]).await?.is_empty() {
        return Err(ApiError::NotFound);
    }
    if status.reblog_of.is_some() {
        return Err(ApiError::invalid("Validation failed: Boosts cannot be quoted"));
    }
    let follows = quoter != status.account_id && app.store.get(&keys::follow_edge(quoter, status.account_id)).await?.is_some();
    if automatic(quoter, status, follows) {
        return Ok(());
    }
    let why = match (status.visibility, effective(status)) {
        (Visibility::Private | Visibility::Direct, _) => "Validation failed: Private and direct posts cannot be quoted",
        (_, QuotePolicy::Followers) => "Validation failed: Only followers of the author may quote this post",
        _ => "Validation failed: The author does not allow quotes of this post",
    };
    Err(ApiError::invalid(why))
}

/// What one quote shows its reader.
#[derive(Debug, Clone)]
pub struct QuoteView {
    pub state: QuoteState,
    /// The quoted status, when the reader may see it inside the quote (`accepted`).
    pub quoted: Option<StatusRecord>,
}

/// The quotes of `quoting` (statuses with a quote) as `reader` may see them, by quoting status:
/// one batched read (the quoted records and the quotes' edges) and the visibility rules' own
/// batch. A quoted status deleted shows as `deleted`, a revoked quote as `revoked`, one the
/// reader may not see (visibility, a block either way, a suspended author) as `unauthorized`.
pub async fn views(app: &App, reader: Option<Id>, quoting: &[&StatusRecord]) -> ApiResult<HashMap<Id, QuoteView>> {
    let quotes: Vec<(Id, Id)> = quoting.iter().filter_map(|r| r.quote.map(|q| (r.id, q.status))).collect();
    if quotes.is_empty() {
        return Ok(HashMap::new());
    }
    let mut read = Vec::with_capacity(quotes.len() * 2);
    for (quoting, quoted) in &quotes {
        read.push(keys::status(*quoted));
        read.push(keys::quote_edge(*quoted, *quoting));
    }
    let items = app.store.get_many(&read).await?;
    let mut records: HashMap<Id, StatusRecord> = HashMap::new();
    let mut standing: HashMap<Id, bool> = HashMap::new();
    for ((quoting, _), pair) in quotes.iter().zip(items.chunks(2)) {
        if let [Some(record), edge] = pair {
            let record: StatusRecord = model::decode(record)?;
            records.insert(record.id, record);
            standing.insert(*quoting, edge.is_some());
        }
    }
    let mut candidates: Vec<StatusRecord> = records.values().cloned().collect();
    candidates.sort_unstable_by_key(|r| r.id);
    let seen: HashMap<Id, StatusRecord> = visibility::visible(app, reader, candidates).await?.into_iter().map(|r| (r.id, r)).collect();
    let mut out = HashMap::with_capacity(quotes.len());
    for (quoting, quoted) in quotes {
        let view = match (records.contains_key(&quoted), standing.get(&quoting).copied().unwrap_or(false), seen.get(&quoted)) {
            (false, _, _) => QuoteView { state: QuoteState::Deleted, quoted: None },
            (true, false, _) => QuoteView { state: QuoteState::Revoked, quoted: None },
            (true, true, None) => QuoteView { state: QuoteState::Unauthorized, quoted: None },
            (true, true, Some(record)) => QuoteView { state: QuoteState::Accepted, quoted: Some(record.clone()) },
        };
        out.insert(quoting, view);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(visibility: Visibility, policy: Option<QuotePolicy>) -> StatusRecord {
        StatusRecord { quote_policy: policy, ..StatusRecord::empty(Id::from_u64(100), Id::from_u64(1), visibility, 0) }
    }

    #[test]
    fn policies_accept_whom_they_name_and_the_author_always() {
        let (author, other) = (Id::from_u64(1), Id::from_u64(2));
        let public = status(Visibility::Public, Some(QuotePolicy::Public));
        assert!(automatic(other, &public, false));
        let followers = status(Visibility::Unlisted, Some(QuotePolicy::Followers));
        assert!(!automatic(other, &followers, false));
        assert!(automatic(other, &followers, true));
        let nobody = status(Visibility::Public, Some(QuotePolicy::Nobody));
        assert!(!automatic(other, &nobody, true));
        assert!(automatic(author, &nobody, false));
        // Private posts: nobody but the author, whatever the policy says.
        let private = status(Visibility::Private, Some(QuotePolicy::Public));
        assert!(!automatic(other, &private, true));
        assert!(automatic(author, &private, false));
        assert_eq!(effective(&status(Visibility::Public, None)), QuotePolicy::Nobody);
    }

    #[test]
    fn approval_names_the_audience_and_the_readers_answer() {
        let followers = status(Visibility::Public, Some(QuotePolicy::Followers));
        let a = approval(None, &followers, false);
        assert_eq!((a.automatic, a.current_user), (vec![QuoteAudience::Followers], QuoteApprovalCurrentUser::Unknown));
        assert_eq!(approval(Some(Id::from_u64(2)), &followers, false).current_user, QuoteApprovalCurrentUser::Denied);
        assert_eq!(approval(Some(Id::from_u64(2)), &followers, true).current_user, QuoteApprovalCurrentUser::Automatic);
        assert!(approval(Some(Id::from_u64(2)), &status(Visibility::Direct, Some(QuotePolicy::Public)), true).automatic.is_empty());
        assert!(parse_policy("everyone").is_err());
    }
}
