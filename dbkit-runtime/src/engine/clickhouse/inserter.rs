//! [`Inserter`]: many small inserts into one ClickHouse table, from many tasks, batched into few
//! large `INSERT`s by rows and by time — the ingestion of events one at a time (a click, a page
//! view) that MergeTree wants as blocks of thousands.
//!
//! Built on the `clickhouse` crate's own [`Inserter`](clickhouse::inserter::Inserter), which ends
//! an `INSERT` when it holds `max_rows` rows or `max_bytes` bytes, or when `period` has passed.
//! That inserter is one `&mut` value, so one background task owns it; the [`Inserter`] handles,
//! cheap clones, queue rows for it in a bounded buffer (a full queue makes `insert` wait: back
//! pressure, not unbounded memory). The task also wakes for the period when no row arrives, so a
//! lone row is written within `period`, not at the next row.
//!
//! The queue is written by hand rather than a Tokio `mpsc` channel, for cost: a channel
//! synchronises each message on its own (a permit taken and given back, a slot claimed, the
//! receiver woken), about 90 ns a row on one core against ~400 ns for the crate to encode and send
//! the row, which put dbkit at 0.75–0.83× of the crate's rows per second. Here a row costs one
//! uncontended lock and a push onto a `Vec`; the task swaps the whole `Vec` out at once, and only
//! the first row into an empty queue wakes it. Nothing awaits while the lock is held, so a
//! cancelled `insert` or `send` never leaves a row half queued.
//!
//! A row is *acknowledged* when the `INSERT` that carries it has ended and the server answered
//! with success: ClickHouse has then written it to a part on disk. [`Inserter::insert`] returns
//! only then. On a drain the task flushes what it holds (see [`Inserter`] for each mode), and it
//! counts as a session in flight while it lives, so a graceful drain waits for that flush and its
//! report counts it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use clickhouse::Client;
use clickhouse::inserter::Inserter as CrateInserter;
use tokio::sync::{Notify, oneshot};

use crate::drain::tracker::DatabaseState;
use crate::operation::OpKind;
use crate::{ClickHouseSession, Database, Error, Result};

/// A `NewX` an [`Inserter`] writes: implemented by `#[derive(Repository)]` for the `NewX` of every
/// `#[database(clickhouse)]` model, with the model's table and its `RowBinary` row. Not meant to be
/// implemented by hand.
///
/// *Feature `clickhouse`.*
pub trait InsertRow: Sized + Send + 'static {
    /// The row as the `clickhouse` crate writes it (generated, private).
    #[doc(hidden)]
    type Row: clickhouse::Row + Send + 'static;

    /// The table, unquoted.
    #[doc(hidden)]
    const TABLE: &'static str;

    /// Writes `rows` into the current `INSERT` of `inserter`, in order. Generated for the concrete
    /// row type, where the future is known to be `Send`.
    #[doc(hidden)]
    fn write_all<'a>(
        inserter: &'a mut CrateInserter<Self::Row>,
        rows: &'a [Self],
    ) -> Pin<Box<dyn Future<Output = clickhouse::error::Result<()>> + Send + 'a>>;
}

/// When an [`Inserter`] ends an `INSERT`, and how many rows it queues.
///
/// ```
/// use std::time::Duration;
/// use dbkit_runtime::InserterOptions;
///
/// let options = InserterOptions::new().max_rows(50_000).period(Duration::from_millis(500));
/// assert_eq!(options.get_max_rows(), 50_000);
/// assert_eq!(options.get_period(), Some(Duration::from_millis(500)));
/// ```
///
/// *Feature `clickhouse`.*
#[derive(Debug, Clone)]
pub struct InserterOptions {
    max_rows: u64,
    max_bytes: u64,
    period: Option<Duration>,
    capacity: usize,
}

impl Default for InserterOptions {
    fn default() -> Self {
        InserterOptions::new()
    }
}

