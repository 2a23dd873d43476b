//! (feature `fake`) A recorded-contract fake of OpenSearch 2.x: an in-process HTTP server answering exactly the
//! REST calls the adapter makes, in the response shapes of tests/fixtures/ (taken from the
//! OpenSearch 2.x documentation), with enough analysis and query evaluation for the port
//! contract suite. Anything else it is sent is answered 400 `unsupported_by_fake`, so a new
//! call the adapter starts making fails the tests until the fake (and its fixtures) learn it.
//!
//! Evaluated: index settings' custom analyzers (standard tokenizer approximated as runs of
//! letters, digits and `_`; `lowercase`, `asciifolding` for Latin-1 letters, `edge_ngram`),
//! `bool` (must/filter/should/must_not, minimum_should_match), `term`, `terms`, `range`,
//! `prefix`, `constant_score`, `match` and `multi_match` (operator, `AUTO:low,high`
//! fuzziness with transpositions) scored by BM25 (k1 = 1.2, b = 0.75) per field, `sort` on
//! `_score` and a numeric field, `from`/`size`, `terms` aggregations with a literal-prefix
//! `include`, `_bulk` index/delete, `_delete_by_query` with `match_all`.
//! Not modelled: shards, refresh intervals (everything is visible at once), scoring details
//! beyond BM25 (fuzzy terms weigh half), other query types and analyzers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::missing_panics_doc)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string.
    pub query: String,
    /// The `authorization` header, if any.
    pub authorization: Option<String>,
    /// The body: one JSON value, or (for `_bulk`) an array of the NDJSON lines.
    pub body: Value,
}

#[derive(Default)]
struct Index {
    settings: Value,
    mappings: Value,
    docs: BTreeMap<String, Value>,
}

#[derive(Default)]
struct State {
    indices: HashMap<String, Index>,
    log: Vec<Recorded>,
}

