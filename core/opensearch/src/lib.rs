//! The OpenSearch search adapter: core's `SearchIndex` port on two OpenSearch indices
//! (`{prefix}statuses`, `{prefix}accounts`) over the REST API, through the `opensearch` crate.
//!
//! - Startup creates each index with its mapping when absent (`HEAD /{index}`, then
//!   `PUT /{index}`; another instance creating it first is fine).
//! - `apply` is one `POST /_bulk?refresh=wait_for`: index and delete actions keyed by the
//!   decimal id, in order, so a replayed batch overwrites itself and changes are searchable
//!   when it returns. An item that failed fails the batch (deleting an absent id is not a failure).
//! - Statuses: `multi_match` over `text` (standard tokenizer, lowercase, ASCII folding) with
//!   `operator: and` (every word must match) and `fuzziness: AUTO:4,8` (exact below four
//!   characters, one edit from four, two from eight, transpositions counted as one); who may
//!   see what is a filter clause on `visibility`/`author`/`mentions` keywords.
//! - Accounts: every typed word a prefix of a username or display-name word (`names.prefix`,
//!   an edge n-gram analyzer at index time), exact words and the exact username boosted.
//! - Hashtags: a `terms` aggregation on the `tags` keyword of public and unlisted statuses,
//!   restricted to the prefix by `include`.
//!
//! User input never becomes query syntax: the text is cut into words here (letters and
//! digits) and sent as a `match` string, which OpenSearch analyses and never parses.
//! Needs OpenSearch 2.8 or later (`unsigned_long` ids).
//!
//! Must never: hold business rules (core/app decides what is indexed and who may search what),
//! or be named by core/app.

#[cfg(feature = "fake")]
pub mod fake;

use std::time::Duration;

use async_trait::async_trait;
use core_ports::ports::{AccountDoc, AccountSearch, SearchChange, SearchError, SearchIndex, StatusDoc, StatusSearch, TagHit};
use opensearch::auth::Credentials;
use opensearch::http::request::JsonBody;
use opensearch::http::response::Response;
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::indices::{IndicesCreateParts, IndicesExistsParts};
use opensearch::params::Refresh;
use opensearch::{BulkParts, DeleteByQueryParts, OpenSearch, SearchParts};
use serde_json::{Value, json};
use shared::id::Id;
use shared::wire::Visibility;

/// Query words considered (the rest are ignored), as in the embedded index.
const MAX_QUERY_WORDS: usize = 8;
/// Most hashtag candidates the aggregation returns per search.
const MAX_TAG_CANDIDATES: usize = 500;
/// Longest account-name prefix indexed, in characters.
const MAX_PREFIX_CHARS: u32 = 30;
/// Fuzziness of status words: exact below 4 characters, 1 edit from 4, 2 from 8.
const FUZZINESS: &str = "AUTO:4,8";

/// How to reach the cluster.
#[derive(Clone)]
pub struct OpenSearchConfig {
    /// Base URL, e.g. `https://search.example.org:9200`.
    pub url: String,
    /// HTTP basic authentication (user, password), when the cluster wants it.
    pub basic_auth: Option<(String, String)>,
    /// Prefix of the index names (`{prefix}statuses`, `{prefix}accounts`).
    pub index_prefix: String,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for OpenSearchConfig {
    // The password stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSearchConfig")
            .field("url", &self.url)
            .field("basic_auth", &self.basic_auth.as_ref().map(|(user, _)| (user, "***")))
            .field("index_prefix", &self.index_prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl OpenSearchConfig {
    /// A config for `url` with the default prefix `starling-`, no auth, a 30 s timeout.
    pub fn new(url: impl Into<String>) -> Self {
        OpenSearchConfig { url: url.into(), basic_auth: None, index_prefix: "starling-".into(), timeout: Duration::from_secs(30) }
    }
}

/// The OpenSearch-backed [`SearchIndex`].
#[derive(Clone)]
pub struct OpenSearchIndex {
    client: OpenSearch,
    statuses: String,
    accounts: String,
}

impl std::fmt::Debug for OpenSearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSearchIndex").field("statuses", &self.statuses).field("accounts", &self.accounts).finish_non_exhaustive()
    }
}

fn err(e: impl Into<core_ports::BoxError>) -> SearchError {
    SearchError::new("opensearch", e)
}

/// The analysis settings both indices share.
fn analysis() -> Value {
    json!({
        "filter": {
            "starling_edge": { "type": "edge_ngram", "min_gram": 1, "max_gram": MAX_PREFIX_CHARS }
        },
        "analyzer": {
            "starling_text": { "type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"] },
            "starling_prefix": { "type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding", "starling_edge"] }
        }
    })
}

