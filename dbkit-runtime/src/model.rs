//! [`Model`]: what `#[derive(Repository)]` knows about a table, and the DDL that
//! [`Database::create_table`] and [`Database::drop_table`] run.
//!
//! DDL runs through the call path like any generated write ([`Call`]): retried only while
//! nothing was sent, and abandoned by a [`DrainMode::Force`](crate::DrainMode::Force) drain on
//! every backend alike.

use crate::exec::{Call, CallOptions};
use crate::operation::{Failure, OpKind, Operation};
use crate::schema::Column;
#[cfg(feature = "_sql")]
use crate::session::SqlDriver;
use crate::{Backend, Database, Error, Result};

/// A struct that `#[derive(Repository)]` maps to a table.
///
/// Implemented by the derive: for each backend `#[database(...)]` lists, the DDL and columns are
/// generated at compile time from the field types (see the type table in the `dbkit` crate docs),
/// and [`Database::create_table`], [`Database::drop_table`] and
/// [`Database::verify_schema`] use the one of the database they run on.
pub trait Model {
    /// The table's name, unquoted.
    const TABLE: &'static str;
    /// The table on each backend the model was generated for, in `#[database(...)]` order.
    const TABLES: &'static [TableDef];

    /// The table on `backend`, if the model was generated for it.
    fn table_on(backend: Backend) -> Option<&'static TableDef> {
        Self::TABLES.iter().find(|table| table.backend == backend)
    }

    /// The backends the model was generated for, in `#[database(...)]` order.
    fn backends() -> Vec<Backend> {
        Self::TABLES.iter().map(|table| table.backend).collect()
    }
}

/// A model's table on one backend: its DDL and its columns, as [`Model::TABLES`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableDef {
    /// The backend this definition is written for.
    pub backend: Backend,
    /// `CREATE TABLE IF NOT EXISTS …`, with quoted identifiers (or the backend's equivalent).
    pub create_table: &'static str,
    /// `DROP TABLE IF EXISTS …`.
    pub drop_table: &'static str,
    /// The columns in field order, as the DDL declares them, for [`Database::verify_schema`].
    /// Empty where the check does not run, or for a model written by hand that does not list them.
    pub columns: &'static [Column],
}

impl TableDef {
    /// A table definition; the derive calls this in `Model::TABLES`.
    pub const fn new(
        backend: Backend,
        create_table: &'static str,
        drop_table: &'static str,
        columns: &'static [Column],
    ) -> TableDef {
        TableDef { backend, create_table, drop_table, columns }
    }
}

static CREATE_TABLE: Operation = Operation::new("Database", "create_table", OpKind::Write, "CREATE TABLE", "");
static DROP_TABLE: Operation = Operation::new("Database", "drop_table", OpKind::Write, "DROP TABLE", "");

impl Database {
    /// Creates `M`'s table unless it exists (`CREATE TABLE IF NOT EXISTS`).
    ///
    /// An existing table is left as it is, even if its columns differ from the model's: this is
    /// not a migration tool. The DDL is the one `M` was generated with for this database's
    /// backend; fails with [`Error::BackendMismatch`] when `M` does not list that backend.
    ///
    /// Runs like a generated write: tried again only while the statement was certainly not sent,
    /// and abandoned by a [`DrainMode::Force`](crate::DrainMode::Force) drain (with
    /// [`Error::OutcomeUnknown`] once it may have reached the server).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use dbkit_runtime::{Backend, Database, Model, TableDef};
    ///
    /// struct Note;
    /// impl Model for Note {
    ///     const TABLE: &'static str = "notes";
    ///     const TABLES: &'static [TableDef] = &[TableDef::new(
    ///         Backend::Sqlite,
    ///         r#"CREATE TABLE IF NOT EXISTS "notes" ("id" INTEGER PRIMARY KEY)"#,
    ///         r#"DROP TABLE IF EXISTS "notes""#,
    ///         &[],
    ///     )];
    /// }
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// db.create_table::<Note>().await?;
    /// db.create_table::<Note>().await?; // idempotent
    /// db.drop_table::<Note>().await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_table<M: Model>(&self) -> Result<()> {
        let table = self.table_of::<M>(CREATE_TABLE.method)?;
        self.run_ddl(table.create_table, &CREATE_TABLE).await
    }

    /// Drops `M`'s table if it exists (`DROP TABLE IF EXISTS`). Runs like
    /// [`create_table`](Database::create_table).
    pub async fn drop_table<M: Model>(&self) -> Result<()> {
        let table = self.table_of::<M>(DROP_TABLE.method)?;
        self.run_ddl(table.drop_table, &DROP_TABLE).await
    }

    /// `M`'s table on this database's backend; `what` names the caller in the error.
    pub(crate) fn table_of<M: Model>(&self, what: &'static str) -> Result<&'static TableDef> {
        M::table_on(self.backend()).ok_or_else(|| Error::BackendMismatch {
            what,
            expected: M::backends(),
            actual: self.backend(),
            database: self.name().to_owned(),
        })
    }

    /// Runs one DDL statement as a write of the call path.
    async fn run_ddl(&self, sql: &'static str, operation: &'static Operation) -> Result<()> {
        let options = CallOptions::default();
        let mut call = Call::new(self, &options, operation);
        loop {
            let outcome = {
                let attempt = std::pin::pin!(execute_ddl(&call, sql));
                call.attempt(attempt).await
            };
            if let Some(result) = call.finish(outcome).await {
                break result;
            }
        }
    }
}

