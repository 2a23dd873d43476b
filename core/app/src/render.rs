//! Hydration: turns stored records into Mastodon entities, batching every read a page needs
//! into a few `get_many` calls (the production store charges per round trip, not per item).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use shared::id::Id;
use shared::wire::{self, FilterContext, QuoteState};

use crate::error::{ApiError, ApiResult};
use crate::hot::StatusCounts;
use crate::model::{self, AccountRecord, ModerationRecord, PictureRecord, Role, StatusRecord};
use crate::policy::filters::Filters;
use crate::policy::quotes::{self, QuoteView};
use crate::policy::visibility;
use crate::ports::{Key, Query};
use crate::{App, keys};

/// Pending follow requests counted for `source.follow_requests_count` (more show as this many).
const MAX_REQUESTS_COUNTED: usize = 1000;

impl App {
    /// Loads account records by id; missing ones are absent from the map.
    pub async fn account_records(&self, ids: &[Id]) -> ApiResult<HashMap<Id, AccountRecord>> {
        let keys: Vec<Key> = ids.iter().map(|id| keys::account(*id)).collect();
        let items = self.store.get_many(&keys).await?;
        let mut out = HashMap::with_capacity(ids.len());
        for item in items.iter().flatten() {
            let record: AccountRecord = model::decode(item)?;
            out.insert(record.id, record);
        }
        Ok(out)
    }

    /// One account record, or 404.
    pub async fn account_record(&self, id: Id) -> ApiResult<AccountRecord> {
        self.account_records(&[id]).await?.remove(&id).ok_or(ApiError::NotFound)
    }

    /// Renders accounts by id, with counters; missing and suspended ones are absent from the map
    /// (so are their statuses, wherever they are rendered).
    pub async fn accounts(&self, ids: &[Id]) -> ApiResult<HashMap<Id, wire::Account>> {
        Ok(self.account_views(ids).await?.into_iter().map(|(id, (account, _))| (id, account)).collect())
    }

    /// The moderation record of `account` (the default for a plain user).
    pub async fn moderation(&self, account: Id) -> ApiResult<ModerationRecord> {
        self.store.get(&keys::moderation(account)).await?.map(|item| model::decode(&item)).transpose().map(Option::unwrap_or_default)
    }

    /// As [`App::accounts`], with each account's moderation record.
    pub(crate) async fn account_views(&self, ids: &[Id]) -> ApiResult<HashMap<Id, (wire::Account, ModerationRecord)>> {
        const PER_ACCOUNT: usize = crate::hot::ACCOUNT_ITEMS;
        let mut unique: Vec<Id> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        // A celebrity's items are kept in process (`hot.rs`): every reader of its viral post
        // renders it. They are read in a batch of their own, to be kept, beside everyone else's.
        let celebrities = if self.hot.accounts.enabled() { self.celebrities().await? } else { Arc::default() };
        let ticket = self.hot.accounts.ticket();
        let account_keys = |id: Id, into: &mut Vec<Key>| {
            into.push(keys::account(id));
            into.extend(keys::AccountCounter::ALL.iter().map(|c| keys::account_counter(id, *c)));
            into.push(keys::last_status(id));
            into.push(keys::moderation(id));
        };
        let mut keys = Vec::with_capacity(unique.len() * PER_ACCOUNT);
        let mut kept_keys = Vec::new();
        let mut sources: Vec<(Id, Source<crate::hot::AccountItems>)> = Vec::with_capacity(unique.len());
        for id in &unique {
            let source = match self.hot.accounts.get(id) {
                Some(items) if celebrities.contains(id) => Source::Kept(items),
                _ if celebrities.contains(id) => {
                    account_keys(*id, &mut kept_keys);
                    Source::ToKeep(kept_keys.len() - PER_ACCOUNT)
                }
                _ => {
                    account_keys(*id, &mut keys);
                    Source::Read(keys.len() - PER_ACCOUNT)
                }
            };
            sources.push((*id, source));
        }
        let to_keep = async { if kept_keys.is_empty() { Ok(Vec::new()) } else { crate::hot::filling(self.store.get_many(&kept_keys)).await } };
        let read = async { if keys.is_empty() { Ok(Vec::new()) } else { self.store.get_many(&keys).await } };
        let (items, kept_items) = futures_util::future::try_join(read, to_keep).await?;
        let mut out = HashMap::with_capacity(unique.len());
        for (id, source) in sources {
            let kept;
            let chunk: &[Option<crate::ports::Item>] = match source {
                Source::Kept(items) => {
                    kept = items;
                    &kept
                }
                Source::ToKeep(at) => {
                    let chunk = &kept_items[at..at + PER_ACCOUNT];
                    self.hot.accounts.put(id, Arc::new(chunk.to_vec()), ticket);
                    chunk
                }
                Source::Read(at) => &items[at..at + PER_ACCOUNT],
            };
            let [Some(profile), followers, following, statuses, last, moderation] = chunk else { continue };
            let moderation: ModerationRecord = moderation.as_ref().map(model::decode).transpose()?.unwrap_or_default();
            if !visibility::account_listed(&moderation) {
                continue;
            }
            let record: AccountRecord = model::decode(profile)?;
            let last_status_at = match last {
                Some(item) => Some(model::decode::<u64>(item)?),
                None => None,
            };
            let counts = (model::count(followers.as_ref()), model::count(following.as_ref()), model::count(statuses.as_ref()));
            out.insert(record.id, (self.account_entity(&record, counts, last_status_at), moderation));
        }
        Ok(out)
    }

