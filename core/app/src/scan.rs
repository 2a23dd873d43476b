//! Reading a partition of [`Ref`]s page by page: whole (every follower of an account), through
//! a pagination window with a bound on the pages read (a filtered listing), or one window
//! ([`App::ref_page`]).

use shared::id::Id;
use shared::page::Window;

use crate::App;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, Ref};
use crate::ports::Query;

/// Pages of the ids a partition of [`Ref`]s refers to.
pub(crate) struct RefScan {
    query: Query,
    pages_left: usize,
    done: bool,
}

impl RefScan {
    /// Every entry of `partition`, oldest first, `page` at a time.
    pub(crate) fn all(partition: String, page: usize) -> Self {
        RefScan { query: Query::partition(partition, page), pages_left: usize::MAX, done: false }
    }

    /// The entries of `partition` inside `window` (newest first unless it reads oldest first),
    /// at most `max_pages` pages of at least `min_page`.
    pub(crate) fn window(partition: String, window: &Window, min_page: usize, max_pages: usize) -> Self {
        let mut query = Query { descending: !window.oldest_first, ..Query::window(partition, window) };
        query.limit = window.limit.max(min_page);
        RefScan { query, pages_left: max_pages, done: false }
    }

    /// The next page's referenced ids, `None` once the partition (or the page budget) is spent.
    pub(crate) async fn next(&mut self, app: &App) -> ApiResult<Option<Vec<Id>>> {
        if self.done || self.pages_left == 0 {
            return Ok(None);
        }
        self.pages_left -= 1;
        let items = app.store.query(&self.query).await?;
        self.done = items.len() < self.query.limit;
        let Some(last) = items.last().map(|i| i.key.sk.clone()) else {
            self.done = true;
            return Ok(None);
        };
        if self.query.descending {
            self.query.before = Some(last)
        } else {
            self.query.after = Some(last)
        }
        items.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect::<ApiResult<Vec<_>>>().map(Some)
    }
}

impl App {
    /// Reads an id-keyed list partition of [`Ref`]s through a window: (cursors, referenced
    /// ids), newest first.
    pub async fn ref_page(&self, partition: String, window: &Window) -> ApiResult<(Vec<Id>, Vec<Id>)> {
        let mut items = self.store.query(&Query::window(partition, window)).await?;
        if window.oldest_first {
            items.reverse();
        }
        let mut cursors = Vec::with_capacity(items.len());
        let mut refs = Vec::with_capacity(items.len());
        for item in &items {
            cursors.push(Id::from_sort_key(&item.key.sk).ok_or_else(|| ApiError::internal("bad list sort key"))?);
            refs.push(model::decode::<Ref>(item)?.id);
        }
        Ok((cursors, refs))
    }
}
