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
    /// `follower` asked to follow `target`, a locked account.
    FollowRequested { follower: Id, target: Id },
    /// `follower`'s request to follow `target` ended: authorized (the follow now exists), or
    /// rejected or withdrawn.
    FollowRequestClosed { follower: Id, target: Id, authorized: bool },
    /// `account` favourited `status`.
    Favourited { account: Id, status: Id, author: Id },
    /// `account` took back a favourite.
    Unfavourited { account: Id, status: Id },
    /// The poll of `status` (by `author`) ended: its voters and its author hear of it.
    PollEnded { status: Id, author: Id },
}

impl Event {
    /// The account that acted: the aggregate whose events must stay in order (an external
    /// feed partitions by it, so one account's events keep their outbox order).
    pub fn actor(&self) -> Id {
        match self {
            Event::AccountCreated { account } | Event::AccountUpdated { account } => *account,
            Event::StatusCreated { author, .. }
            | Event::StatusUpdated { author, .. }
            | Event::StatusDeleted { author, .. }
            | Event::PollEnded { author, .. } => *author,
            // A follow's whole story (asked, authorized, ended) stays in order by the follower.
            Event::Followed { follower, .. }
            | Event::Unfollowed { follower, .. }
            | Event::FollowRequested { follower, .. }
            | Event::FollowRequestClosed { follower, .. } => *follower,
            Event::Favourited { account, .. } | Event::Unfavourited { account, .. } => *account,
        }
    }

    /// The partition of a log of `partitions` this event is committed to: its actor's.
    pub fn partition(&self, partitions: u32) -> u32 {
        crate::cursor::partition_of(self.actor(), partitions)
    }

    /// The partition key of this event on an external feed (Kinesis): its [`Event::actor`].
    pub fn partition_key(&self) -> String {
        self.actor().to_string()
    }

    /// Its type as recorded (`status_created`, `followed`, …): the `type` tag of its JSON.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::AccountCreated { .. } => "account_created",
            Event::AccountUpdated { .. } => "account_updated",
            Event::StatusCreated { .. } => "status_created",
            Event::StatusUpdated { .. } => "status_updated",
            Event::StatusDeleted { .. } => "status_deleted",
            Event::Followed { .. } => "followed",
            Event::Unfollowed { .. } => "unfollowed",
            Event::FollowRequested { .. } => "follow_requested",
            Event::FollowRequestClosed { .. } => "follow_request_closed",
            Event::Favourited { .. } => "favourited",
            Event::Unfavourited { .. } => "unfavourited",
            Event::PollEnded { .. } => "poll_ended",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Event> {
        let (a, b, s) = (Id::from_u64(7), Id::from_u64(8), Id::from_u64(9));
        vec![
            Event::AccountCreated { account: a },
            Event::AccountUpdated { account: a },
            Event::StatusCreated { status: s, author: a, visibility: Visibility::Public, reblog_of: None, in_reply_to_account: Some(b), mentions: vec![b] },
            Event::StatusUpdated { status: s, author: a },
            Event::StatusDeleted { status: s, author: a, visibility: Visibility::Public, reblog_of: None, mentions: vec![b], tags: vec![] },
            Event::Followed { follower: a, target: b },
            Event::Unfollowed { follower: a, target: b },
            Event::FollowRequested { follower: a, target: b },
            Event::FollowRequestClosed { follower: a, target: b, authorized: true },
            Event::Favourited { account: a, status: s, author: b },
            Event::Unfavourited { account: a, status: s },
            Event::PollEnded { status: s, author: a },
        ]
    }

    #[test]
    fn the_partition_key_is_the_acting_account() {
        for event in every_kind() {
            assert_eq!(event.actor(), Id::from_u64(7), "{event:?}");
            assert_eq!(event.partition_key(), Id::from_u64(7).to_string());
        }
    }

    #[test]
    fn type_names_are_the_recorded_type_tags() {
        for event in every_kind() {
            let json = serde_json::to_value(&event).unwrap_or_default();
            assert_eq!(json.get("type").and_then(|t| t.as_str()), Some(event.type_name()), "{event:?}");
        }
    }
}
