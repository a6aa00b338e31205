//! SQL sessions: a pooled sqlx connection handed out by a [`Database`](crate::Database)
//! ([`Session`]) or a transaction on one ([`Transaction`]), each counted as in flight while in use
//! so that draining knows what is running; and the sqlx drivers dbkit runs ([`SqlDriver`]).
//!
//! *Features `sqlite`, `postgres`, `mysql`.*

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::drain::tracker::InFlight;
use crate::engine::Engine;
use crate::{Backend, Database, Error, Result};

/// A sqlx database dbkit can run: SQLite, PostgreSQL or MySQL.
///
/// Implemented for `sqlx::Sqlite`, `sqlx::Postgres` and `sqlx::MySql` when their features are on;
/// sealed.
pub trait SqlDriver: sqlx::Database + sealed::Sealed {
    /// The backend this driver talks to.
    const BACKEND: Backend;

    #[doc(hidden)]
    fn pool(engine: &Engine) -> Option<&sqlx::Pool<Self>>;

    #[doc(hidden)]
    fn of(tx: &mut DatabaseTransaction) -> Option<&mut Transaction<Self>>;

    #[doc(hidden)]
    fn of_ref(tx: &DatabaseTransaction) -> Option<&Transaction<Self>>;
}

mod sealed {
    pub trait Sealed {}
}

#[cfg(feature = "sqlite")]
impl sealed::Sealed for sqlx::Sqlite {}
#[cfg(feature = "sqlite")]
impl SqlDriver for sqlx::Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    fn pool(engine: &Engine) -> Option<&sqlx::Pool<Self>> {
        #[allow(unreachable_patterns)]
        match engine {
            Engine::Sqlite(p) => Some(p),
            _ => None,
        }
    }
    fn of(tx: &mut DatabaseTransaction) -> Option<&mut Transaction<Self>> {
        #[allow(unreachable_patterns)]
        match &mut tx.inner {
            AnyTransaction::Sqlite(tx) => Some(tx),
            _ => None,
        }
    }
    fn of_ref(tx: &DatabaseTransaction) -> Option<&Transaction<Self>> {
        #[allow(unreachable_patterns)]
        match &tx.inner {
            AnyTransaction::Sqlite(tx) => Some(tx),
            _ => None,
        }
    }
}

#[cfg(feature = "postgres")]
impl sealed::Sealed for sqlx::Postgres {}
#[cfg(feature = "postgres")]
impl SqlDriver for sqlx::Postgres {
    const BACKEND: Backend = Backend::Postgres;
    fn pool(engine: &Engine) -> Option<&sqlx::Pool<Self>> {
        #[allow(unreachable_patterns)]
        match engine {
            Engine::Postgres(p) => Some(p),
            _ => None,
        }
    }
    fn of(tx: &mut DatabaseTransaction) -> Option<&mut Transaction<Self>> {
        #[allow(unreachable_patterns)]
        match &mut tx.inner {
            AnyTransaction::Postgres(tx) => Some(tx),
            _ => None,
        }
    }
    fn of_ref(tx: &DatabaseTransaction) -> Option<&Transaction<Self>> {
        #[allow(unreachable_patterns)]
        match &tx.inner {
            AnyTransaction::Postgres(tx) => Some(tx),
            _ => None,
        }
    }
}

#[cfg(feature = "mysql")]
impl sealed::Sealed for sqlx::MySql {}
#[cfg(feature = "mysql")]
impl SqlDriver for sqlx::MySql {
    const BACKEND: Backend = Backend::MySql;
    fn pool(engine: &Engine) -> Option<&sqlx::Pool<Self>> {
        #[allow(unreachable_patterns)]
        match engine {
            Engine::MySql(p) => Some(p),
            _ => None,
        }
    }
    fn of(tx: &mut DatabaseTransaction) -> Option<&mut Transaction<Self>> {
        #[allow(unreachable_patterns)]
        match &mut tx.inner {
            AnyTransaction::MySql(tx) => Some(tx),
            _ => None,
        }
    }
    fn of_ref(tx: &DatabaseTransaction) -> Option<&Transaction<Self>> {
        #[allow(unreachable_patterns)]
        match &tx.inner {
            AnyTransaction::MySql(tx) => Some(tx),
            _ => None,
        }
    }
}