    /// The statuses `account` pins (kept in process for `[timelines] hot_ttl_ms`; its own pin
    /// changes here forget them): one query of its pins partition, which holds at most
    /// [`MAX_PINNED`](crate::statuses::service::MAX_PINNED).
    async fn pins_of(&self, account: Id) -> ApiResult<Arc<HashSet<Id>>> {
        let read = async {
            let query = Query::partition(keys::pinned_partition(account), crate::statuses::service::MAX_PINNED * 4);
            let items = self.store.query(&query).await?;
            Ok::<_, ApiError>(Arc::new(items.iter().filter_map(|i| Id::from_sort_key(&i.key.sk)).collect()))
        };
        self.hot.pins.get_or_fill(account, read).await
    }

    /// One rendered account, or 404.
    pub async fn account(&self, id: Id) -> ApiResult<wire::Account> {
        self.accounts(&[id]).await?.remove(&id).ok_or(ApiError::NotFound)
    }

    /// Renders ids in order, skipping missing accounts.
    pub async fn account_list(&self, ids: &[Id]) -> ApiResult<Vec<wire::Account>> {
        let mut map = self.accounts(ids).await?;
        Ok(ids.iter().filter_map(|id| map.remove(id)).collect())
    }

    fn account_entity(&self, r: &AccountRecord, (followers, following, statuses): (u64, u64, u64), last_status_at: Option<u64>) -> wire::Account {
        let base = &self.config.instance.base_url;
        let urls = |picture: Option<&PictureRecord>, missing: &str| match picture {
            Some(p) => (self.stable_file_url(&p.original.key), self.stable_file_url(&p.still.as_ref().unwrap_or(&p.original).key)),
            None => (format!("{base}/{missing}/original/missing.png"), format!("{base}/{missing}/original/missing.png")),
        };
        let (avatar, avatar_static) = urls(r.avatar.as_ref(), "avatars");
        let (header, header_static) = urls(r.header.as_ref(), "headers");
        wire::Account {
            id: r.id,
            username: r.username.clone(),
            acct: r.username.clone(),
            display_name: r.display_name.clone(),
            locked: r.locked,
            bot: r.bot,
            discoverable: r.discoverable,
            indexable: r.indexable,
            group: false,
            created_at: wire::timestamp(r.created_at - r.created_at % 86_400_000),
            note: render_note(&r.note),
            url: format!("{base}/@{}", r.username),
            uri: format!("{base}/users/{}", r.username),
            avatar,
            avatar_static,
            header,
            header_static,
            followers_count: followers,
            following_count: following,
            statuses_count: statuses,
            last_status_at: last_status_at.map(wire::date),
            hide_collections: r.hide_collections,
            noindex: !r.indexable,
            emojis: Vec::new(),
            fields: r
                .fields
                .iter()
                .map(|(name, value)| wire::Field { name: shared::text::escape_html(name), value: shared::text::escape_html(value), verified_at: None })
                .collect(),
            roles: Vec::new(),
            source: None,
            role: None,
        }
    }

