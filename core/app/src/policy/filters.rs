//! A reader's filters, applied to what they read: keyword and status filters, by context,
//! as Mastodon applies them. `hide` drops a match; `warn` and `blur` keep it with the
//! `filtered` results the client shows.
//!
//! The one place filters are judged: timelines, threads, profiles and notifications (through
//! render.rs) and streams (`streaming::hidden`) all call [`Filters::apply`] on the rendered
//! status. An account's filters are one partition (`FL#{account}`), read once per request (or
//! per stream, reloaded when they change) and compiled into [`Filters`].
//!
//! Matching follows Mastodon's `CustomFilter`: a keyword matches the status's content warning,
//! text, poll options and media descriptions, case-insensitively; a `whole_word` keyword only
//! at word boundaries (on the sides where it starts or ends with a word character). A status
//! filter matches the status or, for a boost, the boosted one. Expired filters do nothing.
//! Every keyword of every filter is found in one pass over a status's lowercased text (an
//! Aho-Corasick automaton built with the filters), so the cost per status hardly grows with
//! the number of keywords.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use shared::id::Id;
use shared::wire::{self, FilterAction, FilterContext};

use crate::App;
use crate::error::ApiResult;
use crate::keys;
use crate::model::{self, FilterRecord};
use crate::ports::Query;

/// Most filters an account has (the partition is read whole).
pub const MAX_FILTERS: usize = 100;
/// Most keywords one filter has.
pub const MAX_KEYWORDS: usize = 100;
/// Most statuses one filter names.
pub const MAX_STATUSES: usize = 100;

/// An account's filters, compiled for matching (unexpired when loaded; expiry is checked
/// again at each match).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    compiled: Vec<Compiled>,
    /// Every keyword (lowercased, deduplicated); `None` when there are none.
    automaton: Option<AhoCorasick>,
    /// For each pattern of the automaton, the keywords it is: (filter, keyword) indices.
    patterns: Vec<Vec<(usize, usize)>>,
}

#[derive(Debug, Clone)]
struct Compiled {
    /// The filter as a [`wire::FilterResult`] names it (no keywords or statuses).
    entity: wire::Filter,
    context: Vec<FilterContext>,
    action: FilterAction,
    expires_at: Option<u64>,
    keywords: Vec<Keyword>,
    statuses: Vec<Id>,
}

#[derive(Debug, Clone)]
struct Keyword {
    /// As the user wrote it (reported in `keyword_matches`).
    shown: String,
    /// Must start after a non-word character (whole word, and it starts with a word character).
    start_boundary: bool,
    /// Must end before a non-word character.
    end_boundary: bool,
}

impl Filters {
    /// The filters of `account` (none for anonymous readers): one query of its partition, kept
    /// in process for `[timelines] hot_ttl_ms` (`hot.rs`). A change made here applies at once,
    /// one made on another process within that bound.
    pub async fn load(app: &App, account: Option<Id>) -> ApiResult<Self> {
        let Some(account) = account else { return Ok(Filters::default()) };
        let records = app.hot.filters.get_or_fill(account, stored_shared(app, account)).await?;
        Ok(Filters::compile(&records, crate::clock::now_ms()))
    }

    /// The filters of `account` as stored now (and kept): what an open stream reloads when told
    /// they changed, wherever they were changed.
    pub async fn load_fresh(app: &App, account: Id) -> ApiResult<Self> {
        Ok(Filters::compile(&app.hot.filters.fill(account, stored_shared(app, account)).await?, crate::clock::now_ms()))
    }

    /// Compiles `records`, leaving out those expired at `now_ms`.
    pub fn compile(records: &[FilterRecord], now_ms: u64) -> Self {
        let compiled = records
            .iter()
            .filter(|r| r.active(now_ms) && (!r.keywords.is_empty() || !r.statuses.is_empty()))
            .map(|r| Compiled {
                entity: entity(r, false),
                context: r.context.clone(),
                action: r.action,
                expires_at: r.expires_at,
                keywords: r
                    .keywords
                    .iter()
                    .filter(|k| !k.keyword.is_empty())
                    .map(|k| Keyword {
                        shown: k.keyword.clone(),
                        start_boundary: k.whole_word && k.keyword.chars().next().is_some_and(is_word_char),
                        end_boundary: k.whole_word && k.keyword.chars().next_back().is_some_and(is_word_char),
                    })
                    .collect(),
                statuses: r.statuses.iter().map(|s| s.status).collect(),
            })
            .collect::<Vec<Compiled>>();
        let mut lowered: Vec<String> = Vec::new();
        let mut patterns: Vec<Vec<(usize, usize)>> = Vec::new();
        for (f, filter) in compiled.iter().enumerate() {
            for (k, keyword) in filter.keywords.iter().enumerate() {
                let lower = keyword.shown.to_lowercase();
                match lowered.iter().position(|l| *l == lower) {
                    Some(at) => patterns[at].push((f, k)),
                    None => {
                        lowered.push(lower);
                        patterns.push(vec![(f, k)]);
                    }
                }
            }
        }
        let automaton = if lowered.is_empty() {
            None
        } else {
            // A contiguous NFA: built per request in microseconds (a DFA's build costs more than
            // it saves on a page of short texts).
            match AhoCorasick::builder().kind(Some(AhoCorasickKind::ContiguousNFA)).build(&lowered) {
                Ok(automaton) => Some(automaton),
                Err(e) => {
                    // Bounded input (MAX_FILTERS × MAX_KEYWORDS of MAX_KEYWORD_CHARS) cannot reach
                    // the automaton's limits; were it to, keywords would match nothing.
                    tracing::warn!(error = %e, "cannot compile filter keywords");
                    None
                }
            }
        };
        Filters { compiled, automaton, patterns }
    }

