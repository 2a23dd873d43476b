//! The recorded run: the real app (embedded adapters, behind the recording decorators) driven
//! in process through its router (`tower::ServiceExt::oneshot`), one action at a time. After
//! each action the event consumers (fanout, search, notifications, streaming) handle what it
//! logged, in the same attribution scope, as the Kinesis consumers would: so every item and
//! key an action causes, directly or through its events, is charged to it.
//!
//! Graph: the highest-degree users of the edge list (Reed98) following each other both ways,
//! plus three celebrities followed by 60%, 30% and 15% of them (above the pull-merge
//! threshold). Workload: sign-ups and follows (setup), then the DeathStarBench mix (60% home,
//! 30% user timeline, 10% posts) interleaved with favourites, boosts, status reads, searches,
//! follows, and the hot variants: reads, favourites and boosts of one viral status (the first
//! celebrity's), home reads by the celebrity's followers, reads of its profile, follows of it,
//! and posts with a trending tag.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::body::Body;
use axum::http::{Request, header};
use core_app::ports::{EventLog, EventSink};
use core_app::{App, Application};
use rand::distributions::Alphanumeric;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value as Json, json};
use tower::ServiceExt as _;

use super::trace::{Access, Cause, RecordingLog, RecordingRateLimits, RecordingSearch, RecordingStore, RecordingStreams, RecordingTimelines, Stage, Trace};
use crate::graph::Graph;

/// The trending tag every `PostTrending` carries.
pub const TRENDING_TAG: &str = "capacitytrend";

/// An action of the workload (one or a few HTTP requests a client makes for one user action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    SignUp,
    Follow,
    FollowLargest,
    Post,
    PostTrending,
    Home,
    HomeLargestFollower,
    UserTimeline,
    UserTimelineLargest,
    StatusRead,
    StatusReadViral,
    Favourite,
    FavouriteViral,
    Boost,
    BoostViral,
    Search,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::SignUp,
        Kind::Follow,
        Kind::FollowLargest,
        Kind::Post,
        Kind::PostTrending,
        Kind::Home,
        Kind::HomeLargestFollower,
        Kind::UserTimeline,
        Kind::UserTimelineLargest,
        Kind::StatusRead,
        Kind::StatusReadViral,
        Kind::Favourite,
        Kind::FavouriteViral,
        Kind::Boost,
        Kind::BoostViral,
        Kind::Search,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::SignUp => "sign-up (app, token, account, verify)",
            Kind::Follow => "follow",
            Kind::FollowLargest => "follow the largest account",
            Kind::Post => "post (DeathStarBench)",
            Kind::PostTrending => "post with the trending tag",
            Kind::Home => "home timeline",
            Kind::HomeLargestFollower => "home timeline, follower of the largest account",
            Kind::UserTimeline => "user timeline",
            Kind::UserTimelineLargest => "user timeline of the largest account",
            Kind::StatusRead => "status read",
            Kind::StatusReadViral => "status read, viral status",
            Kind::Favourite => "favourite",
            Kind::FavouriteViral => "favourite, viral status",
            Kind::Boost => "boost",
            Kind::BoostViral => "boost, viral status",
            Kind::Search => "search (statuses / accounts)",
        }
    }

    /// Whether every action of this kind is aimed at a hot entity (the largest account, the
    /// viral status, the trending tag): its rate is the profile's hot figure.
    pub fn is_hot(self) -> bool {
        matches!(
            self,
            Kind::FollowLargest
                | Kind::PostTrending
                | Kind::HomeLargestFollower
                | Kind::UserTimelineLargest
                | Kind::StatusReadViral
                | Kind::FavouriteViral
                | Kind::BoostViral
        )
    }

    /// The mix weights after setup (DeathStarBench's 60/30/10 over home, user timeline and
    /// posts, then the other actions).
    fn weight(self) -> u32 {
        match self {
            Kind::Home => 24,
            Kind::HomeLargestFollower => 12,
            Kind::UserTimeline => 14,
            Kind::UserTimelineLargest => 4,
            Kind::Post => 10,
            Kind::PostTrending => 4,
            Kind::StatusRead => 5,
            Kind::StatusReadViral => 4,
            Kind::Favourite => 5,
            Kind::FavouriteViral => 4,
            Kind::Boost => 4,
            Kind::BoostViral => 3,
            Kind::Search => 4,
            Kind::Follow => 3,
            Kind::SignUp | Kind::FollowLargest => 0,
        }
    }
}