/// A pooled connection in use, from [`Database::session`](crate::Database::session).
///
/// Dereferences to the driver's connection, so `&mut *session` is a sqlx executor. The connection
/// goes back to the pool when the session is dropped (or, once the database is draining, is
/// closed).
///
/// A session is counted as in flight until it is dropped: a [graceful drain](crate::DrainMode)
/// waits for it. dbkit cannot interrupt a statement on a session another task holds; work that
/// should stop when the database is force-drained runs inside
/// [`Database::cancellable`](crate::Database::cancellable).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::Database;
/// let db = Database::connect("sqlite::memory:").await?;
/// let mut session = db.session::<sqlx::Sqlite>().await?;
/// let two: i64 = sqlx::query_scalar("SELECT 1 + 1").fetch_one(&mut *session).await?;
/// assert_eq!(two, 2);
/// # Ok(()) }
/// ```
pub struct Session<DB: SqlDriver> {
    conn: sqlx::pool::PoolConnection<DB>,
    // Declared after `conn`, so dropped after it: the count falls only once the connection is back.
    _in_flight: InFlight,
}

impl<DB: SqlDriver> Session<DB> {
    pub(crate) fn new(conn: sqlx::pool::PoolConnection<DB>, in_flight: InFlight) -> Self {
        Session { conn, _in_flight: in_flight }
    }
}

impl<DB: SqlDriver> Deref for Session<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.conn
    }
}

impl<DB: SqlDriver> DerefMut for Session<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}

impl<DB: SqlDriver> fmt::Debug for Session<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("backend", &DB::BACKEND).finish_non_exhaustive()
    }
}

/// A database transaction, from [`Database::begin`](crate::Database::begin).
///
/// [`commit`](Transaction::commit) makes its writes durable; [`rollback`](Transaction::rollback), an
/// error that drops it, or a plain drop undoes them. Either way the connection goes back to the
/// pool (or, once the database is draining, is closed). Dereferences to the driver's connection, so
/// `&mut *tx` is a sqlx executor.
///
/// Once a [`DrainMode::Force`](crate::DrainMode::Force) drain has started, `commit` refuses: it
/// rolls back and returns [`Error::Unavailable`](crate::Error::Unavailable), so nothing is
/// committed through dbkit after a force drain begins.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::Database;
/// let db = Database::connect("sqlite::memory:").await?;
/// let mut tx = db.begin::<sqlx::Sqlite>().await?;
/// sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut *tx).await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub struct Transaction<DB: SqlDriver> {
    tx: sqlx::Transaction<'static, DB>,
    // Declared after `tx`, so dropped after it: the count falls only once the connection is back.
    in_flight: InFlight,
}

impl<DB: SqlDriver> Transaction<DB> {
    pub(crate) fn new(tx: sqlx::Transaction<'static, DB>, in_flight: InFlight) -> Self {
        Transaction { tx, in_flight }
    }

    /// Commits the transaction; after a force drain has started, rolls it back instead and returns
    /// [`Error::Unavailable`](crate::Error::Unavailable) (state `closed`).
    ///
    /// A commit that has already been sent when the force drain starts is not interrupted: its
    /// outcome would otherwise be unknown.
    pub async fn commit(self) -> Result<()> {
        if let Some(refused) = self.in_flight.refuse_commit() {
            // Roll back now rather than on drop, so the server releases the locks at once; a failed
            // rollback changes nothing (the server also rolls back when the connection closes).
            if let Err(error) = self.tx.rollback().await {
                tracing::debug!(%error, "rollback after a force drain failed");
            }
            return Err(refused);
        }
        Ok(self.tx.commit().await?)
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}

impl<DB: SqlDriver> Deref for Transaction<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: SqlDriver> DerefMut for Transaction<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

impl<DB: SqlDriver> fmt::Debug for Transaction<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction").field("backend", &DB::BACKEND).finish_non_exhaustive()
    }
}

