//! Which list timelines a status belongs in, and what exclusive lists keep out of their owner's
//! home. A list shows its members' posts by the home rules, except replies to others, which
//! its `replies_policy` decides; direct posts never enter a list (as Mastodon).

use std::collections::HashSet;

use shared::id::Id;
use shared::wire::{ListRepliesPolicy, Visibility};

use super::feed::FeedItem;
use crate::App;
use crate::error::ApiResult;
use crate::keys;
use crate::model::{self, FollowRecord, ListOf, ListRecord, MuteRecord, Ref};
use crate::ports::Query;

/// Lists read per page of an account's memberships.
const MEMBERSHIP_PAGE: usize = 1000;
/// An account's lists read at most (above the per-account cap, so none is missed).
const OWNER_LISTS: usize = 1000;
/// A list's members read at most (above the per-list cap).
const LIST_MEMBERS: usize = 10_000;

/// A list holding some author, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct ListTarget {
    pub list: Id,
    pub owner: Id,
    pub replies_policy: ListRepliesPolicy,
    pub exclusive: bool,
}

/// Whether `item`, by one of the list's members, belongs in the list's timeline.
/// `owner_follows_target` and `target_is_member` answer for the account replied to.
pub fn in_list(policy: ListRepliesPolicy, owner_follows_target: bool, target_is_member: bool, item: &FeedItem<'_>) -> bool {
    if item.visibility == Visibility::Direct {
        return false;
    }
    match item.in_reply_to_account {
        None => true,
        Some(target) if target == item.author => true,
        Some(_) => match policy {
            ListRepliesPolicy::Followed => owner_follows_target,
            ListRepliesPolicy::List => target_is_member,
            ListRepliesPolicy::None => false,
        },
    }
}

/// The lists `author` is a member of (lists deleted meanwhile left out).
pub async fn lists_with(app: &App, author: Id) -> ApiResult<Vec<ListTarget>> {
    let mut out = Vec::new();
    let mut query = Query::partition(keys::member_of_partition(author), MEMBERSHIP_PAGE);
    loop {
        let page = app.store.query(&query).await?;
        let Some(last) = page.last() else { break };
        query.after = Some(last.key.sk.clone());
        let mut listed = Vec::with_capacity(page.len());
        for item in &page {
            let Some(list) = Id::from_sort_key(&item.key.sk) else { continue };
            listed.push((list, model::decode::<ListOf>(item)?.owner));
        }
        let records = app.store.get_many(&listed.iter().map(|(list, owner)| keys::list(*owner, *list)).collect::<Vec<_>>()).await?;
        for ((list, owner), record) in listed.into_iter().zip(records) {
            let Some(record) = record else { continue };
            let record: ListRecord = model::decode(&record)?;
            out.push(ListTarget { list, owner, replies_policy: record.replies_policy, exclusive: record.exclusive });
        }
        if page.len() < MEMBERSHIP_PAGE {
            break;
        }
    }
    Ok(out)
}

/// The lists of `lists` (those holding `item`'s author) whose timelines `item` goes to: by
/// [`in_list`], less lists of owners muting the author, and boosts only for owners who show
/// the author's boosts (as home).
pub async fn list_recipients(app: &App, item: &FeedItem<'_>, lists: &[ListTarget]) -> ApiResult<Vec<ListTarget>> {
    if lists.is_empty() || item.visibility == Visibility::Direct {
        return Ok(Vec::new());
    }
    let owners: Vec<Id> = lists.iter().map(|l| l.owner).collect::<HashSet<_>>().into_iter().collect();
    let follows = app.store.get_many(&owners.iter().map(|o| keys::follow_edge(*o, item.author)).collect::<Vec<_>>()).await?;
    let mutes = app.store.get_many(&owners.iter().map(|o| keys::mute_edge(*o, item.author)).collect::<Vec<_>>()).await?;
    let now = crate::clock::now_ms();
    let mut accepting = HashSet::new();
    for ((owner, follow), mute) in owners.iter().zip(follows).zip(mutes) {
        let shows_boosts = match follow {
            Some(f) => model::decode::<FollowRecord>(&f)?.reblogs,
            None => false,
        };
        let muting = match mute {
            Some(m) => model::decode::<MuteRecord>(&m)?.active(now),
            None => false,
        };
        if !muting && (item.reblog_of.is_none() || shows_boosts) {
            accepting.insert(*owner);
        }
    }
    let candidates: Vec<ListTarget> = lists.iter().copied().filter(|l| accepting.contains(&l.owner)).collect();
    let Some(target) = item.in_reply_to_account.filter(|t| *t != item.author) else {
        return Ok(candidates.into_iter().filter(|l| in_list(l.replies_policy, false, false, item)).collect());
    };
    let followed = app.store.get_many(&candidates.iter().map(|l| keys::follow_edge(l.owner, target)).collect::<Vec<_>>()).await?;
    let members = app.store.get_many(&candidates.iter().map(|l| keys::list_member(l.list, target)).collect::<Vec<_>>()).await?;
    Ok(candidates
        .into_iter()
        .zip(followed.into_iter().zip(members))
        .filter(|(l, (followed, member))| in_list(l.replies_policy, followed.is_some(), member.is_some(), item))
        .map(|(l, _)| l)
        .collect())
}

/// The owners whose homes `lists` (those holding an author) keep the author's posts out of.
pub fn exclusive_owners(lists: &[ListTarget]) -> HashSet<Id> {
    lists.iter().filter(|l| l.exclusive).map(|l| l.owner).collect()
}

/// The members of `owner`'s exclusive lists: accounts whose posts stay out of `owner`'s home.
pub async fn exclusive_members(app: &App, owner: Id) -> ApiResult<HashSet<Id>> {
    let lists = app.store.query(&Query::partition(keys::lists_partition(owner), OWNER_LISTS)).await?;
    let mut out = HashSet::new();
    for item in &lists {
        let list: ListRecord = model::decode(item)?;
        if list.exclusive {
            let members = app.store.query(&Query::partition(keys::list_members_partition(list.id), LIST_MEMBERS)).await?;
            for member in &members {
                out.insert(model::decode::<Ref>(member)?.id);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> Id {
        Id::from_u64(n)
    }

    fn reply(author: u64, to: Option<u64>) -> FeedItem<'static> {
        FeedItem { author: id(author), visibility: Visibility::Public, reblog_of: None, in_reply_to_account: to.map(id), mentions: &[] }
    }

    #[test]
    fn replies_to_others_follow_the_lists_policy_and_threads_always_show() {
        let to_other = reply(1, Some(2));
        assert!(in_list(ListRepliesPolicy::Followed, true, false, &to_other));
        assert!(!in_list(ListRepliesPolicy::Followed, false, true, &to_other));
        assert!(in_list(ListRepliesPolicy::List, false, true, &to_other));
        assert!(!in_list(ListRepliesPolicy::List, true, false, &to_other));
        assert!(!in_list(ListRepliesPolicy::None, true, true, &to_other));
        for policy in [ListRepliesPolicy::Followed, ListRepliesPolicy::List, ListRepliesPolicy::None] {
            assert!(in_list(policy, false, false, &reply(1, None)));
            assert!(in_list(policy, false, false, &reply(1, Some(1))), "a thread by the member");
        }
    }

    #[test]
    fn direct_posts_never_enter_a_list() {
        let direct = FeedItem { visibility: Visibility::Direct, ..reply(1, None) };
        assert!(!in_list(ListRepliesPolicy::Followed, true, true, &direct));
    }
}