/// The running fake.
#[derive(Clone)]
pub struct Fake {
    /// Base URL.
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Fake {
    /// Starts on a free loopback port (in the current tokio runtime).
    pub async fn start() -> Fake {
        Fake::start_on(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on `addr` (port 0: a free one) in the current tokio runtime.
    pub async fn start_on(addr: std::net::SocketAddr) -> Fake {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = shared.clone();
            async move { handle(&state, method, uri, &headers, body) }
        });
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fake { url: format!("http://{addr}"), state }
    }

    /// Every request so far, in order.
    pub fn log(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().log.clone()
    }

    /// Forgets the requests so far.
    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// Names of the existing indices.
    pub fn indices(&self) -> Vec<String> {
        let mut names: Vec<String> = self.state.lock().unwrap().indices.keys().cloned().collect();
        names.sort();
        names
    }

    /// The stored source of a document.
    pub fn doc(&self, index: &str, id: &str) -> Option<Value> {
        self.state.lock().unwrap().indices.get(index)?.docs.get(id).cloned()
    }
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn error(status: StatusCode, kind: &str, reason: &str, index: Option<&str>) -> Response {
    let mut cause = json!({ "type": kind, "reason": reason });
    if let Some(index) = index {
        cause["index"] = json!(index);
        cause["index_uuid"] = json!(if kind == "resource_already_exists_exception" { "7Jx4gPZxRnGxBF8PI3vsJw" } else { "_na_" });
        if kind == "index_not_found_exception" {
            cause["resource.id"] = json!(index);
            cause["resource.type"] = json!("index_or_alias");
        }
    }
    let mut top = cause.clone();
    top["root_cause"] = json!([cause]);
    reply(status, json!({ "error": top, "status": status.as_u16() }))
}

fn handle(state: &Mutex<State>, method: Method, uri: Uri, headers: &HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let text = String::from_utf8_lossy(&body).into_owned();
    let parsed: Value = if path.ends_with("/_bulk") {
        Value::Array(text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap_or(Value::Null)).collect())
    } else if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
    };
    let mut state = state.lock().unwrap();
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    state.log.push(Recorded { method: method.to_string(), path: path.clone(), query: query.clone(), authorization, body: parsed.clone() });
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("HEAD", [index]) => {
            let status = if state.indices.contains_key(*index) { StatusCode::OK } else { StatusCode::NOT_FOUND };
            status.into_response()
        }
        ("PUT", [index]) => {
            if state.indices.contains_key(*index) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "resource_already_exists_exception",
                    &format!("index [{index}/7Jx4gPZxRnGxBF8PI3vsJw] already exists"),
                    Some(index),
                );
            }
            let settings = parsed.get("settings").cloned().unwrap_or(Value::Null);
            let mappings = parsed.get("mappings").cloned().unwrap_or(Value::Null);
            state.indices.insert((*index).to_owned(), Index { settings, mappings, docs: BTreeMap::new() });
            reply(StatusCode::OK, json!({ "acknowledged": true, "shards_acknowledged": true, "index": index }))
        }
        ("POST", ["_bulk"]) => bulk(&mut state, &parsed),
        ("POST" | "GET", [indices, "_search"]) => {
            let names: Vec<&str> = indices.split(',').collect();
            for name in &names {
                if !state.indices.contains_key(*name) {
                    return error(StatusCode::NOT_FOUND, "index_not_found_exception", &format!("no such index [{name}]"), Some(name));
                }
            }
            match names.as_slice() {
                [name] => search(&state.indices[*name], name, &parsed),
                _ => error(StatusCode::BAD_REQUEST, "unsupported_by_fake", "search over several indices", None),
            }
        }
        ("POST", [indices, "_delete_by_query"]) => {
            if parsed.pointer("/query/match_all").is_none() {
                return error(StatusCode::BAD_REQUEST, "unsupported_by_fake", "delete_by_query supports match_all only", None);
            }
            let mut deleted = 0;
            for name in indices.split(',') {
                let Some(index) = state.indices.get_mut(name) else {
                    return error(StatusCode::NOT_FOUND, "index_not_found_exception", &format!("no such index [{name}]"), Some(name));
                };
                deleted += index.docs.len();
                index.docs.clear();
            }
            reply(
                StatusCode::OK,
                json!({ "took": 1, "timed_out": false, "total": deleted, "deleted": deleted, "batches": 1, "version_conflicts": 0, "noops": 0, "retries": { "bulk": 0, "search": 0 }, "throttled_millis": 0, "requests_per_second": -1.0, "throttled_until_millis": 0, "failures": [] }),
            )
        }
        _ => error(StatusCode::BAD_REQUEST, "unsupported_by_fake", &format!("{method} {path}"), None),
    }
}

