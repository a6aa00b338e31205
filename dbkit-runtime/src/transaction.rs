//! The transaction of a unit of work, whatever the backend: [`DatabaseTransaction`], which
//! [`Database::transaction`](crate::Database::transaction) and
//! [`Database::transaction_with`](crate::Database::transaction_with) hand to their closure and
//! generated repositories run on (`repo.in_transaction(tx)`).
//!
//! *Features `sqlite`, `postgres`, `mysql`, `oracle`.*

#[cfg(feature = "_sql")]
use std::any::Any;
use std::fmt;

#[cfg(feature = "oracle")]
use crate::engine::oracle::{OracleSession, OracleTransaction};
#[cfg(feature = "sqlite")]
use crate::engine::sqlite::unit::SqliteTransaction;
#[cfg(feature = "_sql")]
use crate::session::{SqlDriver, Transaction};
use crate::{Backend, Database, Error, Result};

/// A transaction on a database of any backend with transactions (SQLite, PostgreSQL, MySQL,
/// Oracle), from [`Database::transaction`] and [`Database::transaction_with`], which commit or
/// roll it back.
///
/// The closure given to them does not name the driver, so the same code runs on whichever
/// backend the database is. Raw SQL runs on the transaction through
/// [`sqlx`](DatabaseTransaction::sqlx) on PostgreSQL and MySQL, [`sqlite`](DatabaseTransaction::sqlite)
/// on SQLite (dbkit's native engine, on rusqlite) and `oracle` on Oracle, for code that knows its
/// backend. Counted as one session in flight, as a [`Transaction`](crate::Transaction) is.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::Database;
///
/// let db = Database::connect("sqlite::memory:").await?;
/// let n = db
///     .transaction(async |tx| {
///         let conn = tx.sqlite()?;
///         conn.execute("CREATE TABLE t (n INTEGER)", [])?;
///         conn.execute("INSERT INTO t VALUES (41)", [])?;
///         Ok(conn.query_row("SELECT n + 1 FROM t", [], |row| row.get::<_, i64>(0))?)
///     })
///     .await?;
/// assert_eq!(n, 42);
/// # Ok(()) }
/// ```
pub struct DatabaseTransaction {
    pub(crate) inner: AnyTransaction,
    /// The database's name, for errors.
    database: Database,
    /// The cache keys the unit's writes made stale: invalidated once it commits (or its commit's
    /// outcome is unknown), dropped if it rolls back.
    #[cfg(feature = "redis")]
    invalidations: Vec<(crate::RedisCache, Vec<String>)>,
}

/// `$body` with `$tx` bound to the sqlx driver's transaction inside `$inner` (an
/// `AnyTransaction`, by value or by reference), `$native` for the native engines' (SQLite's and
/// Oracle's, which have the same methods): the one `match` over the drivers that every method
/// below shares.
macro_rules! on_driver {
    ($inner:expr, $tx:ident => $body:expr, $native:ident => $native_body:expr) => {
        match $inner {
            #[cfg(feature = "sqlite")]
            AnyTransaction::Sqlite($native) => $native_body,
            #[cfg(feature = "postgres")]
            AnyTransaction::Postgres($tx) => $body,
            #[cfg(feature = "mysql")]
            AnyTransaction::MySql($tx) => $body,
            #[cfg(feature = "oracle")]
            AnyTransaction::Oracle($native) => $native_body,
        }
    };
}

pub(crate) enum AnyTransaction {
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteTransaction),
    #[cfg(feature = "postgres")]
    Postgres(Transaction<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(Transaction<sqlx::MySql>),
    #[cfg(feature = "oracle")]
    Oracle(OracleTransaction),
}

