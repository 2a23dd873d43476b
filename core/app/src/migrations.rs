//! Data migrations: the one-off rewrites a change of the key layout needs, so items written
//! under the old layout read as if written under the new one.
//!
//! Each migration is idempotent and may be run again at any time (it reconciles rather than
//! copies blindly). [`run_pending`] runs those not yet marked done (`META` /
//! `migration#{name}`) when the app is built, before it serves; `starling migrate` runs them all
//! again. A deployment of many tasks runs `starling migrate` once before rolling the new version
//! out (then no task finds work at start), and once more after: old tasks still serving during
//! the rollout write the old layout (docs/operations.md, "Data migrations").
//!
//! Must never: lose an item (a move puts the new item before, or with, deleting the old), nor
//! run a migration's work inside a request.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, AccountStatusEntry, FollowRecord, Ref};
use crate::ports::{Condition, Item, Key, Query, Write};
use crate::scan::RefScan;
use crate::{App, keys};

/// `fav#`, `rb#`, `bm#` items move from the status's partition (`S#{status}` /
/// `{kind}#{account}`) to the account's (`A#{account}` / `{kind}#{status}`): a viral status's
/// readers each read their own flags, its favourites each write their own.
pub const INTERACTIONS_TO_ACCOUNTS: &str = "interactions-to-accounts";

/// Every follow and mute edge gets its mirror in the target's partition (`followedby#`,
/// `mutedby#`), and mirrors without their edge go.
pub const RELATION_MIRRORS: &str = "relation-mirrors";

/// A migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Migration {
    InteractionsToAccounts,
    RelationMirrors,
}

impl Migration {
    /// Every migration, in the order they run.
    const ALL: [Migration; 2] = [Migration::InteractionsToAccounts, Migration::RelationMirrors];

    fn name(self) -> &'static str {
        match self {
            Migration::InteractionsToAccounts => INTERACTIONS_TO_ACCOUNTS,
            Migration::RelationMirrors => RELATION_MIRRORS,
        }
    }

    /// Pushes the writes that migrate `account`'s items.
    async fn push_writes(self, app: &App, account: Id, writes: &mut Vec<Write>) -> ApiResult<()> {
        match self {
            Migration::InteractionsToAccounts => interactions_of(app, account, writes).await,
            Migration::RelationMirrors => mirrors_of(app, account, writes).await,
        }
    }
}

/// Accounts, listing entries or edges read per page.
const PAGE: usize = 200;

/// Writes per transaction (the store takes up to 100).
const WRITES_PER_COMMIT: usize = 50;

/// What one migration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub name: &'static str,
    /// Accounts whose items it looked at.
    pub accounts: u64,
    /// Items it wrote or deleted.
    pub items: u64,
}

/// Runs the migrations not marked done, and marks each done when it ends.
pub async fn run_pending(app: &App) -> ApiResult<Vec<Migrated>> {
    let marks = app.store.get_many(&Migration::ALL.map(|m| keys::migration_done(m.name()))).await?;
    run_each(app, Migration::ALL.into_iter().zip(marks).filter(|(_, mark)| mark.is_none()).map(|(m, _)| m)).await
}

/// Runs every migration again (each is idempotent): what `starling migrate` does.
pub async fn run_all(app: &App) -> ApiResult<Vec<Migrated>> {
    run_each(app, Migration::ALL).await
}

async fn run_each(app: &App, migrations: impl IntoIterator<Item = Migration>) -> ApiResult<Vec<Migrated>> {
    let mut done = Vec::new();
    for migration in migrations {
        done.push(run(app, migration).await?);
    }
    Ok(done)
}

async fn run(app: &App, migration: Migration) -> ApiResult<Migrated> {
    let name = migration.name();
    let mut migrated = Migrated { name, accounts: 0, items: 0 };
    let mut accounts = RefScan::all_of(keys::account_listing_partitions(app.config.shards.accounts), PAGE);
    while let Some(page) = accounts.next(app).await? {
        for account in page {
            let mut writes = Vec::new();
            migration.push_writes(app, account, &mut writes).await?;
            migrated.items += writes.len() as u64;
            for chunk in writes.chunks(WRITES_PER_COMMIT) {
                app.store.transact(chunk.to_vec(), vec![]).await?;
            }
            migrated.accounts += 1;
        }
    }
    app.store.transact(vec![model::put(keys::migration_done(name), &true, Condition::None)?], vec![]).await?;
    if migrated.items > 0 {
        tracing::info!(migration = name, accounts = migrated.accounts, items = migrated.items, "data migration ran");
    }
    Ok(migrated)
}

