//! The embedded search adapter: core's `SearchIndex` port on a tantivy index (one directory
//! under the data dir, or RAM for tests).
//!
//! One index holds both kinds of document (`kind` = `s` status, `a` account), keyed by id so a
//! re-index replaces. User input never reaches tantivy's query parser: text is split by the
//! same analyzer that indexed it and queries are built from those tokens.
//!
//! - Statuses: BM25 over `text`; every query word must match, exactly or within an edit
//!   distance (1 from 4 characters, 2 from 8), the fuzzy expansions weighted below the exact
//!   term; visibility is a filter clause built from the reader, the accounts they follow and
//!   the document's `visibility`/`author`/`mention` fields.
//! - Accounts: edge n-grams of the words of username and display name (`name_prefix`), exact
//!   words and the exact username boosted.
//! - Hashtags: the `tag` terms of public and unlisted statuses, listed from the term
//!   dictionary by prefix and counted on live documents.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use core_ports::ports::{AccountDoc, AccountSearch, SearchChange, SearchError, SearchIndex, StatusDoc, StatusSearch, TagHit};
use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder};
use shared::id::Id;
use shared::wire::Visibility;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value as _};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

/// Name the analyzer is registered under.
const ANALYZER: &str = "starling";
/// Longest token indexed, in bytes.
const MAX_TOKEN_BYTES: usize = 40;
/// Query words considered (the rest are ignored).
const MAX_QUERY_TOKENS: usize = 8;
/// Most dictionary terms one fuzzy query word expands to.
const MAX_EXPANSIONS: usize = 50;
/// Longest prefix indexed for account names, in characters.
const MAX_PREFIX_CHARS: usize = 30;
/// Most candidate hashtags read from the dictionary per search.
const MAX_TAG_CANDIDATES: usize = 500;

/// Writer sizing: tantivy buffers this much per indexing thread before flushing a segment.
#[derive(Debug, Clone, Copy)]
pub struct TantivyOptions {
    /// Memory budget of the writer, in bytes (at least 15 MB per thread).
    pub writer_memory_bytes: usize,
    /// Indexing threads.
    pub writer_threads: usize,
}

impl Default for TantivyOptions {
    fn default() -> Self {
        TantivyOptions { writer_memory_bytes: 32_000_000, writer_threads: 1 }
    }
}

/// The tantivy-backed [`SearchIndex`].
#[derive(Clone)]
pub struct TantivySearch {
    inner: Arc<Inner>,
}

struct Inner {
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    analyzer: TextAnalyzer,
    /// Levenshtein automaton builders for distances 1 and 2 (costly to make: built once).
    fuzzy: [LevenshteinAutomatonBuilder; 2],
    f: Fields,
}

#[derive(Clone, Copy)]
struct Fields {
    kind: Field,
    id: Field,
    text: Field,
    author: Field,
    visibility: Field,
    mention: Field,
    tag: Field,
    username: Field,
    name_word: Field,
    name_prefix: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_options =
        TextOptions::default().set_indexing_options(TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqs));
    let f = Fields {
        kind: b.add_text_field("kind", STRING),
        id: b.add_u64_field("id", INDEXED | STORED | FAST),
        text: b.add_text_field("text", text_options),
        author: b.add_u64_field("author", INDEXED),
        visibility: b.add_u64_field("visibility", INDEXED),
        mention: b.add_u64_field("mention", INDEXED),
        tag: b.add_text_field("tag", STRING),
        username: b.add_text_field("username", STRING),
        name_word: b.add_text_field("name_word", STRING),
        name_prefix: b.add_text_field("name_prefix", STRING),
    };
    (b.build(), f)
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default()).filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES)).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

fn err(e: impl Into<core_ports::BoxError>) -> SearchError {
    SearchError::new("tantivy", e)
}

fn visibility_code(v: Visibility) -> u64 {
    match v {
        Visibility::Public => 0,
        Visibility::Unlisted => 1,
        Visibility::Private => 2,
        Visibility::Direct => 3,
    }
}

