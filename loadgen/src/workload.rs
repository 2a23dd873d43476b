//! The timed phases: closed-loop clients that each send one request, wait for the whole
//! answer, and send the next, until the phase's time is up.
//!
//! The mix is DeathStarBench's social network: 60% home-timeline reads, 30% user-timeline
//! reads, 10% posts, each by a uniformly drawn user. The baseline sends `GET /health` (a
//! constant through the same HTTP stack) so the mix can be read against this machine's ceiling.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand::distributions::Alphanumeric;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use reqwest::Method;

use crate::api::{Answer, Api};
use crate::setup::User;
use crate::stats::Recorder;

/// Statuses per timeline read.
const PAGE: usize = 10;

/// A request type, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    HomeTimeline,
    UserTimeline,
    Post,
    Health,
}

impl Kind {
    /// Its row label.
    pub fn label(self) -> &'static str {
        match self {
            Kind::HomeTimeline => "home timeline `GET /api/v1/timelines/home?limit=10`",
            Kind::UserTimeline => "user timeline `GET /api/v1/accounts/:id/statuses?limit=10`",
            Kind::Post => "post `POST /api/v1/statuses`",
            Kind::Health => "`GET /health`",
        }
    }
}

/// Where timeline reads start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Reads {
    /// At a `max_id` drawn from the statuses posted so far (DeathStarBench's random offset).
    RandomCursor,
    /// At the newest status, as a client refreshing its timeline does.
    FirstPage,
}

/// Which requests a phase sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Mix,
    Baseline,
}

/// What a phase's clients did.
pub struct PhaseRun {
    pub by_kind: BTreeMap<Kind, Recorder>,
    /// From the first request to the last answer (a little over the phase's duration, since
    /// requests in flight at the deadline are waited for and counted).
    pub elapsed: Duration,
}

/// The users and what they have posted so far, shared by every client.
pub struct Workload {
    api: Arc<Api>,
    users: Vec<User>,
    reads: Reads,
    /// Ids of statuses posted during the run, where read cursors are drawn from.
    posted: Mutex<Vec<String>>,
}

impl Workload {
    /// A workload over registered users.
    pub fn new(api: Arc<Api>, users: Vec<User>, reads: Reads) -> Self {
        Workload { api, users, reads, posted: Mutex::new(Vec::new()) }
    }

    /// Statuses posted so far in the run.
    pub fn posted(&self) -> usize {
        self.posted.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Runs `clients` closed-loop clients for `duration`.
    pub async fn run(self: &Arc<Self>, phase: Phase, clients: usize, duration: Duration, seed: u64) -> PhaseRun {
        let start = Instant::now();
        let deadline = start + duration;
        let mut tasks = Vec::with_capacity(clients);
        for client in 0..clients {
            let workload = self.clone();
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add((client as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
            tasks.push(tokio::spawn(async move {
                let mut by_kind: BTreeMap<Kind, Recorder> = BTreeMap::new();
                while Instant::now() < deadline {
                    let (kind, answer) = workload.one(phase, &mut rng).await;
                    let recorder = by_kind.entry(kind).or_default();
                    recorder.record(answer.outcome, answer.latency);
                    if let Some(hit) = answer.cache_hit {
                        recorder.record_cache(hit);
                    }
                }
                by_kind
            }));
        }
        let mut by_kind: BTreeMap<Kind, Recorder> = BTreeMap::new();
        for task in tasks {
            match task.await {
                Ok(client) => {
                    for (kind, recorder) in client {
                        by_kind.entry(kind).or_default().merge(recorder);
                    }
                }
                Err(e) => eprintln!("a load client failed: {e}"),
            }
        }
        PhaseRun { by_kind, elapsed: start.elapsed() }
    }

    async fn one(&self, phase: Phase, rng: &mut StdRng) -> (Kind, Answer) {
        if phase == Phase::Baseline {
            return (Kind::Health, self.api.send(self.api.request(Method::GET, "/health", None), false).await);
        }
        let me = &self.users[rng.gen_range(0..self.users.len())];
        let roll = rng.gen_range(0..100);
        if roll < 60 {
            let path = format!("/api/v1/timelines/home?limit={PAGE}{}", self.cursor(rng));
            (Kind::HomeTimeline, self.api.send(self.api.request(Method::GET, &path, Some(&me.token)), false).await)
        } else if roll < 90 {
            let owner = &self.users[rng.gen_range(0..self.users.len())];
            let path = format!("/api/v1/accounts/{}/statuses?limit={PAGE}{}", owner.id, self.cursor(rng));
            (Kind::UserTimeline, self.api.send(self.api.request(Method::GET, &path, Some(&me.token)), false).await)
        } else {
            let text = self.status_text(rng);
            let request = self.api.request(Method::POST, "/api/v1/statuses", Some(&me.token)).json(&serde_json::json!({ "status": text }));
            let answer = self.api.send(request, true).await;
            if let Some(id) = answer.field("id").filter(|_| answer.outcome.is_success()) {
                self.posted.lock().unwrap_or_else(PoisonError::into_inner).push(id);
            }
            (Kind::Post, answer)
        }
    }

    /// `&max_id=…` drawn uniformly from the statuses posted so far, or nothing (the first
    /// page) while fewer than a page of them exist or when reads are first-page only. Mastodon's API pages by id cursor only,
    /// so this stands in for DeathStarBench's "random offset in 0..100".
    fn cursor(&self, rng: &mut StdRng) -> String {
        let posted = self.posted.lock().unwrap_or_else(PoisonError::into_inner);
        if self.reads == Reads::FirstPage || posted.len() < PAGE {
            return String::new();
        }
        format!("&max_id={}", posted[rng.gen_range(0..posted.len())])
    }

    /// 256 random alphanumerics, 1–6 mentions of random users, 1–6 URLs of 64 random
    /// characters (DeathStarBench's post, without media: Starling has no uploads yet).
    fn status_text(&self, rng: &mut StdRng) -> String {
        let mut text: String = (0..256).map(|_| char::from(rng.sample(Alphanumeric))).collect();
        for _ in 0..rng.gen_range(1..=6) {
            text.push_str(" @");
            text.push_str(&self.users[rng.gen_range(0..self.users.len())].username);
        }
        for _ in 0..rng.gen_range(1..=6) {
            text.push_str(" https://");
            text.extend((0..64).map(|_| char::from(rng.sample(Alphanumeric))));
        }
        text
    }
}
