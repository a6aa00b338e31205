//! Hand-written sqlx 0.9: the statements a careful application writes for each workload, bound
//! and decoded by hand, through a pool of one connection with the settings dbkit's engine applies
//! (SQLite: WAL, `synchronous = NORMAL`, `busy_timeout`, `foreign_keys`; no ping before use). Where
//! the backend has no `RETURNING` (MariaDB's `UPDATE`), the write and a read-back run in one
//! transaction, as dbkit does.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;

use crate::harness::{self, Args, BATCH, PAGE, Workload};

const COLUMNS: &str = "id, username, email, bio";

/// The statements, with the backend's placeholders; leaked once so each query borrows a
/// `&'static str` (sqlx then neither copies nor re-checks the text per call).
struct Sql {
    get: &'static str,
    by_username: &'static str,
    page: &'static str,
    join: &'static str,
    insert_returning: &'static str,
    insert_many: &'static str,
    /// `UPDATE … RETURNING` where it exists, else the plain `UPDATE`.
    update: &'static str,
    delete: &'static str,
}

impl Sql {
    fn new(p: impl Fn(usize) -> String, update_returning: bool) -> Sql {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let values: Vec<String> =
            (0..BATCH).map(|r| format!("({}, {}, {})", p(3 * r + 1), p(3 * r + 2), p(3 * r + 3))).collect();
        let returning = if update_returning { format!(" RETURNING {COLUMNS}") } else { String::new() };
        Sql {
            get: leak(format!("SELECT {COLUMNS} FROM peer_users WHERE id = {}", p(1))),
            by_username: leak(format!("SELECT {COLUMNS} FROM peer_users WHERE username = {}", p(1))),
            page: leak(format!("SELECT {COLUMNS} FROM peer_users ORDER BY id LIMIT {} OFFSET {}", p(1), p(2))),
            join: leak(format!(
                "SELECT u.id, u.username, u.email, u.bio, p.id AS post_id, p.title, p.body \
                 FROM peer_users u JOIN peer_posts p ON p.user_id = u.id WHERE u.id = {} ORDER BY p.id",
                p(1)
            )),
            insert_returning: leak(format!(
                "INSERT INTO peer_users (username, email, bio) VALUES ({}, {}, {}) RETURNING {COLUMNS}",
                p(1),
                p(2),
                p(3)
            )),
            insert_many: leak(format!("INSERT INTO peer_users (username, email, bio) VALUES {}", values.join(", "))),
            update: leak(format!("UPDATE peer_users SET bio = {} WHERE id = {}{returning}", p(1), p(2))),
            delete: leak(format!("DELETE FROM peer_users WHERE id = {}", p(1))),
        }
    }
}