/// The statuses index: analysed text, keywords for filtering and hashtags.
pub fn statuses_mapping() -> Value {
    json!({
        "settings": { "analysis": analysis() },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": { "type": "unsigned_long" },
                "text": { "type": "text", "analyzer": "starling_text" },
                "author": { "type": "keyword" },
                "visibility": { "type": "keyword" },
                "mentions": { "type": "keyword" },
                "tags": { "type": "keyword" }
            }
        }
    })
}

/// The accounts index: name words, their edge n-grams, the lowercased username.
pub fn accounts_mapping() -> Value {
    json!({
        "settings": { "analysis": analysis() },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": { "type": "unsigned_long" },
                "username": { "type": "keyword" },
                "names": {
                    "type": "text",
                    "analyzer": "starling_text",
                    "fields": { "prefix": { "type": "text", "analyzer": "starling_prefix", "search_analyzer": "starling_text" } }
                }
            }
        }
    })
}

fn visibility_name(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "public",
        Visibility::Unlisted => "unlisted",
        Visibility::Private => "private",
        Visibility::Direct => "direct",
    }
}

/// The words of `text` (runs of letters and digits), deduplicated, at most
/// [`MAX_QUERY_WORDS`], joined by spaces: all the query text OpenSearch ever sees.
pub fn query_words(text: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let word = word.to_lowercase();
        if !words.contains(&word) {
            words.push(word);
        }
        if words.len() == MAX_QUERY_WORDS {
            break;
        }
    }
    words.join(" ")
}

/// The `_bulk` body of `changes`: one action line (and a document line for index actions) each.
pub fn bulk_body(statuses: &str, accounts: &str, changes: &[SearchChange]) -> Vec<Value> {
    let mut lines = Vec::with_capacity(changes.len() * 2);
    for change in changes {
        match change {
            SearchChange::IndexStatus(doc) => {
                lines.push(json!({ "index": { "_index": statuses, "_id": doc.id.as_u64().to_string() } }));
                lines.push(status_source(doc));
            }
            SearchChange::DeleteStatus(id) => lines.push(json!({ "delete": { "_index": statuses, "_id": id.as_u64().to_string() } })),
            SearchChange::IndexAccount(doc) => {
                lines.push(json!({ "index": { "_index": accounts, "_id": doc.id.as_u64().to_string() } }));
                lines.push(account_source(doc));
            }
            SearchChange::DeleteAccount(id) => lines.push(json!({ "delete": { "_index": accounts, "_id": id.as_u64().to_string() } })),
        }
    }
    lines
}

fn status_source(doc: &StatusDoc) -> Value {
    json!({
        "id": doc.id.as_u64(),
        "text": doc.text,
        "author": doc.author.as_u64().to_string(),
        "visibility": visibility_name(doc.visibility),
        "mentions": doc.mentions.iter().map(|m| m.as_u64().to_string()).collect::<Vec<_>>(),
        "tags": doc.tags,
    })
}

fn account_source(doc: &AccountDoc) -> Value {
    // `bobby_tables` is one word to the standard tokenizer: index its parts too.
    let mut names = vec![doc.username.clone()];
    if doc.username.contains('_') {
        names.push(doc.username.replace('_', " "));
    }
    names.push(doc.display_name.clone());
    json!({ "id": doc.id.as_u64(), "username": doc.username.to_lowercase(), "names": names })
}

