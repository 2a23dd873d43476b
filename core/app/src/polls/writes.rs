//! The store writes of polls: a vote, and claiming a poll's end.

use shared::id::Id;

use crate::error::ApiResult;
use crate::events::Event;
use crate::model::{self, PollDue, VoteRecord};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why a vote did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteConflict {
    /// The account voted in this round already (maybe concurrently).
    AlreadyVoted,
}

/// Why ending a poll did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndConflict {
    /// Another process (or an earlier scan) ended it, or an edit moved its end.
    NotDue,
}

/// Records `vote` in round `round` of the poll of `status`: the vote item (one per voter) and
/// the counters, added to (never read and rewritten), so concurrent votes all count.
pub async fn vote(app: &App, status: Id, round: u32, vote: &VoteRecord) -> ApiResult<Result<(), VoteConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::poll_vote(status, round, vote.account), vote, Condition::NotExists)?, VoteConflict::AlreadyVoted);
    for choice in &vote.choices {
        tx.push(Write::Add { key: keys::poll_option_votes(status, round, *choice), delta: 1 });
    }
    tx.push(Write::Add { key: keys::poll_voters(status, round), delta: 1 });
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Ends the poll scheduled at `expires_at`: deletes its schedule entry (it must still be
/// there, so exactly one process ends each poll) and logs `PollEnded` in the same commit.
pub async fn end(app: &App, expires_at: u64, due: PollDue) -> ApiResult<Result<(), EndConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::poll_due(expires_at, due.status), condition: Condition::Exists }, EndConflict::NotDue);
    Ok(tx.commit(app.store.as_ref(), vec![Event::PollEnded { status: due.status, author: due.author }]).await?)
}
