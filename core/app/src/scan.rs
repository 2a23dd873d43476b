//! Reading id-keyed partitions page by page: [`ShardScan`] merges the shards of a sharded
//! partition (or any set of partitions) into one id order; [`RefScan`] reads the ids a
//! partition of [`Ref`]s refers to, whole (every follower of an account) or through a
//! pagination window with a bound on the pages read (a filtered listing); [`App::ref_page`]
//! reads one window.

use std::collections::VecDeque;

use futures_util::future::try_join_all;
use shared::id::Id;
use shared::page::Window;

use crate::App;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, Ref};
use crate::ports::{Item, Query};

/// The items of several id-keyed partitions (the shards of one) in one order: newest first
/// through a window (oldest first when it reads from `min_id`), or ascending when whole — a
/// k-way merge by sort key, so a window over the shards is exactly the window over the
/// partition they were split from. The first pages are read at once (in parallel), then each
/// shard's next page only when the merge has used up its previous one and it may still hold
/// the next item; an item equal in several partitions comes out once per partition, in a row.
pub(crate) struct ShardScan {
    cursors: Vec<Cursor>,
    /// Items read at first from each partition, and at each later read.
    first_page: usize,
    page: usize,
    /// Later reads left; once spent, the merge ends where a shard would need one.
    reads_left: usize,
    started: bool,
}

struct Cursor {
    query: Query,
    items: VecDeque<Item>,
    /// More items may follow (the last read came back full).
    more: bool,
}

impl ShardScan {
    /// `partitions` through `window`: `first_page` items from each at first, then `page` at a
    /// time from whichever the merge needs, at most `max_reads` such later reads.
    pub(crate) fn window(partitions: Vec<String>, window: &Window, first_page: usize, page: usize, max_reads: usize) -> Self {
        let cursors = partitions.into_iter().map(|pk| Cursor { query: Query::window(pk, window), items: VecDeque::new(), more: true }).collect();
        ShardScan { cursors, first_page: first_page.max(1), page: page.max(1), reads_left: max_reads, started: false }
    }

    /// Every item of `partitions`, ascending, `page` at a time.
    pub(crate) fn all(partitions: Vec<String>, page: usize) -> Self {
        let cursors = partitions.into_iter().map(|pk| Cursor { query: Query::partition(pk, page), items: VecDeque::new(), more: true }).collect();
        ShardScan { cursors, first_page: page.max(1), page: page.max(1), reads_left: usize::MAX, started: false }
    }

    /// The first page for a window of `limit` over `shards` partitions: the whole `min_page` when
    /// one partition holds everything; otherwise a fair share and a margin, since ids are spread
    /// evenly by a hash (a shard holding more of the window is read again).
    pub(crate) fn first_page(limit: usize, shards: usize, min_page: usize) -> usize {
        if shards <= 1 { limit.max(min_page) } else { limit.div_ceil(shards) + 2 }
    }

    /// The next item in the merged order, `None` when every partition is spent (or the read
    /// budget is, where a partition might still hold the next item).
    pub(crate) async fn next(&mut self, app: &App) -> ApiResult<Option<Item>> {
        if !self.started {
            self.started = true;
            let limit = self.first_page;
            let queries: Vec<Query> = self.cursors.iter().map(|c| Query { limit, ..c.query.clone() }).collect();
            let pages = try_join_all(queries.iter().map(|q| app.store.query(q))).await?;
            for (cursor, items) in self.cursors.iter_mut().zip(pages) {
                cursor.took(items, limit);
            }
        }
        for i in 0..self.cursors.len() {
            if self.cursors[i].items.is_empty() && self.cursors[i].more {
                if self.reads_left == 0 {
                    return Ok(None);
                }
                self.reads_left -= 1;
                let limit = self.page;
                let items = app.store.query(&Query { limit, ..self.cursors[i].query.clone() }).await?;
                self.cursors[i].took(items, limit);
            }
        }
        let mut best: Option<usize> = None;
        for (i, cursor) in self.cursors.iter().enumerate() {
            let Some(head) = cursor.items.front() else { continue };
            let better = match best.and_then(|b| self.cursors[b].items.front()) {
                None => true,
                Some(current) if cursor.query.descending => head.key.sk > current.key.sk,
                Some(current) => head.key.sk < current.key.sk,
            };
            if better {
                best = Some(i);
            }
        }
        Ok(best.and_then(|b| self.cursors[b].items.pop_front()))
    }

    /// Up to `n` next items, `None` when there are none.
    pub(crate) async fn next_page(&mut self, app: &App, n: usize) -> ApiResult<Option<Vec<Item>>> {
        let mut page = Vec::with_capacity(n);
        while page.len() < n
            && let Some(item) = self.next(app).await?
        {
            page.push(item);
        }
        Ok((!page.is_empty()).then_some(page))
    }
}

