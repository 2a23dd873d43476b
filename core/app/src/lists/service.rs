//! The list use cases over typed commands; no HTTP type reaches here.

use std::collections::HashSet;

use shared::id::Id;
use shared::wire::ListRepliesPolicy;

use super::timeline::list_key;
use super::writes::{self, ListConflict, MemberConflict};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, ListRecord, MembershipRecord};
use crate::policy::lists::exclusive_members;
use crate::ports::Query;
use crate::scan::RefScan;
use crate::timelines::home_key;
use crate::transaction::RACE_RETRIES;
use crate::{App, keys};

/// Lists an account may have (as Mastodon).
pub const MAX_LISTS: usize = 50;
/// Members a list may have.
pub const MAX_MEMBERS: u64 = 500;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 256;
/// Accounts one request may add or remove.
pub const MAX_PER_REQUEST: usize = 100;

/// A list's title: not blank, at most [`MAX_TITLE_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListTitle(String);

impl ListTitle {
    /// Parses a title as typed (surrounding whitespace dropped).
    pub fn parse(raw: &str) -> ApiResult<Self> {
        let title = raw.trim();
        if title.is_empty() {
            return Err(ApiError::invalid("Validation failed: Title can't be blank"));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(ApiError::invalid(format!("Validation failed: Title is too long (maximum is {MAX_TITLE_CHARS} characters)")));
        }
        Ok(ListTitle(title.to_owned()))
    }
}

/// Create a list.
pub struct CreateList {
    pub owner: Id,
    pub title: ListTitle,
    pub replies_policy: ListRepliesPolicy,
    pub exclusive: bool,
}

/// Change a list; what is `None` stays.
pub struct UpdateList {
    pub owner: Id,
    pub list: Id,
    pub title: Option<ListTitle>,
    pub replies_policy: Option<ListRepliesPolicy>,
    pub exclusive: Option<bool>,
}

/// Add accounts to, or remove them from, a list.
pub struct ChangeMembers {
    pub owner: Id,
    pub list: Id,
    pub accounts: Vec<Id>,
}

/// `owner`'s list `list`: 404 when it is not theirs (or does not exist).
pub async fn list(app: &App, owner: Id, list: Id) -> ApiResult<ListRecord> {
    let item = app.store.get(&keys::list(owner, list)).await?.ok_or(ApiError::NotFound)?;
    model::decode(&item)
}

/// `owner`'s lists, oldest first.
pub async fn lists(app: &App, owner: Id) -> ApiResult<Vec<ListRecord>> {
    let items = app.store.query(&Query::partition(keys::lists_partition(owner), MAX_LISTS * 2)).await?;
    items.iter().map(model::decode).collect()
}

/// `owner`'s lists that `account` is a member of.
pub async fn lists_containing(app: &App, owner: Id, account: Id) -> ApiResult<Vec<ListRecord>> {
    let all = lists(app, owner).await?;
    let memberships = app.store.get_many(&all.iter().map(|l| keys::list_member(l.id, account)).collect::<Vec<_>>()).await?;
    Ok(all.into_iter().zip(memberships).filter_map(|(list, membership)| membership.map(|_| list)).collect())
}

/// Creates a list; at most [`MAX_LISTS`] per account.
pub async fn create(app: &App, cmd: CreateList) -> ApiResult<ListRecord> {
    let CreateList { owner, title, replies_policy, exclusive } = cmd;
    let existing = app.store.query(&Query::partition(keys::lists_partition(owner), MAX_LISTS)).await?;
    if existing.len() >= MAX_LISTS {
        return Err(ApiError::invalid(format!("Validation failed: You have reached the maximum number of lists ({MAX_LISTS})")));
    }
    let record = ListRecord { id: app.next_id()?, title: title.0, replies_policy, exclusive };
    match writes::create(app, owner, &record).await? {
        Ok(()) => Ok(record),
        Err(ListConflict::Gone) => Err(ApiError::Conflict("A list with this id exists".into())),
    }
}

