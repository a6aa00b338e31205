//! dbkit's own SQLite engine, on rusqlite: the embedded default at close to the library's cost.
//!
//! **Why not sqlx's driver.** It runs each connection on a worker thread, so every statement is a
//! round trip between threads, and its pool adds one more on acquire (the ping) and on release:
//! ~30 µs a `get` where a prepared rusqlite lookup takes ~3 µs on the same file (issue 17). SQLite
//! is a library call, not a network round trip, so this engine makes the call on the calling task:
//!
//! - **Reads** run inline on one of several read-only connections (WAL lets readers run beside
//!   the writer), statements prepared once per connection (rusqlite's statement cache). An inline
//!   read is bounded, so it cannot stall the runtime: a progress handler interrupts a step that
//!   runs past [`INLINE_BUDGET`], and [`SqliteConn::query_all`] stops at [`INLINE_ROWS`] rows. The
//!   read is then run again on tokio's blocking pool, and every later call of the same statement
//!   goes there at once. Reads are idempotent, so running one again is safe. An inline read never
//!   sleeps in `busy_timeout`: a read-only WAL connection is almost never busy, and when it is,
//!   the read goes to the blocking pool, which waits.
//! - **Writes** run on the one writer connection (SQLite has one writer at a time, whatever the
//!   number of connections), behind a fair async lock: inline when it is free, after the writers
//!   ahead otherwise. A write that finds the file locked by another process (`SQLITE_BUSY`, which
//!   leaves nothing applied) runs again on the blocking pool, which waits `busy_timeout`; a write
//!   its caller marks large (`create_many` of many rows) goes there at once.
//! - **Checkpoints** run on a thread of their own (`wal_autocheckpoint = 0` on the writer):
//!   SQLite's automatic checkpoint would run inside the commit of whichever write crossed 1 000
//!   pages, on the calling task.
//! - No `block_in_place`, so it runs on a current-thread runtime. A statement on the blocking pool
//!   is interrupted when its caller stops waiting (a cancelled call, a force drain).
//!
//! An in-memory database has one connection, the writer, for reads too: there is no WAL to read
//! beside it, and a database that lives in memory is a test's or a tool's.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, InterruptHandle, OpenFlags, Params, Row};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// How long one step of an inline read may run before it is interrupted and sent to the blocking
/// pool. A point lookup or a 100-row page takes 3–40 µs; 64 tasks each waiting out one budget on
/// a current-thread runtime still see their lookups within a millisecond (issue 17's goal).
pub(crate) const INLINE_BUDGET: Duration = Duration::from_micros(250);

/// Rows an inline read returns before it goes to the blocking pool: a step of such a read is
/// short, so the progress handler does not see the time its rows take to decode.
pub(crate) const INLINE_ROWS: usize = 1_000;

/// Virtual-machine instructions between two calls of the progress handler: a point lookup runs
/// a few hundred, so the handler (and its clock read) is never called on the fast path.
const PROGRESS_OPS: i32 = 1_000;

/// Checkpoints run at most this often, when something was committed since the last.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Where the database is.
#[derive(Debug, Clone)]
pub(crate) enum NativeTarget {
    File(PathBuf),
    /// A shared-cache URI (`file:…?mode=memory&cache=shared`), so the engine's connection and
    /// sqlx's (raw sessions) see one database.
    Memory(String),
}

/// The engine: cheap to clone, one per database.
#[derive(Clone)]
pub(crate) struct NativeSqlite {
    shared: Arc<Shared>,
}

struct Shared {
    target: NativeTarget,
    busy_timeout: Duration,
    /// Read-only connections with a budget, idle, for inline reads.
    inline_readers: Mutex<Vec<InlineReader>>,
    /// How many inline readers exist: at most one per thread that can run a task at once.
    inline_opened: AtomicUsize,
    max_inline: usize,
    /// Read-only connections that wait out `busy_timeout`, idle, for the blocking pool.
    blocking_readers: Mutex<Vec<Connection>>,
    /// The writer; `None` once closed.
    writer: Arc<AsyncMutex<Option<Connection>>>,
    /// Statements that ran past the inline budget: they go to the blocking pool at once.
    long: LongStatements,
    checkpointer: Option<Checkpointer>,
    /// Calls and units of work between being let in and being done with the writer: a drain
    /// closes the writer at once only when there are none (see [`close_idle`](NativeSqlite::close_idle)).
    calls: AtomicUsize,
}