fn bulk(state: &mut State, lines: &Value) -> Response {
    let lines = lines.as_array().cloned().unwrap_or_default();
    let mut items = Vec::new();
    let mut errors = false;
    let mut at = 0;
    let mut seq = 0;
    while at < lines.len() {
        let Some((action, meta)) = lines[at].as_object().and_then(|o| o.iter().next()).map(|(a, m)| (a.clone(), m.clone())) else {
            return error(StatusCode::BAD_REQUEST, "illegal_argument_exception", "Malformed action/metadata line", None);
        };
        at += 1;
        let index = meta.get("_index").and_then(Value::as_str).unwrap_or_default().to_owned();
        let id = meta.get("_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        seq += 1;
        let Some(target) = state.indices.get_mut(&index) else {
            errors = true;
            items.push(json!({ action.clone(): { "_index": index, "_id": id, "status": 404, "error": { "type": "index_not_found_exception", "reason": format!("no such index [{index}]") } } }));
            if action == "index" {
                at += 1;
            }
            continue;
        };
        match action.as_str() {
            "index" => {
                let source = lines.get(at).cloned().unwrap_or(Value::Null);
                at += 1;
                if let Some(unknown) = unmapped_field(&target.mappings, &source) {
                    errors = true;
                    items.push(json!({ "index": { "_index": index, "_id": id, "status": 400, "error": { "type": "strict_dynamic_mapping_exception", "reason": format!("mapping set to strict, dynamic introduction of [{unknown}] within [_doc] is not allowed") } } }));
                    continue;
                }
                let existed = target.docs.insert(id.clone(), source).is_some();
                let (result, status) = if existed { ("updated", 200) } else { ("created", 201) };
                items.push(json!({ "index": { "_index": index, "_id": id, "_version": 1, "result": result, "forced_refresh": true, "_shards": { "total": 2, "successful": 1, "failed": 0 }, "_seq_no": seq, "_primary_term": 1, "status": status } }));
            }
            "delete" => {
                let existed = target.docs.remove(&id).is_some();
                let (result, status) = if existed { ("deleted", 200) } else { ("not_found", 404) };
                items.push(json!({ "delete": { "_index": index, "_id": id, "_version": 1, "result": result, "forced_refresh": true, "_shards": { "total": 2, "successful": 1, "failed": 0 }, "_seq_no": seq, "_primary_term": 1, "status": status } }));
            }
            other => return error(StatusCode::BAD_REQUEST, "unsupported_by_fake", &format!("bulk action {other}"), None),
        }
    }
    reply(StatusCode::OK, json!({ "took": 1, "errors": errors, "items": items }))
}

fn unmapped_field(mappings: &Value, source: &Value) -> Option<String> {
    let properties = mappings.get("properties")?;
    source.as_object()?.keys().find(|k| properties.get(k.as_str()).is_none()).cloned()
}

// ---- analysis ----

fn fold(c: char) -> char {
    match c {
        'à'..='å' => 'a',
        'ç' => 'c',
        'è'..='ë' => 'e',
        'ì'..='ï' => 'i',
        'ñ' => 'n',
        'ò'..='ö' | 'ø' => 'o',
        'ù'..='ü' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => c,
    }
}

/// Tokens of `text` through the named analyzer of the index settings.
fn analyze(settings: &Value, analyzer: &str, text: &str) -> Vec<String> {
    let def =
        settings.pointer(&format!("/analysis/analyzer/{analyzer}")).unwrap_or_else(|| panic!("fake: analyzer {analyzer} not defined in the index settings"));
    assert_eq!(def["tokenizer"], "standard", "fake: only the standard tokenizer is modelled");
    let mut tokens: Vec<String> = text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).map(str::to_owned).collect();
    for filter in def["filter"].as_array().cloned().unwrap_or_default() {
        let name = filter.as_str().unwrap_or_default();
        tokens = match name {
            "lowercase" => tokens.into_iter().map(|t| t.to_lowercase()).collect(),
            "asciifolding" => tokens.into_iter().map(|t| t.chars().map(fold).collect()).collect(),
            custom => {
                let def = settings.pointer(&format!("/analysis/filter/{custom}")).unwrap_or_else(|| panic!("fake: filter {custom} not defined"));
                assert_eq!(def["type"], "edge_ngram", "fake: only edge_ngram custom filters are modelled");
                let (min, max) = (def["min_gram"].as_u64().unwrap_or(1) as usize, def["max_gram"].as_u64().unwrap_or(2) as usize);
                tokens
                    .into_iter()
                    .flat_map(|t| {
                        let chars: Vec<char> = t.chars().collect();
                        (min..=max.min(chars.len())).map(move |n| chars[..n].iter().collect::<String>()).collect::<Vec<_>>()
                    })
                    .collect()
            }
        };
    }
    tokens
}

/// The mapping of `field` (`a` or `a.sub`).
fn field_mapping<'a>(mappings: &'a Value, field: &str) -> &'a Value {
    let (top, sub) = field.split_once('.').map_or((field, None), |(a, b)| (a, Some(b)));
    let m = mappings.pointer(&format!("/properties/{top}")).unwrap_or_else(|| panic!("fake: field {field} is not mapped"));
    match sub {
        Some(sub) => m.pointer(&format!("/fields/{sub}")).unwrap_or_else(|| panic!("fake: sub-field {field} is not mapped")),
        None => m,
    }
}

