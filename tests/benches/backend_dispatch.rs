//! What choosing among a model's backends at run time costs: the same calls through a model that
//! lists one backend and through one that lists three, on the same SQLite table and pool. The
//! three-backend model lists SQLite last, so every call passes the other arms first. Each round
//! times one call of each, back to back, alternating which goes first; the figures are the median
//! per-round ratio with its interquartile range, and the heap allocations per call of each side,
//! counted by a global allocator over the same calls.
//!
//! ```text
//! cargo bench -p dbkit-tests --bench backend_dispatch
//! ```

use std::alloc::System;

use dbkit::prelude::*;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

/// Counts allocations on every thread (SQLite's worker included).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "bench_dispatch")]
pub struct One {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(mysql, postgres, sqlite)]
#[repository(table = "bench_dispatch")]
pub struct Three {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
}

const ROUNDS: usize = 20_000;

/// Times `$one` and `$three` in alternating rounds (`dbkit_tests::paired!`), then counts the
/// allocations of 2 000 calls of each.
macro_rules! paired {
    ($method:expr, $one:expr, $three:expr) => {{
        let report = dbkit_tests::paired!(ROUNDS, $three, $one).report($method, "three backends", "one");
        let calls = 2_000;
        let region = Region::new(GLOBAL);
        for _ in 0..calls {
            std::hint::black_box($one);
        }
        let one_allocs = region.change().allocations;
        let region = Region::new(GLOBAL);
        for _ in 0..calls {
            std::hint::black_box($three);
        }
        let three_allocs = region.change().allocations;
        println!(
            "{report}; allocations per call {:.2} (three) vs {:.2} (one)",
            three_allocs as f64 / calls as f64,
            one_allocs as f64 / calls as f64,
        );
    }};
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let config = DatabaseConfig::sqlite_memory().pool_size(1).max_overflow(0).pool_pre_ping(false);
        let db = Database::connect_with(config).await.unwrap();
        db.create_table::<One>().await.unwrap();
        let one = OneRepository::new(&db);
        let three = ThreeRepository::new(&db);
        let rows: Vec<NewOne> =
            (0..1000).map(|i| NewOne { username: format!("user{i}"), email: format!("u{i}@example.com") }).collect();
        one.create_many(&rows).await.unwrap();
        // Warm both sides: statement caches, pool.
        for _ in 0..1000 {
            one.get(500).await.unwrap();
            three.get(500).await.unwrap();
        }
        println!(
            "future sizes: get {} vs {} bytes, list {} vs {} bytes",
            std::mem::size_of_val(&one.get(500)),
            std::mem::size_of_val(&three.get(500)),
            std::mem::size_of_val(&one.list(Page::default())),
            std::mem::size_of_val(&three.list(Page::default())),
        );
        paired!("get", one.get(500).await.unwrap(), three.get(500).await.unwrap());
        paired!(
            "get_by_username",
            one.get_by_username("user500").await.unwrap(),
            three.get_by_username("user500").await.unwrap()
        );
        paired!("list_50", one.list(Page::new(100, 50)).await.unwrap(), three.list(Page::new(100, 50)).await.unwrap());
        paired!("delete_missing", one.delete(-1).await.unwrap(), three.delete(-1).await.unwrap());
    });
}
