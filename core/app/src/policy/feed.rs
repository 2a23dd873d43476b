//! Which feeds a status belongs in, by Mastodon's rules: a reader's home, the public and tag
//! feeds, whose homes a fanout reaches, which notifications are delivered (and pushed), and
//! which stream events a subscriber gets.

use std::collections::HashSet;

use shared::id::Id;
use shared::wire::Visibility;

use super::Relations;
use crate::App;
use crate::error::ApiResult;
use crate::keys;
use crate::model::{self, AccountStatusEntry, FollowRecord, MuteRecord, Ref, StatusRecord};
use crate::ports::Query;

/// Followers read per page while finding a fanout's recipients.
const FOLLOWER_PAGE: usize = 1000;

/// What the feed rules look at of a status, whichever shape it comes in (record, `AS#` entry,
/// event).
#[derive(Debug, Clone, Copy)]
pub struct FeedItem<'a> {
    pub author: Id,
    pub visibility: Visibility,
    pub reblog_of: Option<Id>,
    pub in_reply_to_account: Option<Id>,
    /// The mentioned accounts (for an `AS#` entry: only a direct status's).
    pub mentions: &'a [Id],
}

impl<'a> FeedItem<'a> {
    /// An `AS#` entry of `author`.
    pub fn entry(author: Id, entry: &'a AccountStatusEntry) -> Self {
        FeedItem { author, visibility: entry.visibility, reblog_of: entry.reblog_of, in_reply_to_account: entry.in_reply_to_account, mentions: &entry.mentions }
    }

    /// A status record; `mentions` are its mentioned ids.
    pub fn record(record: &StatusRecord, mentions: &'a [Id]) -> Self {
        FeedItem {
            author: record.account_id,
            visibility: record.visibility,
            reblog_of: record.reblog_of,
            in_reply_to_account: record.in_reply_to_account_id,
            mentions,
        }
    }
}

/// Whether `item` belongs in `reader`'s home: their own statuses always; direct ones only when
/// the reader is mentioned; replies only when the reader also follows the account replied to
/// (or it is a thread by the author, or a reply to the reader).
pub fn in_home(reader: Id, relations: &Relations, item: &FeedItem<'_>) -> bool {
    if reader == item.author {
        return true;
    }
    if item.visibility == Visibility::Direct {
        return item.mentions.contains(&reader);
    }
    match item.in_reply_to_account {
        None => true,
        Some(target) => target == item.author || target == reader || relations.follows(target),
    }
}

/// Whether `item` is listed in the public feed and its hashtags' feeds (and streamed there):
/// public originals, not boosts.
pub fn in_public(item: &FeedItem<'_>) -> bool {
    item.visibility == Visibility::Public && item.reblog_of.is_none()
}

/// Whether `item` counts for its author's featured tags: a public or unlisted original
/// (Mastodon's `distributable?`).
pub fn distributable(item: &FeedItem<'_>) -> bool {
    matches!(item.visibility, Visibility::Public | Visibility::Unlisted) && item.reblog_of.is_none()
}