/// One stack run on one sqlx driver. A macro, not a generic function: sqlx's executor bounds for
/// "any driver" are long, and each backend differs in one place (the update's read-back).
macro_rules! run_on {
    ($args:expr, $db:ty, $options:expr, $sql:expr, $update_returning:expr) => {{
        let args: &Args = $args;
        let sql: Sql = $sql;
        let pool = sqlx::pool::PoolOptions::<$db>::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with($options)
            .await
            .expect("sqlx connects");
        // What the stack runs on: the SQLite library it links (the servers' versions are reported
        // once, by the setup).
        let engine = if args.backend == harness::Backend::Sqlite {
            let (version,): (String,) = sqlx::query_as("SELECT sqlite_version()").fetch_one(&pool).await.unwrap();
            format!("sqlite-{version}")
        } else {
            "-".to_owned()
        };
        let user = |row: &<$db as sqlx::Database>::Row| -> u64 {
            let bio: Option<String> = row.get(3);
            harness::user_sum(row.get(0), row.get::<&str, _>(1), row.get::<&str, _>(2), bio.as_deref())
        };
        let total = args.total();
        match args.workload {
            Workload::GetByKey => {
                harness::run_async(args, &engine, async |i| {
                    let row = sqlx::query(sql.get).bind(harness::key(i)).fetch_optional(&pool).await.unwrap();
                    user(&row.expect("seeded"))
                })
                .await
            }
            Workload::GetByUnique => {
                let names: Vec<String> = (0..total).map(|i| harness::username(harness::key(i))).collect();
                harness::run_async(args, &engine, async |i| {
                    let row = sqlx::query(sql.by_username).bind(&names[i]).fetch_optional(&pool).await.unwrap();
                    user(&row.expect("seeded"))
                })
                .await
            }
            Workload::Page100 => {
                harness::run_async(args, &engine, async |i| {
                    let rows =
                        sqlx::query(sql.page).bind(PAGE).bind(harness::page_offset(i)).fetch_all(&pool).await.unwrap();
                    rows.iter().map(|r| user(r)).sum()
                })
                .await
            }
            Workload::Join => {
                harness::run_async(args, &engine, async |i| {
                    let rows = sqlx::query(sql.join).bind(harness::key(i)).fetch_all(&pool).await.unwrap();
                    user(&rows[0])
                        + rows
                            .iter()
                            .map(|r| harness::post_sum(r.get(4), r.get::<&str, _>(5), r.get::<&str, _>(6)))
                            .sum::<u64>()
                })
                .await
            }
            Workload::Insert1 => {
                let rows: Vec<_> = (0..total).map(harness::new_user).collect();
                harness::run_async(args, &engine, async |i| {
                    let (username, email, bio) = &rows[i];
                    let row = sqlx::query(sql.insert_returning)
                        .bind(username)
                        .bind(email)
                        .bind(bio)
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    let bio: Option<String> = row.get(3);
                    harness::inserted_sum(row.get(0), row.get::<&str, _>(1), row.get::<&str, _>(2), bio.as_deref())
                })
                .await
            }
            Workload::Insert100 => {
                let batches: Vec<Vec<_>> =
                    (0..total).map(|i| (0..BATCH).map(|j| harness::batch_user(i, j)).collect()).collect();
                harness::run_async(args, &engine, async |i| {
                    let mut tx = pool.begin().await.unwrap();
                    let mut query = sqlx::query(sql.insert_many);
                    for (username, email, bio) in &batches[i] {
                        query = query.bind(username).bind(email).bind(bio);
                    }
                    let written = query.execute(&mut *tx).await.unwrap().rows_affected();
                    tx.commit().await.unwrap();
                    written
                })
                .await
            }
            Workload::Update => {
                let bios: Vec<String> = (0..total).map(harness::updated_bio).collect();
                harness::run_async(args, &engine, async |i| {
                    let key = harness::key(i);
                    if $update_returning {
                        let row = sqlx::query(sql.update).bind(&bios[i]).bind(key).fetch_optional(&pool).await.unwrap();
                        user(&row.expect("seeded"))
                    } else {
                        // No `UPDATE … RETURNING`: update, then read the row back in one transaction.
                        let mut tx = pool.begin().await.unwrap();
                        sqlx::query(sql.update).bind(&bios[i]).bind(key).execute(&mut *tx).await.unwrap();
                        let row = sqlx::query(sql.get).bind(key).fetch_optional(&mut *tx).await.unwrap();
                        tx.commit().await.unwrap();
                        user(&row.expect("seeded"))
                    }
                })
                .await
            }
            Workload::Delete => {
                harness::run_async(args, &engine, async |i| {
                    sqlx::query(sql.delete).bind(harness::delete_key(i)).execute(&pool).await.unwrap().rows_affected()
                })
                .await
            }
        }
        pool.close().await;
    }};
}

pub async fn run(args: &Args) {
    match args.backend {
        harness::Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(args.sqlite_path())
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            run_on!(args, sqlx::Sqlite, options, Sql::new(|_| "?".to_owned(), true), true)
        }
        harness::Backend::Postgres => {
            let options = sqlx::postgres::PgConnectOptions::from_str(&args.url).expect("a PostgreSQL URL");
            run_on!(args, sqlx::Postgres, options, Sql::new(|n| format!("${n}"), true), true)
        }
        harness::Backend::Mariadb => {
            let options = sqlx::mysql::MySqlConnectOptions::from_str(&args.url).expect("a MySQL URL");
            run_on!(args, sqlx::MySql, options, Sql::new(|_| "?".to_owned(), false), false)
        }
    }
}