/// A call or unit of work on the engine, counted until dropped (see [`NativeSqlite::call`]).
#[derive(Debug)]
pub(crate) struct EngineCall {
    shared: Arc<Shared>,
}

impl Drop for EngineCall {
    fn drop(&mut self) {
        self.shared.calls.fetch_sub(1, SeqCst);
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("target", &self.target).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NativeSqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeSqlite").field("target", &self.shared.target).finish_non_exhaustive()
    }
}

/// A read-only connection whose progress handler interrupts a step past [`INLINE_BUDGET`].
struct InlineReader {
    conn: Connection,
    /// Bumped before each call, so the handler knows a new call began and starts its clock.
    calls: Arc<AtomicU64>,
}

impl InlineReader {
    fn open(target: &NativeTarget) -> rusqlite::Result<InlineReader> {
        let conn = open_reader(target)?;
        let calls = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&calls);
        let (mut call, mut started) = (u64::MAX, Instant::now());
        conn.progress_handler(
            PROGRESS_OPS,
            Some(move || {
                let now = seen.load(Relaxed);
                if now != call {
                    // The first call of this read: it has run PROGRESS_OPS instructions already.
                    (call, started) = (now, Instant::now());
                    return false;
                }
                started.elapsed() > INLINE_BUDGET
            }),
        )?;
        Ok(InlineReader { conn, calls })
    }
}

fn flags() -> OpenFlags {
    // NO_MUTEX: a connection is used by one thread at a time (it is moved, never shared), so
    // SQLite's own per-connection mutex is pure cost.
    OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
}

fn open_reader(target: &NativeTarget) -> rusqlite::Result<Connection> {
    let conn = match target {
        NativeTarget::File(path) => Connection::open_with_flags(path, flags() | OpenFlags::SQLITE_OPEN_READ_ONLY)?,
        NativeTarget::Memory(uri) => Connection::open_with_flags(uri, flags() | OpenFlags::SQLITE_OPEN_READ_WRITE)?,
    };
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The writer: WAL, `synchronous = NORMAL` (SQLite's recommended pairing with WAL: a commit is
/// durable at the next checkpoint), foreign keys on (SQLite leaves them off), no automatic
/// checkpoint (the checkpointer thread's), and no busy wait inline.
fn open_writer(target: &NativeTarget) -> rusqlite::Result<Connection> {
    let create = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
    let conn = match target {
        NativeTarget::File(path) => Connection::open_with_flags(path, flags() | create)?,
        NativeTarget::Memory(uri) => Connection::open_with_flags(uri, flags() | create)?,
    };
    if let NativeTarget::File(_) = target {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(Duration::ZERO)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// A connection a read or write runs on, with the row helpers generated code calls. Inline, they
/// keep the read within its budget.
#[derive(Debug, Clone, Copy)]
#[doc(hidden)] // generated code's, through `__private`
pub struct SqliteConn<'c> {
    conn: &'c Connection,
    inline: bool,
}

impl<'c> SqliteConn<'c> {
    /// The connection of a unit of work: statements run inline, with no budget.
    pub(crate) fn in_unit(conn: &'c Connection) -> Self {
        SqliteConn { conn, inline: false }
    }

    pub fn connection(&self) -> &'c Connection {
        self.conn
    }

    /// The first row of `sql`, decoded, or `None`.
    pub fn query_optional<T>(
        &self,
        sql: &str,
        params: impl Params,
        decode: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Option<T>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        rows.next()?.map(decode).transpose()
    }

    /// Every row of `sql`, decoded. Inline, more than [`INLINE_ROWS`] rows interrupt the read.
    pub fn query_all<T>(
        &self,
        sql: &str,
        params: impl Params,
        mut decode: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            if self.inline && out.len() == INLINE_ROWS {
                return Err(over_budget());
            }
            out.push(decode(row)?);
        }
        Ok(out)
    }

    /// Runs `sql`; the rows it changed.
    pub fn execute(&self, sql: &str, params: impl Params) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }
}

/// The error an inline read ends with when it goes over its budget: SQLite's own for an
/// interrupted statement, so both budgets are told apart from everything else the same way.
fn over_budget() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERRUPT),
        Some("dbkit: an inline read went over its budget".to_owned()),
    )
}

/// What a write finds once the engine is closed (a drain closed it while the write waited).
fn closed() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISUSE),
        Some("dbkit: the SQLite engine is closed".to_owned()),
    )
}

