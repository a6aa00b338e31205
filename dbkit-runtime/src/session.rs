//! SQL sessions: a pooled sqlx connection handed out by a [`Database`](crate::Database)
//! ([`Session`]) or a transaction on one ([`Transaction`]), each counted as in flight while in use
//! so that draining knows what is running; the sqlx drivers dbkit runs ([`SqlDriver`]); and the
//! connection a generated call's statement runs on ([`CallSession`], [`CallTransaction`]).
//!
//! *Features `sqlite`, `postgres`, `mysql`.*

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::drain::tracker::InFlight;
use crate::engine::Engine;
use crate::transaction::{AnyTransaction, DatabaseTransaction, Slot};
use crate::{Backend, Result};

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
            let error = tx.mismatch("the repository", DB::BACKEND);
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
