//! A generated method run on the caller's transaction (`repo.in_transaction(tx)`) against the
//! same hand-written statement on the same transaction through the driver underneath: both sides
//! in one transaction on one connection, so only the layers differ. SQLite always (its units run
//! on dbkit's native engine, so the hand-written side is rusqlite on `tx.sqlite()`); PostgreSQL
//! (sqlx) when `DBKIT_TEST_POSTGRES_URL` is set. Each round times one call of each side back to back, alternating which goes first; the
//! figure is the median per-round ratio with its interquartile range.
//!
//! ```text
//! cargo bench -p dbkit-tests --bench in_transaction_vs_sqlx
//! ```

use dbkit::prelude::*;
use dbkit::sqlx::{self, Row};

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres)]
#[repository(table = "bench_tx_users")]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
}

const ROUNDS: usize = 5_000;

/// `paired!` and a line of its report.
macro_rules! paired {
    ($label:expr, $dbkit:expr, $sqlx:expr) => {
        println!("{}", dbkit_tests::paired!(ROUNDS, $dbkit, $sqlx).report($label, "in_transaction", "driver"))
    };
}

/// The two sides' statements, hand-written on `$tx`: `$get(id)` and `$update(email, id)`.
macro_rules! bench_backend {
    ($label:literal, $url:expr, $ph:expr, |$tx:ident, $get_sql:ident, $update_sql:ident| $get:expr, $update:expr) => {{
        let config = DatabaseConfig::from_url(&$url).unwrap().pool_size(1).max_overflow(0).pool_pre_ping(false);
        let db = Database::connect_with(config).await.unwrap();
        db.drop_table::<User>().await.unwrap();
        db.create_table::<User>().await.unwrap();
        let users = UserRepository::new(&db);
        let rows: Vec<NewUser> =
            (0..1000).map(|i| NewUser { username: format!("user{i}"), email: format!("u{i}@example.com") }).collect();
        users.create_many(&rows).await.unwrap();
        let p = $ph;
        let get_sql = format!(r#"SELECT "id", "username", "email" FROM "bench_tx_users" WHERE "id" = {}"#, p(1));
        let update_sql = format!(
            r#"UPDATE "bench_tx_users" SET "email" = {} WHERE "id" = {} RETURNING "id", "username", "email""#,
            p(1),
            p(2)
        );
        let patch = UserPatch { email: Some("patched@example.com".to_owned()), ..Default::default() };
        let ($get_sql, $update_sql) = (&get_sql, &update_sql);
        db.transaction(async |$tx| {
            paired!(concat!($label, "/get"), users.in_transaction($tx).get(500).await.unwrap(), $get);
            paired!(concat!($label, "/update"), users.in_transaction($tx).update(700, &patch).await.unwrap(), $update);
            Ok(())
        })
        .await
        .unwrap();
        db.drop_table::<User>().await.unwrap();
    }};
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let file = std::env::temp_dir().join("dbkit-bench-in-transaction.db");
        let _ = std::fs::remove_file(&file);
        let rusqlite_user = |row: &dbkit::rusqlite::Row<'_>| {
            Ok::<_, dbkit::rusqlite::Error>(User { id: row.get(0)?, username: row.get(1)?, email: row.get(2)? })
        };
        bench_backend!(
            "sqlite",
            format!("sqlite://{}", file.display()),
            |_: usize| "?".to_owned(),
            |tx, get_sql, update_sql| {
                let conn = tx.sqlite().unwrap();
                let mut statement = conn.prepare_cached(get_sql).unwrap();
                let mut rows = statement.query([500_i64]).unwrap();
                rows.next().unwrap().map(|row| rusqlite_user(row).unwrap())
            },
            {
                let conn = tx.sqlite().unwrap();
                let mut statement = conn.prepare_cached(update_sql).unwrap();
                let mut rows = statement.query(("patched@example.com", 700_i64)).unwrap();
                rows.next().unwrap().map(|row| rusqlite_user(row).unwrap())
            }
        );
        if let Ok(url) = std::env::var("DBKIT_TEST_POSTGRES_URL") {
            let decode = |row: &sqlx::postgres::PgRow| User { id: row.get(0), username: row.get(1), email: row.get(2) };
            bench_backend!(
                "postgres",
                url,
                |n: usize| format!("${n}"),
                |tx, get_sql, update_sql| sqlx::query(sqlx::AssertSqlSafe(get_sql.clone()))
                    .bind(500_i64)
                    .fetch_optional(tx.sqlx::<sqlx::Postgres>().unwrap())
                    .await
                    .unwrap()
                    .map(|r| decode(&r)),
                sqlx::query(sqlx::AssertSqlSafe(update_sql.clone()))
                    .bind("patched@example.com")
                    .bind(700_i64)
                    .fetch_optional(tx.sqlx::<sqlx::Postgres>().unwrap())
                    .await
                    .unwrap()
                    .map(|r| decode(&r))
            );
        }
    });
}