/// One recorded action.
#[derive(Debug, Clone)]
pub struct ActionRecord {
    pub kind: Kind,
    /// Process CPU time (every thread) while the request ran.
    pub cpu_request: Duration,
    /// Process CPU time while the consumers handled its events.
    pub cpu_consumers: Duration,
    pub ok: bool,
}

/// The ids that make keys hot.
#[derive(Debug, Clone)]
pub struct HotIds {
    pub largest: String,
    pub viral: String,
    pub tag: String,
}

/// What a run recorded.
pub struct Run {
    pub actions: Vec<ActionRecord>,
    pub accesses: Vec<Access>,
    pub hot: HotIds,
    pub users: usize,
    pub follows: usize,
    pub largest_followers: usize,
    pub elapsed: Duration,
    pub errors: Vec<String>,
}

/// How big a run to record.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Users taken from the graph (highest degree first).
    pub users: usize,
    /// Actions of the mix after setup.
    pub actions: usize,
    pub seed: u64,
}

struct User {
    id: String,
    username: String,
    token: String,
}

struct Driver {
    router: axum::Router,
    app: App,
    log: Arc<dyn EventLog>,
    sinks: Vec<(&'static str, Arc<dyn EventSink>)>,
    records: Mutex<Vec<ActionRecord>>,
    after: Mutex<core_app::cursor::Cursor>,
    errors: Mutex<Vec<String>>,
}

/// Process CPU time, every thread (`CLOCK_PROCESS_CPUTIME_ID`).
fn cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}

