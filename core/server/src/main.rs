//! `starling`: the Starling server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use core_server::Settings;
use tracing_subscriber::EnvFilter;

/// Starling: a Twitter-like social server speaking the Mastodon client API.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (embedded backends unless configured otherwise).
    ///
    /// Settings are layered: defaults, then the TOML file, then environment variables
    /// named STARLING__SECTION__KEY (e.g. STARLING__INSTANCE__BASE_URL), then these flags.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "STARLING_LISTEN")]
        listen: Option<SocketAddr>,
        /// Directory for embedded data [default: ./data].
        #[arg(long, env = "STARLING_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// TOML configuration file.
        #[arg(long, env = "STARLING_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Search index maintenance.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// Runs every data migration again (each is idempotent; the server runs those not yet done
    /// when it starts). A deployment of many tasks runs it once before rolling a new version
    /// out and once after (docs/operations.md, "Data migrations").
    Migrate {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Account administration: create accounts, grant roles (run while the server is
    /// stopped when it uses the embedded store, which admits one process).
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
}

/// Where the data is: as `serve` takes them.
#[derive(clap::Args)]
struct DataArgs {
    /// Directory for embedded data [default: ./data].
    #[arg(long, env = "STARLING_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long, env = "STARLING_CONFIG")]
    config: Option<PathBuf>,
}

impl DataArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::load(self.config.as_deref())?;
        if let Some(dir) = &self.data_dir {
            settings.server.data_dir.clone_from(dir);
        }
        Ok(settings)
    }
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Creates an account, e.g. the first admin (prints its password when none is given).
    Create {
        /// Its username.
        username: String,
        /// Its e-mail address.
        #[arg(long)]
        email: String,
        /// Its role: user, moderator, admin or owner.
        #[arg(long, default_value = "user")]
        role: String,
        /// Its password [default: a random one, printed].
        #[arg(long, env = "STARLING_NEW_PASSWORD")]
        password: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Changes an account.
    Modify {
        /// Its username.
        username: String,
        /// Its new role: user, moderator, admin or owner.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Re-indexes every account and its statuses from the store (run while the server is
    /// stopped: the embedded store admits one process). Covers accounts in the sign-up listing
    /// and each one's statuses; boosts are not indexed.
    Rebuild {
        /// Directory for embedded data [default: ./data].
        #[arg(long, env = "STARLING_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// TOML configuration file.
        #[arg(long, env = "STARLING_CONFIG")]
        config: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(EnvFilter::try_from_env("STARLING_LOG").unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"))).init();
    match Cli::parse().command {
        Command::Serve { listen, data_dir, config } => {
            let mut settings = Settings::load(config.as_deref())?;
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            if let Some(dir) = data_dir {
                settings.server.data_dir = dir;
            }
            let (app, pipelines) = core_server::build_serving(&settings).await?;
            let listener =
                tokio::net::TcpListener::bind(settings.server.listen).await.with_context(|| format!("cannot listen on {}", settings.server.listen))?;
            tracing::info!(address = %settings.server.listen, base_url = %app.app().config().instance.base_url, edge = settings.edge.enabled, "starling listening");
            let router = core_server::front_router(&settings, &app);
            let intake = core_server::start_upload_intake(&settings, app.app()).await;
            app.serve(listener, router, shutdown_signal()).await.context("server failed")?;
            pipelines.stop().await;
            if let Some(stop) = intake {
                let _ = stop.send(true);
            }
            tracing::info!("starling stopped");
            Ok(())
        }
        Command::Accounts { command } => accounts(command).await,
        Command::Migrate { data } => {
            let app = core_server::build(&data.settings()?).await?;
            let done = core_app::migrations::run_all(app.app()).await;
            app.app().release_node_lease().await;
            for migrated in done.map_err(|e| anyhow::anyhow!("migration failed: {e:?}"))? {
                println!("{}: {} accounts, {} items written or deleted", migrated.name, migrated.accounts, migrated.items);
            }
            Ok(())
        }
        Command::Search { command: SearchCommand::Rebuild { data_dir, config } } => {
            let mut settings = Settings::load(config.as_deref())?;
            if let Some(dir) = data_dir {
                settings.server.data_dir = dir;
            }
            let app = core_server::build(&settings).await?;
            let started = std::time::Instant::now();
            let done = app.app().rebuild_search(progress_line).await;
            app.app().release_node_lease().await;
            let done = done.map_err(|e| anyhow::anyhow!("rebuild failed: {e:?}"))?;
            eprintln!();
            eprintln!("indexed {} accounts and {} statuses in {:.1}s", done.accounts, done.statuses, started.elapsed().as_secs_f64());
            Ok(())
        }
    }
}

async fn accounts(command: AccountsCommand) -> anyhow::Result<()> {
    let parse_role = |name: &str| core_app::model::Role::parse(name).with_context(|| format!("unknown role {name:?}: user, moderator, admin or owner"));
    match command {
        AccountsCommand::Create { username, email, role, password, data } => {
            let role = parse_role(&role)?;
            let app = core_server::build(&data.settings()?).await?;
            let (password, generated) = match password {
                Some(p) => (p, false),
                None => (core_app::admin::service::random_password(), true),
            };
            let created = core_app::admin::service::create_account(app.app(), &username, &email, &password, role).await;
            app.app().release_node_lease().await;
            let id = created.map_err(|e| anyhow::anyhow!("{e:?}"))?;
            println!("created {username} (id {id}) as {}", role.as_str());
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        AccountsCommand::Modify { username, role, data } => {
            let role = parse_role(&role)?;
            let app = core_server::build(&data.settings()?).await?;
            let changed = core_app::admin::service::set_role_of(app.app(), &username, role).await;
            app.app().release_node_lease().await;
            match changed {
                Ok(id) => {
                    println!("{username} (id {id}) is now {}", role.as_str());
                    Ok(())
                }
                Err(core_app::error::ApiError::NotFound) => anyhow::bail!("no account is named {username:?}"),
                Err(e) => Err(anyhow::anyhow!("{e:?}")),
            }
        }
    }
}

/// Redraws one progress line on stderr: a bar over accounts, and statuses so far.
fn progress_line(p: core_app::RebuildProgress) {
    const WIDTH: u64 = 30;
    let total = p.accounts_total.max(p.accounts).max(1);
    let filled = usize::try_from(p.accounts * WIDTH / total).unwrap_or(0);
    let bar = format!("{}{}", "#".repeat(filled), "-".repeat(usize::try_from(WIDTH).unwrap_or(0).saturating_sub(filled)));
    eprint!("\r[{bar}] {}/{} accounts, {} statuses", p.accounts, total, p.statuses);
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