/// One attempt at the DDL statement `sql` on the call's database, in its backend's way.
async fn execute_ddl(call: &Call<'_>, sql: &'static str) -> Result<(), Failure> {
    match call.database().backend() {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => execute_sql_ddl::<sqlx::Sqlite>(call, sql).await,
        #[cfg(feature = "postgres")]
        Backend::Postgres => execute_sql_ddl::<sqlx::Postgres>(call, sql).await,
        #[cfg(feature = "mysql")]
        Backend::MySql => execute_sql_ddl::<sqlx::MySql>(call, sql).await,
        // Sent verbatim (`query_raw`): a `?` in a quoted name is not taken for a placeholder.
        // ClickHouse 18.x creates `LowCardinality` columns only with an experimental setting
        // (from 19.0 on it is allowed by default, and later the setting is gone), so it is sent
        // with that DDL alone, and only to those servers.
        #[cfg(feature = "clickhouse")]
        Backend::ClickHouse => {
            let session = call.clickhouse()?;
            let mut query = session.query_raw(sql);
            if sql.contains("LowCardinality(") && call.database().server_version().starts_with("18.") {
                query = query.with_setting("allow_experimental_low_cardinality_type", "1");
            }
            query.execute().await.map_err(Failure::sent)
        }
        // A PL/SQL block (see the `dbkit` crate docs): it commits by itself.
        #[cfg(feature = "oracle")]
        Backend::Oracle => {
            let session = call.oracle().await?;
            session.run(move |conn| conn.execute(sql, &[]).map(drop)).await.map_err(Failure::sent)
        }
        // Reached only when a backend's feature is off, and then never: a connected database's
        // backend is enabled.
        #[allow(unreachable_patterns)]
        backend => {
            let _ = sql;
            Err(Failure::NotSent(Error::BackendNotEnabled { backend }))
        }
    }
}

/// `sql` as one raw statement (no bind placeholders, so a `?` in a quoted name stays one).
#[cfg(feature = "_sql")]
async fn execute_sql_ddl<DB>(call: &Call<'_>, sql: &'static str) -> Result<(), Failure>
where
    DB: SqlDriver,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut session = call.session::<DB>().await?;
    sqlx::raw_sql(sql).execute(&mut *session).await.map_err(Failure::sent)?;
    Ok(())
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{DatabaseConfig, DrainMode};

    struct Note;
    impl Model for Note {
        const TABLE: &'static str = "notes";
        const TABLES: &'static [TableDef] = &[TableDef::new(
            Backend::Sqlite,
            r#"CREATE TABLE IF NOT EXISTS "notes" ("id" INTEGER PRIMARY KEY)"#,
            r#"DROP TABLE IF EXISTS "notes""#,
            &[],
        )];
    }

    /// Two handles on one SQLite file, `holder` holding its write lock in an open transaction, so
    /// DDL on `db` waits for it (up to a busy timeout far longer than the test).
    async fn locked(name: &str) -> (Database, Database, crate::Transaction<sqlx::Sqlite>, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("dbkit-ddl-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let config = DatabaseConfig::from_url(&format!("sqlite://{}", path.display()))
            .unwrap()
            .sqlite_busy_timeout(Duration::from_secs(60));
        let db = Database::connect_with(config.clone()).await.unwrap();
        let holder = Database::connect_with(config).await.unwrap();
        let mut lock = holder.begin::<sqlx::Sqlite>().await.unwrap();
        sqlx::query("CREATE TABLE held (x INTEGER)").execute(&mut *lock).await.unwrap();
        (db, holder, lock, path)
    }

    /// Spawns `create_table::<Note>()` on `db` and returns once it is in flight and waiting.
    async fn blocked_create_table(db: &Database) -> tokio::task::JoinHandle<Result<()>> {
        let ddl = tokio::spawn({
            let db = db.clone();
            async move { db.create_table::<Note>().await }
        });
        while db.sessions_in_flight() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!ddl.is_finished(), "the DDL waits for the write lock");
        ddl
    }

    // The control: the same DDL, with no drain, waits for the lock and then succeeds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ddl_waiting_on_a_lock_finishes_once_the_lock_is_released() {
        let (db, holder, lock, path) = locked("control").await;
        let ddl = blocked_create_table(&db).await;
        lock.rollback().await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), ddl).await.unwrap().unwrap().unwrap();
        let mut session = db.session::<sqlx::Sqlite>().await.unwrap();
        let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'notes'")
            .fetch_one(&mut *session)
            .await
            .unwrap();
        assert_eq!(tables, 1, "the table was created");
        drop(session);
        db.close().await;
        holder.close().await;
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_force_drain_abandons_ddl_waiting_on_a_lock() {
        let (db, holder, lock, path) = locked("force").await;
        let ddl = blocked_create_table(&db).await;
        let drain = tokio::spawn({
            let db = db.clone();
            async move { db.drain(DrainMode::Force, Duration::from_secs(20)).await }
        });
        // While the lock is still held: the DDL is abandoned, not waited for.
        let error = tokio::time::timeout(Duration::from_secs(5), ddl).await.unwrap().unwrap().unwrap_err();
        assert!(error.is_outcome_unknown(), "DDL cut off after it was sent is a write of unknown outcome: {error}");
        assert!(!error.is_retryable());
        assert_eq!(db.sessions_in_flight(), 0);

        // The abandoned statement still holds SQLite's worker thread until the lock goes.
        lock.rollback().await.unwrap();
        let report = tokio::time::timeout(Duration::from_secs(20), drain).await.unwrap().unwrap();
        assert!(report.finished_within_timeout, "{report:?}");
        // DDL after the drain is refused before anything is sent.
        let error = db.drop_table::<Note>().await.unwrap_err();
        assert!(matches!(error, Error::Unavailable { state: "closed", .. }), "{error:?}");
        holder.close().await;
        let _ = std::fs::remove_file(&path);
    }
}