impl InserterOptions {
    /// The defaults.
    pub fn new() -> Self {
        InserterOptions {
            // As `create_many`'s `INSERT`s: few, large parts for MergeTree to merge, and well under
            // `max_insert_block_size` (1 048 576), so one `INSERT` is one block.
            max_rows: 100_000,
            // Bounds the `INSERT` being built when rows are large (uncompressed bytes).
            max_bytes: 64 * 1024 * 1024,
            // An `insert` waits at most about this long for its row to be written; ClickHouse
            // advises about one `INSERT` per second per table.
            period: Some(Duration::from_secs(1)),
            // Rows queued before `insert` waits for room: a few batches' worth of back pressure.
            capacity: 100_000,
        }
    }

    /// End the `INSERT` once it holds this many rows (at least 1).
    pub fn max_rows(mut self, rows: u64) -> Self {
        self.max_rows = rows.max(1);
        self
    }

    /// End the `INSERT` once it holds this many uncompressed bytes (at least 1).
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes.max(1);
        self
    }

    /// End the `INSERT` this long after the previous one ended, whatever it holds; `None`: only
    /// by size, by [`Inserter::flush`] and on a drain.
    pub fn period(mut self, period: impl Into<Option<Duration>>) -> Self {
        self.period = period.into();
        self
    }

    /// How many rows may wait in the queue before `insert` waits for room (at least 1).
    pub fn capacity(mut self, rows: usize) -> Self {
        self.capacity = rows.max(1);
        self
    }

    /// See [`max_rows`](InserterOptions::max_rows).
    pub fn get_max_rows(&self) -> u64 {
        self.max_rows
    }

    /// See [`max_bytes`](InserterOptions::max_bytes).
    pub fn get_max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// See [`period`](InserterOptions::period).
    pub fn get_period(&self) -> Option<Duration> {
        self.period
    }

    /// See [`capacity`](InserterOptions::capacity).
    pub fn get_capacity(&self) -> usize {
        self.capacity
    }

    fn build<R: InsertRow>(&self, client: &Client) -> CrateInserter<R::Row> {
        client.inserter(R::TABLE).with_max_rows(self.max_rows).with_max_bytes(self.max_bytes).with_period(self.period)
    }
}

/// Batched inserts of `R` (a ClickHouse model's `NewX`) into its table, shared by many tasks:
/// from `XRepository::inserter(options)` or [`Inserter::new`]. Cheap to clone; every clone feeds
/// the same batches.
///
/// - [`insert`](Inserter::insert) returns once the row is **acknowledged**: the `INSERT` carrying
///   it ended and the server reported success. It can wait up to the [`period`](InserterOptions::period)
///   (1 s by default), so await it where that latency is fine, or spawn it.
/// - [`send`](Inserter::send) returns once the row is queued. It is written like any other, and
///   flushed on a drain, but nobody hears whether it was written: an `INSERT` that fails with
///   sent rows in it is reported by the next [`flush`](Inserter::flush) (and logged).
/// - [`flush`](Inserter::flush) ends the current `INSERT` now and returns once every row queued
///   before it is written.
///
/// When an `INSERT` fails, every row in it fails: each waiting `insert` gets the error
/// (a server error as it is; a connection cut or timeout after rows were sent as
/// [`Error::OutcomeUnknown`], since ClickHouse may have written the block). Nothing is retried,
/// and the next rows go into a new `INSERT`.
///
/// **Draining.** The inserter's task counts as a session in flight for as long as it lives (it
/// appears in the drain report's `sessions_in_flight`). When a drain starts, new rows are refused
/// with [`Error::Unavailable`] and the task writes every row already queued, ends the `INSERT`,
/// acknowledges the rows and exits:
///
/// | mode | the rows queued when the drain starts |
/// |---|---|
/// | `Graceful` | written; the drain waits for it (up to its timeout) |
/// | `Immediate` | written in the background; the drain does not wait, so a process that exits right after may lose them (never an acknowledged one) |
/// | `Force` | abandoned: the `INSERT` is cut off, so ClickHouse keeps none of it, and each waiting `insert` fails with [`Error::Unavailable`] |
///
/// So on SIGTERM, drain gracefully ([`Shutdown`](crate::shutdown::Shutdown) does) and no row that
/// was queued is lost; an acknowledged row is on disk in every mode. Dropping the last handle
/// also writes what is queued, in the background.
///
/// ```no_run
/// # use dbkit_runtime::{Database, Inserter, InserterOptions, InsertRow};
/// # async fn run<NewEvent: InsertRow>(db: &Database, events: Vec<NewEvent>) -> dbkit_runtime::Result<()> {
/// let inserter = Inserter::<NewEvent>::new(db, InserterOptions::new())?;
/// let mut tasks = Vec::new();
/// for event in events {
///     let inserter = inserter.clone();
///     tasks.push(tokio::spawn(async move { inserter.insert(event).await }));
/// }
/// for task in tasks {
///     task.await.expect("no panic")?; // each row acknowledged: written by ClickHouse
/// }
/// # Ok(()) }
/// ```
///
/// *Feature `clickhouse`.*
pub struct Inserter<R: InsertRow> {
    handles: Arc<Handles<R>>,
    db: Database,
}

