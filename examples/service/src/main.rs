//! Seed 000's application on dbkit: an axum API over services over repositories, every database
//! behind one `DatabaseManager` configured from the environment (and `.env`), connected at start
//! and drained at shutdown.
//!
//! ```text
//! cargo run -p service                 # no configuration: SQLite file app.db, no cache
//! cp examples/service/.env.example .env && cargo run -p service   # MySQL, ClickHouse, Redis
//! ```
//!
//! Where each part lives: `models` (the tables, and what dbkit generates from them), `services`
//! (the use cases and their units of work), `api` (HTTP). This file only wires them.

mod api;
mod models;
mod services;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use dbkit::config::env::Env;
use dbkit::config::parse_duration;
use dbkit::shutdown::Shutdown;
use dbkit::{Backend, Database, DatabaseManager};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::api::AppState;
use crate::models::{LocalEvent, User, UserEvent};
use crate::services::{AnalyticsService, UserService};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("service: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The recorder first: the pools register their metrics when they connect.
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    // The process environment over `.env`, read once: the databases, and the service's own HOST,
    // PORT and SHUTDOWN_TIMEOUT.
    let env = Env::load()?;
    let manager = Arc::new(DatabaseManager::from_env_source(&env)?);
    manager.connect_all().await?;

    let users_db = users_database(&manager)?;
    users_db.create_table::<User>().await?;
    let analytics = match manager.contains("clickhouse") {
        true => {
            let events_db = manager.get("clickhouse")?;
            events_db.create_table::<UserEvent>().await?;
            AnalyticsService::clickhouse(&events_db, Duration::from_secs(1))?
        }
        false => {
            users_db.create_table::<LocalEvent>().await?;
            AnalyticsService::local(&users_db)
        }
    };
    let users = UserService::new(&manager, users_db.clone())?;
    let state = Arc::new(AppState { manager: Arc::clone(&manager), users, analytics, prometheus });

    let address = listen_address(&env)?;
    let listener = tokio::net::TcpListener::bind(address).await?;
    let timeout = env_duration(&env, "SHUTDOWN_TIMEOUT", "10s")?;
    let shutdown = Shutdown::new(Arc::clone(&manager)).timeout(timeout);
    // The handlers are installed here, before the ready line: a SIGTERM from then on stops the
    // service cleanly instead of killing it.
    let stop = shutdown.signal();
    let app = api::router(Arc::clone(&state));
    println!(
        "service: listening on http://{} (users on {}, API page at /docs)",
        listener.local_addr()?,
        users_db.name()
    );

    // Stop accepting on the signal and finish the requests in flight, for at most the timeout: a
    // client that never finishes its request must not keep the process (and the queued events
    // the drain writes) from stopping.
    let signalled = Arc::new(tokio::sync::Notify::new());
    let notify = Arc::clone(&signalled);
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        stop.await;
        notify.notify_one();
    });
    let cut_off = async {
        signalled.notified().await;
        tokio::time::sleep(timeout).await;
    };
    tokio::select! {
        served = serve => served?,
        () = cut_off => tracing::warn!(timeout = ?timeout, "requests still open at the shutdown timeout: closed"),
    }
    // The server has stopped; the inserter's queued events are written by the drain (it counts
    // as work in flight).
    drop(state);
    let report = shutdown.drain().await;
    println!("service: stopped: {report}");
    Ok(())
}

/// The users' database: the first configured of MySQL/MariaDB, PostgreSQL, SQLite.
fn users_database(manager: &DatabaseManager) -> dbkit::Result<Database> {
    for database in manager.databases() {
        if matches!(database.backend(), Backend::MySql | Backend::Postgres) {
            return Ok(database);
        }
    }
    manager.databases().into_iter().find(|d| d.backend() == Backend::Sqlite).ok_or_else(|| {
        dbkit::Error::Config(dbkit::ConfigError::new(
            "no MySQL, PostgreSQL or SQLite database is configured for the users",
        ))
    })
}

/// `HOST` (default `127.0.0.1`) and `PORT` (default `8000`; `0` picks a free one).
fn listen_address(env: &Env) -> Result<SocketAddr, String> {
    let host = env.get("HOST").unwrap_or("127.0.0.1");
    let port = env.get("PORT").unwrap_or("8000");
    let port: u16 = port.parse().map_err(|_| format!("PORT: `{port}` is not a port number"))?;
    format!("{host}:{port}").parse().map_err(|_| format!("HOST: `{host}` is not an IP address"))
}

fn env_duration(env: &Env, variable: &str, default: &str) -> Result<Duration, String> {
    let value = env.get(variable).unwrap_or(default);
    parse_duration(value).map_err(|e| format!("{variable}: {e}"))
}
