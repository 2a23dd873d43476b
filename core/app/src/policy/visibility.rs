//! May reader R see status S: the visibility rules (public, unlisted, followers-only, direct)
//! and the relations they need, loaded in one batch per page.

use std::collections::{HashMap, HashSet};

use shared::id::Id;
use shared::wire::Visibility;

use crate::App;
use crate::error::ApiResult;
use crate::keys;
use crate::model::{self, AccountStatusEntry, ModerationRecord, MuteRecord, Ref, StatusRecord};
use crate::ports::{Key, Query};

/// Most followed accounts whose private statuses a reader's search considers.
const MAX_SEARCH_FOLLOWED: usize = 10_000;

/// What the rules know about the reader's relations to the accounts in question. Loaded for
/// the accounts a page needs, not the whole graph: all of them sit in the reader's own
/// partition (`A#{reader}`), so one batched read per page.
#[derive(Debug, Clone, Default)]
pub struct Relations {
    following: HashSet<Id>,
    /// Accounts the reader blocks, or that block the reader: neither side sees the other.
    blocked: HashSet<Id>,
    /// Accounts the reader mutes (unexpired mutes only), and whether notifications too.
    muted: HashMap<Id, bool>,
}

/// The relation items loaded per account.
const PER_ACCOUNT: usize = 4;

impl Relations {
    /// Relations from a set of accounts the reader follows (callers that already read it).
    pub fn following(following: HashSet<Id>) -> Self {
        Relations { following, ..Relations::default() }
    }

    /// The reader's follows, blocks (both ways) and mutes among `accounts` (one batched read;
    /// the reader itself is left out).
    pub async fn load(app: &App, reader: Id, accounts: &[Id]) -> ApiResult<Self> {
        let mut accounts: Vec<Id> = accounts.iter().copied().filter(|a| *a != reader).collect();
        accounts.sort_unstable();
        accounts.dedup();
        if accounts.is_empty() {
            return Ok(Relations::default());
        }
        let mut keys: Vec<Key> = Vec::with_capacity(accounts.len() * PER_ACCOUNT);
        for a in &accounts {
            keys.extend([keys::follow_edge(reader, *a), keys::block_edge(reader, *a), keys::blocked_by(reader, *a), keys::mute_edge(reader, *a)]);
        }
        let items = app.store.get_many(&keys).await?;
        Self::from_items(accounts, &items)
    }

    /// The reader's relations to one `other` account, as [`Relations::load`] reads them but
    /// from `other`'s partition (the edges' mirrors there: `followedby#`, `blockedby#`,
    /// `blocks#`, `mutedby#`). A notification's check of its recipient's relations to the
    /// sender reads so: every favourite of a celebrity's post would otherwise read the
    /// celebrity's partition.
    pub async fn load_toward(app: &App, reader: Id, other: Id) -> ApiResult<Self> {
        if reader == other {
            return Ok(Relations::default());
        }
        let keys = [keys::followed_by(other, reader), keys::blocked_by(other, reader), keys::block_edge(other, reader), keys::muted_by(other, reader)];
        let items = app.store.get_many(&keys).await?;
        Self::from_items(vec![other], &items)
    }

    /// Relations from the items of `accounts`, [`PER_ACCOUNT`] each: the reader's follow, its
    /// block, a block of the reader, its mute.
    fn from_items(accounts: Vec<Id>, items: &[Option<crate::ports::Item>]) -> ApiResult<Self> {
        let now = crate::clock::now_ms();
        let mut relations = Relations::default();
        for (a, chunk) in accounts.into_iter().zip(items.chunks(PER_ACCOUNT)) {
            let [follow, block, blocked_by, mute] = chunk else { continue };
            if follow.is_some() {
                relations.following.insert(a);
            }
            if block.is_some() || blocked_by.is_some() {
                relations.blocked.insert(a);
            }
            if let Some(item) = mute {
                let mute: MuteRecord = model::decode(item)?;
                if mute.active(now) {
                    relations.muted.insert(a, mute.notifications);
                }
            }
        }
        Ok(relations)
    }

    /// Whether the reader follows `account`.
    pub fn follows(&self, account: Id) -> bool {
        self.following.contains(&account)
    }