impl<R: InsertRow> Clone for Inserter<R> {
    fn clone(&self) -> Self {
        Inserter { handles: Arc::clone(&self.handles), db: self.db.clone() }
    }
}

impl<R: InsertRow> std::fmt::Debug for Inserter<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inserter").field("database", &self.db.name()).field("table", &R::TABLE).finish()
    }
}

/// What the handles and the task share.
struct Shared<R> {
    queue: Mutex<Queue<R>>,
    /// How many rows may wait before a sender waits for room.
    capacity: usize,
    /// Wakes the task: the first message went into an empty queue, or the last handle went.
    work: Notify,
    /// Wakes the senders waiting for room: the task took the queue, or closed it.
    room: Notify,
}

/// What was queued since the task last took it. Rows are kept apart from the acknowledgements
/// and flushes so the task writes them straight from here, in slices, with no further move.
struct Queue<R> {
    rows: Vec<R>,
    /// The acknowledgement of the row at each index (from `insert`), in order.
    acks: Vec<(usize, Ack)>,
    /// Each `flush`: the number of rows queued before it, in order.
    flushes: Vec<(usize, Ack)>,
    /// The task takes nothing more: it is finishing (a drain, the last handle gone) or gone.
    closed: bool,
    /// Every handle is dropped.
    abandoned: bool,
}

type Ack = oneshot::Sender<Result<()>>;

impl<R> Queue<R> {
    fn new() -> Self {
        Queue { rows: Vec::new(), acks: Vec::new(), flushes: Vec::new(), closed: false, abandoned: false }
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.flushes.is_empty()
    }
}

impl<R> Shared<R> {
    fn lock(&self) -> MutexGuard<'_, Queue<R>> {
        // Nothing that can panic runs under the lock (a push, a swap, a flag).
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Swaps what is queued into `into` (empty); `close` refuses everything after. Returns
    /// whether every handle is gone.
    fn take(&self, into: &mut Queue<R>, close: bool) -> bool {
        let mut queue = self.lock();
        let was_full = queue.rows.len() >= self.capacity;
        std::mem::swap(&mut queue.rows, &mut into.rows);
        std::mem::swap(&mut queue.acks, &mut into.acks);
        std::mem::swap(&mut queue.flushes, &mut into.flushes);
        let abandoned = queue.abandoned;
        let closing = close && !queue.closed;
        queue.closed |= close;
        drop(queue);
        if was_full || closing {
            self.room.notify_waiters();
        }
        abandoned
    }

