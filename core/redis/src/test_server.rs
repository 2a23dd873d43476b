//! Throwaway `redis-server` processes on loopback for tests and benchmarks (feature
//! `test-server`): a single node, or a three-primary cluster, in plain TCP or TLS (a CA and a
//! server certificate for 127.0.0.1 made with the `openssl` command for each server).
//!
//! A missing `redis-server` is an error, not a skip: tests that start one are `#[ignore]`d (plain
//! `cargo test` needs no services) and run in `scripts/test.sh tier2`, which installs it.
#![allow(clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Redis server processes, killed on drop.
pub struct RedisServer {
    children: Vec<Child>,
    dir: PathBuf,
    /// The URL to connect with (`redis://`, `redis-cluster://`, or their `rediss` forms).
    pub url: String,
    /// The CA that signed the server's certificate, when on TLS.
    pub ca_file: Option<PathBuf>,
    /// The redis-cli arguments that reach the server (TLS flags included).
    cli: Vec<String>,
    /// The port of a plain single node (what [`RedisServer::restart`] listens on again).
    port: Option<u16>,
}

/// A server certificate and the CA that signed it.
struct Certificates {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// Makes a CA and a certificate for 127.0.0.1 / localhost signed by it, in `dir`.
fn certificates(dir: &std::path::Path) -> Certificates {
    let openssl = binary("openssl");
    let run = |args: &[&str]| {
        let out = Command::new(&openssl).current_dir(dir).args(args).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=starling test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n").expect("write the certificate extensions");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    Certificates { ca: dir.join("ca.pem"), cert: dir.join("server.pem"), key: dir.join("server.key") }
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
    let version = if name == "openssl" { "version" } else { "--version" };
    let found = Command::new(name).arg(version).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    assert!(
        found,
        "`{name}` is not installed: `scripts/test.sh tier2` installs Debian's redis-server and openssl (apt-get install redis-server redis-tools openssl)"
    );
    name.to_owned()
}

fn start(dir: &std::path::Path, port: u16, cluster: bool, tls: Option<&Certificates>) -> Child {
    let mut cmd = Command::new(binary("redis-server"));
    cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]);
    match tls {
        None => {
            cmd.args(["--port", &port.to_string()]);
        }
        Some(certs) => {
            cmd.args(["--port", "0", "--tls-port", &port.to_string(), "--tls-auth-clients", "no"]);
            cmd.arg("--tls-cert-file").arg(&certs.cert).arg("--tls-key-file").arg(&certs.key).arg("--tls-ca-cert-file").arg(&certs.ca);
            if cluster {
                cmd.args(["--tls-cluster", "yes"]);
            }
        }
    }
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
        Self::start_single(false)
    }

    /// One redis-server speaking only TLS (`rediss://`), its certificate signed by [`Self::ca_file`].
    pub fn single_tls() -> Self {
        Self::start_single(true)
    }

    /// A Redis Cluster of three primaries (no replicas) on free loopback ports.
    pub fn cluster() -> Self {
        Self::start_cluster(false)
    }

    /// A Redis Cluster of three primaries speaking only TLS, between nodes too (`rediss-cluster://`).
    pub fn cluster_tls() -> Self {
        Self::start_cluster(true)
    }

    fn start_single(tls: bool) -> Self {
        let dir = temp_dir(if tls { "single-tls" } else { "single" });
        let certs = tls.then(|| certificates(&dir));
        let port = free_port();
        let child = start(&dir, port, false, certs.as_ref());
        let cli = cli_args(port, certs.as_ref());
        let url = format!("{}://127.0.0.1:{port}", if tls { "rediss" } else { "redis" });
        let port = (!tls).then_some(port);
        RedisServer { children: vec![child], dir, url, ca_file: certs.map(|c| c.ca), cli, port }
    }

    fn start_cluster(tls: bool) -> Self {
        let dir = temp_dir(if tls { "cluster-tls" } else { "cluster" });
        let certs = tls.then(|| certificates(&dir));
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let children: Vec<Child> = ports.iter().map(|p| start(&dir, *p, true, certs.as_ref())).collect();
        let mut create = Command::new(binary("redis-cli"));
        create.args(tls_args(certs.as_ref())).args(["--cluster", "create"]).args(ports.iter().map(|p| format!("127.0.0.1:{p}"))).args([
            "--cluster-replicas",
            "0",
            "--cluster-yes",
        ]);
        let out = create.output().expect("run redis-cli --cluster create");
        assert!(out.status.success(), "redis-cli --cluster create failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let scheme = if tls { "rediss-cluster" } else { "redis-cluster" };
        let url = format!("{scheme}://127.0.0.1:{}?node=127.0.0.1:{}&node=127.0.0.1:{}", ports[0], ports[1], ports[2]);
        // Wait until every node agrees the cluster is up.
        let deadline = Instant::now() + Duration::from_secs(20);
        for port in &ports {
            loop {
                let info = Command::new("redis-cli").args(cli_args(*port, certs.as_ref())).args(["cluster", "info"]).output().expect("redis-cli cluster info");
                if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                    break;
                }
                assert!(Instant::now() < deadline, "the redis cluster did not come up within 20s");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let cli = cli_args(ports[0], certs.as_ref());
        RedisServer { children, dir, url, ca_file: certs.map(|c| c.ca), cli, port: None }
    }

    /// Freezes every node (SIGSTOP): connections stay open and commands get no answer, as
    /// with a hung or overloaded server.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Thaws what [`RedisServer::pause`] froze (SIGCONT).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, signal: &str) {
        for child in &self.children {
            let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().expect("run kill");
            assert!(status.success(), "kill -{signal} {} failed", child.id());
        }
    }

    /// Kills every node (a crash: nothing was persisted, so the data is gone).
    pub fn kill(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }

    /// Starts an empty plain single node again on the port it had, after [`RedisServer::kill`].
    pub fn start_again(&mut self) {
        let port = self.port.expect("start_again: a plain single node only");
        assert!(self.children.is_empty(), "start_again: kill it first");
        self.children = vec![start(&self.dir, port, false, None)];
    }

    /// Runs `redis-cli` against the (first) node with `args`, returning its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(binary("redis-cli")).args(&self.cli).args(args).output().expect("run redis-cli");
        assert!(out.status.success(), "redis-cli {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn tls_args(certs: Option<&Certificates>) -> Vec<String> {
    certs.map(|c| vec!["--tls".to_owned(), "--cacert".to_owned(), c.ca.display().to_string()]).unwrap_or_default()
}

fn cli_args(port: u16, certs: Option<&Certificates>) -> Vec<String> {
    let mut args = tls_args(certs);
    args.extend(["-h".to_owned(), "127.0.0.1".to_owned(), "-p".to_owned(), port.to_string()]);
    args
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