    /// The followed accounts among those loaded.
    pub fn followed(&self) -> &HashSet<Id> {
        &self.following
    }

    /// Whether a block stands between the reader and `account`, either way.
    pub fn blocked(&self, account: Id) -> bool {
        self.blocked.contains(&account)
    }

    /// Whether the reader mutes `account` (unexpired).
    pub fn mutes(&self, account: Id) -> bool {
        self.muted.contains_key(&account)
    }

    /// Whether the reader mutes `account`'s notifications too.
    pub fn mutes_notifications(&self, account: Id) -> bool {
        self.muted.get(&account).copied().unwrap_or(false)
    }
}

/// Who is reading (`None`: anonymous) and their relations to the authors in question.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    account: Option<Id>,
    relations: Relations,
    /// Moderators' actions on the authors in question (those with any).
    moderation: HashMap<Id, ModerationRecord>,
}

impl Viewer {
    /// A reader with the relations already known (and no author moderated).
    pub fn new(account: Option<Id>, relations: Relations) -> Self {
        Viewer { account, relations, moderation: HashMap::new() }
    }

    /// Loads what the rules need to judge `statuses` (by their authors, and for boosts the
    /// boosted statuses' authors in `original_authors`): moderators' actions on those authors
    /// and a signed-in reader's follows, blocks and mutes among them.
    pub async fn load(app: &App, account: Option<Id>, statuses: &[StatusRecord], original_authors: &HashMap<Id, Id>) -> ApiResult<Self> {
        let mut authors: Vec<Id> = statuses.iter().map(|r| r.account_id).collect();
        authors.extend(original_authors.values().copied());
        authors.sort_unstable();
        authors.dedup();
        let relations = match account {
            Some(reader) if !authors.is_empty() => Relations::load(app, reader, &authors).await?,
            _ => Relations::default(),
        };
        Ok(Viewer { account, relations, moderation: moderation_of(app, &authors).await? })
    }

    /// Whether a moderator suspended `account`: its statuses are gone for everyone.
    pub fn suspended(&self, account: Id) -> bool {
        self.moderation.get(&account).is_some_and(|m| m.suspended_at.is_some())
    }

    /// Whether a moderator silenced `account`.
    pub fn silenced(&self, account: Id) -> bool {
        self.moderation.get(&account).is_some_and(|m| m.silenced_at.is_some())
    }

    /// The reader's relations.
    pub fn relations(&self) -> &Relations {
        &self.relations
    }
}

/// Whether `viewer` may see `status`: never a suspended author's, nor across a block (either
/// way); public and unlisted to everyone; followers-only to the
/// author, followers and mentioned accounts; direct to the author and mentioned accounts.
pub fn can_see(viewer: &Viewer, status: &StatusRecord) -> bool {
    if viewer.suspended(status.account_id) {
        return false;
    }
    let Some(reader) = viewer.account else { return matches!(status.visibility, Visibility::Public | Visibility::Unlisted) };
    if viewer.relations.blocked(status.account_id) {
        return false;
    }
    let participant = reader == status.account_id || status.mentions.iter().any(|m| m.id == reader);
    match status.visibility {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Private => participant || viewer.relations.follows(status.account_id),
        Visibility::Direct => participant,
    }
}

/// Whether a block stands between `a` and `b`, either way (then neither may follow the other).
pub async fn blocked_between(app: &App, a: Id, b: Id) -> ApiResult<bool> {
    let items = app.store.get_many(&[keys::block_edge(a, b), keys::blocked_by(a, b)]).await?;
    Ok(items.iter().any(Option::is_some))
}

/// Most blocks (each way) and mutes a stream's filter holds.
const MAX_HIDDEN: usize = 10_000;

/// The accounts whose statuses and boosts `reader`'s streams leave out: those the reader
/// blocks, those that block the reader, and those the reader mutes (unexpired). Three queries
/// of the reader's own partition, for streams that judge many messages against one reader.
pub async fn hidden_accounts(app: &App, reader: Id) -> ApiResult<HashSet<Id>> {
    let mut hidden = HashSet::new();
    let now = crate::clock::now_ms();
    for prefix in [keys::BLOCKS_PREFIX, keys::BLOCKED_BY_PREFIX, keys::MUTES_PREFIX] {
        let query = Query { prefix: Some(prefix.to_owned()), ..Query::partition(keys::account_partition(reader), MAX_HIDDEN) };
        for item in app.store.query(&query).await? {
            let Some(account) = item.key.sk.strip_prefix(prefix).and_then(|id| id.parse::<Id>().ok()) else { continue };
            if prefix == keys::MUTES_PREFIX && !model::decode::<MuteRecord>(&item)?.active(now) {
                continue;
            }
            hidden.insert(account);
        }
    }
    Ok(hidden)
}