    /// Queues `entry` unless the queue is closed or full (then hands it back); wakes the task for
    /// the first entry into an empty queue. Never awaits: the lock is not held across one.
    fn push(&self, entry: Entry<R>) -> Pushed<R> {
        let mut queue = self.lock();
        if queue.closed {
            return Pushed::Closed;
        }
        let queued = queue.rows.len();
        if queued >= self.capacity {
            return Pushed::Full(entry);
        }
        let was_empty = queue.is_empty();
        match entry {
            Entry::Row(row, ack) => {
                queue.rows.push(row);
                if let Some(ack) = ack {
                    queue.acks.push((queued, ack));
                }
            }
            Entry::Flush(done) => queue.flushes.push((queued, done)),
        }
        drop(queue);
        if was_empty {
            self.work.notify_one();
        }
        Pushed::Queued(queued)
    }

    /// Refuses everything from now on, and wakes the senders waiting for room to hear it.
    fn close(&self) {
        self.lock().closed = true;
        self.room.notify_waiters();
    }
}

/// The handles' share of [`Shared`]: when the last [`Inserter`] clone drops, the task writes what
/// is queued and ends.
struct Handles<R>(Arc<Shared<R>>);

impl<R> Drop for Handles<R> {
    fn drop(&mut self) {
        self.0.lock().abandoned = true;
        self.0.work.notify_one();
    }
}

impl<R: InsertRow> Inserter<R> {
    /// An inserter into `R`'s table on `db`, with its background task spawned on the current
    /// Tokio runtime (so call it from within one). Fails with [`Error::BackendMismatch`] when
    /// `db` is not ClickHouse, and with [`Error::Unavailable`] once `db` is draining.
    pub fn new(db: &Database, options: InserterOptions) -> Result<Inserter<R>> {
        let session = db.clickhouse()?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::new()),
            capacity: options.capacity,
            work: Notify::new(),
            room: Notify::new(),
        });
        let worker = Worker::<R> {
            inserter: options.build::<R>(session.client()),
            options,
            shared: CloseOnDrop(Arc::clone(&shared)),
            acks: Vec::new(),
            lost: None,
            db: db.clone(),
            session,
        };
        tokio::spawn(worker.run());
        Ok(Inserter { handles: Arc::new(Handles(shared)), db: db.clone() })
    }

    /// Queues `row` and returns once it is acknowledged: written by ClickHouse in an `INSERT`
    /// that ended with success (see [`Inserter`]). Waits for room when the queue is full.
    pub async fn insert(&self, row: R) -> Result<()> {
        let (ack, acknowledged) = oneshot::channel();
        self.enqueue(Entry::Row(row, Some(ack))).await?;
        acknowledged.await.unwrap_or_else(|_| Err(self.gone()))
    }

    /// Queues `row` and returns: it is written with the next `INSERT`, and flushed on a drain,
    /// but not acknowledged (see [`Inserter`]). Waits for room when the queue is full.
    pub async fn send(&self, row: R) -> Result<()> {
        self.enqueue(Entry::Row(row, None)).await
    }

    /// Ends the current `INSERT` now, and returns once every row queued before this call is
    /// written. An error is that `INSERT`'s, or that of an earlier one that lost rows from
    /// [`send`](Inserter::send) since the last flush.
    pub async fn flush(&self) -> Result<()> {
        let (done, flushed) = oneshot::channel();
        self.enqueue(Entry::Flush(done)).await?;
        flushed.await.unwrap_or_else(|_| Err(self.gone()))
    }

    /// The database this inserter writes to.
    pub fn database(&self) -> &Database {
        &self.db
    }

    async fn enqueue(&self, mut entry: Entry<R>) -> Result<()> {
        // Refused from the first moment of a drain, as a new session is; a row that raced ahead
        // into the queue is still written by the drain's flush.
        if self.db.state() != DatabaseState::Open {
            return Err(self.gone());
        }
        let shared = &self.handles.0;
        loop {
            // Created before the check, so a `notify_waiters` between the check and the await
            // still wakes it.
            let room = shared.room.notified();
            match shared.push(entry) {
                Pushed::Closed => return Err(self.gone()),
                Pushed::Full(back) => {
                    entry = back;
                    room.await;
                }
                Pushed::Queued(queued) => {
                    // On a single thread the task runs only when the caller yields: a caller
                    // that sends in a loop would fill the whole queue first, and the task would
                    // then read back rows long gone from the CPU's caches. Yielding every few
                    // thousand rows lets it take them while they are warm (~1 µs a yield, well
                    // under 1 ns a row).
                    if queued % YIELD_EVERY == YIELD_EVERY - 1 {
                        tokio::task::yield_now().await;
                    }
                    return Ok(());
                }
            }
        }
    }

    fn gone(&self) -> Error {
        let state = match self.db.state() {
            DatabaseState::Open => DatabaseState::Closed,
            state => state,
        };
        self.db.tracker().unavailable(state)
    }
}