impl TantivySearch {
    /// Opens (or creates) the index in `dir`.
    pub fn open(dir: &Path, options: TantivyOptions) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::new(format!("cannot create {}", dir.display()), e))?;
        let (schema, _) = schema();
        let directory = tantivy::directory::MmapDirectory::open(dir).map_err(err)?;
        let index = Index::open_or_create(directory, schema).map_err(err)?;
        Self::with_index(index, options)
    }

    /// A fresh index in memory (tests, benchmarks).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, _) = schema();
        Self::with_index(Index::create_in_ram(schema), TantivyOptions::default())
    }

    fn with_index(index: Index, options: TantivyOptions) -> Result<Self, SearchError> {
        let (_, f) = schema();
        index.tokenizers().register(ANALYZER, analyzer());
        let writer = index
            .writer_with_num_threads(options.writer_threads.max(1), options.writer_memory_bytes.max(15_000_000 * options.writer_threads.max(1)))
            .map_err(err)?;
        let fuzzy = [LevenshteinAutomatonBuilder::new(1, true), LevenshteinAutomatonBuilder::new(2, true)];
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err)?;
        Ok(TantivySearch { inner: Arc::new(Inner { reader, writer: Mutex::new(writer), analyzer: analyzer(), fuzzy, f }) })
    }

    async fn blocking<T: Send + 'static>(&self, work: impl FnOnce(&Inner) -> Result<T, SearchError> + Send + 'static) -> Result<T, SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner)).await.map_err(err)?
    }
}

impl Inner {
    /// The analyzer's tokens of `text`, deduplicated, in order.
    fn tokens(&self, text: &str) -> Vec<String> {
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(text);
        let mut out: Vec<String> = Vec::new();
        while stream.advance() {
            let token = &stream.token().text;
            if !out.contains(token) {
                out.push(token.clone());
            }
        }
        out
    }

    fn status_document(&self, doc: &StatusDoc) -> TantivyDocument {
        let f = self.f;
        let mut d = TantivyDocument::default();
        d.add_text(f.kind, "s");
        d.add_u64(f.id, doc.id.as_u64());
        d.add_text(f.text, &doc.text);
        d.add_u64(f.author, doc.author.as_u64());
        d.add_u64(f.visibility, visibility_code(doc.visibility));
        for m in &doc.mentions {
            d.add_u64(f.mention, m.as_u64());
        }
        if matches!(doc.visibility, Visibility::Public | Visibility::Unlisted) {
            for tag in &doc.tags {
                d.add_text(f.tag, tag);
            }
        }
        d
    }

    fn account_document(&self, doc: &AccountDoc) -> TantivyDocument {
        let f = self.f;
        let mut d = TantivyDocument::default();
        d.add_text(f.kind, "a");
        d.add_u64(f.id, doc.id.as_u64());
        d.add_text(f.username, doc.username.to_lowercase());
        let mut words = self.tokens(&doc.username);
        words.extend(self.tokens(&doc.display_name));
        words.push(doc.username.to_lowercase());
        let mut prefixes = HashSet::new();
        for word in &words {
            d.add_text(f.name_word, word);
            for (n, (at, c)) in word.char_indices().enumerate() {
                if n >= MAX_PREFIX_CHARS {
                    break;
                }
                prefixes.insert(word[..at + c.len_utf8()].to_owned());
            }
        }
        for prefix in prefixes {
            d.add_text(f.name_prefix, prefix);
        }
        d
    }

    fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(|_| SearchError("index writer lock poisoned".into()))?;
        for change in changes {
            let (id, doc) = match &change {
                SearchChange::IndexStatus(doc) => (doc.id, Some(self.status_document(doc))),
                SearchChange::IndexAccount(doc) => (doc.id, Some(self.account_document(doc))),
                SearchChange::DeleteStatus(id) | SearchChange::DeleteAccount(id) => (*id, None),
            };
            writer.delete_term(Term::from_field_u64(self.f.id, id.as_u64()));
            if let Some(doc) = doc {
                writer.add_document(doc).map_err(err)?;
            }
        }
        writer.commit().map_err(err)?;
        self.reader.reload().map_err(err)
    }

    fn clear(&self) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(|_| SearchError("index writer lock poisoned".into()))?;
        writer.delete_all_documents().map_err(err)?;
        writer.commit().map_err(err)?;
        self.reader.reload().map_err(err)
    }

    fn kind(&self, kind: &str) -> Box<dyn Query> {
        Box::new(ConstScoreQuery::new(Box::new(TermQuery::new(Term::from_field_text(self.f.kind, kind), IndexRecordOption::Basic)), 0.0))
    }

    fn u64_term(&self, field: Field, value: u64) -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_u64(field, value), IndexRecordOption::Basic))
    }

    /// Dictionary terms within the word's edit distance, with their distance (at most
    /// [`MAX_EXPANSIONS`], nearest and most used first).
    fn expand(&self, searcher: &Searcher, word: &str) -> Result<Vec<(String, u8)>, SearchError> {
        let chars = word.chars().count();
        let distance: u8 = match chars {
            0..4 => 0,
            4..8 => 1,
            _ => 2,
        };
        if distance == 0 {
            return Ok(vec![(word.to_owned(), 0)]);
        }
        let dfa = self.fuzzy[usize::from(distance - 1)].build_dfa(word);
        let mut found: HashMap<String, u8> = HashMap::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.f.text).map_err(err)?;
            let mut stream = inverted.terms().search(Dfa(&dfa)).into_stream().map_err(err)?;
            while stream.advance() {
                let key = stream.key();
                let Distance::Exact(d) = dfa.eval(key) else { continue };
                if let Ok(term) = std::str::from_utf8(key) {
                    found.entry(term.to_owned()).or_insert(d);
                }
            }
        }
        let mut ranked: Vec<(String, u8, u64)> = Vec::with_capacity(found.len());
        for (term, d) in found {
            let freq = searcher.doc_freq(&Term::from_field_text(self.f.text, &term)).map_err(err)?;
            ranked.push((term, d, freq));
        }
        ranked.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        ranked.truncate(MAX_EXPANSIONS);
        Ok(ranked.into_iter().map(|(t, d, _)| (t, d)).collect())
    }

    fn statuses(&self, q: &StatusSearch) -> Result<Vec<Id>, SearchError> {
        let f = self.f;
        let words: Vec<String> = self.tokens(&q.text).into_iter().take(MAX_QUERY_TOKENS).collect();
        if words.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, self.kind("s"))];
        for word in &words {
            let expansions = self.expand(&searcher, word)?;
            if expansions.is_empty() {
                return Ok(Vec::new());
            }
            let options: Vec<(Occur, Box<dyn Query>)> = expansions
                .into_iter()
                .map(|(term, d)| {
                    let query: Box<dyn Query> = Box::new(TermQuery::new(Term::from_field_text(f.text, &term), IndexRecordOption::WithFreqs));
                    let boost = match d {
                        0 => 1.0,
                        1 => 0.6,
                        _ => 0.4,
                    };
                    (Occur::Should, Box::new(BoostQuery::new(query, boost)) as Box<dyn Query>)
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(options))));
        }
        // Who may see what: public and unlisted for everyone; private for the author, their
        // followers and the mentioned; direct for the author and the mentioned.
        let reader = q.reader.as_u64();
        let open: Box<dyn Query> = Box::new(TermSetQuery::new([Term::from_field_u64(f.visibility, 0), Term::from_field_u64(f.visibility, 1)]));
        let mut private_authors: Vec<Term> = q.followed.iter().map(|a| Term::from_field_u64(f.author, a.as_u64())).collect();
        private_authors.push(Term::from_field_u64(f.author, reader));
        let private: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (Occur::Must, self.u64_term(f.visibility, 2)),
            (
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, Box::new(TermSetQuery::new(private_authors)) as Box<dyn Query>),
                    (Occur::Should, self.u64_term(f.mention, reader)),
                ])),
            ),
        ]));
        let direct: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (Occur::Must, self.u64_term(f.visibility, 3)),
            (
                Occur::Must,
                Box::new(BooleanQuery::new(vec![(Occur::Should, self.u64_term(f.author, reader)), (Occur::Should, self.u64_term(f.mention, reader))])),
            ),
        ]));
        let allowed = BooleanQuery::new(vec![(Occur::Should, open), (Occur::Should, private), (Occur::Should, direct)]);
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(allowed), 0.0))));
        if let Some(author) = q.author {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(self.u64_term(f.author, author.as_u64()), 0.0))));
        }
        if q.max_id.is_some() || q.min_id.is_some() {
            let lower = q.min_id.map_or(Bound::Unbounded, |id| Bound::Excluded(Term::from_field_u64(f.id, id.as_u64())));
            let upper = q.max_id.map_or(Bound::Unbounded, |id| Bound::Excluded(Term::from_field_u64(f.id, id.as_u64())));
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(RangeQuery::new(lower, upper)), 0.0))));
        }
        self.collect_ids(&searcher, &BooleanQuery::new(clauses), q.offset, q.limit)
    }

    fn accounts(&self, q: &AccountSearch) -> Result<Vec<Id>, SearchError> {
        let f = self.f;
        let words: Vec<String> = self.tokens(&q.text).into_iter().take(MAX_QUERY_TOKENS).collect();
        if words.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, self.kind("a"))];
        for word in &words {
            let prefix = Box::new(TermQuery::new(Term::from_field_text(f.name_prefix, word), IndexRecordOption::Basic));
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(prefix, 1.0))));
            let exact = Box::new(TermQuery::new(Term::from_field_text(f.name_word, word), IndexRecordOption::Basic));
            clauses.push((Occur::Should, Box::new(ConstScoreQuery::new(exact, 1.0))));
        }
        let whole = q.text.trim().to_lowercase();
        clauses.push((
            Occur::Should,
            Box::new(ConstScoreQuery::new(Box::new(TermQuery::new(Term::from_field_text(f.username, &whole), IndexRecordOption::Basic)), 10.0)),
        ));
        if let Some(among) = &q.among {
            if among.is_empty() {
                return Ok(Vec::new());
            }
            let ids: Vec<Term> = among.iter().map(|id| Term::from_field_u64(f.id, id.as_u64())).collect();
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(TermSetQuery::new(ids)), 0.0))));
        }
        self.collect_ids(&searcher, &BooleanQuery::new(clauses), q.offset, q.limit)
    }

    fn collect_ids(&self, searcher: &Searcher, query: &dyn Query, offset: usize, limit: usize) -> Result<Vec<Id>, SearchError> {
        let hits = searcher.search(query, &TopDocs::with_limit(limit).and_offset(offset)).map_err(err)?;
        let mut out = Vec::with_capacity(hits.len());
        for (_, address) in hits {
            let doc: TantivyDocument = searcher.doc(address).map_err(err)?;
            if let Some(id) = doc.get_first(self.f.id).and_then(|v| v.as_u64()) {
                out.push(Id::from_u64(id));
            }
        }
        Ok(out)
    }

    fn hashtags(&self, prefix: &str, offset: usize, limit: usize) -> Result<Vec<TagHit>, SearchError> {
        if prefix.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let mut candidates: HashSet<String> = HashSet::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.f.tag).map_err(err)?;
            let mut stream = inverted.terms().range().ge(prefix.as_bytes()).into_stream().map_err(err)?;
            while stream.advance() && candidates.len() < MAX_TAG_CANDIDATES {
                let key = stream.key();
                if !key.starts_with(prefix.as_bytes()) {
                    break;
                }
                if let Ok(name) = std::str::from_utf8(key) {
                    candidates.insert(name.to_owned());
                }
            }
        }
        let mut hits = Vec::new();
        for name in candidates {
            // The dictionary still lists terms of deleted documents until a merge: count live ones.
            let uses = searcher.search(&TermQuery::new(Term::from_field_text(self.f.tag, &name), IndexRecordOption::Basic), &Count).map_err(err)?;
            if uses > 0 {
                hits.push(TagHit { name, uses: uses as u64 });
            }
        }
        hits.sort_by(|a, b| (b.name == prefix).cmp(&(a.name == prefix)).then(b.uses.cmp(&a.uses)).then(a.name.cmp(&b.name)));
        Ok(hits.into_iter().skip(offset).take(limit).collect())
    }
}