/// Whether the files of an attachment held by `status` may be served to anyone, on stable URLs:
/// only when an anonymous reader may see the status. Files of other statuses, and of attachments
/// no status holds (`None`: only the uploader sees them), are served on signed URLs only, which
/// are rendered for viewers [`can_see`] admits.
pub fn media_public(status: Option<&StatusRecord>) -> bool {
    status.is_some_and(|s| can_see(&Viewer::default(), s))
}

/// Keeps the records `viewer` may see, in order (loads the relations they need). A boost is
/// kept only when its original's author is not blocked either.
pub async fn visible(app: &App, viewer: Option<Id>, records: Vec<StatusRecord>) -> ApiResult<Vec<StatusRecord>> {
    Ok(judge(app, viewer, records).await?.0.into_iter().map(|(record, _)| record).collect())
}

/// Keeps the records that belong in `viewer`'s feeds (home, public, tag timelines): those
/// [`visible`] keeps, less the statuses and boosts of accounts the viewer mutes, and of
/// silenced accounts the viewer does not follow.
pub async fn in_feeds(app: &App, viewer: Option<Id>, records: Vec<StatusRecord>) -> ApiResult<Vec<StatusRecord>> {
    let (judged, judge_viewer) = judge(app, viewer, records).await?;
    Ok(judged
        .into_iter()
        .filter(|(r, muted)| {
            let silenced = judge_viewer.silenced(r.account_id) && viewer != Some(r.account_id) && !judge_viewer.relations.follows(r.account_id);
            !muted && !silenced
        })
        .map(|(r, _)| r)
        .collect())
}

/// The visible records, each with whether the viewer mutes it (its author or its original's).
async fn judge(app: &App, viewer: Option<Id>, records: Vec<StatusRecord>) -> ApiResult<(Vec<(StatusRecord, bool)>, Viewer)> {
    let boosted: Vec<Id> = records.iter().filter_map(|r| r.reblog_of).collect();
    let original_authors: HashMap<Id, Id> =
        if boosted.is_empty() { HashMap::new() } else { app.cached_status_records(&boosted).await?.into_iter().map(|(id, r)| (id, r.account_id)).collect() };
    let viewer = Viewer::load(app, viewer, &records, &original_authors).await?;
    let relations = viewer.relations();
    let judged = records
        .into_iter()
        .filter(|r| can_see(&viewer, r))
        .filter_map(|r| {
            let original = r.reblog_of.and_then(|o| original_authors.get(&o).copied());
            // A boost goes with its original: not across a block, not of a suspended author.
            if original.is_some_and(|a| relations.blocked(a) || viewer.suspended(a)) {
                return None;
            }
            let muted = relations.mutes(r.account_id) || original.is_some_and(|a| relations.mutes(a));
            Some((r, muted))
        })
        .collect();
    Ok((judged, viewer))
}

/// The moderation records of those of `accounts` that have one (one batched read; a
/// celebrity's as kept with its view, which is filled first where it is not kept: every
/// process then reads it once per bound, not once per request).
async fn moderation_of(app: &App, accounts: &[Id]) -> ApiResult<HashMap<Id, ModerationRecord>> {
    if app.hot.accounts.enabled() {
        let celebrities = app.celebrities().await?;
        let unkept: Vec<Id> = accounts.iter().filter(|a| celebrities.contains(a) && app.hot.kept_moderation(**a).is_none()).copied().collect();
        if !unkept.is_empty() {
            app.account_views(&unkept).await?;
        }
    }
    let mut found: Vec<(Id, Option<crate::ports::Item>)> = Vec::with_capacity(accounts.len());
    let mut unread = Vec::new();
    for account in accounts {
        match app.hot.kept_moderation(*account) {
            Some(item) => found.push((*account, item)),
            None => unread.push(*account),
        }
    }
    if !unread.is_empty() {
        let items = app.store.get_many(&unread.iter().map(|a| keys::moderation(*a)).collect::<Vec<_>>()).await?;
        found.extend(unread.into_iter().zip(items));
    }
    let mut out = HashMap::new();
    for (account, item) in found {
        if let Some(item) = item {
            out.insert(account, model::decode::<ModerationRecord>(&item)?);
        }
    }
    Ok(out)
}