/// What a handle queues.
enum Entry<R> {
    Row(R, Option<Ack>),
    Flush(Ack),
}

/// What [`Shared::push`] did.
enum Pushed<R> {
    Closed,
    /// No room: the entry, back.
    Full(Entry<R>),
    /// Queued after this many rows.
    Queued(usize),
}

/// How many rows a sender queues between yields to the task.
const YIELD_EVERY: usize = 4096;

/// The background task: owns the crate's inserter and the session that counts it in flight.
struct Worker<R: InsertRow> {
    inserter: CrateInserter<R::Row>,
    options: InserterOptions,
    shared: CloseOnDrop<R>,
    /// The acknowledgements of the rows in the current `INSERT`, in order.
    acks: Vec<Ack>,
    /// The first failure that lost rows from `send` since the last flush, for that flush.
    lost: Option<String>,
    db: Database,
    /// Held until the task ends: what a drain sees in flight.
    session: ClickHouseSession,
}

impl<R: InsertRow> Worker<R> {
    async fn run(mut self) {
        let tracker = Arc::clone(self.db.tracker());
        let shared = Arc::clone(&self.shared.0);
        let mut batch = Queue::new();
        loop {
            let abandoned = shared.take(&mut batch, false);
            if !batch.is_empty() {
                self.handle(&mut batch).await;
                continue;
            }
            if abandoned {
                break; // every handle is gone
            }
            let tick = self.inserter.time_left();
            tokio::select! {
                biased;
                () = tracker.drain_started() => break,
                () = shared.work.notified() => {}
                () = sleep(tick) => {
                    let _ = self.commit(false).await;
                }
            }
        }
        // Take everything queued, refusing what comes after, then end the `INSERT`; a force
        // drain cuts that off.
        shared.take(&mut batch, true);
        let pending = self.inserter.pending().rows + batch.rows.len() as u64;
        let finish = async {
            self.handle(&mut batch).await;
            let _ = self.commit(true).await;
        };
        let abandoned = tokio::select! {
            biased;
            () = tracker.cancelled() => true,
            () = finish => false,
        };
        if abandoned {
            tracing::warn!(database = %self.db.name(), table = R::TABLE, rows = self.acks.len(),
                "inserter abandoned its INSERT on a force drain");
            for ack in self.acks.drain(..) {
                let _ = ack.send(Err(tracker.unavailable(DatabaseState::Closed)));
            }
        } else {
            tracing::info!(database = %self.db.name(), table = R::TABLE, pending_rows = pending,
                "inserter flushed and stopped");
        }
        drop(self.session);
    }

