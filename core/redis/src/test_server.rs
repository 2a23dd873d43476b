//! Throwaway `redis-server` processes on loopback for tests and benchmarks (feature
//! `test-server`): a single node, or a three-primary cluster.
//!
//! A missing `redis-server` is an error, not a skip: the full suite installs it
//! (scripts/test.sh). Locally, `STARLING_SKIP_REDIS=1` opts out; callers check
//! [`skip_requested`].
#![allow(clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the developer asked to skip Redis-backed tests (`STARLING_SKIP_REDIS=1`); never
/// under CI (`CI=true`), where a missing redis-server must fail.
pub fn skip_requested() -> bool {
    std::env::var("STARLING_SKIP_REDIS").is_ok_and(|v| v == "1") && std::env::var("CI").map_or(true, |v| v != "true")
}

/// Redis server processes, killed on drop.
pub struct RedisServer {
    children: Vec<Child>,
    dir: PathBuf,
    /// The URL to connect with (`redis://` or `redis-cluster://`).
    pub url: String,
}

fn free_port() -> u16 {
    // The cluster bus listens on port + 10000: keep below 55535.
    loop {
        let port = TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("local addr").port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn binary(name: &str) -> String {
    let found = Command::new(name).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    assert!(found, "`{name}` is not installed: run scripts/test.sh (it installs Debian's redis-server), or set STARLING_SKIP_REDIS=1 to skip Redis tests locally");
    name.to_owned()
}

fn start(dir: &std::path::Path, port: u16, cluster: bool) -> Child {
    let mut cmd = Command::new(binary("redis-server"));
    cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no", "--daemonize", "no"]);
    cmd.arg("--dir").arg(dir);
    if cluster {
        cmd.args(["--cluster-enabled", "yes", "--cluster-config-file", &format!("nodes-{port}.conf"), "--cluster-node-timeout", "2000"]);
    }
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not listen on port {port} within 10s");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("starling-redis-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create redis temp dir");
    dir
}

impl RedisServer {
    /// One redis-server on a free loopback port, persisting nothing.
    pub fn single() -> Self {
        let dir = temp_dir("single");
        let port = free_port();
        let child = start(&dir, port, false);
        RedisServer { children: vec![child], dir, url: format!("redis://127.0.0.1:{port}") }
    }

    /// A Redis Cluster of three primaries (no replicas) on free loopback ports.
    pub fn cluster() -> Self {
        let dir = temp_dir("cluster");
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let children: Vec<Child> = ports.iter().map(|p| start(&dir, *p, true)).collect();
        let mut create = Command::new(binary("redis-cli"));
        create.args(["--cluster", "create"]).args(ports.iter().map(|p| format!("127.0.0.1:{p}"))).args(["--cluster-replicas", "0", "--cluster-yes"]);
        let out = create.output().expect("run redis-cli --cluster create");
        assert!(out.status.success(), "redis-cli --cluster create failed: {}", String::from_utf8_lossy(&out.stdout));
        let server = RedisServer { children, dir, url: format!("redis-cluster://127.0.0.1:{}?node=127.0.0.1:{}&node=127.0.0.1:{}", ports[0], ports[1], ports[2]) };
        // Wait until every node agrees the cluster is up.
        let deadline = Instant::now() + Duration::from_secs(20);
        for port in &ports {
            loop {
                let info = Command::new("redis-cli").args(["-p", &port.to_string(), "cluster", "info"]).output().expect("redis-cli cluster info");
                if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                    break;
                }
                assert!(Instant::now() < deadline, "the redis cluster did not come up within 20s");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        server
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