/// Changes a list's title, replies policy or exclusivity. Turning exclusivity on takes the
/// members' posts out of the owner's home; turning it off brings them back.
pub async fn update(app: &App, cmd: UpdateList) -> ApiResult<ListRecord> {
    let UpdateList { owner, list: id, title, replies_policy, exclusive } = cmd;
    let before = list(app, owner, id).await?;
    let mut after = before.clone();
    if let Some(title) = title {
        after.title = title.0;
    }
    after.replies_policy = replies_policy.unwrap_or(before.replies_policy);
    after.exclusive = exclusive.unwrap_or(before.exclusive);
    if writes::update(app, owner, &after).await?.is_err() {
        return Err(ApiError::NotFound);
    }
    if before.replies_policy != after.replies_policy {
        // What the timeline holds follows the old policy: let it be rebuilt by the new one.
        app.timelines.drop_timeline(&list_key(id)).await?;
    }
    if before.exclusive != after.exclusive {
        let members = app.list_members(id).await?;
        home_exclusion_changed(app, owner, &members, after.exclusive).await?;
    }
    Ok(after)
}

/// Deletes a list with its memberships and timeline.
pub async fn delete(app: &App, owner: Id, id: Id) -> ApiResult<()> {
    let record = list(app, owner, id).await?;
    if writes::delete(app, owner, id).await?.is_err() {
        return Err(ApiError::NotFound);
    }
    let members = app.list_members(id).await?;
    for member in &members {
        remove_membership(app, id, *member).await?;
    }
    writes::forget_count(app, id).await?;
    app.timelines.drop_timeline(&list_key(id)).await?;
    if record.exclusive {
        home_exclusion_changed(app, owner, &members, false).await?;
    }
    Ok(())
}

/// Adds accounts the owner follows to their list (accounts already in it are left as they
/// are). All or nothing: an unknown account is a 404, one the owner does not follow a 422, as
/// is going over [`MAX_MEMBERS`].
pub async fn add_members(app: &App, cmd: ChangeMembers) -> ApiResult<()> {
    let ChangeMembers { owner, list: id, accounts } = cmd;
    let record = list(app, owner, id).await?;
    let accounts = distinct(accounts)?;
    if accounts.is_empty() {
        return Ok(());
    }
    let known = app.account_records(&accounts).await?;
    if accounts.iter().any(|a| !known.contains_key(a)) {
        return Err(ApiError::NotFound);
    }
    let follows = app.store.get_many(&accounts.iter().map(|a| keys::follow_edge(owner, *a)).collect::<Vec<_>>()).await?;
    if follows.iter().any(Option::is_none) {
        return Err(ApiError::invalid("Validation failed: You can only add accounts you follow to a list"));
    }
    let memberships = app.store.get_many(&accounts.iter().map(|a| keys::list_member(id, *a)).collect::<Vec<_>>()).await?;
    let new: Vec<Id> = accounts.iter().zip(memberships).filter_map(|(a, m)| m.is_none().then_some(*a)).collect();
    let count = model::count(app.store.get(&keys::list_member_count(id)).await?.as_ref());
    if count + new.len() as u64 > MAX_MEMBERS {
        return Err(ApiError::invalid(format!("Validation failed: A list may have at most {MAX_MEMBERS} members")));
    }
    let mut added = Vec::with_capacity(new.len());
    for account in new {
        match writes::add_member(app, owner, id, account, &MembershipRecord { id: app.next_id()? }).await? {
            Ok(()) => added.push(account),
            // A concurrent request added it: a member either way.
            Err(MemberConflict::Changed) => {}
        }
    }
    for account in &added {
        app.backfill_list(owner, &record, *account).await?;
    }
    if record.exclusive {
        home_exclusion_changed(app, owner, &added, true).await?;
    }
    Ok(())
}