fn code(error: &rusqlite::Error) -> Option<ErrorCode> {
    error.sqlite_error_code()
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(code(error), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// How a write runs on the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)] // generated code's, through `__private`
pub enum WriteKind {
    /// One statement, in SQLite's autocommit: it applies whole or not at all.
    Statement,
    /// Several statements in one `BEGIN IMMEDIATE` … `COMMIT`, rolled back if one fails.
    Transaction,
}

impl NativeSqlite {
    /// Opens the writer (creating the file) and one inline reader, so a bad path fails here.
    pub(crate) fn open(target: NativeTarget, busy_timeout: Duration) -> rusqlite::Result<NativeSqlite> {
        let writer = open_writer(&target)?;
        let memory = matches!(target, NativeTarget::Memory(_));
        let max_inline = if memory { 0 } else { std::thread::available_parallelism().map_or(2, |n| n.get()).max(2) };
        let inline_readers = if memory { Vec::new() } else { vec![InlineReader::open(&target)?] };
        let checkpointer = match &target {
            NativeTarget::File(_) => Some(Checkpointer::start(&target)?),
            NativeTarget::Memory(_) => None,
        };
        Ok(NativeSqlite {
            shared: Arc::new(Shared {
                inline_opened: AtomicUsize::new(inline_readers.len()),
                inline_readers: Mutex::new(inline_readers),
                max_inline,
                blocking_readers: Mutex::new(Vec::new()),
                writer: Arc::new(AsyncMutex::new(Some(writer))),
                long: LongStatements::default(),
                checkpointer,
                calls: AtomicUsize::new(0),
                target,
                busy_timeout,
            }),
        })
    }

    /// Runs the read `run` (whose statement is `sql`): inline when it can, on the blocking pool
    /// when it went, or once went, over the inline budget.
    pub(crate) async fn read<T, F>(&self, sql: &str, run: F) -> rusqlite::Result<T>
    where
        F: Fn(SqliteConn<'_>) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let shared = &*self.shared;
        if shared.max_inline == 0 {
            return self.on_writer(WriteKind::Statement, false, run).await;
        }
        if !shared.long.contains(sql)
            && let Some(reader) = self.inline_reader()?
        {
            reader.calls.fetch_add(1, Relaxed);
            let result = run(SqliteConn { conn: &reader.conn, inline: true });
            shared.inline_readers.lock().unwrap_or_else(PoisonError::into_inner).push(reader);
            match result {
                Err(error) if code(&error) == Some(ErrorCode::OperationInterrupted) => shared.long.insert(sql),
                Err(error) if is_busy(&error) => {}
                result => return result,
            }
        }
        self.blocking_read(run).await
    }

    /// An idle inline reader, or a new one while fewer than one per core exist; `None` when every
    /// one is busy (the read goes to the blocking pool).
    fn inline_reader(&self) -> rusqlite::Result<Option<InlineReader>> {
        let shared = &*self.shared;
        if let Some(reader) = shared.inline_readers.lock().unwrap_or_else(PoisonError::into_inner).pop() {
            return Ok(Some(reader));
        }
        if shared.inline_opened.fetch_add(1, Relaxed) >= shared.max_inline {
            shared.inline_opened.fetch_sub(1, Relaxed);
            return Ok(None);
        }
        InlineReader::open(&shared.target).map(Some).inspect_err(|_| {
            shared.inline_opened.fetch_sub(1, Relaxed);
        })
    }

    async fn blocking_read<T, F>(&self, run: F) -> rusqlite::Result<T>
    where
        F: FnOnce(SqliteConn<'_>) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let idle = self.shared.blocking_readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = open_reader(&self.shared.target)?;
                conn.busy_timeout(self.shared.busy_timeout)?;
                conn
            }
        };
        let interrupt = InterruptOnDrop(Some(conn.get_interrupt_handle()));
        let (conn, result) = on_blocking_pool(move || {
            let result = run(SqliteConn { conn: &conn, inline: false });
            (conn, result)
        })
        .await;
        interrupt.disarm();
        self.shared.blocking_readers.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        result
    }

    /// Runs the write `run` on the writer: inline when the writer is free, after the writers
    /// ahead otherwise, on the blocking pool when it is `large` or the file is locked by another
    /// process.
    pub(crate) async fn write<T, F>(&self, kind: WriteKind, large: bool, run: F) -> rusqlite::Result<T>
    where
        F: Fn(SqliteConn<'_>) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let result = self.on_writer(kind, large, run).await;
        if let Some(checkpointer) = &self.shared.checkpointer {
            checkpointer.committed.store(true, Relaxed);
        }
        result
    }

    async fn on_writer<T, F>(&self, kind: WriteKind, large: bool, run: F) -> rusqlite::Result<T>
    where
        F: Fn(SqliteConn<'_>) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let writer = match Arc::clone(&self.shared.writer).try_lock_owned() {
            Ok(writer) => writer,
            Err(_) => Arc::clone(&self.shared.writer).lock_owned().await,
        };
        let Some(conn) = writer.as_ref() else { return Err(closed()) };
        if !large {
            match run_write(conn, kind, &run) {
                // Locked by another process before anything applied: wait for it off the runtime.
                Err(error) if is_busy(&error) => {}
                result => return result,
            }
        }
        let (_writer, result) =
            waiting_on_blocking_pool(writer, self.shared.busy_timeout, move |conn| run_write(conn, kind, &run)).await;
        result
    }

    /// The writer for a unit of work: held until the guard drops; `None` inside once closed.
    pub(crate) async fn lock_writer(&self) -> OwnedMutexGuard<Option<Connection>> {
        Arc::clone(&self.shared.writer).lock_owned().await
    }

    /// Closes the writer once no call could still need it: the calls in flight are done (a drain
    /// has shut the door on new ones) and none holds it.
    pub(crate) async fn close_writer(&self) {
        // Polled, not notified: this runs once, in a drain's background, while the last calls end.
        while self.shared.calls.load(SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let closing = self.shared.writer.lock().await.take();
        drop(closing);
    }

    /// Counts a call (or unit of work) from before it is let in by the drain tracker until it is
    /// done with the writer. Taken first, so a drain that finds none counted has already shut
    /// the door on any that were not yet let in.
    pub(crate) fn call(&self) -> EngineCall {
        self.shared.calls.fetch_add(1, SeqCst);
        EngineCall { shared: Arc::clone(&self.shared) }
    }

    /// Closes the idle readers now, and the writer if no call could still need it; see
    /// [`close_writer`](Self::close_writer) for the writer otherwise.
    pub(crate) fn close_idle(&self) {
        self.close();
        if self.shared.calls.load(SeqCst) == 0
            && let Ok(mut writer) = self.shared.writer.try_lock()
        {
            drop(writer.take());
        }
    }

    /// Closes the idle readers now; see [`close_writer`](Self::close_writer) for the writer.
    pub(crate) fn close(&self) {
        let mut idle = self.shared.inline_readers.lock().unwrap_or_else(PoisonError::into_inner);
        self.shared.inline_opened.fetch_sub(idle.len(), Relaxed);
        idle.clear();
        drop(idle);
        self.shared.blocking_readers.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The library's version.
    pub(crate) async fn version(&self) -> rusqlite::Result<String> {
        const SQL: &str = "SELECT sqlite_version()";
        self.read(SQL, |conn| conn.connection().query_row(SQL, [], |row| row.get(0))).await
    }

    /// A read of nothing, through the same path as every read: that a connection can be had.
    pub(crate) async fn ping(&self) -> rusqlite::Result<()> {
        const SQL: &str = "SELECT 1";
        self.read(SQL, |conn| conn.connection().query_row(SQL, [], |_| Ok(()))).await
    }

    /// Connections open, and of those idle (the writer counts as idle when unlocked).
    pub(crate) fn pool_counts(&self) -> (u32, u32) {
        let shared = &*self.shared;
        let idle_inline = shared.inline_readers.lock().unwrap_or_else(PoisonError::into_inner).len();
        let idle_blocking = shared.blocking_readers.lock().unwrap_or_else(PoisonError::into_inner).len();
        let writer_idle = shared.writer.try_lock().is_ok_and(|w| w.is_some());
        (self.open_connections(), (idle_inline + idle_blocking + usize::from(writer_idle)) as u32)
    }

    /// Connections open now: the writer (in use counts as open) and the readers.
    pub(crate) fn open_connections(&self) -> u32 {
        let blocking = self.shared.blocking_readers.lock().unwrap_or_else(PoisonError::into_inner).len();
        let writer = self.shared.writer.try_lock().map_or(true, |w| w.is_some());
        (usize::from(writer) + self.shared.inline_opened.load(Relaxed) + blocking) as u32
    }
}

/// The writer, in `BEGIN IMMEDIATE`: a unit of work's. Waits for the writers ahead, then for a
/// lock held by another process off the runtime, as a write does.
pub(crate) async fn begin_immediate(engine: &NativeSqlite) -> rusqlite::Result<OwnedMutexGuard<Option<Connection>>> {
    let writer = engine.lock_writer().await;
    let Some(conn) = writer.as_ref() else { return Err(closed()) };
    match conn.prepare_cached("BEGIN IMMEDIATE").and_then(|mut s| s.execute([])) {
        Ok(_) => return Ok(writer),
        Err(error) if is_busy(&error) => {}
        Err(error) => return Err(error),
    }
    let (writer, begun) = waiting_on_blocking_pool(writer, engine.shared.busy_timeout, |conn| {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])
    })
    .await;
    begun.map(|_| writer)
}