fn keyword(id: Id) -> String {
    id.as_u64().to_string()
}

/// The `_search` body of a status search (`None`: nothing can match).
pub fn status_query(q: &StatusSearch) -> Option<Value> {
    let words = query_words(&q.text);
    if words.is_empty() || q.limit == 0 {
        return None;
    }
    let reader = keyword(q.reader);
    let mut private_authors: Vec<String> = q.followed.iter().map(|a| keyword(*a)).collect();
    private_authors.push(reader.clone());
    // Who may see what: public and unlisted for everyone; private for the author, their
    // followers and the mentioned; direct for the author and the mentioned.
    let allowed = json!({ "bool": { "minimum_should_match": 1, "should": [
        { "terms": { "visibility": ["public", "unlisted"] } },
        { "bool": { "filter": [
            { "term": { "visibility": "private" } },
            { "bool": { "minimum_should_match": 1, "should": [ { "terms": { "author": private_authors } }, { "term": { "mentions": reader } } ] } }
        ] } },
        { "bool": { "filter": [
            { "term": { "visibility": "direct" } },
            { "bool": { "minimum_should_match": 1, "should": [ { "term": { "author": reader } }, { "term": { "mentions": reader } } ] } }
        ] } }
    ] } });
    let mut filter = vec![allowed];
    if let Some(author) = q.author {
        filter.push(json!({ "term": { "author": keyword(author) } }));
    }
    if q.max_id.is_some() || q.min_id.is_some() {
        let mut range = serde_json::Map::new();
        if let Some(min) = q.min_id {
            range.insert("gt".into(), json!(min.as_u64()));
        }
        if let Some(max) = q.max_id {
            range.insert("lt".into(), json!(max.as_u64()));
        }
        filter.push(json!({ "range": { "id": range } }));
    }
    Some(json!({
        "from": q.offset,
        "size": q.limit,
        "_source": false,
        "query": { "bool": {
            "must": [ { "multi_match": {
                "query": words,
                "fields": ["text"],
                "operator": "and",
                "fuzziness": FUZZINESS,
                "fuzzy_transpositions": true,
                "max_expansions": 50
            } } ],
            "filter": filter
        } },
        "sort": ["_score", { "id": "desc" }]
    }))
}

/// The `_search` body of an account search (`None`: nothing can match).
pub fn account_query(q: &AccountSearch) -> Option<Value> {
    let words = query_words(&q.text);
    if words.is_empty() || q.limit == 0 || q.among.as_ref().is_some_and(Vec::is_empty) {
        return None;
    }
    let whole = q.text.trim().trim_start_matches('@').to_lowercase();
    let mut bool_query = json!({
        "must": [ { "constant_score": { "boost": 1.0, "filter": { "match": { "names.prefix": { "query": words, "operator": "and" } } } } } ],
        "should": [
            { "constant_score": { "boost": 1.0, "filter": { "match": { "names": { "query": words } } } } },
            { "constant_score": { "boost": 10.0, "filter": { "term": { "username": whole } } } }
        ]
    });
    if let (Some(among), Some(object)) = (&q.among, bool_query.as_object_mut()) {
        object.insert("filter".into(), json!([ { "terms": { "id": among.iter().map(|id| id.as_u64()).collect::<Vec<_>>() } } ]));
    }
    Some(json!({
        "from": q.offset,
        "size": q.limit,
        "_source": false,
        "query": { "bool": bool_query },
        "sort": ["_score", { "id": "asc" }]
    }))
}