/// The values of `field` in `doc` as strings (arrays flattened).
fn values(doc: &Value, field: &str) -> Vec<Value> {
    let top = field.split('.').next().unwrap_or(field);
    match doc.get(top) {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => vec![],
        Some(v) => vec![v.clone()],
    }
}

fn as_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn index_tokens(index: &Index, doc: &Value, field: &str) -> Vec<String> {
    let m = field_mapping(&index.mappings, field);
    assert_eq!(m["type"], "text", "fake: {field} is not a text field");
    let analyzer = m["analyzer"].as_str().unwrap_or("standard");
    values(doc, field).iter().flat_map(|v| analyze(&index.settings, analyzer, &as_key(v))).collect()
}

fn search_tokens(index: &Index, field: &str, text: &str) -> Vec<String> {
    let m = field_mapping(&index.mappings, field);
    let analyzer = m.get("search_analyzer").or_else(|| m.get("analyzer")).and_then(Value::as_str).unwrap_or("standard");
    analyze(&index.settings, analyzer, text)
}

/// Optimal-string-alignment distance (a transposition is one edit).
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

fn allowed_edits(fuzziness: Option<&Value>, word: &str) -> usize {
    let Some(f) = fuzziness else { return 0 };
    let f = as_key(f);
    let (low, high) = match f.as_str() {
        "AUTO" => (3, 6),
        other if other.starts_with("AUTO:") => {
            let (l, h) = other["AUTO:".len()..].split_once(',').unwrap_or_else(|| panic!("fake: bad fuzziness {other}"));
            (l.parse().unwrap(), h.parse().unwrap())
        }
        n => return n.parse().unwrap_or_else(|_| panic!("fake: bad fuzziness {n}")),
    };
    let len = word.chars().count();
    if len < low {
        0
    } else if len < high {
        1
    } else {
        2
    }
}

// ---- queries ----

struct Ctx<'a> {
    index: &'a Index,
}