/// `run` as a write of `kind` on `conn`: a transaction is begun `IMMEDIATE` (it takes the write
/// lock at once, so a busy file fails there, before anything applied) and rolled back on error.
fn run_write<T>(
    conn: &Connection,
    kind: WriteKind,
    run: &impl Fn(SqliteConn<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let conn_ = SqliteConn { conn, inline: false };
    match kind {
        WriteKind::Statement => run(conn_),
        WriteKind::Transaction => {
            conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            let result = run(conn_).and_then(|value| conn.prepare_cached("COMMIT")?.execute([]).map(|_| value));
            if result.is_err() && !conn.is_autocommit() {
                // The error is the statement's; a failed rollback leaves the connection in a
                // transaction, which the next BEGIN reports.
                let _ = conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([]));
            }
            result
        }
    }
}

/// `run` on the (open) writer on tokio's blocking pool, with `busy_timeout` set for it (the inline
/// path keeps it at zero), interrupted if the caller stops waiting; the writer is handed back.
async fn waiting_on_blocking_pool<T: Send + 'static>(
    writer: OwnedMutexGuard<Option<Connection>>,
    busy_timeout: Duration,
    run: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
) -> (OwnedMutexGuard<Option<Connection>>, rusqlite::Result<T>) {
    let interrupt = InterruptOnDrop(writer.as_ref().map(Connection::get_interrupt_handle));
    let (writer, result) = on_blocking_pool(move || {
        let conn = writer.as_ref().expect("checked open by the caller");
        let result = conn.busy_timeout(busy_timeout).and_then(|()| run(conn));
        let reset = conn.busy_timeout(Duration::ZERO);
        (writer, result.and_then(|value| reset.map(|()| value)))
    })
    .await;
    interrupt.disarm();
    (writer, result)
}

