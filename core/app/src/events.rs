//! Domain events: what the outbox records in the same commit as the change, and what
//! consumers (fanout, notifications, streaming; search and analytics later) react to.

use serde::{Deserialize, Serialize};
use shared::id::Id;
use shared::wire::Visibility;

/// Something that happened, as recorded in the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An account was registered.
    AccountCreated { account: Id },
    /// A profile changed.
    AccountUpdated { account: Id },
    /// A status (or a boost, when `reblog_of` is set) was posted.
    StatusCreated {
        status: Id,
        author: Id,
        visibility: Visibility,
        #[serde(default)]
        reblog_of: Option<Id>,
        #[serde(default)]
        in_reply_to_account: Option<Id>,
        #[serde(default)]
        mentions: Vec<Id>,
    },
    /// A status was edited.
    StatusUpdated { status: Id, author: Id },
    /// A status (or a boost) was deleted.
    StatusDeleted {
        status: Id,
        author: Id,
        visibility: Visibility,
        #[serde(default)]
        reblog_of: Option<Id>,
        #[serde(default)]
        mentions: Vec<Id>,
        /// Its hashtags (streams of those tags hear of the deletion).
        #[serde(default)]
        tags: Vec<String>,
    },
    /// `follower` now follows `target`.
    Followed { follower: Id, target: Id },
    /// `follower` no longer follows `target`.
    Unfollowed { follower: Id, target: Id },
    /// `account` favourited `status`.
    Favourited { account: Id, status: Id, author: Id },
    /// `account` took back a favourite.
    Unfavourited { account: Id, status: Id },
}