    /// The signed-in user's account, with `source` and `role`.
    pub async fn credential_account(&self, id: Id) -> ApiResult<wire::Account> {
        let record = self.account_record(id).await?;
        let (mut account, moderation) = self.account_views(&[id]).await?.remove(&id).ok_or(ApiError::NotFound)?;
        account.source = Some(wire::AccountSource {
            privacy: record.default_visibility,
            sensitive: record.default_sensitive,
            language: record.default_language.clone(),
            note: record.note.clone(),
            fields: record.fields.iter().map(|(name, value)| wire::Field { name: name.clone(), value: value.clone(), verified_at: None }).collect(),
            follow_requests_count: self.store.query(&Query::partition(keys::follow_requests_partition(id), MAX_REQUESTS_COUNTED)).await?.len() as u64,
            hide_collections: record.hide_collections,
            discoverable: record.discoverable,
            indexable: record.indexable,
            quote_policy: record.default_quote_policy.unwrap_or(wire::QuotePolicy::Public),
        });
        account.role = Some(role_entity(moderation.role));
        Ok(account)
    }

    /// Loads status records by id; missing ones are absent.
    pub async fn status_records(&self, ids: &[Id]) -> ApiResult<HashMap<Id, StatusRecord>> {
        let keys: Vec<Key> = ids.iter().map(|id| keys::status(*id)).collect();
        let items = self.store.get_many(&keys).await?;
        let mut out = HashMap::with_capacity(ids.len());
        for item in items.iter().flatten() {
            let record: StatusRecord = model::decode(item)?;
            out.insert(record.id, record);
        }
        Ok(out)
    }

    /// The instance's (users, statuses) counts, each summed over its shards, in one read (kept
    /// for `[timelines] hot_ttl_ms`).
    pub(crate) async fn instance_counts(&self) -> ApiResult<(u64, u64)> {
        let read = async {
            let shards = self.config.shards.instance_counters;
            let mut all = keys::instance_counter_keys(keys::InstanceCounter::Accounts, shards);
            let users = all.len();
            all.extend(keys::instance_counter_keys(keys::InstanceCounter::Statuses, shards));
            let items = self.store.get_many(&all).await?;
            Ok::<_, ApiError>((model::sum_counts(items[..users].iter().map(Option::as_ref)), model::sum_counts(items[users..].iter().map(Option::as_ref))))
        };
        self.hot.instance.get_or_fill((), read).await
    }

    /// One status record, or 404.
    pub async fn status_record(&self, id: Id) -> ApiResult<StatusRecord> {
        self.status_records(&[id]).await?.remove(&id).ok_or(ApiError::NotFound)
    }