/// Removes accounts from the owner's list (accounts not in it are ignored) and their posts
/// from its timeline.
pub async fn remove_members(app: &App, cmd: ChangeMembers) -> ApiResult<()> {
    let ChangeMembers { owner, list: id, accounts } = cmd;
    let record = list(app, owner, id).await?;
    let accounts = distinct(accounts)?;
    let mut removed = Vec::with_capacity(accounts.len());
    for account in accounts {
        if remove_membership(app, id, account).await? {
            removed.push(account);
        }
    }
    for account in &removed {
        let ids = app.newest_statuses(*account, app.config.timelines.cap).await?;
        app.timelines.remove(&list_key(id), &ids).await?;
    }
    if record.exclusive {
        home_exclusion_changed(app, owner, &removed, false).await?;
    }
    Ok(())
}

/// Takes `target` out of `follower`'s lists once `follower` no longer follows it (as Mastodon:
/// a list holds followed accounts only). Idempotent; a follow made again meanwhile keeps them.
pub async fn follow_ended(app: &App, follower: Id, target: Id) -> ApiResult<()> {
    if app.store.get(&keys::follow_edge(follower, target)).await?.is_some() {
        return Ok(());
    }
    let containing = lists_containing(app, follower, target).await?;
    if containing.is_empty() {
        return Ok(());
    }
    let ids = app.newest_statuses(target, app.config.timelines.cap).await?;
    for list in containing {
        remove_membership(app, list.id, target).await?;
        app.timelines.remove(&list_key(list.id), &ids).await?;
    }
    Ok(())
}

impl App {
    /// The members of a list, in the order they were added.
    pub(crate) async fn list_members(&self, list: Id) -> ApiResult<Vec<Id>> {
        let mut out = Vec::new();
        let mut scan = RefScan::all(keys::list_members_partition(list), 1000);
        while let Some(page) = scan.next(self).await? {
            out.extend(page);
        }
        Ok(out)
    }
}

/// Removes `account` from `list` if it is a member; whether it was.
async fn remove_membership(app: &App, list: Id, account: Id) -> ApiResult<bool> {
    for _ in 0..RACE_RETRIES {
        let Some(item) = app.store.get(&keys::list_member(list, account)).await? else { return Ok(false) };
        let membership: MembershipRecord = model::decode(&item)?;
        match writes::remove_member(app, list, account, &membership).await? {
            Ok(()) => return Ok(true),
            Err(MemberConflict::Changed) => continue,
        }
    }
    Ok(false)
}

/// Brings `home` in line with a change of what the owner's exclusive lists hold: `accounts`
/// were just put in one (`excluded`), and leave the owner's home, or left one, and come back
/// to it unless another exclusive list still holds them.
async fn home_exclusion_changed(app: &App, owner: Id, accounts: &[Id], excluded: bool) -> ApiResult<()> {
    if accounts.is_empty() {
        return Ok(());
    }
    if excluded {
        for account in accounts {
            let ids = app.newest_statuses(*account, app.config.timelines.cap).await?;
            app.timelines.remove(&home_key(owner), &ids).await?;
        }
        return Ok(());
    }
    let still_excluded = exclusive_members(app, owner).await?;
    for account in accounts.iter().filter(|a| !still_excluded.contains(a)) {
        if app.store.get(&keys::follow_edge(owner, *account)).await?.is_some() {
            app.backfill_home(owner, *account).await?;
        }
    }
    Ok(())
}

/// The accounts of a request, each once, at most [`MAX_PER_REQUEST`].
fn distinct(accounts: Vec<Id>) -> ApiResult<Vec<Id>> {
    let mut seen = HashSet::new();
    let accounts: Vec<Id> = accounts.into_iter().filter(|a| seen.insert(*a)).collect();
    if accounts.len() > MAX_PER_REQUEST {
        return Err(ApiError::invalid(format!("At most {MAX_PER_REQUEST} accounts at a time")));
    }
    Ok(accounts)
}
