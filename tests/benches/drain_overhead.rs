//! How long a graceful drain takes beyond the work it waits for: the time from the end of the
//! longest session in flight to the drain's return. The target is 50 ms.
//!
//! ```text
//! eval "$(scripts/servers env)"; cargo bench -p dbkit-tests --bench drain_overhead
//! ```
//!
//! Each run connects a fresh database, starts four sessions that last 50–300 ms (a `pg_sleep` /
//! `SLEEP` statement; on SQLite, a session held open), starts a graceful drain while they are in
//! flight, and records when the last session ended and when the drain returned. SQLite always runs;
//! PostgreSQL and MariaDB when `DBKIT_TEST_POSTGRES_URL` / `DBKIT_TEST_MYSQL_URL` are set.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dbkit::{Backend, DrainMode};
use dbkit_tests::drain;

const RUNS: usize = 25;
const TARGET: Duration = Duration::from_millis(50);

/// One run: (the drain's time beyond the longest session, the longest session's remaining time
/// when the drain started, the drain's total time).
async fn run(backend: Backend, round: usize) -> Option<(Duration, Duration, Duration)> {
    let (db, _) = drain::fresh(backend).await?;
    let ends: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let mut tasks = Vec::new();
    for (i, base) in [50u64, 120, 200, 300].into_iter().enumerate() {
        let time = Duration::from_millis(base + ((round * 7 + i * 13) % 20) as u64);
        let (db, ends) = (db.clone(), Arc::clone(&ends));
        tasks.push(tokio::spawn(async move {
            drain::long_session(&db, time).await.expect("session");
            ends.lock().unwrap().push(Instant::now());
        }));
    }
    drain::until_in_flight(&db, 4).await;

    let started = Instant::now();
    let report = db.drain(DrainMode::Graceful, Duration::from_secs(10)).await;
    let returned = Instant::now();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(report.finished_within_timeout, "{report}");
    let last_end = *ends.lock().unwrap().iter().max().unwrap();
    Some((returned.saturating_duration_since(last_end), last_end.saturating_duration_since(started), report.elapsed))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing useful either.
    let mut worst = Duration::ZERO;
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        let mut overheads = Vec::new();
        let mut longest = Duration::ZERO;
        for round in 0..RUNS {
            let Some((overhead, remaining, _total)) = run(backend, round).await else { break };
            overheads.push(overhead);
            longest = longest.max(remaining);
        }
        if overheads.is_empty() {
            println!("{backend:>10}: skipped (no server configured)");
            continue;
        }
        overheads.sort();
        let max = *overheads.last().unwrap();
        worst = worst.max(max);
        println!(
            "{backend:>10}: drain time beyond the longest session over {} runs: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms (longest session left when the drain started: up to {:.0} ms)",
            overheads.len(),
            percentile(&overheads, 0.5).as_secs_f64() * 1e3,
            percentile(&overheads, 0.95).as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            longest.as_secs_f64() * 1e3,
        );
    }
    println!(
        "graceful drain returns within the longest in-flight session + {:.2} ms (target: + {} ms): {}",
        worst.as_secs_f64() * 1e3,
        TARGET.as_millis(),
        if worst <= TARGET { "met" } else { "NOT met" }
    );
}