    /// [`App::status_records`] for reading (rendering), from the in-process copies of public and
    /// unlisted statuses where they are fresh (`[timelines] hot_ttl_ms`); writes read the store.
    pub(crate) async fn cached_status_records(&self, ids: &[Id]) -> ApiResult<HashMap<Id, StatusRecord>> {
        if !self.hot.statuses.enabled() {
            return self.status_records(ids).await;
        }
        let mut out = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.hot.statuses.get(id) {
                Some(record) => {
                    out.insert(*id, record);
                }
                None => missing.push(*id),
            }
        }
        if !missing.is_empty() {
            let ticket = self.hot.statuses.ticket();
            for (id, record) in crate::hot::filling(self.status_records(&missing)).await? {
                if is_public(&record) {
                    self.hot.statuses.put(id, record.clone(), ticket);
                }
                out.insert(id, record);
            }
        }
        Ok(out)
    }

    /// Renders statuses by id, in order, dropping missing ones and ones the viewer may not see.
    pub async fn statuses(&self, viewer: Option<Id>, ids: &[Id]) -> ApiResult<Vec<wire::Status>> {
        let records = self.cached_status_records(ids).await?;
        let ordered: Vec<StatusRecord> = ids.iter().filter_map(|id| records.get(id).cloned()).collect();
        let visible = visibility::visible(self, viewer, ordered).await?;
        self.render_statuses(viewer, visible).await
    }

    /// Renders statuses for a feed read in `context` (home and lists, public and tag timelines):
    /// as [`App::statuses`], less the statuses and boosts of accounts the viewer mutes and those
    /// the viewer's filters hide; the ones they warn of carry `filtered`.
    pub async fn feed_statuses(&self, viewer: Option<Id>, ids: &[Id], context: FilterContext) -> ApiResult<Vec<wire::Status>> {
        let (records, filters) = tokio::try_join!(self.cached_status_records(ids), Filters::load(self, viewer))?;
        let ordered: Vec<StatusRecord> = ids.iter().filter_map(|id| records.get(id).cloned()).collect();
        let kept = visibility::in_feeds(self, viewer, ordered).await?;
        Ok(apply_filters(&filters, context, self.render_statuses(viewer, kept).await?))
    }

    /// Renders statuses listed in `context` (a thread, a profile, notifications): as
    /// [`App::statuses`], less those the viewer's filters hide; the ones they warn of carry
    /// `filtered`.
    pub async fn statuses_in(&self, viewer: Option<Id>, ids: &[Id], context: FilterContext) -> ApiResult<Vec<wire::Status>> {
        let (statuses, filters) = tokio::try_join!(self.statuses(viewer, ids), Filters::load(self, viewer))?;
        Ok(apply_filters(&filters, context, statuses))
    }

    /// One visible status, or 404 (invisible statuses do not reveal their existence).
    pub async fn status(&self, viewer: Option<Id>, id: Id) -> ApiResult<wire::Status> {
        self.statuses(viewer, &[id]).await?.pop().ok_or(ApiError::NotFound)
    }

    /// Renders records already checked for visibility, with what they quote as the viewer may
    /// see it: the quoted statuses the viewer may see are rendered in one more pass over the
    /// whole page (their own quotes shallow), so a page costs a fixed number of batches.
    pub async fn render_statuses(&self, viewer: Option<Id>, records: Vec<StatusRecord>) -> ApiResult<Vec<wire::Status>> {
        let original_ids: Vec<Id> = records.iter().filter_map(|r| r.reblog_of).collect();
        let originals = self.cached_status_records(&original_ids).await?;
        let mut shown: Vec<&StatusRecord> = records.iter().filter(|r| r.reblog_of.is_none()).collect();
        shown.extend(originals.values());
        let views = quotes::views(self, viewer, &shown).await?;
        let mut quoted: Vec<StatusRecord> = views.values().filter_map(|v| v.quoted.clone()).collect();
        quoted.sort_unstable_by_key(|r| r.id);
        quoted.dedup_by_key(|r| r.id);
        let rendered = if quoted.is_empty() {
            HashMap::new()
        } else {
            let shallow = QuoteShape::Shallow(quotes::views(self, viewer, &quoted.iter().collect::<Vec<_>>()).await?);
            self.render_level(viewer, &quoted, &HashMap::new(), &shallow).await?.into_iter().map(|s| (s.id, s)).collect()
        };
        self.render_level(viewer, &records, &originals, &QuoteShape::Full { views, rendered }).await
    }

    /// Renders `records` (boosts' originals in `originals`), their quotes shaped by `quote_shape`.
    async fn render_level(
        &self,
        viewer: Option<Id>,
        records: &[StatusRecord],
        originals: &HashMap<Id, StatusRecord>,
        quote_shape: &QuoteShape,
    ) -> ApiResult<Vec<wire::Status>> {
        // The statuses whose counters and viewer flags show: the originals of boosts.
        let mut shown: Vec<&StatusRecord> = records.iter().filter(|r| r.reblog_of.is_none()).collect();
        shown.extend(originals.values());
        let mut author_ids: Vec<Id> = records.iter().map(|r| r.account_id).collect();
        author_ids.extend(originals.values().map(|r| r.account_id));
        let authors = self.account_views(&author_ids).await?;
        let media_ids: Vec<Id> = shown.iter().flat_map(|r| r.media.iter().copied()).collect();
        let media = if media_ids.is_empty() { HashMap::new() } else { self.media_records(&media_ids).await? };
        let rendered_media = self.status_media(&shown, &media).await?;
        let attachments = |r: &StatusRecord| -> Vec<wire::MediaAttachment> { rendered_media.get(&r.id).cloned().unwrap_or_default() };

        // Per status: its counts (its counters' shards and its quotes count) unless a fresh copy
        // is kept, then the viewer's flags: favourited, boosted, bookmarked and thread muted, and
        // whether the viewer follows its author where its quote policy asks. An anonymous
        // reader has none. Public statuses' counts are read in a batch of their own, to be kept
        // (`hot::filling`), beside the batch of everything else. `pinned` shows on the viewer's
        // own posts only, from the viewer's pins (kept).
        // A celebrity's own flags are kept (`hot::HotCaches::own_flags`): every notification of a
        // favourite of its viral post renders that post for it.
        let keep_flags = match viewer {
            Some(v) => self.keeps_own_flags(v).await?,
            None => false,
        };
        let own_pins = match viewer {
            Some(v) if shown.iter().any(|r| r.account_id == v) => Some(self.pins_of(v).await?),
            _ => None,
        };
        let counter_shards = self.config.shards.status_counters;
        let per_counter = counter_shards.max(1) as usize;
        let count_keys = |r: &StatusRecord, into: &mut Vec<crate::ports::Key>| {
            for counter in keys::StatusCounter::ALL {
                into.extend(keys::status_counter_shards(r.id, counter, counter_shards));
            }
            into.push(keys::quotes_count(r.id));
        };
        let ticket = self.hot.counts.ticket();
        let flags_ticket = self.hot.own_flags.ticket();
        let mut keys = Vec::with_capacity(shown.len() * (OWN_FLAGS + 1 + 3 * per_counter + 1));
        let mut kept_keys = Vec::new();
        let mut sources: Vec<FactSources> = Vec::with_capacity(shown.len());
        for r in &shown {
            let kept = if is_public(r) { self.hot.counts.get(&r.id) } else { None };
            let counts = match kept {
                Some(counts) => Source::Kept(counts),
                None if is_public(r) => {
                    let at = kept_keys.len();
                    count_keys(r, &mut kept_keys);
                    Source::ToKeep(at)
                }
                None => {
                    let at = keys.len();
                    count_keys(r, &mut keys);
                    Source::Read(at)
                }
            };
            let flags = viewer.map(|v| match self.hot.own_flags.get(&(v, r.id)) {
                Some(flags) if keep_flags => Source::Kept(flags),
                _ if keep_flags => {
                    kept_keys.extend(own_flag_keys(v, r));
                    Source::ToKeep(kept_keys.len() - OWN_FLAGS)
                }
                _ => {
                    keys.extend(own_flag_keys(v, r));
                    Source::Read(keys.len() - OWN_FLAGS)
                }
            });
            let follow = viewer.filter(|v| quotes::asks_follow(*v, r)).map(|v| {
                keys.push(keys::follow_edge(v, r.account_id));
                keys.len() - 1
            });
            sources.push(FactSources { counts, flags, follow });
        }
        let to_keep = async { if kept_keys.is_empty() { Ok(Vec::new()) } else { crate::hot::filling(self.store.get_many(&kept_keys)).await } };
        let (items, kept_items) = futures_util::future::try_join(self.store.get_many(&keys), to_keep).await?;
        let counts_at = |batch: &[Option<crate::ports::Item>], at: usize| {
            let sum = |k: usize| model::sum_counts(batch[at + k * per_counter..at + (k + 1) * per_counter].iter().map(Option::as_ref));
            StatusCounts { replies: sum(0), reblogs: sum(1), favourites: sum(2), quotes: model::count(batch[at + 3 * per_counter].as_ref()) }
        };
        let mut facts: HashMap<Id, StatusFacts> = HashMap::with_capacity(shown.len());
        for (r, FactSources { counts, flags, follow }) in shown.iter().zip(sources) {
            let counts = match counts {
                Source::Kept(counts) => counts,
                Source::ToKeep(from) => {
                    let counts = counts_at(&kept_items, from);
                    self.hot.counts.put(r.id, counts, ticket);
                    counts
                }
                Source::Read(from) => counts_at(&items, from),
            };
            let [fav, rb, bm, thread_muted] = match flags {
                None => [false; OWN_FLAGS],
                Some(Source::Kept(flags)) => flags,
                Some(Source::ToKeep(from)) => {
                    let flags = present(&kept_items[from..from + OWN_FLAGS]);
                    if let Some(v) = viewer {
                        self.hot.own_flags.put((v, r.id), flags, flags_ticket);
                    }
                    flags
                }
                Some(Source::Read(from)) => present(&items[from..from + OWN_FLAGS]),
            };
            let follows = follow.is_some_and(|at| items[at].is_some());
            let pin = own_pins.as_ref().is_some_and(|pins| Some(r.account_id) == viewer && pins.contains(&r.id));
            facts.insert(
                r.id,
                StatusFacts {
                    replies: counts.replies,
                    reblogs: counts.reblogs,
                    favourites: counts.favourites,
                    favourited: fav,
                    reblogged: rb,
                    bookmarked: bm,
                    pinned: pin,
                    muted: thread_muted,
                    poll: None,
                    quotes: counts.quotes,
                    quote: quote_shape.quote_of(r),
                    quote_approval: quotes::approval(viewer, r, follows),
                },
            );
        }

        for (id, poll) in crate::polls::service::entities(self, viewer, &shown).await? {
            if let Some(f) = facts.get_mut(&id) {
                f.poll = Some(poll);
            }
        }

        let mut out = Vec::with_capacity(records.len());
        // A sensitized author's media always show as sensitive.
        let entity = |r: &StatusRecord, (account, moderation): &(wire::Account, ModerationRecord), f, reblog, media: Vec<wire::MediaAttachment>| {
            let mut entity = self.status_entity(r, account.clone(), f, viewer, reblog, media);
            entity.sensitive |= moderation.sensitized && !entity.media_attachments.is_empty();
            entity
        };
        for r in records {
            let Some(author) = authors.get(&r.account_id) else { continue };
            let entity = match r.reblog_of {
                None => {
                    let Some(f) = facts.get(&r.id) else { continue };
                    entity(r, author, f, None, attachments(r))
                }
                Some(original_id) => {
                    let Some(original) = originals.get(&original_id) else { continue };
                    let (Some(original_author), Some(f)) = (authors.get(&original.account_id), facts.get(&original_id)) else { continue };
                    let inner = entity(original, original_author, f, None, attachments(original));
                    entity(r, author, f, Some(inner), Vec::new())
                }
            };
            out.push(entity);
        }
        Ok(out)
    }

    fn status_entity(
        &self,
        r: &StatusRecord,
        account: wire::Account,
        f: &StatusFacts,
        viewer: Option<Id>,
        reblog: Option<wire::Status>,
        media_attachments: Vec<wire::MediaAttachment>,
    ) -> wire::Status {
        let base = &self.config.instance.base_url;
        let is_boost = reblog.is_some();
        wire::Status {
            id: r.id,
            uri: format!("{base}/users/{}/statuses/{}", account.username, r.id),
            url: (!is_boost).then(|| format!("{base}/@{}/{}", account.username, r.id)),
            created_at: wire::timestamp(r.created_at),
            content: r.content.clone(),
            visibility: r.visibility,
            sensitive: r.sensitive,
            spoiler_text: r.spoiler_text.clone(),
            media_attachments,
            application: r.application.as_ref().map(|(name, website)| wire::StatusApplication { name: name.clone(), website: website.clone() }),
            mentions: r
                .mentions
                .iter()
                .map(|m| wire::StatusMention { id: m.id, username: m.username.clone(), url: format!("{base}/@{}", m.username), acct: m.username.clone() })
                .collect(),
            tags: r.tags.iter().map(|t| wire::StatusTag { name: t.clone(), url: format!("{base}/tags/{t}") }).collect(),
            emojis: Vec::new(),
            reblogs_count: f.reblogs,
            favourites_count: f.favourites,
            replies_count: f.replies,
            quotes_count: f.quotes,
            in_reply_to_id: r.in_reply_to_id,
            in_reply_to_account_id: r.in_reply_to_account_id,
            reblog: reblog.map(Box::new),
            // As Mastodon: a boost's own entity has no poll; its `reblog` carries it.
            poll: if is_boost { None } else { f.poll.clone() },
            card: None,
            language: r.language.clone(),
            text: None,
            edited_at: r.edited_at.map(wire::timestamp),
            favourited: viewer.map(|_| f.favourited),
            reblogged: viewer.map(|_| f.reblogged),
            muted: viewer.map(|_| f.muted),
            bookmarked: viewer.map(|_| f.bookmarked),
            pinned: viewer.filter(|v| *v == r.account_id && r.reblog_of.is_none()).map(|_| f.pinned),
            filtered: viewer.map(|_| Vec::new()),
            // As Mastodon: a boost's own entity quotes nothing; its `reblog` carries the quote.
            quote: if is_boost { None } else { f.quote.clone() },
            quote_approval: (!is_boost).then(|| f.quote_approval.clone()),
            account,
        }
    }
}

