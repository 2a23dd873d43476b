//! Search latency over a large synthetic corpus (default 1,000,000 statuses, set
//! `SEARCH_BENCH_DOCS` to change): builds the index on disk in a temporary directory through
//! the port (batched commits, as the consumer does), then times queries of several shapes and
//! prints p50/p99 for each. Run with `cargo bench -p core-tantivy --bench search_1m`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use std::time::{Duration, Instant};

use core_ports::ports::{AccountDoc, AccountSearch, SearchChange, SearchIndex, StatusDoc, StatusSearch};
use core_tantivy::{TantivyOptions, TantivySearch};
use shared::id::Id;
use shared::wire::Visibility;

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A rank in 0..n, log-uniform (close to Zipf's law, as word frequencies are).
    fn zipf(&mut self, n: usize) -> usize {
        ((n as f64).powf(self.unit()) as usize).saturating_sub(1).min(n - 1)
    }
}

fn word(rng: &mut Rng) -> String {
    let len = 3 + rng.below(8) as usize;
    (0..len).map(|_| (b'a' + rng.below(26) as u8) as char).collect()
}

const VOCABULARY: usize = 50_000;
const TAGS: usize = 2_000;
const AUTHORS: u64 = 10_000;
const BATCH: usize = 50_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>, hits: usize) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.1} |",
        samples.len(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().unwrap()),
        hits as f64 / samples.len() as f64
    );
}

/// Draws one query text of a shape.
type QueryShape<'a> = Box<dyn Fn(&mut Rng) -> String + 'a>;