/// Whether an account's profile is shown at all: a suspended one's is gone, an unapproved one's
/// not there yet.
pub fn account_listed(moderation: &ModerationRecord) -> bool {
    moderation.suspended_at.is_none() && !moderation.pending
}

/// Whether an entry of `owner`'s statuses (`AS#`) is listed on their profile for `viewer`.
/// Direct ones are listed for any signed-in reader here; [`can_see`] drops them when rendering
/// unless the reader takes part.
pub fn listed_on_profile(viewer: &Viewer, owner: Id, entry: &AccountStatusEntry) -> bool {
    match entry.visibility {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Private => viewer.account == Some(owner) || viewer.relations.follows(owner),
        Visibility::Direct => viewer.account.is_some(),
    }
}

/// Whether `account` may boost `original`: public and unlisted statuses by anyone, followers-only
/// ones by their author only, direct ones never.
pub fn can_boost(account: Id, original: &StatusRecord) -> bool {
    match original.visibility {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Private => original.account_id == account,
        Visibility::Direct => false,
    }
}

/// The accounts whose followers-only statuses `reader`'s searches may return (the ones they
/// follow, bounded); adapters filter on it inside the query, and hydration checks [`can_see`].
pub async fn searchable_authors(app: &App, reader: Id) -> ApiResult<Vec<Id>> {
    let items = app.store.query(&Query::partition(keys::following_partition(reader), MAX_SEARCH_FOLLOWED)).await?;
    items.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MentionRecord;

    fn status(author: u64, visibility: Visibility, mentions: &[u64]) -> StatusRecord {
        StatusRecord {
            mentions: mentions.iter().map(|m| MentionRecord { id: Id::from_u64(*m), username: format!("u{m}") }).collect(),
            ..StatusRecord::empty(Id::from_u64(100), Id::from_u64(author), visibility, 0)
        }
    }

    fn reader(id: u64, follows: &[u64]) -> Viewer {
        Viewer::new(Some(Id::from_u64(id)), Relations::following(follows.iter().map(|f| Id::from_u64(*f)).collect()))
    }

    #[test]
    fn anonymous_readers_see_only_public_and_unlisted_statuses() {
        let anonymous = Viewer::default();
        assert!(can_see(&anonymous, &status(1, Visibility::Public, &[])));
        assert!(can_see(&anonymous, &status(1, Visibility::Unlisted, &[])));
        assert!(!can_see(&anonymous, &status(1, Visibility::Private, &[])));
        assert!(!can_see(&anonymous, &status(1, Visibility::Direct, &[2])));
    }

    #[test]
    fn followers_only_statuses_reach_the_author_followers_and_mentioned_accounts() {
        let s = status(1, Visibility::Private, &[3]);
        assert!(can_see(&reader(1, &[]), &s));
        assert!(can_see(&reader(2, &[1]), &s));
        assert!(can_see(&reader(3, &[]), &s));
        assert!(!can_see(&reader(4, &[]), &s));
    }

    #[test]
    fn direct_statuses_reach_only_the_author_and_mentioned_accounts_even_followers() {
        let s = status(1, Visibility::Direct, &[3]);
        assert!(can_see(&reader(1, &[]), &s));
        assert!(can_see(&reader(3, &[]), &s));
        assert!(!can_see(&reader(2, &[1]), &s));
    }

    #[test]
    fn only_public_and_unlisted_statuses_are_boosted_by_others() {
        assert!(can_boost(Id::from_u64(2), &status(1, Visibility::Unlisted, &[])));
        assert!(!can_boost(Id::from_u64(2), &status(1, Visibility::Private, &[])));
        assert!(can_boost(Id::from_u64(1), &status(1, Visibility::Private, &[])));
        assert!(!can_boost(Id::from_u64(1), &status(1, Visibility::Direct, &[])));
    }
}
