//! Setup: one account per graph node through the public API, then both directions of every
//! edge as follows. Tokens stay in memory for the run.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use reqwest::Method;

use crate::api::{Answer, Api};
use crate::graph::Graph;
use crate::stats::{Outcome, Recorder};

/// Scopes every load user's token carries.
const SCOPES: &str = "read write follow";
/// Every load user's password (the server hashes it with argon2 at sign-up).
const PASSWORD: &str = "load generator password";

/// A registered user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub token: String,
}

/// One setup step's requests and wall-clock time.
pub struct Step {
    pub name: &'static str,
    pub concurrency: usize,
    pub recorder: Recorder,
    pub elapsed: Duration,
}

/// What setup made.
pub struct Setup {
    pub users: Vec<User>,
    pub steps: Vec<Step>,
}

/// Concurrency of each step.
pub struct SetupOptions {
    pub prefix: String,
    pub register_concurrency: usize,
    pub follow_concurrency: usize,
}

/// Registers every node and makes every follow; fails if any sign-up fails (the mix needs
/// every user) but only counts failed follows.
pub async fn run(api: Arc<Api>, graph: &Graph, options: &SetupOptions) -> anyhow::Result<Setup> {
    let app_token = Arc::new(api.app_token(SCOPES).await?);
    let (users, mut steps) = register(api.clone(), app_token, graph.nodes, options).await?;
    let users = Arc::new(users);
    steps.push(follow(api, users.clone(), graph.follows(), options.follow_concurrency).await);
    let users = Arc::try_unwrap(users).unwrap_or_else(|shared| (*shared).clone());
    Ok(Setup { users, steps })
}

async fn register(api: Arc<Api>, app_token: Arc<String>, nodes: usize, options: &SetupOptions) -> anyhow::Result<(Vec<User>, Vec<Step>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let prefix = Arc::new(options.prefix.clone());
    let start = Instant::now();
    let results = {
        let stop = stop.clone();
        on_pool("sign-ups", nodes, options.register_concurrency, stop.clone(), move |node| {
            let (api, app_token, prefix, stop) = (api.clone(), app_token.clone(), prefix.clone(), stop.clone());
            async move {
                let username = format!("{prefix}{node}");
                let sign_up = api.request(Method::POST, "/api/v1/accounts", Some(&app_token)).json(&serde_json::json!({
                    "username": username,
                    "email": format!("{username}@load.example"),
                    "password": PASSWORD,
                    "agreement": true,
                }));
                let sign_up = api.send(sign_up, true).await;
                let Some(token) = sign_up.field("access_token") else {
                    stop.store(true, Ordering::Relaxed);
                    return (sign_up, None);
                };
                let me = api.send(api.request(Method::GET, "/api/v1/accounts/verify_credentials", Some(&token)), true).await;
                if me.field("id").is_none() {
                    stop.store(true, Ordering::Relaxed);
                }
                (sign_up, Some((me, User { id: String::new(), username, token })))
            }
        })
        .await?
    };
    let elapsed = start.elapsed();
    let mut sign_ups = Recorder::default();
    let mut lookups = Recorder::default();
    let mut users: Vec<Option<User>> = vec![None; nodes];
    let mut first_failure: Option<String> = None;
    for (node, (sign_up, rest)) in results {
        sign_ups.record(sign_up.outcome, sign_up.latency);
        let Some((me, mut user)) = rest else {
            first_failure.get_or_insert_with(|| failure_hint("sign-up", &sign_up));
            continue;
        };
        lookups.record(me.outcome, me.latency);
        match me.field("id") {
            Some(id) => {
                user.id = id;
                users[node] = Some(user);
            }
            None => {
                first_failure.get_or_insert_with(|| failure_hint("verify_credentials", &me));
            }
        }
    }
    if let Some(failure) = first_failure {
        bail!("setup stopped: {failure} (sign-ups so far: {})", sign_ups.errors_by_cause());
    }
    let users: Vec<User> = users.into_iter().collect::<Option<_>>().context("a node was never registered")?;
    let steps = vec![
        Step { name: "sign-up (`POST /api/v1/accounts`, argon2)", concurrency: options.register_concurrency, recorder: sign_ups, elapsed },
        Step { name: "`GET /api/v1/accounts/verify_credentials` (user id)", concurrency: options.register_concurrency, recorder: lookups, elapsed },
    ];
    Ok((users, steps))
}

fn failure_hint(what: &str, answer: &Answer) -> String {
    let hint = if answer.outcome == Outcome::Status(429) {
        " — the server rate-limits this; start it with the limits raised, e.g. STARLING__RATE_LIMITS__ENABLED=false"
    } else {
        ""
    };
    format!("{what} failed with {}{hint}", answer.describe())
}

async fn follow(api: Arc<Api>, users: Arc<Vec<User>>, follows: Vec<(usize, usize)>, concurrency: usize) -> Step {
    let follows = Arc::new(follows);
    let start = Instant::now();
    let count = follows.len();
    let results = on_pool("follows", count, concurrency, Arc::new(AtomicBool::new(false)), move |i| {
        let (api, users, follows) = (api.clone(), users.clone(), follows.clone());
        async move {
            let (who, whom) = follows[i];
            let (who, whom) = (&users[who], &users[whom]);
            let path = format!("/api/v1/accounts/{}/follow", whom.id);
            api.send(api.request(Method::POST, &path, Some(&who.token)).json(&serde_json::json!({})), false).await
        }
    })
    .await;
    let elapsed = start.elapsed();
    let mut recorder = Recorder::default();
    match results {
        Ok(results) => {
            for (_, answer) in results {
                recorder.record(answer.outcome, answer.latency);
            }
        }
        Err(e) => eprintln!("follows: {e:#}"),
    }
    Step { name: "follow (`POST /api/v1/accounts/:id/follow`)", concurrency, recorder, elapsed }
}

/// Runs `work(i)` for each `i in 0..count` on `concurrency` tasks, until done or `stop` is
/// set, printing progress to stderr every tenth; returns each finished `i` with its result.
async fn on_pool<T, F, Fut>(label: &'static str, count: usize, concurrency: usize, stop: Arc<AtomicBool>, work: F) -> anyhow::Result<Vec<(usize, T)>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let tenth = (count / 10).max(1);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let (work, next, done, stop) = (work.clone(), next.clone(), done.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                out.push((i, work(i).await));
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                if finished % tenth == 0 || finished == count {
                    let secs = start.elapsed().as_secs_f64();
                    eprintln!("  {label}: {finished}/{count} in {secs:.1} s ({:.0}/s)", finished as f64 / secs.max(1e-9));
                }
            }
            out
        }));
    }
    let mut results = Vec::with_capacity(count);
    for task in tasks {
        results.extend(task.await.context("a setup task failed")?);
    }
    Ok(results)
}