impl Ctx<'_> {
    /// BM25 of one query word against `field` of `doc`: `None` when no term matches.
    fn word_score(&self, doc: &Value, field: &str, word: &str, max_edits: usize) -> Option<f64> {
        let tokens = index_tokens(self.index, doc, field);
        let weight_of = |token: &str| -> Option<f64> {
            let d = edits(word, token);
            if d == 0 {
                Some(1.0)
            } else if d <= max_edits {
                Some(0.5)
            } else {
                None
            }
        };
        let (mut best, mut best_term) = (0.0, None);
        for token in &tokens {
            if let Some(w) = weight_of(token)
                && w > best
            {
                best = w;
                best_term = Some(token.clone());
            }
        }
        let term = best_term?;
        let tf = tokens.iter().filter(|t| **t == term).count() as f64;
        let n = self.index.docs.len() as f64;
        let lens: Vec<f64> = self.index.docs.values().map(|d| index_tokens(self.index, d, field).len() as f64).collect();
        let avg = lens.iter().sum::<f64>() / n.max(1.0);
        let df = self.index.docs.values().filter(|d| index_tokens(self.index, d, field).contains(&term)).count() as f64;
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        let (k1, b) = (1.2, 0.75);
        let len = tokens.len() as f64;
        Some(best * idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * len / avg.max(1.0))))
    }

    fn match_field(&self, doc: &Value, field: &str, text: &str, and: bool, fuzziness: Option<&Value>) -> Option<f64> {
        let words = search_tokens(self.index, field, text);
        if words.is_empty() {
            return None;
        }
        let mut total = 0.0;
        let mut matched = 0;
        for word in &words {
            match self.word_score(doc, field, word, allowed_edits(fuzziness, word)) {
                Some(s) => {
                    total += s;
                    matched += 1;
                }
                None if and => return None,
                None => {}
            }
        }
        (matched > 0).then_some(total)
    }

    /// The score of `doc` under `q`, or `None` when it does not match.
    fn eval(&self, q: &Value, doc: &Value) -> Option<f64> {
        let (kind, body) = q.as_object().and_then(|o| o.iter().next()).unwrap_or_else(|| panic!("fake: malformed query {q}"));
        match kind.as_str() {
            "match_all" => Some(1.0),
            "bool" => {
                let list = |name: &str| body.get(name).map(|v| v.as_array().cloned().unwrap_or_else(|| vec![v.clone()])).unwrap_or_default();
                for key in body.as_object().unwrap().keys() {
                    assert!(["must", "filter", "should", "must_not", "minimum_should_match", "boost"].contains(&key.as_str()), "fake: bool.{key} unsupported");
                }
                let (must, filter, should, must_not) = (list("must"), list("filter"), list("should"), list("must_not"));
                let mut score = 0.0;
                for m in &must {
                    score += self.eval(m, doc)?;
                }
                for f in &filter {
                    self.eval(f, doc)?;
                }
                if must_not.iter().any(|m| self.eval(m, doc).is_some()) {
                    return None;
                }
                let default_min = if must.is_empty() && filter.is_empty() { 1 } else { 0 };
                let min = body.get("minimum_should_match").and_then(Value::as_u64).map_or(default_min, |m| m as usize);
                let mut matched = 0;
                for s in &should {
                    if let Some(x) = self.eval(s, doc) {
                        matched += 1;
                        score += x;
                    }
                }
                (matched >= min).then_some(score)
            }
            "constant_score" => {
                self.eval(&body["filter"], doc)?;
                Some(body.get("boost").and_then(Value::as_f64).unwrap_or(1.0))
            }
            "term" => {
                let (field, spec) = body.as_object().unwrap().iter().next().unwrap();
                let (value, boost) = match spec {
                    Value::Object(o) => (o["value"].clone(), o.get("boost").and_then(Value::as_f64).unwrap_or(1.0)),
                    v => (v.clone(), 1.0),
                };
                values(doc, field).iter().any(|v| as_key(v) == as_key(&value)).then_some(boost)
            }
            "terms" => {
                let (field, wanted) = body.as_object().unwrap().iter().find(|(k, _)| *k != "boost").unwrap();
                let wanted: Vec<String> = wanted.as_array().unwrap().iter().map(as_key).collect();
                values(doc, field).iter().any(|v| wanted.contains(&as_key(v))).then_some(1.0)
            }
            "prefix" => {
                let (field, spec) = body.as_object().unwrap().iter().next().unwrap();
                let prefix = as_key(spec.get("value").unwrap_or(spec));
                values(doc, field).iter().any(|v| as_key(v).starts_with(&prefix)).then_some(1.0)
            }
            "range" => {
                let (field, spec) = body.as_object().unwrap().iter().next().unwrap();
                let v = values(doc, field).first()?.as_u64()?;
                for (op, bound) in spec.as_object().unwrap() {
                    let bound = bound.as_u64().unwrap_or_else(|| panic!("fake: range bounds must be numbers"));
                    let ok = match op.as_str() {
                        "gt" => v > bound,
                        "gte" => v >= bound,
                        "lt" => v < bound,
                        "lte" => v <= bound,
                        other => panic!("fake: range op {other}"),
                    };
                    if !ok {
                        return None;
                    }
                }
                Some(1.0)
            }
            "match" => {
                let (field, spec) = body.as_object().unwrap().iter().next().unwrap();
                let (text, and, fuzziness) = match spec {
                    Value::Object(o) => (as_key(&o["query"]), o.get("operator").and_then(Value::as_str) == Some("and"), o.get("fuzziness")),
                    v => (as_key(v), false, None),
                };
                self.match_field(doc, field, &text, and, fuzziness)
            }
            "multi_match" => {
                let text = as_key(&body["query"]);
                let and = body.get("operator").and_then(Value::as_str) == Some("and");
                let fields: Vec<String> = body["fields"].as_array().unwrap().iter().map(as_key).collect();
                fields.iter().filter_map(|f| self.match_field(doc, f, &text, and, body.get("fuzziness"))).reduce(f64::max)
            }
            other => panic!("fake: query type {other} is not modelled"),
        }
    }
}