/// A transaction on a database of any SQL backend, from [`Database::transaction`] and
/// [`Database::transaction_with`], which commit or roll it back.
///
/// The closure given to them does not name the driver, so the same code runs on whichever
/// backend the database is. Raw SQL runs on the transaction through
/// [`sqlx`](DatabaseTransaction::sqlx), for code that knows its backend. Counted as one session
/// in flight, as a [`Transaction`] is.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::Database;
///
/// let db = Database::connect("sqlite::memory:").await?;
/// let n = db
///     .transaction(async |tx| {
///         let conn = tx.sqlx::<sqlx::Sqlite>()?;
///         sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut *conn).await?;
///         sqlx::query("INSERT INTO t VALUES (41)").execute(&mut *conn).await?;
///         Ok(sqlx::query_scalar::<_, i64>("SELECT n + 1 FROM t").fetch_one(&mut *conn).await?)
///     })
///     .await?;
/// assert_eq!(n, 42);
/// # Ok(()) }
/// ```
pub struct DatabaseTransaction {
    inner: AnyTransaction,
    /// The database's name, for errors.
    database: Database,
}

/// `$body` with `$tx` bound to the driver's transaction inside `$inner` (an `AnyTransaction`, by
/// value or by reference): the one `match` over the drivers that every method below shares.
macro_rules! on_driver {
    ($inner:expr, $tx:ident => $body:expr) => {
        match $inner {
            #[cfg(feature = "sqlite")]
            AnyTransaction::Sqlite($tx) => $body,
            #[cfg(feature = "postgres")]
            AnyTransaction::Postgres($tx) => $body,
            #[cfg(feature = "mysql")]
            AnyTransaction::MySql($tx) => $body,
        }
    };
}

