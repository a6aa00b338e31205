//! Each generated repository method against hand-written sqlx doing the same work: the same
//! statement, the same binds, decoding into the same struct, through a pool of one connection with
//! the same settings. SQLite always; PostgreSQL when `DBKIT_TEST_POSTGRES_URL` is set.
//!
//! ```text
//! scripts/servers start && eval "$(scripts/servers env)"
//! cargo bench -p dbkit-tests --bench repository_vs_sqlx
//! ```

use std::str::FromStr;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dbkit::prelude::*;
use dbkit::sqlx::{self, Row};

mod sqlite_model {
    use dbkit::prelude::*;
    #[derive(Debug, Clone, PartialEq, Repository)]
    #[database(sqlite)]
    #[repository(table = "bench_users")]
    pub(crate) struct User {
        #[key(auto)]
        pub(crate) id: i64,
        #[unique]
        pub(crate) username: String,
        pub(crate) email: String,
        pub(crate) bio: Option<String>,
    }
}

mod postgres_model {
    use dbkit::prelude::*;
    #[derive(Debug, Clone, PartialEq, Repository)]
    #[database(postgres)]
    #[repository(table = "bench_users")]
    pub(crate) struct User {
        #[key(auto)]
        pub(crate) id: i64,
        #[unique]
        pub(crate) username: String,
        pub(crate) email: String,
        pub(crate) bio: Option<String>,
    }
}

const ROWS: i64 = 1000;

/// Rounds of a paired run.
const ROUNDS: usize = 1500;

/// Times `$dbkit` and `$sqlx` in alternating rounds (`dbkit_tests::paired!`) and prints the
/// medians and the median of the per-round ratios.
macro_rules! paired {
    ($backend:expr, $method:expr, $dbkit:expr, $sqlx:expr) => {{
        let label = format!("paired {}/{}", $backend, $method);
        println!("{}", dbkit_tests::paired!(ROUNDS, $dbkit, $sqlx).report(&label, "dbkit", "sqlx"));
    }};
}

