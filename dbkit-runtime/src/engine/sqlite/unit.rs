//! A unit of work on SQLite ([`Database::transaction`](crate::Database::transaction)): the native
//! engine's writer, held for the whole unit, in `BEGIN IMMEDIATE` … `COMMIT`.
//!
//! SQLite has one writer at a time, so a unit takes the write lock when it begins (`IMMEDIATE`)
//! rather than at its first write (`DEFERRED`), where a second unit that had read could only fail
//! with `SQLITE_BUSY_SNAPSHOT`. The engine's writer lock is fair, so units and generated writes
//! run in the order they asked. Statements in the unit run inline on the writer: a unit is short,
//! and what it holds (the write lock) blocks every other writer anyway.

use rusqlite::Connection;
use sync_wrapper::SyncWrapper;
use tokio::sync::OwnedMutexGuard;

use super::native::{EngineCall, NativeSqlite, SqliteConn, begin_immediate};
use crate::Result;
use crate::drain::tracker::InFlight;

/// The unit's connection, in a transaction until committed or rolled back; rolled back if
/// dropped open (a cancelled unit, a panic, a force drain).
pub(crate) struct SqliteTransaction {
    // Declared before `in_flight`, so the connection goes back before the count falls. Reached
    // through `&mut self` only, which keeps the unit `Sync` though the connection is not.
    conn: SyncWrapper<OwnedMutexGuard<Option<Connection>>>,
    _call: EngineCall,
    in_flight: InFlight,
    /// Savepoints open, named `dbkit_1`, `dbkit_2`, … by depth.
    savepoints: u32,
    /// Whether `COMMIT` or `ROLLBACK` was sent.
    ended: bool,
}

impl SqliteTransaction {
    pub(crate) async fn begin(
        engine: &NativeSqlite,
        call: EngineCall,
        in_flight: InFlight,
    ) -> Result<SqliteTransaction> {
        let conn = begin_immediate(engine).await?;
        Ok(SqliteTransaction { conn: SyncWrapper::new(conn), _call: call, in_flight, savepoints: 0, ended: false })
    }

    /// The unit's connection, for one statement in it.
    pub(crate) fn conn(&mut self) -> SqliteConn<'_> {
        SqliteConn::in_unit(self.connection())
    }

    /// The raw connection, for the application's own statements in the unit.
    pub(crate) fn connection(&mut self) -> &Connection {
        self.conn.get_mut().as_ref().expect("a unit began on an open writer, which closes only after it")
    }

    fn run(&mut self, sql: &str) -> Result<()> {
        self.connection().prepare_cached(sql)?.execute([])?;
        Ok(())
    }

    /// Commits; after a force drain has started, rolls back instead and returns
    /// [`Error::Unavailable`], as `Transaction::commit` does.
    pub(crate) async fn commit(mut self) -> Result<()> {
        self.ended = true;
        if let Some(refused) = self.in_flight.refuse_commit() {
            if let Err(error) = self.run("ROLLBACK") {
                tracing::debug!(%error, "rollback after a force drain failed");
            }
            return Err(refused);
        }
        self.run("COMMIT").inspect_err(|_| self.roll_back_if_open())
    }

    pub(crate) async fn rollback(mut self) -> Result<()> {
        self.ended = true;
        self.run("ROLLBACK")
    }

    pub(crate) async fn begin_savepoint(&mut self) -> Result<()> {
        self.run(&format!("SAVEPOINT dbkit_{}", self.savepoints + 1))?;
        self.savepoints += 1;
        Ok(())
    }

    /// Releases the innermost savepoint, or rolls back to it (and releases it) unless `keep`.
    pub(crate) async fn end_savepoint(&mut self, keep: bool) -> Result<()> {
        self.end_savepoint_now(keep)
    }

    fn end_savepoint_now(&mut self, keep: bool) -> Result<()> {
        let depth = self.savepoints;
        self.savepoints -= 1;
        if !keep {
            self.run(&format!("ROLLBACK TO SAVEPOINT dbkit_{depth}"))?;
        }
        self.run(&format!("RELEASE SAVEPOINT dbkit_{depth}"))
    }

    /// The savepoint's closure was dropped where it stood: roll back to it now (a local call, so
    /// there is nothing to queue, unlike a server's round trip).
    pub(crate) fn start_savepoint_rollback(&mut self) {
        if let Err(error) = self.end_savepoint_now(false) {
            tracing::debug!(%error, "rollback to a dropped savepoint failed");
        }
    }

    /// A failed `COMMIT` can leave the transaction open (`SQLITE_BUSY`): end it, so the writer
    /// goes back clean.
    fn roll_back_if_open(&mut self) {
        if !self.connection().is_autocommit() {
            let _ = self.run("ROLLBACK");
        }
    }
}

impl Drop for SqliteTransaction {
    fn drop(&mut self) {
        if !self.ended {
            self.roll_back_if_open();
        }
    }
}
