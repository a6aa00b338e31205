//! Untimed work around the runs, through plain sqlx connections: the setup (tables created and
//! filled once, checked against dbkit's model), and, for this binary's stacks, the restore a write
//! run does before and after its timed loop. `bench/peers/run` sets up every backend through this
//! binary; the SeaORM and Diesel binaries restore through their own connections.

use std::str::FromStr;
use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection};

use crate::harness::{self, Args, Backend};

/// Runs each statement, in order, on a fresh connection of the backend.
pub async fn exec(args: &Args, statements: &[String]) {
    macro_rules! on {
        ($conn:expr) => {{
            let mut conn = $conn;
            for sql in statements {
                sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| harness::fail(&format!("{e}: {}", &sql[..sql.len().min(200)])));
            }
            conn.close().await.unwrap();
        }};
    }
    match args.backend {
        Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(args.sqlite_path())
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            on!(sqlx::SqliteConnection::connect_with(&options).await.expect("SQLite opens"))
        }
        Backend::Postgres => on!(sqlx::PgConnection::connect(&args.url).await.expect("PostgreSQL connects")),
        Backend::Mariadb => {
            let options = sqlx::mysql::MySqlConnectOptions::from_str(&args.url).expect("a MySQL URL");
            on!(sqlx::MySqlConnection::connect_with(&options).await.expect("MariaDB connects"))
        }
    }
}

/// Creates and fills the tables (dropping earlier ones), then checks that dbkit's model reads them
/// as they are, and prints the server's version for the results.
pub async fn setup(args: &Args) {
    if args.backend == Backend::Sqlite {
        // A new file each setup: no pages, WAL or statistics left from an earlier layout.
        let path = args.sqlite_path();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
        if let Some(dir) = std::path::Path::new(&path).parent() {
            std::fs::create_dir_all(dir).expect("the SQLite file's directory");
        }
    }
    let mut statements = harness::create_sql(args.backend);
    statements.extend(harness::seed_sql(args.backend));
    if args.backend == Backend::Sqlite {
        // Start the runs from an empty WAL; the file stays in WAL mode (the mode is persistent).
        statements.push("PRAGMA wal_checkpoint(TRUNCATE)".to_owned());
    }
    exec(args, &statements).await;

    let db = crate::dbkit_stack::connect(&args.url).await;
    for (table, diff) in [
        ("peer_users", db.verify_schema::<crate::dbkit_stack::User>().await.expect("verify_schema")),
        ("peer_posts", db.verify_schema::<crate::dbkit_stack::Post>().await.expect("verify_schema")),
    ] {
        // Differences of declared type (VARCHAR where dbkit would create TEXT, …) are expected:
        // the DDL is the suite's, written once for every stack. A missing column would not be.
        for difference in &diff.differences {
            eprintln!("setup: {} {table}: dbkit's model and the table differ: {difference:?}", args.backend);
        }
    }
    let server = match args.backend {
        Backend::Sqlite => format!("sqlite-{}", db.server_version()),
        Backend::Postgres => format!("postgresql-{}", db.server_version()),
        Backend::Mariadb => db.server_version().to_owned(),
    };
    db.close().await;
    println!(
        "SETUP backend={} users={} server={}",
        args.backend,
        harness::USERS,
        server.replace(char::is_whitespace, "_")
    );
}