enum AnyTransaction {
    #[cfg(feature = "sqlite")]
    Sqlite(Transaction<sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(Transaction<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(Transaction<sqlx::MySql>),
}

impl DatabaseTransaction {
    /// Begins a transaction on `db`, in its backend's driver.
    pub(crate) async fn begin(db: &Database) -> Result<DatabaseTransaction> {
        let inner = match db.backend() {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => AnyTransaction::Sqlite(db.begin().await?),
            #[cfg(feature = "postgres")]
            Backend::Postgres => AnyTransaction::Postgres(db.begin().await?),
            #[cfg(feature = "mysql")]
            Backend::MySql => AnyTransaction::MySql(db.begin().await?),
            backend => {
                return Err(Error::TransactionsUnsupported { backend, database: db.name().to_owned() });
            }
        };
        Ok(DatabaseTransaction { inner, database: db.clone() })
    }

    /// The backend of the database the transaction runs on.
    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    /// The database the transaction runs on.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The transaction's connection as the `DB` driver's, for raw sqlx: `&mut *conn` is an
    /// executor. Fails with [`Error::BackendMismatch`] when the database is not a `DB` one.
    pub fn sqlx<DB: SqlDriver>(&mut self) -> Result<&mut DB::Connection> {
        let actual = self.backend();
        let database = self.database.name().to_owned();
        match DB::of(self) {
            Some(tx) => Ok(&mut **tx),
            None => Err(Error::BackendMismatch {
                what: "a sqlx transaction",
                expected: vec![DB::BACKEND],
                actual,
                database,
            }),
        }
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
    ///     sqlx::query("CREATE TABLE t (n INTEGER)").execute(tx.sqlx::<sqlx::Sqlite>()?).await?;
    ///     let failed = tx
    ///         .savepoint(async |sp| {
    ///             sqlx::query("INSERT INTO t VALUES (1)").execute(sp.sqlx::<sqlx::Sqlite>()?).await?;
    ///             sqlx::query("INSERT INTO missing VALUES (2)").execute(sp.sqlx::<sqlx::Sqlite>()?).await?;
    ///             Ok(())
    ///         })
    ///         .await;
    ///     assert!(failed.is_err());
    ///     let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(tx.sqlx::<sqlx::Sqlite>()?).await?;
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

    /// Queues the rollback to the innermost savepoint (see [`savepoint`](Self::savepoint)).
    fn start_savepoint_rollback(&mut self) {
        on_driver!(&mut self.inner, tx => start_rollback(tx))
    }

    async fn begin_savepoint(&mut self) -> Result<()> {
        on_driver!(&mut self.inner, tx => begin_savepoint(tx).await)
    }

    /// Releases the innermost savepoint (`keep`) or rolls back to it.
    async fn end_savepoint(&mut self, keep: bool) -> Result<()> {
        on_driver!(&mut self.inner, tx => end_savepoint(tx, keep).await)
    }

    /// Commits; see [`Transaction::commit`].
    pub(crate) async fn commit(self) -> Result<()> {
        on_driver!(self.inner, tx => tx.commit().await)
    }

    /// Rolls back.
    pub(crate) async fn rollback(self) -> Result<()> {
        on_driver!(self.inner, tx => tx.rollback().await)
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
async fn begin_savepoint<DB: SqlDriver>(tx: &mut Transaction<DB>) -> Result<()> {
    Ok(<DB::TransactionManager as sqlx_core::transaction::TransactionManager>::begin(&mut **tx, None).await?)
}

fn start_rollback<DB: SqlDriver>(tx: &mut Transaction<DB>) {
    <DB::TransactionManager as sqlx_core::transaction::TransactionManager>::start_rollback(&mut **tx);
}

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

/// The connection a statement of a generated call runs on: a pooled session, or the caller's
/// transaction, lent for the statement and given back when this is dropped. Dereferences to the
/// driver's connection, so `&mut *session` is a sqlx executor.
pub enum CallSession<'c, 'a, DB: SqlDriver> {
    /// A session of its own, from the pool.
    Pooled(Session<DB>),
    /// The caller's transaction.
    Lent(Lent<'c, 'a, DB>),
}

/// The caller's transaction, lent to one statement; see [`CallSession`].
pub struct Lent<'c, 'a, DB: SqlDriver> {
    slot: &'c Slot<'a>,
    tx: Option<&'a mut DatabaseTransaction>,
    _driver: std::marker::PhantomData<fn() -> DB>,
}

impl<'c, 'a, DB: SqlDriver> Lent<'c, 'a, DB> {
    /// Takes the transaction out of `slot`; fails when it is a transaction of another backend.
    pub(crate) fn take(slot: &'c Slot<'a>) -> Result<Self> {
        let tx = slot.lock().expect("transaction slot poisoned").take().expect("one statement at a time");
        if DB::of_ref(tx).is_none() {
            // A repository of one database given the transaction of a database of another
            // backend: its statements are for its own.
            let error = Error::BackendMismatch {
                what: "the repository",
                expected: vec![DB::BACKEND],
                actual: tx.backend(),
                database: tx.database().name().to_owned(),
            };
            *slot.lock().expect("transaction slot poisoned") = Some(tx);
            return Err(error);
        }
        Ok(Lent { slot, tx: Some(tx), _driver: std::marker::PhantomData })
    }

    fn transaction(&mut self) -> &mut Transaction<DB> {
        DB::of(self.tx.as_deref_mut().expect("lent")).expect("checked in `take`")
    }
}

impl<DB: SqlDriver> Drop for Lent<'_, '_, DB> {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            // A poisoned slot means a panic elsewhere; the transaction is then dropped with it.
            if let Ok(mut slot) = self.slot.lock() {
                *slot = Some(tx);
            }
        }
    }
}

impl<DB: SqlDriver> Deref for CallSession<'_, '_, DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        match self {
            CallSession::Pooled(session) => session,
            CallSession::Lent(lent) => DB::of_ref(lent.tx.as_deref().expect("lent")).expect("checked in `take`"),
        }
    }
}

impl<DB: SqlDriver> DerefMut for CallSession<'_, '_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            CallSession::Pooled(session) => session,
            CallSession::Lent(lent) => lent.transaction(),
        }
    }
}