impl DatabaseTransaction {
    /// Begins a transaction on `db`, in its backend's driver.
    pub(crate) async fn begin(db: &Database) -> Result<DatabaseTransaction> {
        let inner = match db.backend() {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => AnyTransaction::Sqlite(db.begin_sqlite_unit().await?),
            #[cfg(feature = "postgres")]
            Backend::Postgres => AnyTransaction::Postgres(db.begin().await?),
            #[cfg(feature = "mysql")]
            Backend::MySql => AnyTransaction::MySql(db.begin().await?),
            #[cfg(feature = "oracle")]
            Backend::Oracle => AnyTransaction::Oracle(OracleTransaction::begin(db).await?),
            backend => {
                return Err(Error::TransactionsUnsupported { backend, database: db.name().to_owned() });
            }
        };
        Ok(DatabaseTransaction {
            inner,
            database: db.clone(),
            #[cfg(feature = "redis")]
            invalidations: Vec::new(),
        })
    }

    /// The backend of the database the transaction runs on.
    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    /// The database the transaction runs on.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// [`Error::BackendMismatch`] for `what`, asked of this transaction but meant for `expected`.
    pub(crate) fn mismatch(&self, what: &'static str, expected: Backend) -> Error {
        Error::BackendMismatch {
            what,
            expected: vec![expected],
            actual: self.backend(),
            database: self.database.name().to_owned(),
        }
    }

    /// The transaction's connection as the `DB` driver's, for raw sqlx: `&mut *conn` is an
    /// executor. Fails with [`Error::BackendMismatch`] when the database is not a `DB` one, and
    /// with [`Error::SqliteUnitIsNative`] on SQLite, whose units run on dbkit's native engine
    /// ([`sqlite`](Self::sqlite) is its connection).
    ///
    /// *Features `sqlite`, `postgres`, `mysql`.*
    #[cfg(feature = "_sql")]
    pub fn sqlx<DB: SqlDriver>(&mut self) -> Result<&mut DB::Connection> {
        #[cfg(feature = "sqlite")]
        if DB::BACKEND == Backend::Sqlite && self.sqlite_unit().is_some() {
            return Err(Error::SqliteUnitIsNative { database: self.database.name().to_owned() });
        }
        if self.driver::<DB>().is_none() {
            return Err(self.mismatch("a sqlx transaction", DB::BACKEND));
        }
        Ok(&mut **self.driver_mut::<DB>().expect("checked above"))
    }

    /// The `DB` driver's transaction, when the database is a `DB` one. A downcast rather than a
    /// method of each driver, so that [`SqlDriver`] need not know this type.
    #[cfg(feature = "_sql")]
    // With SQLite alone every transaction is the native engine's: there is no sqlx one to find.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(unreachable_code, unused_variables))]
    pub(crate) fn driver<DB: SqlDriver>(&self) -> Option<&Transaction<DB>> {
        let tx: &dyn Any = on_driver!(&self.inner, tx => tx, _native => return None);
        tx.downcast_ref()
    }

