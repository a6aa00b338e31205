//! What a generated call's statement runs on, on SQLite: the native engine, or the caller's unit
//! of work lent to it ([`SqliteCall`]).

use std::fmt;

use super::native::{EngineCall, NativeSqlite, SqliteConn, WriteKind};
use super::row::error;
use crate::drain::tracker::InFlight;
use crate::transaction::{DatabaseTransaction, Slot};
use crate::{Backend, Result};

/// The SQLite engine for one attempt of a generated call, counted as a session in flight; or the
/// caller's transaction (`in_transaction`), lent for the attempt and given back when this drops.
///
/// The closures given to [`read`](SqliteCall::read) and [`write`](SqliteCall::write) own what they
/// bind: the engine may run them again on the blocking pool (see the engine's docs).
pub struct SqliteCall<'c, 'a> {
    inner: Inner<'c, 'a>,
}

enum Inner<'c, 'a> {
    Pooled { engine: NativeSqlite, _call: EngineCall, _in_flight: InFlight },
    Lent { slot: &'c Slot<'a>, tx: Option<&'a mut DatabaseTransaction> },
}

impl<'c, 'a> SqliteCall<'c, 'a> {
    pub(crate) fn pooled(engine: NativeSqlite, call: EngineCall, in_flight: InFlight) -> Self {
        SqliteCall { inner: Inner::Pooled { engine, _call: call, _in_flight: in_flight } }
    }

    /// Takes the caller's transaction out of `slot`; fails when it is another backend's.
    pub(crate) fn lent(slot: &'c Slot<'a>) -> Result<Self> {
        let tx = slot.lock().expect("transaction slot poisoned").take().expect("one statement at a time");
        if tx.sqlite_unit().is_none() {
            let error = tx.mismatch("the repository", Backend::Sqlite);
            *slot.lock().expect("transaction slot poisoned") = Some(tx);
            return Err(error);
        }
        Ok(SqliteCall { inner: Inner::Lent { slot, tx: Some(tx) } })
    }

    fn unit<'t>(tx: &'t mut Option<&'a mut DatabaseTransaction>) -> SqliteConn<'t> {
        tx.as_deref_mut().and_then(DatabaseTransaction::sqlite_unit_mut).expect("checked in `lent`").conn()
    }

    /// Runs the read `run`, whose statement is `sql`. By value: the attempt's future then holds
    /// no reference to the unit's connection, which is not `Sync`, across the engine's await.
    pub async fn read<T, F>(mut self, sql: &str, run: F) -> Result<T>
    where
        F: Fn(SqliteConn<'_>) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        match &mut self.inner {
            Inner::Pooled { engine, .. } => engine.read(sql, run).await.map_err(error),
            Inner::Lent { tx, .. } => run(Self::unit(tx)).map_err(error),
        }
    }

    /// Runs the write `run`: one statement, or several all or nothing (`Transaction`: its own
    /// transaction, or a savepoint in the caller's). `large` sends it to the blocking pool.
    pub async fn write<T, F>(mut self, kind: WriteKind, large: bool, run: F) -> Result<T>
    where
        F: Fn(SqliteConn<'_>) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        match &mut self.inner {
            Inner::Pooled { engine, .. } => engine.write(kind, large, run).await.map_err(error),
            Inner::Lent { tx, .. } => {
                let conn = Self::unit(tx);
                if kind == WriteKind::Statement {
                    // A failed statement undoes itself and leaves the unit going.
                    return run(conn).map_err(error);
                }
                let raw = conn.connection();
                raw.prepare_cached("SAVEPOINT dbkit_write")?.execute([])?;
                let result = run(conn);
                if result.is_err() {
                    raw.prepare_cached("ROLLBACK TO SAVEPOINT dbkit_write")?.execute([])?;
                }
                raw.prepare_cached("RELEASE SAVEPOINT dbkit_write")?.execute([])?;
                result.map_err(error)
            }
        }
    }
}

impl Drop for SqliteCall<'_, '_> {
    fn drop(&mut self) {
        if let Inner::Lent { slot, tx } = &mut self.inner
            && let Some(tx) = tx.take()
        {
            // A poisoned slot means a panic elsewhere; the transaction is then dropped with it.
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(tx);
            }
        }
    }
}

impl fmt::Debug for SqliteCall<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lent = matches!(self.inner, Inner::Lent { .. });
        f.debug_struct("SqliteCall").field("lent", &lent).finish_non_exhaustive()
    }
}