/// Whose home timelines `item` goes to (or leaves): the author, and the followers whose home
/// it belongs in (boosts only to followers showing the author's boosts). `author_pulled`: the
/// author's posts are merged in at read time (a celebrity), so no follower is pushed to.
pub async fn home_recipients(app: &App, item: &FeedItem<'_>, author_pulled: bool) -> ApiResult<Vec<Id>> {
    let author = item.author;
    let mut out = vec![author];
    if item.visibility == Visibility::Direct {
        // As Mastodon: the homes of mentioned accounts that follow the author (the others see it
        // in their mentions), which is also exactly what a rebuild or a backfill finds again.
        let mentioned: Vec<Id> = item.mentions.iter().copied().filter(|m| *m != author).collect();
        let edges = app.store.get_many(&mentioned.iter().map(|m| keys::follow_edge(*m, author)).collect::<Vec<_>>()).await?;
        out.extend(mentioned.iter().zip(edges).filter_map(|(m, edge)| edge.map(|_| *m)));
        return Ok(out);
    }
    if author_pulled {
        return Ok(out);
    }
    let mut query = Query::partition(keys::followers_partition(author), FOLLOWER_PAGE);
    loop {
        let page = app.store.query(&query).await?;
        let Some(last) = page.last() else { break };
        query.after = Some(last.key.sk.clone());
        let followers: Vec<Id> = page.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect::<ApiResult<_>>()?;
        let mut accepted: Vec<Id> = followers.clone();
        if let Some(target) = item.in_reply_to_account.filter(|t| *t != author) {
            let edges = app.store.get_many(&followers.iter().map(|f| keys::follow_edge(*f, target)).collect::<Vec<_>>()).await?;
            let follows_target: HashSet<Id> = followers.iter().zip(edges).filter_map(|(f, e)| e.map(|_| *f)).collect();
            let (follows, not) = (Relations::following(HashSet::from([target])), Relations::default());
            accepted.retain(|f| in_home(*f, if follows_target.contains(f) { &follows } else { &not }, item));
        }
        if item.reblog_of.is_some() {
            let edges = app.store.get_many(&accepted.iter().map(|f| keys::follow_edge(*f, author)).collect::<Vec<_>>()).await?;
            let mut wanted = Vec::with_capacity(accepted.len());
            for (f, edge) in accepted.iter().zip(edges) {
                let shows = match edge {
                    Some(item) => model::decode::<FollowRecord>(&item)?.reblogs,
                    None => false,
                };
                if shows {
                    wanted.push(*f);
                }
            }
            accepted = wanted;
        }
        out.extend(unmuted(app, accepted, author).await?);
        if page.len() < FOLLOWER_PAGE {
            break;
        }
    }
    Ok(out)
}

/// Those of `followers` who do not mute `author` (unexpired mutes): fanout skips the others,
/// and reads judge mutes again (a mute made after the fanout, or lifted before the read).
async fn unmuted(app: &App, followers: Vec<Id>, author: Id) -> ApiResult<Vec<Id>> {
    if followers.is_empty() {
        return Ok(followers);
    }
    let mutes = app.store.get_many(&followers.iter().map(|f| keys::mute_edge(*f, author)).collect::<Vec<_>>()).await?;
    let now = crate::clock::now_ms();
    let mut out = Vec::with_capacity(followers.len());
    for (follower, mute) in followers.into_iter().zip(mutes) {
        let muting = match mute {
            Some(item) => model::decode::<MuteRecord>(&item)?.active(now),
            None => false,
        };
        if !muting {
            out.push(follower);
        }
    }
    Ok(out)
}

/// Whether `recipient` is told about what `from` did (a notification of type `kind`): nobody
/// is notified of their own actions (but of the end of their own poll), nor across a block (either way), nor by an account whose notifications the
/// recipient mutes. `relations`: the recipient's relations to `from`.
pub fn notification_wanted(kind: &str, recipient: Id, from: Id, relations: &Relations) -> bool {
    // The one notification of one's own act: one's own poll ended.
    if recipient == from {
        return kind == "poll";
    }
    !relations.blocked(from) && !relations.mutes_notifications(from)
}

/// Whether a direct status by `author` joins `recipient`'s conversations: always the author's
/// own; a mentioned account's unless a block stands between them (either way) or the
/// recipient mutes the author (unexpired). `relations`: the recipient's relations to `author`.
pub fn joins_conversation(recipient: Id, author: Id, relations: &Relations) -> bool {
    recipient == author || (!relations.blocked(author) && !relations.mutes(author))
}