    /// [`driver`](DatabaseTransaction::driver), mutably.
    #[cfg(feature = "_sql")]
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(unreachable_code, unused_variables))]
    pub(crate) fn driver_mut<DB: SqlDriver>(&mut self) -> Option<&mut Transaction<DB>> {
        let tx: &mut dyn Any = on_driver!(&mut self.inner, tx => tx, _native => return None);
        tx.downcast_mut()
    }

    /// The transaction's SQLite connection, for raw statements in the unit: a
    /// [`rusqlite::Connection`](https://docs.rs/rusqlite) of dbkit's native SQLite engine, already
    /// in the unit's transaction (do not commit in it; a savepoint of your own is fine). Fails
    /// with [`Error::BackendMismatch`] when the database is not a SQLite one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use dbkit_runtime::Database;
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// let n = db
    ///     .transaction(async |tx| {
    ///         let conn = tx.sqlite()?;
    ///         conn.execute("CREATE TABLE t (n INTEGER)", [])?;
    ///         conn.execute("INSERT INTO t VALUES (?1)", [41])?;
    ///         Ok(conn.query_row("SELECT n + 1 FROM t", [], |row| row.get::<_, i64>(0))?)
    ///     })
    ///     .await?;
    /// assert_eq!(n, 42);
    /// # Ok(()) }
    /// ```
    ///
    /// *Feature `sqlite`.*
    #[cfg(feature = "sqlite")]
    pub fn sqlite(&mut self) -> Result<&rusqlite::Connection> {
        if self.sqlite_unit().is_none() {
            return Err(self.mismatch("a SQLite transaction", Backend::Sqlite));
        }
        Ok(self.sqlite_unit_mut().expect("checked above").connection())
    }

    /// The native SQLite transaction, when the database is a SQLite one.
    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite_unit(&self) -> Option<&SqliteTransaction> {
        #[allow(irrefutable_let_patterns)] // the only variant with the sqlite feature alone
        let AnyTransaction::Sqlite(unit) = &self.inner else { return None };
        Some(unit)
    }

    /// [`sqlite_unit`](Self::sqlite_unit), mutably: its connection is reached through `&mut`.
    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite_unit_mut(&mut self) -> Option<&mut SqliteTransaction> {
        #[allow(irrefutable_let_patterns)]
        let AnyTransaction::Sqlite(unit) = &mut self.inner else { return None };
        Some(unit)
    }

    /// The transaction's Oracle connection, for raw statements: what
    /// [`OracleSession::run`] runs is part of the transaction (do not commit in it). Fails with
    /// [`Error::BackendMismatch`] when the database is not an Oracle one.
    ///
    /// *Feature `oracle`.*
    #[cfg(feature = "oracle")]
    pub fn oracle(&self) -> Result<OracleSession> {
        #[allow(irrefutable_let_patterns)] // the only variant when no sqlx backend is enabled
        let AnyTransaction::Oracle(tx) = &self.inner else {
            return Err(self.mismatch("an Oracle transaction", Backend::Oracle));
        };
        Ok(tx.session())
    }

    /// Runs `f` in a savepoint of this transaction: when it returns `Err`, what it wrote is
    /// undone and the transaction goes on; when it returns `Ok`, its writes stay part of the
    /// transaction (and are committed or rolled back with it). Savepoints nest.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use dbkit_runtime::Database;
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// db.transaction(async |tx| {
    ///     tx.sqlite()?.execute("CREATE TABLE t (n INTEGER)", [])?;
    ///     let failed = tx
    ///         .savepoint(async |sp| {
    ///             sp.sqlite()?.execute("INSERT INTO t VALUES (1)", [])?;
    ///             sp.sqlite()?.execute("INSERT INTO missing VALUES (2)", [])?;
    ///             Ok(())
    ///         })
    ///         .await;
    ///     assert!(failed.is_err());
    ///     let n: i64 = tx.sqlite()?.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))?;
    ///     assert_eq!(n, 0, "the savepoint's insert was undone; the table, created before it, stays");
    ///     Ok(())
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn savepoint<T>(&mut self, f: impl AsyncFnOnce(&mut DatabaseTransaction) -> Result<T>) -> Result<T> {
        self.begin_savepoint().await?;
        // Dropped before `f` ends (its future cancelled, or a panic): the rollback to the savepoint
        // is queued, as sqlx does for a dropped transaction, so the transaction's own COMMIT is
        // not taken for a savepoint's RELEASE.
        let mut open = OpenSavepoint { tx: self, open: true };
        let outcome = f(&mut *open.tx).await;
        open.open = false;
        let tx = &mut *open.tx;
        match outcome {
            Ok(value) => {
                tx.end_savepoint(true).await?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = tx.end_savepoint(false).await {
                    tracing::warn!(database = %tx.database.name(), error = %rollback, "rollback to savepoint failed");
                }
                Err(error)
            }
        }
    }

    /// Queues the rollback to the innermost savepoint (see [`savepoint`](Self::savepoint)): it is
    /// sent before the transaction's next statement.
    fn start_savepoint_rollback(&mut self) {
        on_driver!(&mut self.inner, tx => start_rollback(tx), native => native.start_savepoint_rollback())
    }

    async fn begin_savepoint(&mut self) -> Result<()> {
        on_driver!(&mut self.inner, tx => begin_savepoint(tx).await, native => native.begin_savepoint().await)
    }

    /// Releases the innermost savepoint (`keep`) or rolls back to it.
    async fn end_savepoint(&mut self, keep: bool) -> Result<()> {
        on_driver!(&mut self.inner, tx => end_savepoint(tx, keep).await, native => native.end_savepoint(keep).await)
    }

    /// Commits; see [`Transaction::commit`](crate::Transaction::commit).
    /// Queues the invalidation of `keys` in `cache` for when the unit commits: a generated write
    /// of a cached repository, inside the unit.
    #[cfg(feature = "redis")]
    #[doc(hidden)]
    pub fn invalidate_on_commit(&mut self, cache: &crate::RedisCache, keys: Vec<String>) {
        self.invalidations.push((cache.clone(), keys));
    }

    /// The invalidations queued so far, taken out (the unit is about to end).
    #[cfg(feature = "redis")]
    pub(crate) fn take_invalidations(&mut self) -> Vec<(crate::RedisCache, Vec<String>)> {
        std::mem::take(&mut self.invalidations)
    }

    pub(crate) async fn commit(self) -> Result<()> {
        on_driver!(self.inner, tx => tx.commit().await, native => native.commit().await)
    }

    /// Rolls back.
    pub(crate) async fn rollback(self) -> Result<()> {
        on_driver!(self.inner, tx => tx.rollback().await, native => native.rollback().await)
    }
}