impl Cursor {
    /// Takes a read of `limit` items: queues them and moves the cursor past the last.
    fn took(&mut self, items: Vec<Item>, limit: usize) {
        self.more = items.len() == limit;
        if let Some(last) = items.last() {
            let last = last.key.sk.clone();
            if self.query.descending {
                self.query.before = Some(last);
            } else {
                self.query.after = Some(last);
            }
        }
        self.items.extend(items);
    }
}

/// Pages of the ids a partition (or the shards of one) of [`Ref`]s refers to.
pub(crate) struct RefScan {
    scan: ShardScan,
    page: usize,
}

impl RefScan {
    /// Every entry of `partition`, oldest first, `page` at a time.
    pub(crate) fn all(partition: String, page: usize) -> Self {
        Self::all_of(vec![partition], page)
    }

    /// Every entry of `partitions` (the shards of one), in id order, `page` at a time.
    pub(crate) fn all_of(partitions: Vec<String>, page: usize) -> Self {
        RefScan { scan: ShardScan::all(partitions, page), page }
    }

    /// The entries of `partitions` (the shards of one) inside `window` (newest first unless it
    /// reads oldest first), pages of at least `min_page`, at most `max_pages` reads per shard.
    pub(crate) fn window(partitions: Vec<String>, window: &Window, min_page: usize, max_pages: usize) -> Self {
        let page = window.limit.max(min_page);
        let shards = partitions.len();
        let first = ShardScan::first_page(page, shards, min_page);
        RefScan { scan: ShardScan::window(partitions, window, first, page, max_pages.saturating_sub(1).saturating_mul(shards)), page }
    }

    /// The next page's referenced ids, `None` once the partition (or the page budget) is spent.
    pub(crate) async fn next(&mut self, app: &App) -> ApiResult<Option<Vec<Id>>> {
        let Some(items) = self.scan.next_page(app, self.page).await? else { return Ok(None) };
        items.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect::<ApiResult<Vec<_>>>().map(Some)
    }
}

impl App {
    /// Whether the entry `id` just added to the id-keyed `partition` lies past its first `max`
    /// entries (an entry beyond the first `max + 1` read does too): requests that each saw room
    /// for one more all committed, and the later ones (larger ids) step back. Not airtight: a
    /// smaller id committing after a larger one checked leaves one too many.
    pub(crate) async fn past_limit(&self, partition: String, id: Id, max: usize) -> ApiResult<bool> {
        let listed = self.store.query(&Query::partition(partition, max + 1)).await?;
        if listed.len() <= max {
            return Ok(false);
        }
        Ok(listed.iter().position(|i| Id::from_sort_key(&i.key.sk) == Some(id)).is_none_or(|at| at >= max))
    }

    /// Reads an id-keyed list partition of [`Ref`]s through a window: (cursors, referenced
    /// ids), newest first.
    pub async fn ref_page(&self, partition: String, window: &Window) -> ApiResult<(Vec<Id>, Vec<Id>)> {
        let items = self.store.query(&Query::window(partition, window)).await?;
        window_entries(items, window, |item| Ok(model::decode::<Ref>(item)?.id))
    }

    /// [`App::ref_page`] over the shards of one partition, merged by id: the same page the
    /// unsharded partition would give.
    pub async fn ref_page_of(&self, mut partitions: Vec<String>, window: &Window) -> ApiResult<(Vec<Id>, Vec<Id>)> {
        if partitions.len() == 1
            && let Some(partition) = partitions.pop()
        {
            return self.ref_page(partition, window).await;
        }
        let first = ShardScan::first_page(window.limit, partitions.len(), window.limit);
        let mut scan = ShardScan::window(partitions, window, first, window.limit.max(1), usize::MAX);
        let items = scan.next_page(self, window.limit).await?.unwrap_or_default();
        window_entries(items, window, |item| Ok(model::decode::<Ref>(item)?.id))
    }
}

/// (cursors, `value` of each) of id-keyed list entries read through `window`, newest first.
pub(crate) fn window_entries<T>(mut items: Vec<Item>, window: &Window, value: impl Fn(&Item) -> ApiResult<T>) -> ApiResult<(Vec<Id>, Vec<T>)> {
    if window.oldest_first {
        items.reverse();
    }
    let mut cursors = Vec::with_capacity(items.len());
    let mut values = Vec::with_capacity(items.len());
    for item in &items {
        cursors.push(Id::from_sort_key(&item.key.sk).ok_or_else(|| ApiError::internal("bad list sort key"))?);
        values.push(value(item)?);
    }
    Ok((cursors, values))
}