    /// Whether any filter applies in `context`.
    pub fn applies_in(&self, context: FilterContext) -> bool {
        self.compiled.iter().any(|c| c.context.contains(&context))
    }

    /// Judges a rendered status read in `context`: `false` when a `hide` filter matches (drop
    /// it); otherwise sets its `filtered` results (and its boosted status's) and keeps it.
    pub fn apply(&self, context: FilterContext, status: &mut wire::Status) -> bool {
        if !self.applies_in(context) {
            return true;
        }
        let results = self.results(context, status, crate::clock::now_ms());
        if results.iter().any(|(action, _)| *action == FilterAction::Hide) {
            return false;
        }
        if !results.is_empty() {
            let results: Vec<wire::FilterResult> = results.into_iter().map(|(_, r)| r).collect();
            if let Some(reblog) = status.reblog.as_deref_mut() {
                reblog.filtered = Some(results.clone());
            }
            status.filtered = Some(results);
        }
        true
    }

    /// The filters of `context` matching `status` at `now_ms`, with their actions.
    fn results(&self, context: FilterContext, status: &wire::Status, now_ms: u64) -> Vec<(FilterAction, wire::FilterResult)> {
        let proper = status.reblog.as_deref().unwrap_or(status);
        let ids = [Some(status.id), status.reblog.as_ref().map(|r| r.id)];
        let applies = |c: &Compiled| c.context.contains(&context) && c.expires_at.is_none_or(|at| at > now_ms);
        // Which keywords occur, per filter (one pass over the text, only when one may count).
        let mut found: Vec<Vec<bool>> = Vec::new();
        if let Some(automaton) = self.automaton.as_ref().filter(|_| self.compiled.iter().any(|c| applies(c) && !c.keywords.is_empty())) {
            found = self.compiled.iter().map(|c| vec![false; c.keywords.len()]).collect();
            let text = searchable_text(proper).to_lowercase();
            for m in automaton.find_overlapping_iter(&text) {
                for &(f, k) in &self.patterns[m.pattern().as_usize()] {
                    if !found[f][k] && self.compiled[f].keywords[k].bounded(&text, m.start(), m.end()) {
                        found[f][k] = true;
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (f, filter) in self.compiled.iter().enumerate().filter(|(_, c)| applies(c)) {
            let keyword_matches: Vec<String> = match found.get(f) {
                Some(hits) => filter.keywords.iter().zip(hits).filter(|(_, hit)| **hit).map(|(k, _)| k.shown.clone()).collect(),
                None => Vec::new(),
            };
            let status_matches: Vec<String> = ids.iter().flatten().filter(|id| filter.statuses.contains(id)).map(Id::to_string).collect();
            if keyword_matches.is_empty() && status_matches.is_empty() {
                continue;
            }
            out.push((
                filter.action,
                wire::FilterResult {
                    filter: filter.entity.clone(),
                    keyword_matches: (!keyword_matches.is_empty()).then_some(keyword_matches),
                    status_matches: (!status_matches.is_empty()).then_some(status_matches),
                },
            ));
        }
        out
    }
}

impl Keyword {
    /// Whether an occurrence at `start..end` of `text` (lowercased) stands at word boundaries
    /// where the keyword requires them.
    fn bounded(&self, text: &str, start: usize, end: usize) -> bool {
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        (!self.start_boundary || !before.is_some_and(is_word_char)) && (!self.end_boundary || !after.is_some_and(is_word_char))
    }
}

/// A word character as regular expressions' `\b` sees it (Unicode letters and digits, `_`).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// What keywords are matched against, as Mastodon's `searchable_text`: the content warning,
/// the text, the poll's options and the media descriptions, blank-line separated.
fn searchable_text(status: &wire::Status) -> String {
    let mut parts: Vec<String> = vec![status.spoiler_text.clone(), html_text(&status.content)];
    if let Some(poll) = &status.poll {
        parts.push(poll.options.iter().map(|o| o.title.as_str()).collect::<Vec<_>>().join("\n\n"));
    }
    parts.extend(status.media_attachments.iter().filter_map(|m| m.description.clone()));
    parts.join("\n\n")
}

/// The text of status HTML: tags removed (paragraphs and line breaks become newlines),
/// entities decoded.
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find(['<', '&']) {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        if rest.starts_with('<') {
            let Some(close) = rest.find('>') else { break };
            let tag = rest[1..close].trim_start_matches('/').to_ascii_lowercase();
            if tag.starts_with("br") || tag == "p" {
                out.push('\n');
            }
            rest = &rest[close + 1..];
        } else {
            let entity = rest.find(';').filter(|end| *end <= 8).map(|end| (&rest[..=end], end));
            let decoded = entity.and_then(|(e, end)| {
                let c = match e {
                    "&amp;" => '&',
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&quot;" => '"',
                    "&#39;" | "&apos;" => '\'',
                    "&nbsp;" => ' ',
                    _ => e.strip_prefix("&#").and_then(|n| n.strip_suffix(';')).and_then(|n| n.parse::<u32>().ok()).and_then(char::from_u32)?,
                };
                Some((c, end))
            });
            match decoded {
                Some((c, end)) => {
                    out.push(c);
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// [`stored`], shareable (the form the in-process copy keeps).
async fn stored_shared(app: &App, account: Id) -> ApiResult<std::sync::Arc<Vec<FilterRecord>>> {
    Ok(std::sync::Arc::new(stored(app, account).await?))
}

/// `account`'s filters as stored (the newest version of each).
pub async fn stored(app: &App, account: Id) -> ApiResult<Vec<FilterRecord>> {
    // Versions of one filter never coexist (they are swapped in one transaction); the bound
    // leaves room for a few more than the limit lets anyone create.
    let items = app.store.query(&Query::partition(keys::filters_partition(account), MAX_FILTERS * 2)).await?;
    let mut out: Vec<FilterRecord> = Vec::with_capacity(items.len());
    for item in &items {
        let record: FilterRecord = model::decode(item)?;
        match out.last_mut() {
            Some(last) if last.id == record.id => {
                if record.version > last.version {
                    *last = record;
                }
            }
            _ => out.push(record),
        }
    }
    Ok(out)
}

/// A filter as the API shows it: with its keywords and statuses (`full`), or as a
/// [`wire::FilterResult`] names it.
pub fn entity(record: &FilterRecord, full: bool) -> wire::Filter {
    wire::Filter {
        id: record.id.to_string(),
        title: record.title.clone(),
        context: record.context.clone(),
        expires_at: record.expires_at.map(wire::timestamp),
        filter_action: record.action,
        keywords: full.then(|| record.keywords.iter().map(keyword_entity).collect()),
        statuses: full.then(|| record.statuses.iter().map(status_entity).collect()),
    }
}

/// A keyword as the API shows it.
pub fn keyword_entity(k: &model::FilterKeywordRecord) -> wire::FilterKeyword {
    wire::FilterKeyword { id: k.id.to_string(), keyword: k.keyword.clone(), whole_word: k.whole_word }
}

/// A status filter as the API shows it.
pub fn status_entity(s: &model::FilterStatusRecord) -> wire::FilterStatus {
    wire::FilterStatus { id: s.id.to_string(), status_id: s.status.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FilterKeywordRecord, FilterStatusRecord};

    fn record(action: FilterAction, context: &[FilterContext], keywords: &[(&str, bool)], statuses: &[u64]) -> FilterRecord {
        FilterRecord {
            id: Id::from_u64(1),
            version: 0,
            title: "t".into(),
            context: context.to_vec(),
            action,
            expires_at: None,
            keywords: keywords
                .iter()
                .enumerate()
                .map(|(i, (k, w))| FilterKeywordRecord { id: Id::from_u64(10 + i as u64), keyword: (*k).into(), whole_word: *w })
                .collect(),
            statuses: statuses.iter().map(|s| FilterStatusRecord { id: Id::from_u64(50), status: Id::from_u64(*s) }).collect(),
        }
    }

    /// A matcher: whether a filter of keyword `k` matches a status whose text is `text`.
    fn keyword(k: &str, whole_word: bool) -> impl Fn(&str) -> bool {
        let filters = Filters::compile(&[record(FilterAction::Warn, &[FilterContext::Home], &[(k, whole_word)], &[])], 0);
        move |text| !filters.results(FilterContext::Home, &status(&shared::text::escape_html(text)), 0).is_empty()
    }

    #[test]
    fn keywords_match_case_insensitively_anywhere_unless_whole_word() {
        assert!(keyword("Cat", false)("a concatenation"));
        assert!(!keyword("cat", true)("a concatenation"));
        assert!(keyword("cat", true)("the cat, sat"));
        assert!(keyword("CAT", true)("cat"));
        assert!(keyword("ÉTÉ", true)("un été chaud"));
        assert!(!keyword("été", true)("étés"));
        assert!(keyword("new york", true)("in new york!"));
    }

    #[test]
    fn whole_word_needs_boundaries_only_on_word_sides() {
        // "#tag" starts with a non-word character: no boundary needed before it.
        assert!(keyword("#tag", true)("x#tag here"));
        assert!(!keyword("#tag", true)("#tags"));
        assert!(keyword("c++", true)("I like c++."));
    }

    #[test]
    fn every_occurrence_and_every_filter_sharing_a_keyword_is_considered() {
        assert!(keyword("cat", true)("concat, then a cat"), "a later whole-word occurrence counts");
        let filters = Filters::compile(
            &[
                record(FilterAction::Warn, &[FilterContext::Home], &[("Cat", false), ("dog", false)], &[]),
                FilterRecord { id: Id::from_u64(2), ..record(FilterAction::Hide, &[FilterContext::Public], &[("cat", true)], &[]) },
            ],
            0,
        );
        let home = filters.results(FilterContext::Home, &status("a cat and a dog"), 0);
        assert_eq!(home.len(), 1);
        assert_eq!(home[0].1.keyword_matches, Some(vec!["Cat".to_owned(), "dog".to_owned()]));
        let public = filters.results(FilterContext::Public, &status("a cat"), 0);
        assert_eq!((public.len(), public[0].0), (1, FilterAction::Hide));
    }

    #[test]
    fn html_is_read_as_text() {
        assert_eq!(html_text("<p>a &amp; b<br>c</p><p>d &#39;e&#39; &lt;3</p>"), "\na & b\nc\n\nd 'e' <3\n");
        assert_eq!(html_text("fish &chips; &"), "fish &chips; &");
    }

    #[test]
    fn expired_filters_and_other_contexts_do_nothing() {
        let mut expired = record(FilterAction::Hide, &[FilterContext::Home], &[("x", false)], &[]);
        expired.expires_at = Some(100);
        assert!(Filters::compile(&[expired.clone()], 200).compiled.is_empty());
        let filters = Filters::compile(&[expired], 50);
        assert!(filters.applies_in(FilterContext::Home) && !filters.applies_in(FilterContext::Public));
        assert!(filters.results(FilterContext::Home, &status("x"), 150).is_empty(), "expired between load and match");
        assert_eq!(filters.results(FilterContext::Home, &status("x"), 60).len(), 1);
    }

    #[test]
    fn status_filters_match_the_status_or_the_boosted_one() {
        let filters = Filters::compile(&[record(FilterAction::Warn, &[FilterContext::Home], &[], &[7])], 0);
        let mut boost = status("");
        boost.reblog = Some(Box::new(wire::Status { id: Id::from_u64(7), ..status("") }));
        assert!(filters.apply(FilterContext::Home, &mut boost));
        let results = boost.filtered.clone().unwrap_or_default();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].status_matches, Some(vec!["7".to_owned()]));
        assert_eq!(boost.reblog.and_then(|r| r.filtered).map(|f| f.len()), Some(1));
        let hide = Filters::compile(&[record(FilterAction::Hide, &[FilterContext::Home], &[("spoiler", false)], &[])], 0);
        let mut warned = status("");
        warned.spoiler_text = "Spoiler ahead".into();
        assert!(!hide.apply(FilterContext::Home, &mut warned), "the content warning is matched too");
    }

    fn status(content: &str) -> wire::Status {
        let account = serde_json::json!({"id": "1", "username": "a", "acct": "a", "display_name": "", "locked": false, "bot": false,
            "discoverable": false, "indexable": false, "group": false, "created_at": "2026-01-01T00:00:00.000Z", "note": "",
            "url": "u", "uri": "u", "avatar": "a", "avatar_static": "a", "header": "h", "header_static": "h",
            "followers_count": 0, "following_count": 0, "statuses_count": 0, "last_status_at": null,
            "hide_collections": false, "noindex": false, "emojis": [], "fields": [], "roles": []});
        let mut status = serde_json::json!({
            "id": "3", "uri": "u", "url": null, "created_at": "2026-01-01T00:00:00.000Z", "content": content,
            "visibility": "public", "sensitive": false, "spoiler_text": "", "media_attachments": [], "application": null,
            "mentions": [], "tags": [], "emojis": [], "reblogs_count": 0, "favourites_count": 0, "replies_count": 0,
            "quotes_count": 0, "in_reply_to_id": null, "in_reply_to_account_id": null, "reblog": null, "poll": null,
            "card": null, "language": null, "edited_at": null});
        status["account"] = account;
        serde_json::from_value(status).unwrap_or_else(|e| panic!("test status: {e}"))
    }
}
