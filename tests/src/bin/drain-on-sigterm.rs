//! A tiny service for `tests/drain_sigterm.rs`: connects to the database at `argv[1]`, starts a
//! piece of work that takes `argv[2]` milliseconds (default 1000) in a transaction, prints
//! `ready`, and on SIGTERM or SIGINT drains gracefully, disconnects, prints the report and exits 0
//! (1 if the drain did not finish within its timeout or the work failed).
//!
//! It is shaped like an axum service: `shutdown.signal()` is what `with_graceful_shutdown` would
//! get, and the drain runs after the server has stopped.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use dbkit::shutdown::Shutdown;
use dbkit::{Backend, DatabaseConfig, DatabaseManager};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: drain-on-sigterm URL [WORK_MS]");
    let work_ms: u64 = args.next().map_or(1000, |ms| ms.parse().expect("WORK_MS is a number"));

    let manager = Arc::new(DatabaseManager::new());
    manager.register("main", DatabaseConfig::from_url(&url).expect("URL")).expect("register");
    manager.connect_all().await.expect("connect");
    let db = manager.get("main").expect("main");
    let shutdown = Shutdown::new(Arc::clone(&manager)).timeout(Duration::from_secs(10));

    // The handlers are installed here, before "ready": a signal that comes right after is not lost.
    let stop = shutdown.signal();

    // Work in flight when the signal comes: a transaction that takes `work_ms`.
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let work = tokio::spawn({
        let db = db.clone();
        async move {
            let time = Duration::from_millis(work_ms);
            let secs = time.as_secs_f64();
            let sleep = match db.backend() {
                Backend::Postgres => Some(format!("SELECT pg_sleep({secs})")),
                Backend::MySql => Some(format!("SELECT SLEEP({secs})")),
                _ => None,
            };
            db.transaction(async |tx| {
                dbkit_tests::execute_in(tx, "SELECT 1").await?;
                let _ = started_tx.send(());
                match &sleep {
                    Some(sql) => {
                        dbkit_tests::execute_in(tx, sql).await?;
                    }
                    None => tokio::time::sleep(time).await,
                }
                Ok(())
            })
            .await
        }
    });
    started.await.expect("the work started");

    println!("ready");
    std::io::stdout().flush().expect("stdout");

    // axum::serve(listener, app).with_graceful_shutdown(stop).await — here, nothing to serve.
    stop.await;
    println!("signal received");

    let report = shutdown.drain().await;
    println!("{report}");
    let work = work.await.expect("the work task");
    println!(
        "work: {}",
        match &work {
            Ok(()) => "committed".to_owned(),
            Err(e) => format!("failed: {e}"),
        }
    );
    let ok = report.drain.finished_within_timeout && report.forced.is_none() && work.is_ok();
    std::process::exit(if ok { 0 } else { 1 });
}