impl fmt::Debug for DatabaseTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseTransaction")
            .field("database", &self.database.name())
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// A savepoint [`DatabaseTransaction::savepoint`] has open while its closure runs.
struct OpenSavepoint<'t> {
    tx: &'t mut DatabaseTransaction,
    open: bool,
}

impl Drop for OpenSavepoint<'_> {
    fn drop(&mut self) {
        if self.open {
            self.tx.start_savepoint_rollback();
        }
    }
}

/// A savepoint on `tx`'s connection: sqlx's transaction manager counts the depth, so
/// `SAVEPOINT`s nest, as the savepoints of generated writes inside the transaction do.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn begin_savepoint<DB: SqlDriver>(tx: &mut Transaction<DB>) -> Result<()> {
    Ok(<DB::TransactionManager as sqlx_core::transaction::TransactionManager>::begin(&mut **tx, None).await?)
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn start_rollback<DB: SqlDriver>(tx: &mut Transaction<DB>) {
    <DB::TransactionManager as sqlx_core::transaction::TransactionManager>::start_rollback(&mut **tx);
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn end_savepoint<DB: SqlDriver>(tx: &mut Transaction<DB>, keep: bool) -> Result<()> {
    type Manager<DB> = <DB as sqlx::Database>::TransactionManager;
    if keep {
        Ok(<Manager<DB> as sqlx_core::transaction::TransactionManager>::commit(&mut **tx).await?)
    } else {
        Ok(<Manager<DB> as sqlx_core::transaction::TransactionManager>::rollback(&mut **tx).await?)
    }
}

/// The caller's transaction, lent by a generated call in a unit of work
/// (`repo.in_transaction(tx)`) to one statement at a time.
pub(crate) type Slot<'a> = std::sync::Mutex<Option<&'a mut DatabaseTransaction>>;

/// The Oracle session of the transaction in `slot`, for one statement of a generated call; fails
/// when it is a transaction of another backend.
#[cfg(feature = "oracle")]
pub(crate) fn lend_oracle(slot: &Slot<'_>) -> Result<OracleSession> {
    let slot = slot.lock().expect("transaction slot poisoned");
    let tx = slot.as_deref().expect("one statement at a time");
    #[allow(irrefutable_let_patterns)] // the only variant when no sqlx backend is enabled
    let AnyTransaction::Oracle(oracle) = &tx.inner else {
        return Err(tx.mismatch("the repository", Backend::Oracle));
    };
    Ok(oracle.session())
}
