//! SQLite: dbkit's native engine ([`native`], on rusqlite) for everything generated — repository
//! methods, custom queries, units of work — and a sqlx pool on the same database for raw sessions
//! (`db.session::<Sqlite>()`, `db.begin::<Sqlite>()`), so code written against sqlx keeps
//! working.
//!
//! Tuning, on both: WAL journal and `synchronous = NORMAL` for files (readers never block the
//! writer, and a commit is durable at the next checkpoint, SQLite's recommended pairing), and
//! `foreign_keys = ON`, which SQLite leaves off by default. sqlx's connections wait `busy_timeout`
//! for a lock; the native engine waits off the runtime (see [`native`]).
//!
//! An in-memory database gets a process-unique shared-cache name (`file:dbkit-memory-…`), which
//! the native engine's connection and sqlx's open alike, so both see one database; the engine's
//! writer stays open for the database's life, and the database with it.

pub(crate) mod call;
pub(crate) mod native;
#[doc(hidden)] // generated code's, through `__private`
pub mod row;
pub(crate) mod unit;

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use self::native::{NativeSqlite, NativeTarget};
use super::pool::SqlPool;
use super::sql::log_options;
use super::{Engine, ServerInfo};
use crate::config::Target;
use crate::{DatabaseConfig, Result};

/// A SQLite database: the native engine, and a pool of sqlx connections for raw sessions.
#[derive(Debug, Clone)]
#[doc(hidden)] // named by `Engine`, which is `pub` only for the sealed `SqlDriver`
pub struct SqliteEngine {
    pub(crate) native: NativeSqlite,
    pub(crate) pool: SqlPool<sqlx::Sqlite>,
}

/// Tells in-memory databases of one process apart.
static NEXT_MEMORY: AtomicU64 = AtomicU64::new(1);

pub(crate) async fn connect(config: &DatabaseConfig, name: &str) -> Result<(Engine, ServerInfo)> {
    let (options, target) = match config.target() {
        Target::SqliteMemory => {
            let name = format!(
                "file:dbkit-memory-{}-{}?mode=memory&cache=shared",
                std::process::id(),
                NEXT_MEMORY.fetch_add(1, Ordering::Relaxed)
            );
            let options = SqliteConnectOptions::new().filename(&name).in_memory(true).shared_cache(true);
            (options, NativeTarget::Memory(name))
        }
        Target::SqliteFile(path) => {
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            (options, NativeTarget::File(path.clone()))
        }
        Target::Server(_) => unreachable!("an SQLite configuration always has an SQLite target"),
    };
    let busy_timeout = config.get_sqlite_busy_timeout();
    // The engine first: it creates the file and sets WAL, which sqlx's connections then find.
    // Opening is file I/O, so it runs off the runtime.
    let native = match tokio::task::spawn_blocking(move || NativeSqlite::open(target, busy_timeout)).await {
        Ok(opened) => opened?,
        Err(panicked) => std::panic::resume_unwind(panicked.into_panic()),
    };
    // Generated code runs on the native engine; sqlx's connections are for raw sessions, opened
    // when one is asked for (each is a worker thread), none kept idle. An in-memory database lives
    // as long as the engine's writer, which stays open for the database's life.
    let options = options.busy_timeout(busy_timeout).foreign_keys(true);
    let pool = SqlPool::new(config, name, log_options(options, config), None, 0);
    let version = native.version().await?;
    Ok((Engine::Sqlite(SqliteEngine { native, pool }), ServerInfo::plain(version)))
}

impl crate::Database {
    /// The native engine, for a call counted as a session in flight (and by the engine, until
    /// the call is done with it).
    pub(crate) fn native_sqlite(
        &self,
    ) -> crate::Result<(NativeSqlite, native::EngineCall, crate::drain::tracker::InFlight)> {
        #[allow(irrefutable_let_patterns)] // the only variant with the sqlite feature alone
        let Engine::Sqlite(engine) = self.engine() else {
            return Err(crate::Error::BackendMismatch {
                what: "the SQLite engine",
                expected: vec![crate::Backend::Sqlite],
                actual: self.backend(),
                database: self.name().to_owned(),
            });
        };
        // The engine's count first, then the tracker's door (see `NativeSqlite::call`).
        let call = engine.native.call();
        // No pool checkout is timed: a read takes an idle reader (or goes to the blocking pool)
        // and a write waits in the engine, so a wait time would always be zero, and timing it
        // would cost clock reads of the order of a SQLite call itself (issue 15's figures).
        let in_flight = self.tracker().enter(self.name())?;
        Ok((engine.native.clone(), call, in_flight))
    }

    /// A unit of work on the native engine's writer: `BEGIN IMMEDIATE`.
    pub(crate) async fn begin_sqlite_unit(&self) -> crate::Result<unit::SqliteTransaction> {
        let (engine, call, in_flight) = self.native_sqlite()?;
        unit::SqliteTransaction::begin(&engine, call, in_flight).await
    }
}