fn search(index: &Index, name: &str, body: &Value) -> Response {
    let ctx = Ctx { index };
    let query = body.get("query").cloned().unwrap_or(json!({ "match_all": {} }));
    let mut hits: Vec<(String, f64, &Value)> = index.docs.iter().filter_map(|(id, doc)| ctx.eval(&query, doc).map(|s| (id.clone(), s, doc))).collect();
    let sort = body.get("sort").and_then(Value::as_array).cloned().unwrap_or_else(|| vec![json!("_score")]);
    hits.sort_by(|a, b| {
        for key in &sort {
            let ord = match key {
                Value::String(s) if s == "_score" => b.1.total_cmp(&a.1),
                Value::Object(o) => {
                    let (field, order) = o.iter().next().unwrap();
                    let av = values(a.2, field).first().and_then(Value::as_u64).unwrap_or(0);
                    let bv = values(b.2, field).first().and_then(Value::as_u64).unwrap_or(0);
                    if as_key(order) == "desc" { bv.cmp(&av) } else { av.cmp(&bv) }
                }
                other => panic!("fake: sort {other} unsupported"),
            };
            if ord.is_ne() {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    let total = hits.len();
    let from = body.get("from").and_then(Value::as_u64).unwrap_or(0) as usize;
    let size = body.get("size").and_then(Value::as_u64).unwrap_or(10) as usize;
    let with_source = body.get("_source") != Some(&json!(false));
    let page: Vec<Value> = hits
        .iter()
        .skip(from)
        .take(size)
        .map(|(id, score, doc)| {
            let mut hit = json!({ "_index": name, "_id": id, "_score": score, "sort": [score, doc.get("id")] });
            if with_source {
                hit["_source"] = (*doc).clone();
            }
            hit
        })
        .collect();
    let mut answer = json!({
        "took": 1,
        "timed_out": false,
        "_shards": { "total": 1, "successful": 1, "skipped": 0, "failed": 0 },
        "hits": { "total": { "value": total, "relation": "eq" }, "max_score": null, "hits": page }
    });
    if let Some(aggs) = body.get("aggs").and_then(Value::as_object) {
        let mut out = serde_json::Map::new();
        for (agg_name, agg) in aggs {
            let terms = agg.get("terms").unwrap_or_else(|| panic!("fake: only terms aggregations are modelled"));
            let field = as_key(&terms["field"]);
            let prefix = terms.get("include").map(|inc| {
                let inc = as_key(inc);
                let literal = inc.strip_suffix(".*").unwrap_or_else(|| panic!("fake: include must be <literal>.*"));
                let mut out = String::new();
                let mut chars = literal.chars();
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        out.extend(chars.next());
                    } else {
                        assert!(c.is_alphanumeric() || c == '_', "fake: unescaped regex character {c:?} in include");
                        out.push(c);
                    }
                }
                out
            });
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for (_, _, doc) in &hits {
                let mut seen: Vec<String> = values(doc, &field).iter().map(as_key).collect();
                seen.sort();
                seen.dedup();
                for v in seen {
                    if prefix.as_ref().is_none_or(|p| v.starts_with(p.as_str())) {
                        *counts.entry(v).or_default() += 1;
                    }
                }
            }
            let mut buckets: Vec<(String, u64)> = counts.into_iter().collect();
            buckets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let size = terms.get("size").and_then(Value::as_u64).unwrap_or(10) as usize;
            let other: u64 = buckets.iter().skip(size).map(|b| b.1).sum();
            buckets.truncate(size);
            out.insert(
                agg_name.clone(),
                json!({ "doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets.into_iter().map(|(k, n)| json!({ "key": k, "doc_count": n })).collect::<Vec<_>>() }),
            );
        }
        answer["aggregations"] = Value::Object(out);
    }
    reply(StatusCode::OK, answer)
}