fn main() {
    let docs: usize = std::env::var("SEARCH_BENCH_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let index = TantivySearch::open(dir.path(), TantivyOptions { writer_memory_bytes: 256_000_000, writer_threads: 2 }).unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let vocabulary: Vec<String> = (0..VOCABULARY).map(|_| word(&mut rng)).collect();
    let tags: Vec<String> = (0..TAGS).map(|i| format!("{}{i}", word(&mut rng))).collect();

    // Build.
    let started = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for n in 0..AUTHORS {
        let username = format!("{}{n}", word(&mut rng));
        let display_name = format!("{} {}", vocabulary[rng.zipf(VOCABULARY)], vocabulary[rng.zipf(VOCABULARY)]);
        batch.push(SearchChange::IndexAccount(AccountDoc { id: Id::from_u64(n + 1), username, display_name }));
    }
    for n in 0..docs {
        let words = 8 + rng.below(23) as usize;
        let text: Vec<&str> = (0..words).map(|_| vocabulary[rng.zipf(VOCABULARY)].as_str()).collect();
        let roll = rng.below(100);
        let visibility = match roll {
            0..80 => Visibility::Public,
            80..90 => Visibility::Unlisted,
            90..97 => Visibility::Private,
            _ => Visibility::Direct,
        };
        let mentions = if visibility == Visibility::Direct { vec![Id::from_u64(1 + rng.below(AUTHORS))] } else { Vec::new() };
        let tag_count = rng.below(3) as usize;
        let doc_tags = (0..tag_count).map(|_| tags[rng.zipf(TAGS)].clone()).collect();
        batch.push(SearchChange::IndexStatus(StatusDoc {
            id: Id::from_u64(1_000_000 + n as u64),
            author: Id::from_u64(1 + rng.below(AUTHORS)),
            visibility,
            mentions,
            text: text.join(" "),
            tags: doc_tags,
        }));
        if batch.len() >= BATCH {
            runtime.block_on(index.apply(std::mem::take(&mut batch))).unwrap();
        }
    }
    runtime.block_on(index.apply(batch)).unwrap();
    let build = started.elapsed();
    let size: u64 = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    println!(
        "indexed {docs} statuses + {AUTHORS} accounts in {:.1}s ({:.0} docs/s), {:.0} MB on disk",
        build.as_secs_f64(),
        docs as f64 / build.as_secs_f64(),
        size as f64 / 1e6
    );

    // Query.
    const QUERIES: usize = 300;
    let followed: Vec<Id> = (0..200).map(|_| Id::from_u64(1 + rng.below(AUTHORS))).collect();
    let reader = Id::from_u64(42);
    let status_query = |text: String| StatusSearch { text, reader, followed: followed.clone(), author: None, max_id: None, min_id: None, offset: 0, limit: 20 };
    let pick = |rng: &mut Rng, from: usize, to: usize| vocabulary[from + rng.below((to - from) as u64) as usize].clone();
    let typo = |w: &str, rng: &mut Rng| {
        let mut chars: Vec<char> = w.chars().collect();
        let at = rng.below(chars.len() as u64) as usize;
        chars[at] = if chars[at] == 'z' { 'a' } else { (chars[at] as u8 + 1) as char };
        chars.into_iter().collect::<String>()
    };
    let shapes: Vec<(&str, QueryShape<'_>)> = vec![
        ("statuses: one common word (rank < 100)", Box::new(|rng: &mut Rng| pick(rng, 0, 100))),
        ("statuses: one mid word (rank 1k-5k)", Box::new(|rng: &mut Rng| pick(rng, 1_000, 5_000))),
        ("statuses: one rare word (rank > 20k)", Box::new(|rng: &mut Rng| pick(rng, 20_000, VOCABULARY))),
        ("statuses: two words (common + mid)", Box::new(|rng: &mut Rng| format!("{} {}", pick(rng, 0, 100), pick(rng, 1_000, 5_000)))),
        (
            "statuses: one 3-letter word (exact only)",
            Box::new(|rng: &mut Rng| {
                let w = pick(rng, 100, 20_000);
                w.chars().take(3).collect()
            }),
        ),
        (
            "statuses: mid word with a typo",
            Box::new(move |rng: &mut Rng| {
                let w = pick(rng, 1_000, 5_000);
                typo(&w, rng)
            }),
        ),
    ];
    println!();
    println!("| query | n | p50 ms | p99 ms | max ms | avg hits |");
    println!("|---|---|---|---|---|---|");
    for (name, make) in &shapes {
        let mut samples = Vec::with_capacity(QUERIES);
        let mut hits = 0;
        for _ in 0..QUERIES {
            let query = status_query(make(&mut rng));
            let t = Instant::now();
            hits += runtime.block_on(index.statuses(&query)).unwrap().len();
            samples.push(t.elapsed());
        }
        report(name, samples, hits);
    }
    let mut samples = Vec::with_capacity(QUERIES);
    let mut hits = 0;
    for _ in 0..QUERIES {
        let query = StatusSearch { followed: Vec::new(), ..status_query(pick(&mut rng, 20_000, VOCABULARY)) };
        let t = Instant::now();
        hits += runtime.block_on(index.statuses(&query)).unwrap().len();
        samples.push(t.elapsed());
    }
    report("statuses: one rare word, reader follows nobody", samples, hits);
    let mut samples = Vec::with_capacity(QUERIES);
    let mut hits = 0;
    for _ in 0..QUERIES {
        let w = pick(&mut rng, 0, 5_000);
        let prefix: String = w.chars().take(3).collect();
        let t = Instant::now();
        hits += runtime.block_on(index.accounts(&AccountSearch { text: prefix, among: None, offset: 0, limit: 20 })).unwrap().len();
        samples.push(t.elapsed());
    }
    report("accounts: 3-letter prefix", samples, hits);
    let mut samples = Vec::with_capacity(QUERIES);
    let mut hits = 0;
    for _ in 0..QUERIES {
        let tag = &tags[rng.zipf(TAGS)];
        let prefix: String = tag.chars().take(2).collect();
        let t = Instant::now();
        hits += runtime.block_on(index.hashtags(&prefix, 0, 20)).unwrap().len();
        samples.push(t.elapsed());
    }
    report("hashtags: 2-letter prefix", samples, hits);
}