/// Whether a status is one anyone may read (public or unlisted): the ones kept in process.
fn is_public(record: &StatusRecord) -> bool {
    matches!(record.visibility, wire::Visibility::Public | wire::Visibility::Unlisted)
}

/// Counters and the viewer's own interactions with one status.
struct StatusFacts {
    replies: u64,
    reblogs: u64,
    favourites: u64,
    favourited: bool,
    reblogged: bool,
    bookmarked: bool,
    pinned: bool,
    /// The viewer muted the status's thread.
    muted: bool,
    /// Its poll, as the viewer sees it.
    poll: Option<wire::Poll>,
    /// Quotes of it that stand.
    quotes: u64,
    /// What it quotes, as the viewer may see it.
    quote: Option<wire::StatusQuote>,
    /// Who may quote it, and whether the viewer may.
    quote_approval: wire::QuoteApproval,
}

/// How a rendered status shows what it quotes.
enum QuoteShape {
    /// Mastodon's `Quote`: the quoted status rendered for the reader (`rendered`, by id), on
    /// statuses shown at the top level; `views` by quoting status.
    Full { views: HashMap<Id, QuoteView>, rendered: HashMap<Id, wire::Status> },
    /// Mastodon's `ShallowQuote` (state and id), on statuses shown inside a quote.
    Shallow(HashMap<Id, QuoteView>),
}

