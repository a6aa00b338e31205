//! [`Model`]: what `#[derive(Repository)]` knows about a table, and the DDL that
//! [`Database::create_table`] and [`Database::drop_table`] run.

use crate::operation::{OpKind, Operation};
use crate::{Backend, Database, Error, Result};

/// A struct that `#[derive(Repository)]` maps to a table.
///
/// Implemented by the derive; the DDL is generated at compile time from the field types for the
/// model's one backend (see the type table in the `dbkit` crate docs).
pub trait Model {
    /// The table's name, unquoted.
    const TABLE: &'static str;
    /// The backend the model was generated for (`#[database(...)]`).
    const BACKEND: Backend;
    /// `CREATE TABLE IF NOT EXISTS …`, with quoted identifiers, for [`Model::BACKEND`].
    const CREATE_TABLE: &'static str;
    /// `DROP TABLE IF EXISTS …`.
    const DROP_TABLE: &'static str;
    /// The columns in field order, as the DDL declares them, for
    /// [`Database::verify_schema`]. Empty for a model written by hand that does not list them.
    const COLUMNS: &'static [crate::schema::Column] = &[];
}

static CREATE_TABLE: Operation = Operation { repository: "Database", method: "create_table", kind: OpKind::Write };
static DROP_TABLE: Operation = Operation { repository: "Database", method: "drop_table", kind: OpKind::Write };

impl Database {
    /// Creates `M`'s table unless it exists (`CREATE TABLE IF NOT EXISTS`).
    ///
    /// An existing table is left as it is, even if its columns differ from the model's: this is
    /// not a migration tool. Fails with [`Error::BackendMismatch`] when `M` was generated for
    /// another backend.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use dbkit_runtime::{Backend, Database, Model};
    ///
    /// struct Note;
    /// impl Model for Note {
    ///     const TABLE: &'static str = "notes";
    ///     const BACKEND: Backend = Backend::Sqlite;
    ///     const CREATE_TABLE: &'static str = r#"CREATE TABLE IF NOT EXISTS "notes" ("id" INTEGER PRIMARY KEY)"#;
    ///     const DROP_TABLE: &'static str = r#"DROP TABLE IF EXISTS "notes""#;
    /// }
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// db.create_table::<Note>().await?;
    /// db.create_table::<Note>().await?; // idempotent
    /// db.drop_table::<Note>().await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_table<M: Model>(&self) -> Result<()> {
        self.run_ddl(M::BACKEND, M::CREATE_TABLE, &CREATE_TABLE).await
    }

    /// Drops `M`'s table if it exists (`DROP TABLE IF EXISTS`).
    pub async fn drop_table<M: Model>(&self) -> Result<()> {
        self.run_ddl(M::BACKEND, M::DROP_TABLE, &DROP_TABLE).await
    }

    async fn run_ddl(&self, backend: Backend, sql: &'static str, operation: &'static Operation) -> Result<()> {
        if backend != self.backend() {
            return Err(Error::BackendMismatch {
                what: operation.method,
                expected: backend,
                actual: self.backend(),
                database: self.name().to_owned(),
            });
        }
        match backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => self.execute_ddl::<sqlx::Sqlite>(sql, operation).await,
            #[cfg(feature = "postgres")]
            Backend::Postgres => self.execute_ddl::<sqlx::Postgres>(sql, operation).await,
            #[cfg(feature = "mysql")]
            Backend::MySql => self.execute_ddl::<sqlx::MySql>(sql, operation).await,
            #[cfg(feature = "clickhouse")]
            Backend::ClickHouse => self.execute_clickhouse_ddl(sql, operation).await,
            #[cfg(feature = "oracle")]
            Backend::Oracle => self.execute_oracle_ddl(sql, operation).await,
            // Reached only when a backend's feature is off.
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (sql, operation);
                Err(Error::BackendNotEnabled { backend })
            }
        }
    }

    #[cfg(feature = "_sql")]
    async fn execute_ddl<DB>(&self, sql: &'static str, operation: &'static Operation) -> Result<()>
    where
        DB: crate::SqlDriver,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    {
        use crate::exec::{Call, CallOptions, Failure};

        let options = CallOptions::default();
        let mut call = Call::new(self, &options, operation);
        loop {
            let outcome: Result<(), Failure> = async {
                let mut session = call.session::<DB>().await?;
                sqlx::raw_sql(sql).execute(&mut *session).await.map_err(Failure::sent)?;
                Ok(())
            }
            .await;
            if let Some(result) = call.finish(outcome).await {
                break result;
            }
        }
    }
}

#[cfg(feature = "oracle")]
impl Database {
    /// Oracle DDL is a PL/SQL block (see the `dbkit` crate docs): it commits by itself.
    async fn execute_oracle_ddl(&self, sql: &'static str, operation: &'static Operation) -> Result<()> {
        use crate::exec::{Call, CallOptions, Failure};

        let options = CallOptions::default();
        let mut call = Call::new(self, &options, operation);
        loop {
            let outcome: Result<(), Failure> = async {
                let session = call.oracle().await?;
                session.run(move |conn| conn.execute(sql, &[]).map(drop)).await.map_err(Failure::sent)
            }
            .await;
            if let Some(result) = call.finish(outcome).await {
                break result;
            }
        }
    }
}
