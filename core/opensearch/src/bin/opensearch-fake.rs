//! The recorded-contract fake OpenSearch as a process, for end-to-end runs of a whole server
//! with `[search] type = "opensearch"` (no OpenSearch server runs on the test machines).
//!
//!     opensearch-fake [PORT]     # listens on 127.0.0.1:PORT (default: a free port)
//!
//! Prints its base URL on the first line of stdout, then serves until killed.

use std::io::Write as _;
use std::net::SocketAddr;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let port = match std::env::args().nth(1).map(|p| p.parse::<u16>()) {
        None => 0,
        Some(Ok(port)) => port,
        Some(Err(_)) => {
            eprintln!("usage: opensearch-fake [PORT]");
            return std::process::ExitCode::from(2);
        }
    };
    let fake = core_opensearch::fake::Fake::start_on(SocketAddr::from(([127, 0, 0, 1], port))).await;
    let mut out = std::io::stdout();
    if writeln!(out, "{}", fake.url).and_then(|()| out.flush()).is_err() {
        return std::process::ExitCode::FAILURE;
    }
    std::future::pending::<()>().await;
    std::process::ExitCode::SUCCESS
}
