//! 256 tasks sharing a 10-connection pool: a generated `get` on dbkit's pool (its defaults,
//! pre-ping on) against the same statement through sqlx's pool, with sqlx's default
//! (`test_before_acquire`) and with its ping before use turned off. PostgreSQL and MariaDB, when
//! their test servers' URLs are set. A report, not a test.
//!
//! Each round runs every side once, in an order that rotates, and times the whole batch (256 tasks
//! × 40 calls); the report gives each side's median batch time and the median, with the min–max,
//! of its per-round ratio to dbkit. Pin it: `taskset -c 1 target/release/deps/pool_under_load-… --bench`.
//!
//! ```text
//! scripts/servers start && eval "$(scripts/servers env)"
//! cargo bench -p dbkit-tests --bench pool_under_load
//! ```

use std::time::{Duration, Instant};

use dbkit::Backend;
use dbkit::prelude::*;
use dbkit::sqlx::{self, Row};
use dbkit_tests::server_url;

const TASKS: usize = 256;
const CALLS_PER_TASK: usize = 40;
const CONNECTIONS: u32 = 10;
const ROWS: i64 = 1000;
const ROUNDS: usize = 15;

mod model {
    use dbkit::prelude::*;
    #[derive(Debug, Clone, PartialEq, Repository)]
    #[database(postgres, mysql)]
    #[repository(table = "bench_pool_users")]
    pub(crate) struct User {
        #[key(auto)]
        pub(crate) id: i64,
        pub(crate) username: String,
        pub(crate) email: String,
    }
}
use model::{NewUser, User, UserRepository};

fn key(task: usize, call: usize) -> i64 {
    ((task * 7919 + call * 104_729) as i64 % ROWS) + 1
}

/// Runs `TASKS` tasks of `CALLS_PER_TASK` calls of `get` each, all at once; the batch's time and
/// the sum of the ids read (the same for every side).
async fn batch<F, Fut>(get: F) -> (Duration, i64)
where
    F: Fn(i64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = i64> + Send,
{
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let get = get.clone();
            tokio::spawn(async move {
                let mut sum = 0;
                for call in 0..CALLS_PER_TASK {
                    sum += get(key(task, call)).await;
                }
                sum
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.unwrap();
    }
    (started.elapsed(), sum)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn compare<DB>(label: &str, url: &str, sql: &'static str)
where
    DB: dbkit::SqlDriver,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    i64: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB>,
    String: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    let config = DatabaseConfig::from_url(url).unwrap().pool_size(CONNECTIONS).max_overflow(0);
    let db = Database::connect_with(config).await.unwrap();
    db.drop_table::<User>().await.unwrap();
    db.create_table::<User>().await.unwrap();
    let rows: Vec<NewUser> =
        (0..ROWS).map(|i| NewUser { username: format!("user{i}"), email: format!("u{i}@example.com") }).collect();
    UserRepository::new(&db).create_many(&rows).await.unwrap();

    let options = |test_before_acquire: bool| {
        sqlx::pool::PoolOptions::<DB>::new()
            .max_connections(CONNECTIONS)
            .min_connections(CONNECTIONS)
            .test_before_acquire(test_before_acquire)
    };
    let sqlx_default = options(true).connect(url_for_sqlx(url).as_str()).await.unwrap();
    let sqlx_no_ping = options(false).connect(url_for_sqlx(url).as_str()).await.unwrap();

    let dbkit_side = {
        let repo = UserRepository::new(&db);
        move |id| {
            let repo = repo.clone();
            async move { repo.get(id).await.unwrap().expect("seeded").id }
        }
    };
    let sqlx_side = |pool: sqlx::Pool<DB>| {
        move |id: i64| {
            let pool = pool.clone();
            async move {
                let row = sqlx::query(sql).bind(id).fetch_one(&pool).await.unwrap();
                let user = User { id: row.get(0), username: row.get(1), email: row.get(2) };
                user.id
            }
        }
    };
    let sides = ["dbkit", "sqlx (test_before_acquire)", "sqlx (no ping)"];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
    let mut checksum = None;
    for round in 0..ROUNDS + 1 {
        for offset in 0..sides.len() {
            let side = (round + offset) % sides.len();
            let (elapsed, sum) = match side {
                0 => batch(dbkit_side.clone()).await,
                1 => batch(sqlx_side(sqlx_default.clone())).await,
                _ => batch(sqlx_side(sqlx_no_ping.clone())).await,
            };
            assert_eq!(*checksum.get_or_insert(sum), sum, "every side reads the same rows");
            // Round 0 warms every side up.
            if round > 0 {
                times[side].push(elapsed.as_secs_f64() * 1e3);
            }
        }
    }
    println!("{label}: {TASKS} tasks × {CALLS_PER_TASK} gets on a {CONNECTIONS}-connection pool, {ROUNDS} rounds");
    for (side, name) in sides.iter().enumerate() {
        let ratios: Vec<f64> = times[side].iter().zip(&times[0]).map(|(t, d)| t / d).collect();
        let (low, high) = ratios.iter().fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
        println!(
            "  {name:<28} batch {:>8.1} ms (median)  {:>8.0} gets/s  vs dbkit {:.2}× ({low:.2}–{high:.2})",
            median(times[side].clone()),
            (TASKS * CALLS_PER_TASK) as f64 / (median(times[side].clone()) / 1e3),
            median(ratios.clone()),
        );
    }
    println!("  connections open after the rounds: dbkit {}", db.connections_open());
    db.drop_table::<User>().await.unwrap();
    db.close().await;
}

/// sqlx knows `mysql:` only; dbkit also takes `mariadb:`.
fn url_for_sqlx(url: &str) -> String {
    match url.strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => url.to_owned(),
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` builds it; only `cargo bench` runs it.
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        if let Some(url) = server_url(Backend::Postgres) {
            compare::<sqlx::Postgres>(
                "postgres",
                &url,
                r#"SELECT "id", "username", "email" FROM "bench_pool_users" WHERE "id" = $1"#,
            )
            .await;
        }
        if let Some(url) = server_url(Backend::MySql) {
            compare::<sqlx::MySql>(
                "mariadb",
                &url,
                "SELECT `id`, `username`, `email` FROM `bench_pool_users` WHERE `id` = ?",
            )
            .await;
        }
    });
}