impl Driver {
    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Json>) -> (u16, Json) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let request = match body {
            Some(b) => request.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
            None => request.body(Body::empty()),
        };
        let Ok(request) = request else { return (0, Json::Null) };
        let Ok(response) = self.router.clone().oneshot(request).await;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
        let json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        if !(200..300).contains(&status) {
            let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
            if errors.len() < 20 {
                errors.push(format!("{method} {path}: {status} {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)])));
            }
        }
        (status, json)
    }

    /// Runs one action: the requests in `work` under its attribution, then the consumers of
    /// what it logged under the same.
    async fn action<T>(&self, kind: Kind, work: impl std::future::Future<Output = (bool, T)>) -> T {
        let action = self.records.lock().unwrap_or_else(PoisonError::into_inner).len();
        let start = cpu_now();
        let (ok, out) = Trace::within(Cause { action, stage: Stage::Request }, work).await;
        let middle = cpu_now();
        let consumed = Trace::within(Cause { action, stage: Stage::Consumers }, self.consume()).await;
        let end = cpu_now();
        if let Err(e) = consumed {
            self.errors.lock().unwrap_or_else(PoisonError::into_inner).push(format!("consumers after {kind:?}: {e:#}"));
        }
        let record = ActionRecord { kind, cpu_request: middle.saturating_sub(start), cpu_consumers: end.saturating_sub(middle), ok };
        self.records.lock().unwrap_or_else(PoisonError::into_inner).push(record);
        out
    }

    /// Hands every event logged since the last call to fanout, search, notifications (as the
    /// Kinesis consumers do) and streaming.
    async fn consume(&self) -> anyhow::Result<()> {
        loop {
            let after = self.after.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let events = self.log.read(&after, 256, Duration::ZERO).await?;
            if events.is_empty() {
                return Ok(());
            }
            for (name, sink) in &self.sinks {
                sink.deliver(&events).await.with_context(|| format!("{name} consumer"))?;
            }
            self.app.stream_events(&events).await.map_err(|e| anyhow::anyhow!("streaming: {e:?}"))?;
            self.after.lock().unwrap_or_else(PoisonError::into_inner).advance(&events);
        }
    }

    async fn sign_up(&self, username: &str) -> anyhow::Result<User> {
        let user = self
            .action(Kind::SignUp, async {
                let (_, app) = self
                    .call("POST", "/api/v1/apps", None, Some(json!({"client_name": "capacity", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow"})))
                    .await;
                let (_, token) = self
                    .call(
                        "POST",
                        "/oauth/token",
                        None,
                        Some(json!({"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": "read write follow"})),
                    )
                    .await;
                let (_, account) = self
                    .call(
                        "POST",
                        "/api/v1/accounts",
                        token["access_token"].as_str(),
                        Some(json!({"username": username, "email": format!("{username}@capacity.test"), "password": "correct horse battery", "agreement": true})),
                    )
                    .await;
                let Some(token) = account["access_token"].as_str().map(str::to_owned) else { return (false, None) };
                let (status, me) = self.call("GET", "/api/v1/accounts/verify_credentials", Some(&token), None).await;
                let id = me["id"].as_str().map(str::to_owned);
                (status == 200, id.map(|id| User { id, username: username.to_owned(), token }))
            })
            .await;
        user.with_context(|| format!("cannot sign up {username}: {:?}", self.errors.lock().unwrap_or_else(PoisonError::into_inner).last()))
    }

    async fn one(&self, kind: Kind, method: &str, path: &str, token: &str, body: Option<Json>) -> Json {
        self.action(kind, async {
            let (status, json) = self.call(method, path, Some(token), body).await;
            ((200..300).contains(&status), json)
        })
        .await
    }
}

/// Records a run of `options` over `graph`.
pub async fn record(graph: &Graph, options: &RunOptions) -> anyhow::Result<Run> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let (users, edges) = densest(graph, options.users);
    if users < 4 {
        bail!("--users must be at least 4 (got {users})");
    }
    let max_degree = (0..users).map(|u| edges.iter().filter(|(a, b)| *a == u || *b == u).count()).max().unwrap_or(0);
    let celebrity_followers: Vec<usize> = [0.6, 0.3, 0.15].iter().map(|share| ((share * users as f64) as usize).max(max_degree + 1).min(users)).collect();
    let threshold = celebrity_followers.iter().copied().min().unwrap_or(1) as u64;

    let dir = tempfile::tempdir().context("cannot create a temporary data directory")?;
    let mut settings = core_server::Settings::default();
    settings.server.data_dir = dir.path().to_path_buf();
    settings.node_id = Some(1);
    settings.edge.enabled = false;
    let mut limits = core_app::config::RateLimitConfig::default();
    limits.sign_ups.limit = 1_000_000;
    limits.logins.limit = 1_000_000;
    limits.requests.limit = 1_000_000;
    settings.rate_limits = Some(limits);
    // As production: deployment-wide keys sharded (the model rates one shard at the profile's
    // counts) and hot copies of public statuses kept for a second.
    settings.timelines = Some(core_app::config::TimelineConfig { celebrity_threshold: threshold, hot_ttl_ms: 1_000, ..Default::default() });
    settings.shards = Some(core_app::config::ShardConfig::uniform(super::cost::RECORDED_SHARDS));
    let backends = core_server::backends(&settings).await?;
    let trace = Trace::default();
    let raw_log = backends.events.clone();
    let recorded = core_app::Backends {
        store: Arc::new(RecordingStore { inner: backends.store.clone(), trace: trace.clone() }),
        events: Arc::new(RecordingLog { inner: backends.events.clone(), trace: trace.clone() }),
        timelines: Arc::new(RecordingTimelines { inner: backends.timelines.clone(), trace: trace.clone() }),
        rate_limits: Arc::new(RecordingRateLimits { inner: backends.rate_limits.clone(), trace: trace.clone() }),
        search: Arc::new(RecordingSearch { inner: backends.search.clone(), trace: trace.clone() }),
        streams: Arc::new(RecordingStreams { inner: backends.streams.clone(), trace: trace.clone() }),
        media: backends.media.clone(),
        push: None,
    };
    let application = Application::build(settings.core_config(), recorded).await.map_err(|e| anyhow::anyhow!("core failed to start: {e:?}"))?;
    let app = application.app().clone();
    let after = raw_log.head().await?;
    let driver = Driver {
        router: application.router(),
        sinks: core_app::consumers::sinks(&app),
        app,
        log: raw_log,
        records: Mutex::new(Vec::new()),
        after: Mutex::new(after),
        errors: Mutex::new(Vec::new()),
    };
    // Startup (keys, node lease) is not an action.
    drop(trace.take());

    // Setup: sign-ups, the graph's follows, the celebrities and their followers.
    let mut people = Vec::with_capacity(users);
    for n in 0..users {
        people.push(driver.sign_up(&format!("u{n}")).await?);
    }
    let mut celebrities = Vec::new();
    for n in 0..3 {
        celebrities.push(driver.sign_up(&format!("celeb{n}")).await?);
    }
    let mut follows = 0;
    for &(a, b) in &edges {
        for (who, whom) in [(a, b), (b, a)] {
            driver.one(Kind::Follow, "POST", &format!("/api/v1/accounts/{}/follow", people[whom].id), &people[who].token, None).await;
            follows += 1;
        }
    }
    let mut order: Vec<usize> = (0..users).collect();
    let mut largest_followers = BTreeSet::new();
    for (n, (c, &count)) in celebrities.iter().zip(&celebrity_followers).enumerate() {
        for i in 0..users {
            let j = rng.gen_range(i..users);
            order.swap(i, j);
        }
        for &who in &order[..count] {
            let kind = if n == 0 { Kind::FollowLargest } else { Kind::Follow };
            driver.one(kind, "POST", &format!("/api/v1/accounts/{}/follow", c.id), &people[who].token, None).await;
            if n == 0 {
                largest_followers.insert(who);
            }
            follows += 1;
        }
    }
    let largest = &celebrities[0];

    // Content: the viral status first, then two posts per user.
    let viral = driver.one(Kind::Post, "POST", "/api/v1/statuses", &largest.token, Some(json!({"status": "the viral status #capacity"}))).await;
    let viral = viral["id"].as_str().context("the viral status was not posted")?.to_owned();
    let mut statuses: Vec<String> = Vec::new();
    for person in people.iter().chain(&celebrities[1..]) {
        for _ in 0..2 {
            let text = status_text(&mut rng, &people);
            let posted = driver.one(Kind::Post, "POST", "/api/v1/statuses", &person.token, Some(json!({ "status": text }))).await;
            statuses.extend(posted["id"].as_str().map(str::to_owned));
        }
    }

    // Every user has read its home once (homes of 30-day actives are built): outside any
    // action, so the mix's home reads are reads of a built timeline, not first-time rebuilds.
    for person in people.iter().chain(&celebrities) {
        driver.call("GET", "/api/v1/timelines/home?limit=10", Some(&person.token), None).await;
    }

    // The mix.
    let total: u32 = Kind::ALL.iter().map(|k| k.weight()).sum();
    let (mut next_viral_fav, mut next_viral_boost) = (0usize, 0usize);
    for _ in 0..options.actions {
        let mut roll = rng.gen_range(0..total);
        let kind = Kind::ALL.iter().copied().find(|k| {
            if roll < k.weight() {
                true
            } else {
                roll -= k.weight();
                false
            }
        });
        let Some(kind) = kind else { continue };
        let me = rng.gen_range(0..users);
        let token = &people[me].token;
        let random_status = statuses[rng.gen_range(0..statuses.len())].clone();
        let cursor = if rng.gen_bool(0.5) { String::new() } else { format!("&max_id={}", statuses[rng.gen_range(0..statuses.len())]) };
        match kind {
            Kind::Home | Kind::HomeLargestFollower => {
                let want = kind == Kind::HomeLargestFollower;
                let candidates: Vec<usize> = (0..users).filter(|u| largest_followers.contains(u) == want).collect();
                let Some(&reader) = candidates.get(rng.gen_range(0..candidates.len().max(1))) else { continue };
                driver.one(kind, "GET", &format!("/api/v1/timelines/home?limit=10{cursor}"), &people[reader].token, None).await;
            }
            Kind::UserTimeline => {
                let owner = &people[rng.gen_range(0..users)];
                driver.one(kind, "GET", &format!("/api/v1/accounts/{}/statuses?limit=10{cursor}", owner.id), token, None).await;
            }
            Kind::UserTimelineLargest => {
                driver.one(kind, "GET", &format!("/api/v1/accounts/{}/statuses?limit=10", largest.id), token, None).await;
            }
            Kind::Post | Kind::PostTrending => {
                let mut text = status_text(&mut rng, &people);
                if kind == Kind::PostTrending {
                    text.push_str(&format!(" #{TRENDING_TAG}"));
                }
                let posted = driver.one(kind, "POST", "/api/v1/statuses", token, Some(json!({ "status": text }))).await;
                statuses.extend(posted["id"].as_str().map(str::to_owned));
            }
            Kind::StatusRead => {
                driver.one(kind, "GET", &format!("/api/v1/statuses/{random_status}"), token, None).await;
            }
            Kind::StatusReadViral => {
                driver.one(kind, "GET", &format!("/api/v1/statuses/{viral}"), token, None).await;
            }
            Kind::Favourite => {
                driver.one(kind, "POST", &format!("/api/v1/statuses/{random_status}/favourite"), token, None).await;
            }
            Kind::Boost => {
                driver.one(kind, "POST", &format!("/api/v1/statuses/{random_status}/reblog"), token, None).await;
            }
            Kind::FavouriteViral => {
                let who = &people[next_viral_fav % users];
                next_viral_fav += 1;
                driver.one(kind, "POST", &format!("/api/v1/statuses/{viral}/favourite"), &who.token, None).await;
            }
            Kind::BoostViral => {
                let who = &people[next_viral_boost % users];
                next_viral_boost += 1;
                driver.one(kind, "POST", &format!("/api/v1/statuses/{viral}/reblog"), &who.token, None).await;
            }
            Kind::Search => {
                let path = if rng.gen_bool(0.5) {
                    "/api/v2/search?q=capacity&type=statuses&limit=10".to_owned()
                } else {
                    let name = &people[rng.gen_range(0..users)].username;
                    format!("/api/v2/search?q={}&type=accounts&limit=10", &name[..name.len().min(3)])
                };
                driver.one(kind, "GET", &path, token, None).await;
            }
            Kind::Follow => {
                let whom = &people[rng.gen_range(0..users)];
                if whom.id != people[me].id {
                    driver.one(kind, "POST", &format!("/api/v1/accounts/{}/follow", whom.id), token, None).await;
                }
            }
            Kind::SignUp | Kind::FollowLargest => {}
        }
    }

    let actions = std::mem::take(&mut *driver.records.lock().unwrap_or_else(PoisonError::into_inner));
    let errors = std::mem::take(&mut *driver.errors.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(Run {
        actions,
        accesses: trace.take(),
        hot: HotIds { largest: largest.id.clone(), viral, tag: TRENDING_TAG.to_owned() },
        users,
        follows,
        largest_followers: largest_followers.len(),
        elapsed: started.elapsed(),
        errors,
    })
}

/// The `n` highest-degree nodes and the edges among them, renumbered `0..n`.
fn densest(graph: &Graph, n: usize) -> (usize, Vec<(usize, usize)>) {
    let mut degree = vec![0usize; graph.nodes];
    for &(a, b) in &graph.edges {
        degree[a] += 1;
        degree[b] += 1;
    }
    let mut nodes: Vec<usize> = (0..graph.nodes).collect();
    nodes.sort_by_key(|&v| (std::cmp::Reverse(degree[v]), v));
    nodes.truncate(n.min(graph.nodes));
    let mut index = vec![usize::MAX; graph.nodes];
    for (i, &v) in nodes.iter().enumerate() {
        index[v] = i;
    }
    let edges = graph.edges.iter().filter(|&&(a, b)| index[a] != usize::MAX && index[b] != usize::MAX).map(|&(a, b)| (index[a], index[b])).collect();
    (nodes.len(), edges)
}

/// DeathStarBench's post: 256 random alphanumerics, 1–6 mentions, 1–6 URLs of 64 characters;
/// plus a searchable word.
fn status_text(rng: &mut StdRng, people: &[User]) -> String {
    let mut text: String = (0..256).map(|_| char::from(rng.sample(Alphanumeric))).collect();
    for _ in 0..rng.gen_range(1..=6) {
        text.push_str(" @");
        text.push_str(&people[rng.gen_range(0..people.len())].username);
    }
    for _ in 0..rng.gen_range(1..=6) {
        text.push_str(" https://");
        text.extend((0..64).map(|_| char::from(rng.sample(Alphanumeric))));
    }
    text.push_str(" capacity");
    text
}