/// Escapes `text` for a Lucene regular expression (the `include` of a terms aggregation).
fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if !(c.is_alphanumeric() || c == '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `_search` body listing hashtags starting with `prefix` (`None`: nothing can match).
pub fn hashtag_query(prefix: &str) -> Option<Value> {
    if prefix.is_empty() {
        return None;
    }
    Some(json!({
        "size": 0,
        "query": { "bool": { "filter": [
            { "terms": { "visibility": ["public", "unlisted"] } },
            { "prefix": { "tags": prefix } }
        ] } },
        "aggs": { "tags": { "terms": {
            "field": "tags",
            "include": format!("{}.*", regex_literal(prefix)),
            "size": MAX_TAG_CANDIDATES,
            "order": [ { "_count": "desc" }, { "_key": "asc" } ]
        } } }
    }))
}

/// A non-2xx answer: the source of the [`SearchError`] it becomes.
#[derive(Debug, thiserror::Error)]
#[error("opensearch {op} answered {status}: {kind}: {reason}")]
struct ErrorAnswer {
    op: String,
    status: String,
    /// OpenSearch's `error.type`.
    kind: String,
    reason: String,
}

/// The error of a non-2xx answer, from OpenSearch's `{"error": {"type", "reason"}}`.
async fn check(op: &str, response: Response) -> Result<Value, SearchError> {
    let status = response.status_code();
    let body: Value = response.json().await.map_err(|e| SearchError::new(format!("opensearch {op}: unreadable answer ({status})"), e))?;
    if status.is_success() {
        return Ok(body);
    }
    let kind = body.pointer("/error/type").and_then(Value::as_str).unwrap_or("unknown");
    let reason = body.pointer("/error/reason").and_then(Value::as_str).unwrap_or("");
    Err(SearchError(Box::new(ErrorAnswer { op: op.to_owned(), status: status.to_string(), kind: kind.to_owned(), reason: reason.to_owned() })))
}

/// The ids of a search answer's hits, in order.
pub fn hit_ids(body: &Value) -> Result<Vec<Id>, SearchError> {
    let hits = body.pointer("/hits/hits").and_then(Value::as_array).ok_or_else(|| SearchError("opensearch search: no hits in the answer".into()))?;
    hits.iter()
        .map(|hit| {
            hit.get("_id")
                .and_then(Value::as_str)
                .and_then(|id| id.parse::<u64>().ok())
                .map(Id::from_u64)
                .ok_or_else(|| SearchError("opensearch search: a hit without a numeric _id".into()))
        })
        .collect()
}

/// The first failed item of a `_bulk` answer, if any (a delete of an absent id is not one).
pub fn bulk_failure(body: &Value) -> Option<String> {
    if body.get("errors").and_then(Value::as_bool) == Some(false) {
        return None;
    }
    let items = body.get("items").and_then(Value::as_array)?;
    items.iter().find_map(|item| {
        let (action, result) = item.as_object()?.iter().next()?;
        let error = result.get("error")?;
        let kind = error.get("type").and_then(Value::as_str).unwrap_or("unknown");
        let reason = error.get("reason").and_then(Value::as_str).unwrap_or("");
        let id = result.get("_id").and_then(Value::as_str).unwrap_or("?");
        Some(format!("{action} {id}: {kind}: {reason}"))
    })
}

/// Hashtag hits of an aggregation answer: exact match first, then by use, then by name.
pub fn tag_hits(body: &Value, prefix: &str, offset: usize, limit: usize) -> Result<Vec<TagHit>, SearchError> {
    let buckets = body
        .pointer("/aggregations/tags/buckets")
        .and_then(Value::as_array)
        .ok_or_else(|| SearchError("opensearch search: no tags aggregation in the answer".into()))?;
    let mut hits: Vec<TagHit> = buckets
        .iter()
        .filter_map(|b| Some(TagHit { name: b.get("key")?.as_str()?.to_owned(), uses: b.get("doc_count")?.as_u64()? }))
        .filter(|hit| hit.uses > 0 && hit.name.starts_with(prefix))
        .collect();
    hits.sort_by(|a, b| (b.name == prefix).cmp(&(a.name == prefix)).then(b.uses.cmp(&a.uses)).then(a.name.cmp(&b.name)));
    Ok(hits.into_iter().skip(offset).take(limit).collect())
}

impl OpenSearchIndex {
    /// Connects and creates the indices that are absent; fails when the cluster does not answer.
    pub async fn connect(config: &OpenSearchConfig) -> Result<Self, SearchError> {
        let url = opensearch::http::Url::parse(&config.url).map_err(|e| SearchError::new(format!("invalid OpenSearch url {:?}", config.url), e))?;
        let mut transport = TransportBuilder::new(SingleNodeConnectionPool::new(url)).timeout(config.timeout).disable_proxy();
        if let Some((user, password)) = &config.basic_auth {
            transport = transport.auth(Credentials::Basic(user.clone(), password.clone()));
        }
        let client = OpenSearch::new(transport.build().map_err(err)?);
        let index = OpenSearchIndex { client, statuses: format!("{}statuses", config.index_prefix), accounts: format!("{}accounts", config.index_prefix) };
        index.ensure_index(&index.statuses, statuses_mapping()).await?;
        index.ensure_index(&index.accounts, accounts_mapping()).await?;
        Ok(index)
    }

    async fn ensure_index(&self, name: &str, mapping: Value) -> Result<(), SearchError> {
        let exists =
            self.client.indices().exists(IndicesExistsParts::Index(&[name])).send().await.map_err(|e| SearchError::new("OpenSearch unreachable", e))?;
        match exists.status_code().as_u16() {
            200 => return Ok(()),
            404 => {}
            other => return Err(SearchError(format!("opensearch HEAD /{name} answered {other}").into())),
        }
        let response = self.client.indices().create(IndicesCreateParts::Index(name)).body(mapping).send().await.map_err(err)?;
        match check("create index", response).await {
            Ok(_) => {
                tracing::info!(index = name, "created OpenSearch index");
                Ok(())
            }
            // Another instance created it between our HEAD and PUT.
            Err(e) if e.0.downcast_ref::<ErrorAnswer>().is_some_and(|a| a.kind == "resource_already_exists_exception") => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn search(&self, index: &str, body: Value) -> Result<Value, SearchError> {
        let response = self.client.search(SearchParts::Index(&[index])).body(body).send().await.map_err(err)?;
        check("search", response).await
    }
}

#[async_trait]
impl SearchIndex for OpenSearchIndex {
    #[tracing::instrument(skip_all, fields(changes = changes.len()))]
    async fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError> {
        if changes.is_empty() {
            return Ok(());
        }
        let lines: Vec<JsonBody<Value>> = bulk_body(&self.statuses, &self.accounts, &changes).into_iter().map(JsonBody::new).collect();
        let response = self.client.bulk(BulkParts::None).refresh(Refresh::WaitFor).body(lines).send().await.map_err(err)?;
        let body = check("bulk", response).await?;
        match bulk_failure(&body) {
            Some(failure) => Err(SearchError(format!("opensearch bulk item failed: {failure}").into())),
            None => Ok(()),
        }
    }

    async fn statuses(&self, query: &StatusSearch) -> Result<Vec<Id>, SearchError> {
        let Some(body) = status_query(query) else { return Ok(Vec::new()) };
        hit_ids(&self.search(&self.statuses, body).await?)
    }

    async fn accounts(&self, query: &AccountSearch) -> Result<Vec<Id>, SearchError> {
        let Some(body) = account_query(query) else { return Ok(Vec::new()) };
        hit_ids(&self.search(&self.accounts, body).await?)
    }

    async fn hashtags(&self, prefix: &str, offset: usize, limit: usize) -> Result<Vec<TagHit>, SearchError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let Some(body) = hashtag_query(prefix) else { return Ok(Vec::new()) };
        tag_hits(&self.search(&self.statuses, body).await?, prefix, offset, limit)
    }

    async fn clear(&self) -> Result<(), SearchError> {
        let response = self
            .client
            .delete_by_query(DeleteByQueryParts::Index(&[&self.statuses, &self.accounts]))
            .refresh(true)
            .conflicts(opensearch::params::Conflicts::Proceed)
            .body(json!({ "query": { "match_all": {} } }))
            .send()
            .await
            .map_err(err)?;
        check("delete_by_query", response).await.map(drop)
    }
}