/// A Levenshtein DFA as an automaton over the term dictionary.
struct Dfa<'a>(&'a DFA);

impl tantivy_fst::Automaton for Dfa<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

#[async_trait]
impl SearchIndex for TantivySearch {
    async fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError> {
        self.blocking(move |inner| inner.apply(changes)).await
    }

    async fn statuses(&self, query: &StatusSearch) -> Result<Vec<Id>, SearchError> {
        let query = query.clone();
        self.blocking(move |inner| inner.statuses(&query)).await
    }

    async fn accounts(&self, query: &AccountSearch) -> Result<Vec<Id>, SearchError> {
        let query = query.clone();
        self.blocking(move |inner| inner.accounts(&query)).await
    }

    async fn hashtags(&self, prefix: &str, offset: usize, limit: usize) -> Result<Vec<TagHit>, SearchError> {
        let prefix = prefix.to_owned();
        self.blocking(move |inner| inner.hashtags(&prefix, offset, limit)).await
    }

    async fn clear(&self) -> Result<(), SearchError> {
        self.blocking(Inner::clear).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod contract {
        core_ports::search_index_contract_tests!(async { Box::new(super::TantivySearch::in_memory().unwrap()) });
    }

    #[tokio::test]
    async fn an_index_on_disk_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let doc = StatusDoc {
            id: Id::from_u64(7),
            author: Id::from_u64(1),
            visibility: Visibility::Public,
            mentions: vec![],
            text: "persistent words".into(),
            tags: vec![],
        };
        {
            let index = TantivySearch::open(dir.path(), TantivyOptions::default()).unwrap();
            index.apply(vec![SearchChange::IndexStatus(doc)]).await.unwrap();
        }
        let index = TantivySearch::open(dir.path(), TantivyOptions::default()).unwrap();
        let query = StatusSearch {
            text: "persistent".into(),
            reader: Id::from_u64(2),
            followed: vec![],
            author: None,
            max_id: None,
            min_id: None,
            offset: 0,
            limit: 10,
        };
        assert_eq!(index.statuses(&query).await.unwrap(), vec![Id::from_u64(7)]);
    }
}