impl QuoteShape {
    /// The `quote` of `r`, if it quotes anything.
    fn quote_of(&self, r: &StatusRecord) -> Option<wire::StatusQuote> {
        let quoted = r.quote?.status;
        Some(match self {
            QuoteShape::Full { views, rendered } => {
                let view = views.get(&r.id)?;
                // An accepted quote whose status did not render (its author suspended or gone)
                // shows nothing either.
                let status = rendered.get(&quoted).filter(|_| view.state == QuoteState::Accepted);
                let state = if view.state == QuoteState::Accepted && status.is_none() { QuoteState::Unauthorized } else { view.state };
                wire::StatusQuote { state, quoted_status: Some(status.cloned().map(Box::new)), quoted_status_id: None }
            }
            QuoteShape::Shallow(views) => {
                let state = views.get(&r.id)?.state;
                wire::StatusQuote { state, quoted_status: None, quoted_status_id: Some((state == QuoteState::Accepted).then_some(quoted)) }
            }
        })
    }
}

/// Keeps the statuses `filters` do not hide in `context`, with the results of those that warn.
fn apply_filters(filters: &Filters, context: FilterContext, mut statuses: Vec<wire::Status>) -> Vec<wire::Status> {
    if filters.applies_in(context) {
        statuses.retain_mut(|s| filters.apply(context, s));
    }
    statuses
}