    /// Writes the rows of `batch` (emptying it), ending the `INSERT` at each flush and, after
    /// the last row, when a limit is reached.
    async fn handle(&mut self, batch: &mut Queue<R>) {
        let mut acks = batch.acks.drain(..).peekable();
        let mut written = 0;
        for (end, done) in batch.flushes.drain(..) {
            while let Some((_, ack)) = acks.next_if(|(row, _)| *row < end) {
                self.acks.push(ack);
            }
            self.write(&mut batch.rows[written..end]).await;
            written = end;
            let result = self.commit(true).await;
            let result = match (result, self.lost.take()) {
                (Ok(()), Some(lost)) => Err(Error::ClickHouse(clickhouse::error::Error::Custom(lost))),
                (result, _) => result,
            };
            let _ = done.send(result);
        }
        self.acks.extend(acks.map(|(_, ack)| ack));
        self.write(&mut batch.rows[written..]).await;
        batch.rows.clear();
        let _ = self.commit(false).await;
    }

    /// Writes `rows` into the current `INSERT` (`&mut` only so the future is `Send` without
    /// asking `R: Sync`).
    async fn write(&mut self, rows: &mut [R]) {
        if rows.is_empty() {
            return;
        }
        if let Err(error) = R::write_all(&mut self.inserter, rows).await {
            self.failed(error);
        }
    }

    /// Ends the `INSERT` when a limit is reached, or now with `force`, and acknowledges its rows.
    async fn commit(&mut self, force: bool) -> Result<()> {
        let ended = if force { self.inserter.force_commit().await } else { self.inserter.commit().await };
        match ended {
            Ok(quantities) => {
                if quantities.rows > 0 || force {
                    for ack in self.acks.drain(..) {
                        let _ = ack.send(Ok(()));
                    }
                }
                Ok(())
            }
            Err(error) => {
                let copy = Error::ClickHouse(replicate(&error));
                self.failed(error);
                Err(crate::operation::final_error(OpKind::Write, true, copy))
            }
        }
    }

    /// The current `INSERT` failed: its rows fail, and the next rows go into a new one (the
    /// crate's inserter must not be used after an error).
    fn failed(&mut self, error: clickhouse::error::Error) {
        let lost = self.inserter.pending().rows.max(self.acks.len() as u64);
        // The category, not the server's message, which can quote a row's value.
        let category = crate::observe::error_type(&Error::ClickHouse(replicate(&error)));
        tracing::error!(database = %self.db.name(), table = R::TABLE, rows = lost, error.type = category,
            "an inserter's INSERT failed; its rows are not acknowledged");
        if lost > self.acks.len() as u64 && self.lost.is_none() {
            self.lost = Some(format!(
                "an INSERT into `{}` failed and lost rows sent without acknowledgement: {error}",
                R::TABLE
            ));
        }
        for ack in self.acks.drain(..) {
            let error = Error::ClickHouse(replicate(&error));
            let _ = ack.send(Err(crate::operation::final_error(OpKind::Write, true, error)));
        }
        self.inserter = self.options.build::<R>(self.session.client());
    }
}

/// The task's share of [`Shared`]: however the task ends (finished, or dropped with its runtime),
/// the queue closes, so no sender waits for room that will never come.
struct CloseOnDrop<R>(Arc<Shared<R>>);

impl<R> Drop for CloseOnDrop<R> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Sleeps for `tick`, or forever without one.
async fn sleep(tick: Option<Duration>) {
    match tick {
        Some(tick) => tokio::time::sleep(tick).await,
        None => std::future::pending().await,
    }
}

/// One failure, for each of the rows it fails: the crate's error is not `Clone`. The variants
/// classification reads (`BadResponse` carries the server's exception code, `Network` is a
/// connection error, `TimedOut`) keep their kind; the rest keep their text.
fn replicate(error: &clickhouse::error::Error) -> clickhouse::error::Error {
    use clickhouse::error::Error as E;
    match error {
        E::BadResponse(text) => E::BadResponse(text.clone()),
        E::Network(source) => E::Network(source.to_string().into()),
        E::TimedOut => E::TimedOut,
        other => E::Custom(other.to_string()),
    }
}