/// Whether a new status notifies the accounts that asked to hear of its author's posts: posts,
/// not boosts or replies to others; direct posts reach only those mentioned (as mentions).
pub fn notifies_subscribers(item: &FeedItem<'_>) -> bool {
    let reply_to_other = item.in_reply_to_account.is_some_and(|t| t != item.author);
    item.reblog_of.is_none() && item.visibility != Visibility::Direct && !reply_to_other
}

/// Whether a Web Push subscription with `policy` (`all`, `followed`, `follower`, `none`)
/// accepts a notification from a sender; `related` is whether the relation that policy names
/// holds (the recipient follows the sender for `followed`, the sender follows the recipient
/// for `follower`).
pub fn push_accepts(policy: &str, related: bool) -> bool {
    match policy {
        "all" => true,
        "followed" | "follower" => related,
        _ => false,
    }
}

/// Whether a stream subscription gets an event named `event` (`update`, `delete`,
/// `status.update`, `notification`) from its channel: a notifications-only subscription
/// gets notifications only.
pub fn stream_delivers(notifications_only: bool, event: &str) -> bool {
    !notifications_only || event == "notification"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> Id {
        Id::from_u64(n)
    }

    fn item(author: u64, visibility: Visibility, reply_to: Option<u64>, mentions: &[Id]) -> FeedItem<'_> {
        FeedItem { author: id(author), visibility, reblog_of: None, in_reply_to_account: reply_to.map(id), mentions }
    }

    #[test]
    fn replies_reach_a_home_only_when_the_reader_follows_both_sides() {
        let reply = item(1, Visibility::Public, Some(2), &[]);
        assert!(!in_home(id(3), &Relations::default(), &reply));
        assert!(in_home(id(3), &Relations::following(HashSet::from([id(2)])), &reply));
        assert!(in_home(id(2), &Relations::default(), &reply), "a reply to the reader");
        assert!(in_home(id(3), &Relations::default(), &item(1, Visibility::Public, Some(1), &[])), "a thread by the author");
    }

    #[test]
    fn direct_statuses_reach_only_mentioned_homes() {
        let mentions = [id(2)];
        let direct = item(1, Visibility::Direct, None, &mentions);
        assert!(in_home(id(2), &Relations::default(), &direct));
        assert!(!in_home(id(3), &Relations::default(), &direct));
        assert!(in_home(id(1), &Relations::default(), &direct));
    }

    #[test]
    fn public_feeds_list_public_originals_only() {
        assert!(in_public(&item(1, Visibility::Public, None, &[])));
        assert!(!in_public(&item(1, Visibility::Unlisted, None, &[])));
        assert!(!in_public(&FeedItem { reblog_of: Some(id(9)), ..item(1, Visibility::Public, None, &[]) }));
    }

    #[test]
    fn subscribers_hear_of_posts_but_not_replies_to_others_boosts_or_direct_posts() {
        assert!(notifies_subscribers(&item(1, Visibility::Public, None, &[])));
        assert!(notifies_subscribers(&item(1, Visibility::Public, Some(1), &[])));
        assert!(!notifies_subscribers(&item(1, Visibility::Public, Some(2), &[])));
        assert!(!notifies_subscribers(&item(1, Visibility::Direct, None, &[])));
        assert!(!notifies_subscribers(&FeedItem { reblog_of: Some(id(9)), ..item(1, Visibility::Public, None, &[]) }));
    }

    #[test]
    fn nobody_is_notified_of_their_own_actions() {
        assert!(!notification_wanted("favourite", id(1), id(1), &Relations::default()));
        assert!(notification_wanted("poll", id(1), id(1), &Relations::default()));
        assert!(notification_wanted("favourite", id(1), id(2), &Relations::default()));
    }

    #[test]
    fn push_policies_and_notification_streams_filter_as_mastodon() {
        assert!(push_accepts("all", false));
        assert!(!push_accepts("none", true));
        assert!(push_accepts("followed", true) && !push_accepts("followed", false));
        assert!(stream_delivers(true, "notification") && !stream_delivers(true, "update") && stream_delivers(false, "update"));
    }
}