/// The moves of `account`'s favourites and bookmarks (found through its lists of them) and
/// boosts (through its statuses) to its own partition: the new item first, then the old one
/// deleted (a move cut short leaves both, which reads the same and is finished next time).
async fn interactions_of(app: &App, account: Id, writes: &mut Vec<Write>) -> ApiResult<()> {
    for kind in [keys::Interaction::Favourite, keys::Interaction::Bookmark] {
        let mut listed = RefScan::all(keys::account_list_partition(account, kind), PAGE);
        while let Some(statuses) = listed.next(app).await? {
            push_moves(app, account, kind, &statuses, writes).await?;
        }
    }
    let mut query = Query::partition(keys::account_statuses_partition(account), PAGE);
    loop {
        let items = app.store.query(&query).await?;
        let mut originals = Vec::new();
        for item in &items {
            if let Some(original) = model::decode::<AccountStatusEntry>(item)?.reblog_of {
                originals.push(original);
            }
        }
        push_moves(app, account, keys::Interaction::Reblog, &originals, writes).await?;
        match items.last() {
            Some(last) if items.len() == PAGE => query.after = Some(last.key.sk.clone()),
            _ => return Ok(()),
        }
    }
}

async fn push_moves(app: &App, account: Id, kind: keys::Interaction, statuses: &[Id], writes: &mut Vec<Write>) -> ApiResult<()> {
    let old: Vec<Key> = statuses.iter().map(|s| keys::legacy_interaction(*s, kind, account)).collect();
    for (status, item) in statuses.iter().zip(app.store.get_many(&old).await?) {
        let Some(item) = item else { continue };
        // A move commits whole (one chunk holds both halves: chunks are even-sized).
        writes.push(Write::Put { item: Item { key: keys::interaction(*status, kind, account), value: item.value }, condition: Condition::None });
        writes.push(Write::Delete { key: item.key, condition: Condition::None });
    }
    Ok(())
}

/// The writes that make `account`'s side of the relation mirrors exact: a mirror in each
/// target's partition for every follow and mute edge of `account`, and no mirror in `account`'s
/// partition whose edge is gone.
async fn mirrors_of(app: &App, account: Id, writes: &mut Vec<Write>) -> ApiResult<()> {
    let follow_mirror = |target: Id, edge: Item| {
        let edge: FollowRecord = model::decode(&edge)?;
        model::put(keys::followed_by(target, account), &Ref { id: edge.id }, Condition::None)
    };
    push_mirrors(app, keys::following_partition(account), |t| keys::follow_edge(account, t), follow_mirror, writes).await?;
    let mute_mirror =
        |target: Id, edge: Item| Ok(Write::Put { item: Item { key: keys::muted_by(target, account), value: edge.value }, condition: Condition::None });
    push_mirrors(app, keys::mutes_partition(account), |t| keys::mute_edge(account, t), mute_mirror, writes).await?;
    // Mirrors in `account`'s partition whose edge is gone (written by an old release meanwhile).
    let follow_mirrors = mirrors_in(app, account, keys::FOLLOWED_BY_PREFIX).await?;
    let edges = app.store.get_many(&follow_mirrors.iter().map(|(from, _)| keys::follow_edge(*from, account)).collect::<Vec<_>>()).await?;
    let mute_mirrors = mirrors_in(app, account, keys::MUTED_BY_PREFIX).await?;
    let mutes = app.store.get_many(&mute_mirrors.iter().map(|(from, _)| keys::mute_edge(*from, account)).collect::<Vec<_>>()).await?;
    for ((_, mirror), edge) in follow_mirrors.into_iter().zip(edges).chain(mute_mirrors.into_iter().zip(mutes)) {
        if edge.is_none() {
            writes.push(Write::Delete { key: mirror, condition: Condition::None });
        }
    }
    Ok(())
}

/// Pushes the mirror (`mirror` of the target and the edge) of every edge (`edge` of the target)
/// that stands among the targets `listing` (a partition of `Ref`s) names.
async fn push_mirrors(
    app: &App,
    listing: String,
    edge: impl Fn(Id) -> Key,
    mirror: impl Fn(Id, Item) -> ApiResult<Write>,
    writes: &mut Vec<Write>,
) -> ApiResult<()> {
    let mut targets = RefScan::all(listing, PAGE);
    while let Some(page) = targets.next(app).await? {
        let edges = app.store.get_many(&page.iter().map(|t| edge(*t)).collect::<Vec<_>>()).await?;
        for (target, found) in page.into_iter().zip(edges) {
            if let Some(found) = found {
                writes.push(mirror(target, found)?);
            }
        }
    }
    Ok(())
}

/// The mirrors (`prefix` of [`keys::FOLLOWED_BY_PREFIX`], [`keys::MUTED_BY_PREFIX`]) in
/// `account`'s partition: the other side's account, and the mirror's key.
async fn mirrors_in(app: &App, account: Id, prefix: &str) -> ApiResult<Vec<(Id, Key)>> {
    let mut query = Query { prefix: Some(prefix.to_owned()), ..Query::partition(keys::account_partition(account), PAGE) };
    let mut out = Vec::new();
    loop {
        let items = app.store.query(&query).await?;
        for item in &items {
            if let Some(from) = item.key.sk.strip_prefix(prefix).and_then(|id| id.parse::<Id>().ok()) {
                out.push((from, item.key.clone()));
            }
        }
        match items.last() {
            Some(last) if items.len() == PAGE => query.after = Some(last.key.sk.clone()),
            _ => return Ok(out),
        }
    }
}
