//! The connection a generated call's statement runs on: a pooled session, or the caller's
//! transaction lent to it ([`CallSession`]); and the transaction a generated write opens for itself,
//! or a savepoint in the caller's ([`CallTransaction`]).
//!
//! *Features `sqlite`, `postgres`, `mysql`.*

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::Result;
use crate::session::{Session, SqlDriver, Transaction};
use crate::transaction::{DatabaseTransaction, Slot};

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
        if tx.driver::<DB>().is_none() {
            // A repository of one database given the transaction of a database of another
            // backend: its statements are for its own.
            let error = tx.mismatch("the repository", DB::BACKEND);
            *slot.lock().expect("transaction slot poisoned") = Some(tx);
            return Err(error);
        }
        Ok(Lent { slot, tx: Some(tx), _driver: std::marker::PhantomData })
    }

    fn driver(&self) -> &Transaction<DB> {
        self.tx.as_deref().expect("lent").driver::<DB>().expect("checked in `take`")
    }

    fn transaction(&mut self) -> &mut Transaction<DB> {
        self.tx.as_deref_mut().expect("lent").driver_mut::<DB>().expect("checked in `take`")
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
            CallSession::Lent(lent) => lent.driver(),
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
            CallTransaction::Savepoint(lent) => lent.as_ref().expect("open").driver(),
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