/// A bio as HTML: escaped, paragraphs and line breaks, links.
fn render_note(note: &str) -> String {
    if note.trim().is_empty() {
        return String::new();
    }
    shared::text::render_html(note, "", &|_| None)
}

/// A role as Mastodon renders it (the default roles' ids, names and permission bits).
pub(crate) fn role_entity(role: Role) -> wire::Role {
    let name = match role {
        Role::User => "",
        Role::Moderator => "Moderator",
        Role::Admin => "Admin",
        Role::Owner => "Owner",
    };
    wire::Role { id: role.id().into(), name: name.into(), permissions: role.permissions().to_string(), color: String::new(), highlighted: role.is_staff() }
}

/// Where a rendered status's counts and its viewer's flags come from, and the offset of the
/// viewer's follow edge to its author in the main batch (none: not read, so not set).
struct FactSources {
    counts: Source<StatusCounts>,
    /// None for an anonymous reader.
    flags: Option<Source<OwnFlags>>,
    follow: Option<usize>,
}

/// A viewer's own flags on a status: favourited, boosted, bookmarked, thread muted.
type OwnFlags = [bool; OWN_FLAGS];
const OWN_FLAGS: usize = 4;

/// The items of `viewer`'s [`OwnFlags`] on status `r`, all in the viewer's partition.
fn own_flag_keys(viewer: Id, r: &StatusRecord) -> [Key; OWN_FLAGS] {
    [
        keys::interaction(r.id, keys::Interaction::Favourite, viewer),
        keys::interaction(r.id, keys::Interaction::Reblog, viewer),
        keys::interaction(r.id, keys::Interaction::Bookmark, viewer),
        keys::thread_mute(viewer, r.thread()),
    ]
}

