//! What routing reads among replicas costs a PostgreSQL `get` (issue 19's goal: ≤ 1 %): the same
//! generated `get` on a database without replicas, and on one with the test standby as its replica
//! — read from the primary (`ReadFrom::Primary`: the routing decision, then the primary), from the
//! replica (the default), and from a replica that must have replayed a position it has already
//! replayed (`ReadFrom::AtLeast`, answered from the checks' record). A report, not a test.
//!
//! Each round runs every side for `CALLS` sequential gets, in an order that rotates; the report
//! gives each side's median µs per get and the median, with the min–max, of its per-round ratio to
//! the database without replicas. Pin it: `taskset -c 1 target/release/deps/replica_routing-… --bench`.
//!
//! ```text
//! scripts/servers start && eval "$(scripts/servers env)"
//! cargo bench -p dbkit-tests --bench replica_routing
//! ```

use std::time::{Duration, Instant};

use dbkit::prelude::*;
use dbkit::{Backend, CallOptions, ReadFrom, ReplicaState};
use dbkit_tests::{replica_url, server_url};

const ROWS: i64 = 1000;
const CALLS: usize = 2000;
const ROUNDS: usize = 11;

mod model {
    use dbkit::prelude::*;
    #[derive(Debug, Clone, PartialEq, Repository)]
    #[database(postgres)]
    #[repository(table = "bench_replica_users")]
    pub(crate) struct User {
        #[key(auto)]
        pub(crate) id: i64,
        pub(crate) username: String,
    }
}
use model::{NewUser, User, UserRepository};

async fn gets(repo: &UserRepository) -> Duration {
    let started = Instant::now();
    for i in 0..CALLS {
        let id = (i as i64 * 7919) % ROWS + 1;
        std::hint::black_box(repo.get(id).await.unwrap().expect("seeded"));
    }
    started.elapsed()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` builds it; only `cargo bench` runs it.
    }
    let (Some(primary), Some(replica)) = (server_url(Backend::Postgres), replica_url(Backend::Postgres)) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let config = || DatabaseConfig::from_url(&primary).unwrap().pool_size(1).max_overflow(0);
        let plain = Database::connect_with(config()).await.unwrap();
        plain.drop_table::<User>().await.unwrap();
        plain.create_table::<User>().await.unwrap();
        let rows: Vec<NewUser> = (0..ROWS).map(|i| NewUser { username: format!("user{i}") }).collect();
        UserRepository::new(&plain).create_many(&rows).await.unwrap();
        let routed = Database::connect_with(config().replica(&replica)).await.unwrap();
        // Replicated, and the replica serving.
        while routed.replica_info()[0].state != ReplicaState::Healthy
            || UserRepository::new(&routed).get(ROWS).await.unwrap().is_none()
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let position = routed.primary_position().await.unwrap();
        while !routed.replica_info()[0].replayed.as_ref().is_some_and(|r| r.is_at_or_after(&position)) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let sides: [(&str, UserRepository); 4] = [
            ("no replicas", UserRepository::new(&plain)),
            ("replica configured, ReadFrom::Primary", {
                UserRepository::new(&routed).with_options(CallOptions::new().reads(ReadFrom::Primary))
            }),
            ("routed to the replica", UserRepository::new(&routed)),
            ("ReadFrom::AtLeast, already replayed", {
                UserRepository::new(&routed).with_options(CallOptions::new().reads(ReadFrom::AtLeast(position)))
            }),
        ];
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
        for round in 0..=ROUNDS {
            for offset in 0..sides.len() {
                let side = (round + offset) % sides.len();
                let elapsed = gets(&sides[side].1).await;
                if round > 0 {
                    times[side].push(elapsed.as_secs_f64() * 1e6 / CALLS as f64);
                }
            }
        }
        println!("postgres get, {CALLS} calls a side a round, {ROUNDS} rounds (pool of one connection)");
        for (side, (name, _)) in sides.iter().enumerate() {
            let ratios: Vec<f64> = times[side].iter().zip(&times[0]).map(|(t, base)| t / base).collect();
            let (low, high) = ratios.iter().fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
            println!(
                "  {name:<40} {:>6.2} µs  vs no replicas {:.3}× ({low:.3}–{high:.3})",
                median(times[side].clone()),
                median(ratios.clone())
            );
        }
        plain.drop_table::<User>().await.unwrap();
        routed.close().await;
        plain.close().await;
    });
}