/// Hand-written sqlx for one backend: the statements dbkit generates, written out by hand.
macro_rules! bench_backend {
    ($c:expr, $rt:expr, $label:literal, $model:ident, $driver:ty, $url:expr, $ph:expr, $options:expr) => {{
        use $model::{NewUser, User, UserPatch, UserRepository};
        let rt: &tokio::runtime::Runtime = $rt;
        let url: String = $url;
        let (db, pool) = rt.block_on(async {
            let config = DatabaseConfig::from_url(&url).unwrap().pool_size(1).max_overflow(0).pool_pre_ping(false);
            let db = Database::connect_with(config).await.unwrap();
            db.drop_table::<User>().await.unwrap();
            db.create_table::<User>().await.unwrap();
            let repo = UserRepository::new(&db);
            let rows: Vec<NewUser> = (0..ROWS)
                .map(|i| NewUser { username: format!("user{i}"), email: format!("u{i}@example.com"), bio: None })
                .collect();
            repo.create_many(&rows).await.unwrap();
            // The same connection settings dbkit's engine applies, so only the layers differ.
            let pool = sqlx::pool::PoolOptions::<$driver>::new()
                .max_connections(1)
                .test_before_acquire(false)
                .connect_with($options(&url))
                .await
                .unwrap();
            (db, pool)
        });
        let repo = UserRepository::new(&db);
        let p = $ph;
        let decode = |row: &<$driver as sqlx::Database>::Row| User {
            id: row.get(0),
            username: row.get(1),
            email: row.get(2),
            bio: row.get(3),
        };
        let get_sql: &'static str = Box::leak(format!(r#"SELECT "id", "username", "email", "bio" FROM "bench_users" WHERE "id" = {}"#, p(1)).into_boxed_str());
        let by_name_sql: &'static str = Box::leak(format!(r#"SELECT "id", "username", "email", "bio" FROM "bench_users" WHERE "username" = {}"#, p(1)).into_boxed_str());
        let list_sql: &'static str = Box::leak(format!(r#"SELECT "id", "username", "email", "bio" FROM "bench_users" ORDER BY "id" LIMIT {} OFFSET {}"#, p(1), p(2)).into_boxed_str());
        let update_sql: &'static str = Box::leak(format!(r#"UPDATE "bench_users" SET "email" = {} WHERE "id" = {} RETURNING "id", "username", "email", "bio""#, p(1), p(2)).into_boxed_str());

        let mut group = $c.benchmark_group(concat!("repository/", $label));
        group.bench_function(BenchmarkId::new("get", "dbkit"), |b| b.to_async(rt).iter(|| async { repo.get(500).await.unwrap().unwrap() }));
        group.bench_function(BenchmarkId::new("get", "sqlx"), |b| {
            b.to_async(rt).iter(|| async { sqlx::query(get_sql).bind(500_i64).fetch_optional(&pool).await.unwrap().map(|r| decode(&r)).unwrap() })
        });
        group.bench_function(BenchmarkId::new("get_by_username", "dbkit"), |b| {
            b.to_async(rt).iter(|| async { repo.get_by_username("user500").await.unwrap().unwrap() })
        });
        group.bench_function(BenchmarkId::new("get_by_username", "sqlx"), |b| {
            b.to_async(rt).iter(|| async { sqlx::query(by_name_sql).bind("user500").fetch_optional(&pool).await.unwrap().map(|r| decode(&r)).unwrap() })
        });
        group.bench_function(BenchmarkId::new("list_50", "dbkit"), |b| b.to_async(rt).iter(|| async { repo.list(Page::new(100, 50)).await.unwrap() }));
        group.bench_function(BenchmarkId::new("list_50", "sqlx"), |b| {
            b.to_async(rt).iter(|| async {
                sqlx::query(list_sql).bind(50_i64).bind(100_i64).fetch_all(&pool).await.unwrap().iter().map(|r| decode(r)).collect::<Vec<User>>()
            })
        });
        group.bench_function(BenchmarkId::new("count", "dbkit"), |b| b.to_async(rt).iter(|| async { repo.count().await.unwrap() }));
        group.bench_function(BenchmarkId::new("count", "sqlx"), |b| {
            b.to_async(rt).iter(|| async { sqlx::query_scalar::<_, i64>(r#"SELECT COUNT(*) FROM "bench_users""#).fetch_one(&pool).await.unwrap() as u64 })
        });
        let patch = UserPatch { email: Some("patched@example.com".to_owned()), ..Default::default() };
        group.bench_function(BenchmarkId::new("update", "dbkit"), |b| b.to_async(rt).iter(|| async { repo.update(700, &patch).await.unwrap().unwrap() }));
        group.bench_function(BenchmarkId::new("update", "sqlx"), |b| {
            b.to_async(rt).iter(|| async {
                sqlx::query(update_sql).bind("patched@example.com").bind(700_i64).fetch_optional(&pool).await.unwrap().map(|r| decode(&r)).unwrap()
            })
        });
        let insert_sql: &'static str = Box::leak(format!(r#"INSERT INTO "bench_users" ("username", "email", "bio") VALUES ({}, {}, {}) RETURNING "id", "username", "email", "bio""#, p(1), p(2), p(3)).into_boxed_str());
        let delete_sql: &'static str = Box::leak(format!(r#"DELETE FROM "bench_users" WHERE "id" = {}"#, p(1)).into_boxed_str());
        let many_sql: &'static str = Box::leak({
            let rows: Vec<String> = (0..100).map(|r| format!("({}, {}, {})", p(3 * r + 1), p(3 * r + 2), p(3 * r + 3))).collect();
            format!(r#"INSERT INTO "bench_users" ("username", "email", "bio") VALUES {}"#, rows.join(", ")).into_boxed_str()
        });
        let next = std::sync::atomic::AtomicU64::new(0);
        let fresh = || format!("new{}", next.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        group.bench_function(BenchmarkId::new("create", "dbkit"), |b| {
            b.to_async(rt).iter(|| async { repo.create(&NewUser { username: fresh(), email: "c@example.com".to_owned(), bio: None }).await.unwrap() })
        });
        group.bench_function(BenchmarkId::new("create", "sqlx"), |b| {
            b.to_async(rt).iter(|| async {
                let row = sqlx::query(insert_sql).bind(fresh()).bind("c@example.com").bind(None::<String>).fetch_one(&pool).await.unwrap();
                decode(&row)
            })
        });
        group.bench_function(BenchmarkId::new("create_many_100", "dbkit"), |b| {
            b.to_async(rt).iter(|| async {
                let rows: Vec<NewUser> = (0..100).map(|_| NewUser { username: fresh(), email: "m@example.com".to_owned(), bio: None }).collect();
                repo.create_many(&rows).await.unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("create_many_100", "sqlx"), |b| {
            b.to_async(rt).iter(|| async {
                let rows: Vec<NewUser> = (0..100).map(|_| NewUser { username: fresh(), email: "m@example.com".to_owned(), bio: None }).collect();
                let mut tx = pool.begin().await.unwrap();
                let mut query = sqlx::query(many_sql);
                for row in &rows {
                    query = query.bind(&row.username).bind(&row.email).bind(&row.bio);
                }
                let written = query.execute(&mut *tx).await.unwrap().rows_affected();
                tx.commit().await.unwrap();
                written
            })
        });
        group.bench_function(BenchmarkId::new("delete_missing", "dbkit"), |b| b.to_async(rt).iter(|| async { repo.delete(-1).await.unwrap() }));
        group.bench_function(BenchmarkId::new("delete_missing", "sqlx"), |b| {
            b.to_async(rt).iter(|| async { sqlx::query(delete_sql).bind(-1_i64).execute(&pool).await.unwrap().rows_affected() > 0 })
        });
        group.finish();

        // Paired runs: each round times one dbkit call and one hand-written call back to back, in
        // alternating order, so the machine's drift (a shared VM's neighbours) hits both alike.
        // The figure is the median of the per-round ratios.
        rt.block_on(async {
            paired!($label, "get", repo.get(500).await.unwrap(),
                sqlx::query(get_sql).bind(500_i64).fetch_optional(&pool).await.unwrap().map(|r| decode(&r)));
            paired!($label, "get_by_username", repo.get_by_username("user500").await.unwrap(),
                sqlx::query(by_name_sql).bind("user500").fetch_optional(&pool).await.unwrap().map(|r| decode(&r)));
            paired!($label, "list_50", repo.list(Page::new(100, 50)).await.unwrap(),
                sqlx::query(list_sql).bind(50_i64).bind(100_i64).fetch_all(&pool).await.unwrap().iter().map(|r| decode(r)).collect::<Vec<User>>());
            paired!($label, "count", repo.count().await.unwrap(),
                sqlx::query_scalar::<_, i64>(r#"SELECT COUNT(*) FROM "bench_users""#).fetch_one(&pool).await.unwrap() as u64);
            paired!($label, "update", repo.update(700, &patch).await.unwrap(),
                sqlx::query(update_sql).bind("patched@example.com").bind(700_i64).fetch_optional(&pool).await.unwrap().map(|r| decode(&r)));
            paired!($label, "create", repo.create(&NewUser { username: fresh(), email: "c@example.com".to_owned(), bio: None }).await.unwrap(),
                decode(&sqlx::query(insert_sql).bind(fresh()).bind("c@example.com").bind(None::<String>).fetch_one(&pool).await.unwrap()));
            paired!($label, "create_many_100", {
                let rows: Vec<NewUser> = (0..100).map(|_| NewUser { username: fresh(), email: "m@example.com".to_owned(), bio: None }).collect();
                repo.create_many(&rows).await.unwrap()
            }, {
                let rows: Vec<NewUser> = (0..100).map(|_| NewUser { username: fresh(), email: "m@example.com".to_owned(), bio: None }).collect();
                let mut tx = pool.begin().await.unwrap();
                let mut query = sqlx::query(many_sql);
                for row in &rows {
                    query = query.bind(&row.username).bind(&row.email).bind(&row.bio);
                }
                let written = query.execute(&mut *tx).await.unwrap().rows_affected();
                tx.commit().await.unwrap();
                written
            });
            paired!($label, "delete_missing", repo.delete(-1).await.unwrap(),
                sqlx::query(delete_sql).bind(-1_i64).execute(&pool).await.unwrap().rows_affected() > 0);
        });
        rt.block_on(async { db.drop_table::<User>().await.unwrap(); db.close().await; pool.close().await });
    }};
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let file = std::env::temp_dir().join(format!("dbkit-bench-{}.db", std::process::id()));
    bench_backend!(c, &rt, "sqlite", sqlite_model, sqlx::Sqlite, format!("sqlite://{}", file.display()), |_: usize| "?".to_owned(), |url: &str| {
        sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .unwrap()
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
    });
    let _ = std::fs::remove_file(&file);
    if let Ok(url) = std::env::var("DBKIT_TEST_POSTGRES_URL") {
        bench_backend!(c, &rt, "postgres", postgres_model, sqlx::Postgres, url, |n: usize| format!("${n}"), |url: &str| {
            sqlx::postgres::PgConnectOptions::from_str(url).unwrap().application_name("dbkit")
        });
    } else {
        eprintln!("DBKIT_TEST_POSTGRES_URL is not set: PostgreSQL benchmarks skipped");
    }
}

criterion_group! {
    name = group;
    config = Criterion::default().warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(group);