/// Which of [`own_flag_keys`]' items exist.
fn present(items: &[Option<crate::ports::Item>]) -> OwnFlags {
    std::array::from_fn(|k| items.get(k).is_some_and(Option::is_some))
}

impl App {
    /// Whether `viewer`'s [`OwnFlags`] are kept in process: a celebrity's, while copies are kept.
    async fn keeps_own_flags(&self, viewer: Id) -> ApiResult<bool> {
        Ok(self.hot.own_flags.enabled() && self.celebrities().await?.contains(&viewer))
    }

    /// Whether `viewer` muted the thread of status `r`: kept with its other [`OwnFlags`] for a
    /// celebrity (the notifier checks it for every favourite of its viral post), read for anyone
    /// else.
    pub(crate) async fn thread_muted(&self, viewer: Id, r: &StatusRecord) -> ApiResult<bool> {
        if self.keeps_own_flags(viewer).await? {
            let read = async { Ok::<_, ApiError>(present(&self.store.get_many(&own_flag_keys(viewer, r)).await?)) };
            return Ok(self.hot.own_flags.get_or_fill((viewer, r.id), read).await?[OWN_FLAGS - 1]);
        }
        Ok(self.store.get(&keys::thread_mute(viewer, r.thread())).await?.is_some())
    }
}

/// Where something a render needs comes from: a status's counts (`App::render_level`), an
/// account's items (`App::account_views`). Both read what is not kept in two batches at once: the
/// one whose results are kept, and the main one.
enum Source<T> {
    /// The in-process copy.
    Kept(T),
    /// Read at this offset of the batch to keep.
    ToKeep(usize),
    /// Read at this offset of the main batch (not kept: an ordinary account, a private status).
    Read(usize),
}
