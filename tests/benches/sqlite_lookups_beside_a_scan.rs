//! SQLite point lookups while a long scan runs, on a current-thread runtime: the native engine runs
//! reads inline on the calling task, so a scan that ran inline to its end would stall every other
//! task for its whole length. The inline budget (a progress handler) cuts it after 250 µs and runs
//! it again on the blocking pool, and every later run goes there at once. Issue 17's goal: while a
//! ~50 ms scan runs, 64 concurrent tasks' lookups keep p99 ≤ 1 ms.
//!
//! One process, one database file (400 000 rows, WAL), a pool-less engine (SQLite's native one).
//! Two phases of the same length, alternated three times: *quiet* (64 lookup tasks alone) and
//! *scan* (the same, with a task running the scan back to back). Each lookup's latency is timed
//! on the task that made it; the figures are p50, p99 and max per phase, with the scan's own
//! time and how many scans ran.
//!
//! ```text
//! cargo bench -p dbkit-tests --bench sqlite_lookups_beside_a_scan --no-run   # then, pinned:
//! taskset -c 1 target/release/deps/sqlite_lookups_beside_a_scan-<hash> --bench
//! ```
//!
//! Without `--bench` (as `cargo test --benches` runs it) it runs a tenth as long.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "bench_scan")]
pub struct Item {
    #[key(auto)]
    pub id: i64,
    pub name: String,
    pub note: String,
}

#[dbkit::queries]
impl ItemRepository {
    /// A full scan: two `LIKE`s no index helps, over every row (~50 ms here).
    #[query("SELECT COUNT(*) FROM bench_scan WHERE note LIKE :pattern OR name LIKE :pattern")]
    pub async fn count_like(&self, pattern: &str) -> dbkit::Result<i64>;
}

const ROWS: i64 = 400_000;
const TASKS: usize = 64;

fn key(i: usize) -> i64 {
    ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as i64 % ROWS + 1
}

/// Runs `TASKS` lookup tasks for `length`, with the scan beside them when `scan`; returns every
/// lookup's latency, and the scans' times.
async fn phase(items: &ItemRepository, length: Duration, scan: bool) -> (Vec<Duration>, Vec<Duration>) {
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let scanner = scan.then(|| {
        let (items, stop) = (items.clone(), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut times = Vec::new();
            while !stop.load(Relaxed) {
                let t = Instant::now();
                std::hint::black_box(items.count_like("%zz%").await.unwrap());
                times.push(t.elapsed());
            }
            times
        })
    });
    let lookups: Vec<_> = (0..TASKS)
        .map(|_| {
            let (items, stop, next) = (items.clone(), Arc::clone(&stop), Arc::clone(&next));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !stop.load(Relaxed) {
                    let t = Instant::now();
                    let item = items.get(key(next.fetch_add(1, Relaxed))).await.unwrap();
                    latencies.push(t.elapsed());
                    assert!(item.is_some());
                    // A client's think time: the runtime is shared, not saturated.
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(length).await;
    stop.store(true, Relaxed);
    let mut all = Vec::new();
    for task in lookups {
        all.extend(task.await.unwrap());
    }
    let scans = match scanner {
        Some(task) => task.await.unwrap(),
        None => Vec::new(),
    };
    (all, scans)
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let length = if args.iter().any(|a| a == "--bench") { Duration::from_secs(3) } else { Duration::from_millis(300) };
    let dir = std::env::temp_dir().join(format!("dbkit-bench-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Database::connect_with(DatabaseConfig::sqlite_file(dir.join("bench.db"))).await.unwrap();
    db.create_table::<Item>().await.unwrap();
    let items = ItemRepository::new(&db);
    let rows: Vec<NewItem> = (0..ROWS)
        .map(|i| NewItem { name: format!("item{i}"), note: format!("a note about item number {i} of the table") })
        .collect();
    for chunk in rows.chunks(10_000) {
        items.create_many(chunk).await.unwrap();
    }
    let t = Instant::now();
    items.count_like("%zz%").await.unwrap();
    println!(
        "one scan alone: {:.1} ms (its first run, cut inline at the budget and run again off the runtime)",
        t.elapsed().as_secs_f64() * 1e3
    );

    for round in 0..3 {
        for scan in [false, true] {
            let (mut latencies, scans) = phase(&items, length, scan).await;
            latencies.sort();
            let scan_ms = if scans.is_empty() {
                String::new()
            } else {
                let mut s = scans.clone();
                s.sort();
                format!(", {} scans of median {:.1} ms beside", s.len(), s[s.len() / 2].as_secs_f64() * 1e3)
            };
            println!(
                "round {round} {:<5} {} lookups by {TASKS} tasks: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs{scan_ms}",
                if scan { "scan" } else { "quiet" },
                latencies.len(),
                quantile(&latencies, 0.5).as_secs_f64() * 1e6,
                quantile(&latencies, 0.99).as_secs_f64() * 1e6,
                latencies.last().unwrap().as_secs_f64() * 1e6,
            );
        }
    }
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
