//! Mastodon-style pagination: `max_id` / `since_id` / `min_id` / `limit` in, `Link` header out.
//!
//! Results are always returned newest first. `max_id` bounds from above, `since_id` from below
//! (newest results), `min_id` from below but returns the results *closest to* it (for walking
//! forwards in time without gaps).

use crate::id::Id;

/// A client's page request, with the limit already clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Only entries with an id strictly below this.
    pub max_id: Option<Id>,
    /// Only entries with an id strictly above this; newest first.
    pub since_id: Option<Id>,
    /// Only entries with an id strictly above this; the ones immediately after it.
    pub min_id: Option<Id>,
    /// How many entries at most.
    pub limit: usize,
}

/// The bounds a store scans, derived from a [`PageRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Exclusive lower bound.
    pub after: Option<Id>,
    /// Exclusive upper bound.
    pub before: Option<Id>,
    /// Scan upwards from `after` (then reverse), rather than downwards from `before`.
    pub oldest_first: bool,
    /// How many entries at most.
    pub limit: usize,
}

impl PageRequest {
    /// Builds a request; `limit` defaults to `default` and is clamped to `1..=max`.
    pub fn new(max_id: Option<Id>, since_id: Option<Id>, min_id: Option<Id>, limit: Option<u64>, default: usize, max: usize) -> Self {
        let limit = limit.map_or(default, |l| usize::try_from(l).unwrap_or(max)).clamp(1, max.max(1));
        PageRequest { max_id, since_id, min_id, limit }
    }

    /// The scan this request asks for.
    pub fn window(&self) -> Window {
        let after = match (self.since_id, self.min_id) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Window { after, before: self.max_id, oldest_first: self.min_id.is_some(), limit: self.limit }
    }
}

impl Window {
    /// Whether `id` lies inside the bounds.
    pub fn contains(&self, id: Id) -> bool {
        self.after.is_none_or(|a| id > a) && self.before.is_none_or(|b| id < b)
    }

    /// Picks this page from ids sorted newest first, returning them newest first.
    pub fn select_from_newest_first<I>(&self, ids: I) -> Vec<Id>
    where
        I: DoubleEndedIterator<Item = Id>,
    {
        if self.oldest_first {
            let mut page: Vec<Id> = ids.rev().filter(|id| self.contains(*id)).take(self.limit).collect();
            page.reverse();
            page
        } else {
            ids.filter(|id| self.contains(*id)).take(self.limit).collect()
        }
    }
}

/// The `Link` header Mastodon sends for a page whose entries span `newest..=oldest`
/// (cursor ids, which are not always the entities' own ids).
///
/// `url` is the absolute request URL without a query; `params` are the request's other query
/// parameters, kept on both links.
pub fn link_header(url: &str, params: &[(String, String)], newest: Id, oldest: Id) -> String {
    let mut kept = String::new();
    for (k, v) in params {
        if matches!(k.as_str(), "max_id" | "since_id" | "min_id") {
            continue;
        }
        kept.push_str(&percent_encode(k));
        kept.push('=');
        kept.push_str(&percent_encode(v));
        kept.push('&');
    }
    format!("<{url}?{kept}max_id={oldest}>; rel=\"next\", <{url}?{kept}min_id={newest}>; rel=\"prev\"")
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'[' | b']') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn ids(v: &[u64]) -> Vec<Id> {
        v.iter().copied().map(Id::from_u64).collect()
    }

    #[test]
    fn limit_defaults_and_is_clamped() {
        assert_eq!(PageRequest::new(None, None, None, None, 20, 40).limit, 20);
        assert_eq!(PageRequest::new(None, None, None, Some(500), 20, 40).limit, 40);
        assert_eq!(PageRequest::new(None, None, None, Some(0), 20, 40).limit, 1);
    }

    #[test]
    fn max_id_pages_backwards() {
        let req = PageRequest::new(Some(Id::from_u64(8)), None, None, Some(3), 20, 40);
        assert_eq!(req.window().select_from_newest_first(ids(&[10, 9, 8, 7, 6, 5, 4]).into_iter()), ids(&[7, 6, 5]));
    }

    #[test]
    fn since_id_returns_the_newest_and_min_id_the_closest() {
        let all = ids(&[10, 9, 8, 7, 6, 5, 4]);
        let since = PageRequest::new(None, Some(Id::from_u64(5)), None, Some(2), 20, 40);
        assert_eq!(since.window().select_from_newest_first(all.clone().into_iter()), ids(&[10, 9]));
        let min = PageRequest::new(None, None, Some(Id::from_u64(5)), Some(2), 20, 40);
        assert_eq!(min.window().select_from_newest_first(all.into_iter()), ids(&[7, 6]));
    }

    #[test]
    fn link_header_keeps_other_parameters_and_drops_cursors() {
        let params = vec![("limit".to_owned(), "2".to_owned()), ("max_id".to_owned(), "99".to_owned()), ("types[]".to_owned(), "a b".to_owned())];
        let link = link_header("https://x.test/api/v1/timelines/home", &params, Id::from_u64(9), Id::from_u64(7));
        assert_eq!(
            link,
            "<https://x.test/api/v1/timelines/home?limit=2&types[]=a%20b&max_id=7>; rel=\"next\", <https://x.test/api/v1/timelines/home?limit=2&types[]=a%20b&min_id=9>; rel=\"prev\""
        );
    }
}