/// The transaction a generated write opens for itself (`create_many`, MySQL's insert-then-read):
/// its own, or, inside the caller's transaction, a savepoint in it, so the write is still all or
/// nothing without ending the caller's transaction. Dereferences to the driver's connection.
pub enum CallTransaction<'c, 'a, DB: SqlDriver> {
    /// A transaction of its own, on a pooled connection (`None` once committed).
    Own(Option<Transaction<DB>>),
    /// A savepoint in the caller's transaction; rolled back to when dropped without `commit`.
    Savepoint(Option<Lent<'c, 'a, DB>>),
}

impl<'c, 'a, DB: SqlDriver> CallTransaction<'c, 'a, DB> {
    /// Opens a savepoint in the lent transaction.
    pub(crate) async fn savepoint(mut lent: Lent<'c, 'a, DB>) -> Result<Self> {
        <DB::TransactionManager as sqlx_core::transaction::TransactionManager>::begin(lent.transaction(), None).await?;
        Ok(CallTransaction::Savepoint(Some(lent)))
    }

    /// Commits the transaction, or releases the savepoint.
    pub async fn commit(mut self) -> Result<()> {
        match &mut self {
            CallTransaction::Own(tx) => tx.take().expect("open").commit().await,
            CallTransaction::Savepoint(lent) => {
                let mut lent = lent.take().expect("open");
                Ok(<DB::TransactionManager as sqlx_core::transaction::TransactionManager>::commit(lent.transaction())
                    .await?)
            }
        }
    }
}

impl<DB: SqlDriver> Drop for CallTransaction<'_, '_, DB> {
    fn drop(&mut self) {
        // Not committed: queue the rollback to the savepoint, as sqlx does for a dropped transaction.
        if let CallTransaction::Savepoint(Some(lent)) = self {
            <DB::TransactionManager as sqlx_core::transaction::TransactionManager>::start_rollback(lent.transaction());
        }
    }
}

impl<DB: SqlDriver> Deref for CallTransaction<'_, '_, DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        match self {
            CallTransaction::Own(tx) => tx.as_ref().expect("open"),
            CallTransaction::Savepoint(lent) => {
                DB::of_ref(lent.as_ref().expect("open").tx.as_deref().expect("lent")).expect("checked in `take`")
            }
        }
    }
}

impl<DB: SqlDriver> DerefMut for CallTransaction<'_, '_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            CallTransaction::Own(tx) => tx.as_mut().expect("open"),
            CallTransaction::Savepoint(lent) => lent.as_mut().expect("open").transaction(),
        }
    }
}

impl<DB: SqlDriver> fmt::Debug for CallSession<'_, '_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallSession::Pooled(session) => session.fmt(f),
            CallSession::Lent(lent) => lent.fmt(f),
        }
    }
}

impl<DB: SqlDriver> fmt::Debug for Lent<'_, '_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lent").field("backend", &DB::BACKEND).finish_non_exhaustive()
    }
}

impl<DB: SqlDriver> fmt::Debug for CallTransaction<'_, '_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallTransaction::Own(tx) => f.debug_tuple("Own").field(tx).finish(),
            CallTransaction::Savepoint(lent) => f.debug_tuple("Savepoint").field(lent).finish(),
        }
    }
}