/// Runs `f` on tokio's blocking pool; a panic in it resumes here, as it would have inline.
async fn on_blocking_pool<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// Interrupts the statement on a connection when the caller stops waiting for it.
struct InterruptOnDrop(Option<InterruptHandle>);

impl InterruptOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.interrupt();
        }
    }
}

/// The statements that went over the inline budget. Read on every inline read, so the common
/// case — none ever did — is one relaxed load and no lock.
#[derive(Default)]
struct LongStatements {
    any: AtomicBool,
    sql: RwLock<HashSet<Box<str>>>,
}

impl LongStatements {
    fn contains(&self, sql: &str) -> bool {
        self.any.load(Relaxed) && self.sql.read().unwrap_or_else(PoisonError::into_inner).contains(sql)
    }

    fn insert(&self, sql: &str) {
        self.sql.write().unwrap_or_else(PoisonError::into_inner).insert(sql.into());
        self.any.store(true, Relaxed);
    }
}

/// The thread that checkpoints the WAL, `PASSIVE` (it never waits for readers or the writer),
/// when something was committed since it last did.
struct Checkpointer {
    committed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(target: &NativeTarget) -> rusqlite::Result<Checkpointer> {
        let NativeTarget::File(path) = target else { unreachable!("an in-memory database has no WAL") };
        let conn = Connection::open_with_flags(path, flags() | OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        let committed = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (Arc::clone(&committed), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("dbkit-sqlite-checkpoint".to_owned())
            .spawn(move || {
                while !s.load(Relaxed) {
                    std::thread::park_timeout(CHECKPOINT_EVERY);
                    if c.swap(false, Relaxed) {
                        // A checkpoint that fails (a reader pinning the WAL) is tried again at the
                        // next commit; nothing is lost, the WAL is only longer meanwhile.
                        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    }
                }
            })
            .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
        Ok(Checkpointer { committed, stop, thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dbkit-native-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("test.db")
    }

    async fn filled(name: &str, rows: i64) -> (NativeSqlite, PathBuf) {
        let path = temp_file(name);
        let engine = NativeSqlite::open(NativeTarget::File(path.clone()), Duration::from_secs(5)).unwrap();
        engine
            .write(WriteKind::Transaction, true, move |conn| {
                conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", [])?;
                for id in 1..=rows {
                    conn.execute("INSERT INTO t (id, name) VALUES (?1, ?2)", (id, format!("n{id}")))?;
                }
                Ok(())
            })
            .await
            .unwrap();
        (engine, path)
    }

    fn get(id: i64) -> impl Fn(SqliteConn<'_>) -> rusqlite::Result<Option<String>> + Send + 'static {
        move |conn| conn.query_optional("SELECT name FROM t WHERE id = ?1", [id], |row| row.get(0))
    }

    /// A scan of every row, made long by a cross join: a step that runs past the budget.
    const SLOW: &str = "SELECT count(*) FROM t a, t b WHERE a.name < b.name";

    #[tokio::test(flavor = "current_thread")]
    async fn reads_inline_see_what_the_writer_committed() {
        let (engine, _) = filled("inline", 10).await;
        assert_eq!(engine.read("SELECT name FROM t WHERE id = ?1", get(3)).await.unwrap().as_deref(), Some("n3"));
        engine
            .write(WriteKind::Statement, false, |conn| conn.execute("UPDATE t SET name = 'x' WHERE id = 3", []))
            .await
            .unwrap();
        assert_eq!(engine.read("SELECT name FROM t WHERE id = ?1", get(3)).await.unwrap().as_deref(), Some("x"));
        assert!(!engine.shared.long.contains("SELECT name FROM t WHERE id = ?1"), "a point read stays inline");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_long_read_goes_to_the_blocking_pool_with_its_result_intact() {
        let (engine, _) = filled("long", 2_000).await;
        let count = |conn: SqliteConn<'_>| conn.connection().query_row(SLOW, [], |row| row.get::<_, i64>(0));
        let expected = 2_000 * 1_999 / 2;
        assert_eq!(engine.read(SLOW, count).await.unwrap(), expected);
        assert!(engine.shared.long.contains(SLOW), "the statement went over the budget and is remembered");
        // The control: the same statement on a plain connection runs past the budget.
        let started = Instant::now();
        let plain = open_reader(&engine.shared.target).unwrap();
        assert_eq!(plain.query_row(SLOW, [], |row| row.get::<_, i64>(0)).unwrap(), expected);
        assert!(started.elapsed() > INLINE_BUDGET, "the scan is long enough to test the budget");
        assert_eq!(engine.read(SLOW, count).await.unwrap(), expected, "the second call goes there at once");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_read_of_many_rows_goes_to_the_blocking_pool() {
        let (engine, _) = filled("rows", 3_000).await;
        const ALL: &str = "SELECT id FROM t ORDER BY id";
        let all = |conn: SqliteConn<'_>| conn.query_all(ALL, [], |row| row.get::<_, i64>(0));
        let ids = engine.read(ALL, all).await.unwrap();
        assert_eq!(ids.len(), 3_000);
        assert!(engine.shared.long.contains(ALL));
        // The control: a short page stays inline.
        const PAGE: &str = "SELECT id FROM t ORDER BY id LIMIT 100";
        assert_eq!(
            engine.read(PAGE, |conn| conn.query_all(PAGE, [], |row| row.get::<_, i64>(0))).await.unwrap().len(),
            100
        );
        assert!(!engine.shared.long.contains(PAGE));
    }

    /// A read on the blocking pool is interrupted when its caller stops waiting: with one blocking
    /// thread, a second long read gets it at once. Without the interrupt the first (a count to
    /// 10^10, minutes) would hold that thread and the second would time out.
    #[test]
    fn a_cancelled_read_on_the_blocking_pool_is_interrupted() {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().max_blocking_threads(1).build().unwrap();
        let (cut, went_long, second) = runtime.block_on(async {
            let (engine, _) = filled("cancel", 10).await;
            const FOREVER: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000000) SELECT count(*) FROM n";
            let forever = |conn: SqliteConn<'_>| conn.connection().query_row(FOREVER, [], |row| row.get::<_, i64>(0));
            let cut = tokio::time::timeout(Duration::from_millis(100), engine.read(FOREVER, forever)).await.is_err();
            let went_long = engine.shared.long.contains(FOREVER);
            const SHORT: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT count(*) FROM n";
            let short = |conn: SqliteConn<'_>| conn.connection().query_row(SHORT, [], |row| row.get::<_, i64>(0));
            // Long enough for the budget to send it to the blocking pool too, whose one thread the
            // first read would still hold if it had not been interrupted.
            let second = tokio::time::timeout(Duration::from_secs(5), engine.read(SHORT, short)).await;
            (cut, went_long, second.map(|n| n.unwrap()))
        });
        // Not waiting for a blocking thread that was not interrupted: the assertion says so.
        runtime.shutdown_timeout(Duration::from_millis(100));
        assert!(cut, "the count to 10^10 does not finish in 100 ms");
        assert!(went_long, "it went to the blocking pool");
        assert_eq!(second.ok(), Some(100_000), "the one blocking thread was freed by the interrupt");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failed_transaction_write_leaves_nothing() {
        let (engine, _) = filled("rollback", 3).await;
        let error = engine
            .write(WriteKind::Transaction, false, |conn| {
                conn.execute("INSERT INTO t (id, name) VALUES (10, 'a')", [])?;
                conn.execute("INSERT INTO t (id, name) VALUES (1, 'clash')", [])
            })
            .await
            .unwrap_err();
        assert_eq!(code(&error), Some(ErrorCode::ConstraintViolation), "{error}");
        assert_eq!(engine.read("SELECT name FROM t WHERE id = ?1", get(10)).await.unwrap(), None);
    }

    /// Another process's connection holds the write lock: the write waits for it on the blocking
    /// pool (`busy_timeout`) instead of failing at once, and the runtime keeps running meanwhile.
    #[tokio::test(flavor = "current_thread")]
    async fn a_write_waits_for_another_connections_lock_off_the_runtime() {
        let (engine, path) = filled("busy", 3).await;
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (id, name) VALUES (20, 'other')").unwrap();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            released.recv().unwrap();
            other.execute_batch("COMMIT").unwrap();
        });
        let write = engine.write(WriteKind::Statement, false, |conn| {
            conn.execute("INSERT INTO t (id, name) VALUES (21, 'ours')", [])
        });
        let ticker = async {
            // The runtime is free while the write waits: this task runs, then lets the lock go.
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(engine.read("SELECT name FROM t WHERE id = ?1", get(1)).await.unwrap().as_deref(), Some("n1"));
            release.send(()).unwrap();
        };
        let (written, ()) = tokio::join!(write, ticker);
        assert_eq!(written.unwrap(), 1);
        holder.join().unwrap();
        assert_eq!(engine.read("SELECT name FROM t WHERE id = ?1", get(20)).await.unwrap().as_deref(), Some("other"));
        assert_eq!(engine.read("SELECT name FROM t WHERE id = ?1", get(21)).await.unwrap().as_deref(), Some("ours"));
    }

    /// A write queues behind a unit of work that holds the writer, and runs once it lets go; reads
    /// go on meanwhile. Closing leaves only the writer open.
    #[tokio::test(flavor = "current_thread")]
    async fn a_write_waits_for_the_writer_held_by_a_unit_of_work() {
        let (engine, _) = filled("held", 3).await;
        let held = engine.lock_writer().await;
        held.as_ref().unwrap().execute_batch("BEGIN IMMEDIATE; UPDATE t SET name = 'unit' WHERE id = 1").unwrap();
        let write = engine
            .write(WriteKind::Statement, false, |conn| conn.execute("UPDATE t SET name = 'after' WHERE id = 1", []));
        let unit = async {
            tokio::task::yield_now().await;
            assert_eq!(
                engine.read("SELECT name FROM t WHERE id = ?1", get(1)).await.unwrap().as_deref(),
                Some("n1"),
                "a reader sees the last commit, not the unit's write"
            );
            held.as_ref().unwrap().execute_batch("COMMIT").unwrap();
            drop(held);
        };
        let (written, ()) = tokio::join!(write, unit);
        assert_eq!(written.unwrap(), 1);
        assert_eq!(engine.read("SELECT name FROM t WHERE id = ?1", get(1)).await.unwrap().as_deref(), Some("after"));
        assert!(engine.open_connections() >= 2);
        engine.close();
        assert_eq!(engine.open_connections(), 1, "the writer");
        engine.close_writer().await;
        assert_eq!(engine.open_connections(), 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_in_memory_database_runs_on_its_writer() {
        let uri = format!("file:dbkit-native-test-{}?mode=memory&cache=shared", std::process::id());
        let engine = NativeSqlite::open(NativeTarget::Memory(uri), Duration::from_secs(1)).unwrap();
        engine
            .write(WriteKind::Transaction, false, |conn| {
                conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", [])?;
                conn.execute("INSERT INTO t VALUES (1, 'm')", [])
            })
            .await
            .unwrap();
        assert_eq!(engine.read("SELECT name FROM t WHERE id = ?1", get(1)).await.unwrap().as_deref(), Some("m"));
        assert_eq!(engine.open_connections(), 1);
    }

    /// The main database file alone, without its WAL: what a checkpoint has copied into it.
    fn checkpointed_name(path: &std::path::Path) -> String {
        let copy = path.with_extension("copy.db");
        std::fs::copy(path, &copy).unwrap();
        let name = Connection::open(&copy).unwrap().query_row("SELECT name FROM t WHERE id = 1", [], |r| r.get(0));
        std::fs::remove_file(&copy).unwrap();
        name.unwrap()
    }

    async fn update_many(engine: &NativeSqlite) {
        for i in 0..200 {
            engine
                .write(WriteKind::Statement, false, move |conn| {
                    conn.execute("UPDATE t SET name = ?1 WHERE id = 1", [format!("v{i}")])
                })
                .await
                .unwrap();
        }
    }

    /// Commits reach the main file without an automatic checkpoint on the writer. The control: the
    /// same writes by a writer with no checkpointer stay in the WAL.
    #[tokio::test(flavor = "current_thread")]
    async fn the_checkpointer_copies_commits_into_the_database_file() {
        let (engine, path) = filled("checkpoint", 10).await;
        update_many(&engine).await;
        tokio::time::sleep(CHECKPOINT_EVERY * 3).await;
        assert_eq!(checkpointed_name(&path), "v199");

        let (control, control_path) = filled("checkpoint-control", 10).await;
        tokio::time::sleep(CHECKPOINT_EVERY * 3).await;
        if let Some(checkpointer) = &control.shared.checkpointer {
            checkpointer.stop.store(true, Relaxed);
        }
        tokio::time::sleep(CHECKPOINT_EVERY * 2).await;
        update_many(&control).await;
        tokio::time::sleep(CHECKPOINT_EVERY * 3).await;
        assert_eq!(checkpointed_name(&control_path), "n1", "without the checkpointer the main file is behind");
    }

    /// What the engine adds to a point read: its inline `get` against the same prepared lookup on
    /// a bare rusqlite connection, alternating, on one file. A measurement for the design, printed,
    /// not asserted (`cargo test --release -p dbkit-runtime --lib inline_overhead -- --ignored
    /// --nocapture`, pinned with `taskset -c 1`); the peer suite (`bench/peers`) has the figures.
    #[tokio::test(flavor = "current_thread")]
    #[ignore = "a measurement"]
    async fn inline_overhead() {
        const ROWS: i64 = 10_000;
        const SQL: &str = "SELECT name FROM t WHERE id = ?1";
        let (engine, path) = filled("overhead", ROWS).await;
        let bare = Connection::open_with_flags(&path, flags() | OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let key = |i: u64| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as i64 % ROWS + 1;
        let (mut ours, mut floor) = (Vec::new(), Vec::new());
        for round in 0..2_000_u64 {
            let t = Instant::now();
            for i in 0..20 {
                let name = engine.read(SQL, get(key(round * 20 + i))).await.unwrap();
                std::hint::black_box(name);
            }
            ours.push(t.elapsed().as_nanos() as f64 / 20.0);
            let t = Instant::now();
            for i in 0..20 {
                let name: Option<String> = bare
                    .prepare_cached(SQL)
                    .unwrap()
                    .query_row([key(round * 20 + i)], |row| row.get(0))
                    .map(Some)
                    .unwrap();
                std::hint::black_box(name);
            }
            floor.push(t.elapsed().as_nanos() as f64 / 20.0);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (ours, floor) = (median(&mut ours), median(&mut floor));
        println!("engine get {ours:.0} ns, rusqlite {floor:.0} ns: {:.2}x", ours / floor);
    }
}
