//! dbkit's pool of sqlx connections: PostgreSQL's and MySQL's, and SQLite's for raw sessions.
//!
//! sqlx's own pool costs a round trip on each side of every statement: with `test_before_acquire`
//! it pings a connection as it hands it out, and it pings every connection it gets back (to flush
//! what a cancelled call may have left), in a task it spawns, so the next acquire often finds no
//! idle connection and opens another. None of that can be turned off through its API. This pool
//! keeps sqlx's connections (their statement caches and type system are untouched) and changes only
//! what happens around a call:
//!
//! - **Checkout** pings a connection only when its last exchange with the server ended at least
//!   [`PING_WINDOW`] ago (and `pool_pre_ping` is on), as HikariCP's `aliveBypassWindowMs` does. A
//!   connection that has just completed a round trip has shown that the server and the path to it
//!   were alive; a ping would show nothing more, at the price of doubling the call. Past the
//!   window, the ping comes back: a connection the server closed while it sat idle (a restart, a
//!   `wait_timeout`, a firewall) is found dead and replaced before a statement is sent on it. The
//!   exposure that remains is a server that dies within half a second of a connection's last use;
//!   a statement sent then fails with a connection error, classified as such (a write of unknown
//!   outcome is never retried), never silently.
//! - **Return** costs no I/O when the call left the connection clean. Clean is asked of the driver
//!   itself: its readiness future ([`Connection::flush`]: send what is queued, read every reply
//!   still owed) is polled once without a waker, and completes at once exactly when nothing is
//!   queued and no reply is owed. A connection that is not clean — a call cancelled mid-statement,
//!   a dropped transaction's queued `ROLLBACK` — is reset in a task of its own (the queued messages
//!   sent, the owed replies read, within [`RESET_LIMIT`]) and only then pooled again, or closed. A
//!   connection whose driver reports an error (the socket is gone) is dropped. The return itself
//!   is synchronous, so the next acquire finds the connection at once.
//! - **A statement that lost its connection** (a generated call's statement failed with a
//!   connection error) closes it, even when the driver sees nothing owed: MySQL reports a killed
//!   connection with a well-formed error reply, then hangs up. The call path learns it from the
//!   error (as [`Failure::sent`](crate::operation::Failure::sent) maps it), and the connection is
//!   dropped the next moment, by the `?` that returns the failure, on the same thread.
//! - Idle connections are taken **last in, first out**, so a sequential caller keeps using one
//!   connection (and stays inside the ping window), and surplus connections age out.
//!
//! The waiting, the accounting of connections opened against the maximum, and the idle list are
//! deadpool's (`deadpool::managed`, the pool under `deadpool-postgres`); what it leaves to its user
//! is here: the checkout rule (its `recycle`), the clean return, `pool_size` connections opened in
//! the background and kept, `idle_timeout` for those above it, `pool_recycle`, and a close that
//! closes every connection gracefully and can be waited for.
//!
//! [`Connection::flush`] is sqlx's (hidden from its docs; sqlx's own pool uses it to the same
//! end); `sqlx-core` is pinned to the exact version, and the test
//! `a_cancelled_statement_never_hands_out_its_connection_dirty` fails if it stops answering as
//! described.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

// The TSC rather than `clock_gettime`: a connection is stamped on every return and checked on
// every checkout (see `retry::Attempts` for what the two clocks cost).
use quanta::Instant;

use deadpool::managed::{self, Metrics, Object, PoolConfig, QueueMode, RecycleError, RecycleResult, Timeouts};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::{ConnectOptions, Connection};

use crate::DatabaseConfig;

/// A connection whose last exchange ended this recently is handed out without a ping (see the
/// module docs): HikariCP's `aliveBypassWindowMs`.
pub(crate) const PING_WINDOW: Duration = Duration::from_millis(500);

/// How long a returned connection that is not clean may take to send what is queued and read what
/// is owed before it is closed instead.
const RESET_LIMIT: Duration = Duration::from_secs(5);

/// What runs on every new connection before it is pooled (MySQL's session settings).
pub(crate) type SetUp<DB> =
    Arc<dyn for<'c> Fn(&'c mut <DB as sqlx::Database>::Connection) -> BoxFuture<'c, sqlx::Result<()>> + Send + Sync>;

/// A pool of sqlx connections to one database. Cheap to clone.
#[doc(hidden)] // `pub` only so the sealed `SqlDriver` can name it; the module is private.
pub struct SqlPool<DB: sqlx::Database> {
    shared: Arc<Shared<DB>>,
}

impl<DB: sqlx::Database> Clone for SqlPool<DB> {
    fn clone(&self) -> Self {
        SqlPool { shared: Arc::clone(&self.shared) }
    }
}

impl<DB: sqlx::Database> fmt::Debug for SqlPool<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the connect options: they hold the password.
        f.debug_struct("SqlPool").field("open", &self.size()).field("idle", &self.idle()).finish_non_exhaustive()
    }
}

struct Shared<DB: sqlx::Database> {
    pool: managed::Pool<Connector<DB>>,
    /// Connections kept open however idle (`pool_size`).
    min: usize,
    idle_timeout: Option<Duration>,
    /// How long `acquire` waits in all (`pool_timeout`), for a free connection or a new one.
    acquire_timeout: Duration,
}

/// Opens connections and decides, at checkout, whether an idle one may be handed out.
struct Connector<DB: sqlx::Database> {
    options: <DB::Connection as Connection>::Options,
    set_up: Option<SetUp<DB>>,
    pre_ping: bool,
    max_lifetime: Option<Duration>,
    /// Connections open, counting those being closed: what a close waits on.
    open: Arc<OpenCount>,
    metrics: PoolMetrics,
}

/// What the pool records (see [`crate::observe`]); `None` when no recorder was installed at
/// connect, so nothing is timed.
struct PoolMetrics(Option<Arc<PoolHandles>>);

struct PoolHandles {
    create_time: metrics::Histogram,
    pings: metrics::Counter,
    resets: metrics::Counter,
}

impl PoolMetrics {
    fn new(pool_name: &str) -> Self {
        if !crate::observe::recorder_installed() {
            return PoolMetrics(None);
        }
        crate::observe::describe();
        let label = || [("db.client.connection.pool.name", pool_name.to_owned())];
        PoolMetrics(Some(Arc::new(PoolHandles {
            create_time: metrics::histogram!("db.client.connection.create_time", &label()),
            pings: metrics::counter!("dbkit.connection.pings", &label()),
            resets: metrics::counter!("dbkit.connection.resets", &label()),
        })))
    }

    fn pinged(&self) {
        if let Some(handles) = &self.0 {
            handles.pings.increment(1);
        }
    }

    fn reset(&self) {
        if let Some(handles) = &self.0 {
            handles.resets.increment(1);
        }
    }
}

/// Connections open, and a wake-up for whoever waits for none.
#[derive(Default)]
struct OpenCount {
    count: AtomicU32,
    none_open: tokio::sync::Notify,
}

/// One connection held for the pool: counted open until it is dropped (after it is closed).
struct Opened(Arc<OpenCount>);

impl Drop for Opened {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.none_open.notify_waiters();
        }
    }
}

/// A pooled connection with what the pool knows of it.
pub(crate) struct Pooled<DB: sqlx::Database> {
    raw: DB::Connection,
    /// When its last exchange with the server ended: when it was returned clean, or opened.
    last_used: Instant,
    _opened: Opened,
}

impl<DB: sqlx::Database> Pooled<DB> {
    /// Closes the connection gracefully: the driver's goodbye, then the socket. It counts as open
    /// until closed.
    async fn close(self) {
        let Pooled { raw, _opened, .. } = self;
        let _ = raw.close().await;
    }

    /// [`close`](Self::close), in the background.
    fn close_in_background(self) {
        let close = self.close();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(close)),
            // No runtime (dropped outside one): the socket closes with the connection.
            Err(_) => drop(close),
        }
    }
}

impl<DB: sqlx::Database> managed::Manager for Connector<DB> {
    type Type = Pooled<DB>;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Pooled<DB>, sqlx::Error> {
        // Boxed: a connect (TLS handshake included) is a future of several KB, which would
        // otherwise sit inline in every acquire's future and be copied with it.
        Box::pin(async {
            let started = self.metrics.0.as_ref().map(|_| Instant::now());
            let mut raw = self.options.connect().await?;
            if let Some(set_up) = &self.set_up {
                set_up(&mut raw).await?;
            }
            if let (Some(handles), Some(started)) = (&self.metrics.0, started) {
                handles.create_time.record(started.elapsed());
            }
            self.open.count.fetch_add(1, Ordering::AcqRel);
            Ok(Pooled { raw, last_used: Instant::now(), _opened: Opened(Arc::clone(&self.open)) })
        })
        .await
    }

    async fn recycle(&self, conn: &mut Pooled<DB>, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if self.max_lifetime.is_some_and(|max| metrics.age() >= max) {
            return Err(RecycleError::message("older than pool_recycle"));
        }
        if self.pre_ping && conn.last_used.elapsed() >= PING_WINDOW {
            self.metrics.pinged();
            conn.raw.ping().await?;
        }
        Ok(())
    }
}

/// Why an acquire failed.
pub(crate) enum AcquireError {
    /// No connection within `pool_timeout`.
    TimedOut,
    /// The pool is closed (a drain).
    Closed,
    /// Opening a connection failed.
    Connect(sqlx::Error),
}

impl From<AcquireError> for sqlx::Error {
    fn from(error: AcquireError) -> Self {
        match error {
            AcquireError::TimedOut => sqlx::Error::PoolTimedOut,
            AcquireError::Closed => sqlx::Error::PoolClosed,
            AcquireError::Connect(error) => error,
        }
    }
}

impl From<AcquireError> for crate::Error {
    fn from(error: AcquireError) -> Self {
        crate::Error::Sqlx(error.into())
    }
}

impl<DB: sqlx::Database> SqlPool<DB> {
    /// A pool on `options`, sized and timed as `config` says; opens `pool_size` connections in the
    /// background. Must be called on a tokio runtime.
    pub(crate) fn new(
        config: &DatabaseConfig,
        pool_name: &str,
        options: <DB::Connection as Connection>::Options,
        set_up: Option<SetUp<DB>>,
        min: u32,
    ) -> Self {
        let max = config.max_connections() as usize;
        let connector = Connector {
            options,
            set_up,
            pre_ping: config.get_pool_pre_ping(),
            max_lifetime: config.get_pool_recycle(),
            open: Arc::default(),
            metrics: PoolMetrics::new(pool_name),
        };
        let pool = managed::Pool::builder(connector)
            .config(PoolConfig { max_size: max, timeouts: Timeouts::new(), queue_mode: QueueMode::Lifo })
            .build()
            .expect("no hooks and no timeouts are set, so no runtime is needed");
        let shared = Arc::new(Shared {
            pool,
            min: (min as usize).min(max),
            idle_timeout: config.get_idle_timeout(),
            acquire_timeout: config.get_pool_timeout(),
        });
        tokio::spawn(maintain(Arc::downgrade(&shared)));
        SqlPool { shared }
    }

    /// A connection: an idle one (pinged first if it has been idle past [`PING_WINDOW`]), or a new
    /// one while fewer than the maximum are open; else waits for one, up to `pool_timeout`.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<DB>, AcquireError> {
        // One timer for the whole acquire. `timeout` polls the acquire first, so one that finds
        // an idle connection never registers the timer.
        match tokio::time::timeout(self.shared.acquire_timeout, self.shared.pool.timeout_get(&Timeouts::new())).await {
            Ok(Ok(conn)) => Ok(PoolConnection { conn: Some(conn) }),
            Ok(Err(managed::PoolError::Closed)) => Err(AcquireError::Closed),
            Ok(Err(managed::PoolError::Backend(error))) => Err(AcquireError::Connect(error)),
            Err(_) => Err(AcquireError::TimedOut),
            // deadpool's own timeouts and hooks are not set.
            Ok(Err(
                managed::PoolError::Timeout(_)
                | managed::PoolError::NoRuntimeSpecified
                | managed::PoolError::PostCreateHook(_),
            )) => unreachable!("no deadpool timeout or hook is configured"),
        }
    }

    /// Connections open, in use or idle (or being closed).
    pub(crate) fn size(&self) -> u32 {
        self.shared.pool.manager().open.count.load(Ordering::Acquire)
    }

    /// Connections idle in the pool.
    pub(crate) fn idle(&self) -> u32 {
        self.shared.pool.status().available as u32
    }

    /// Takes the idle connections out, for a close that closes them at once, ahead of those still
    /// in use. Until [`close`](Self::close), the pool stays open.
    pub(crate) fn take_idle(&self) -> Vec<IdleConnection<DB>> {
        self.shared.pool.retain(|_, _| false).removed.into_iter().map(IdleConnection).collect()
    }

    /// Closes the pool: every acquire from now on fails, and waiting ones fail at once; idle
    /// connections are closed now, and connections in use when they come back.
    pub(crate) fn close(&self) {
        for idle in self.take_idle() {
            idle.0.close_in_background();
        }
        self.shared.pool.close();
    }

    /// Waits until every connection is closed (after [`close`](Self::close)).
    pub(crate) async fn closed(&self) {
        let open = &self.shared.pool.manager().open;
        loop {
            let none_open = open.none_open.notified();
            let mut none_open = std::pin::pin!(none_open);
            none_open.as_mut().enable();
            if open.count.load(Ordering::Acquire) == 0 {
                return;
            }
            none_open.await;
        }
    }

    /// Closes the pool and waits for every connection to be closed.
    pub(crate) async fn close_and_wait(&self) {
        self.close();
        self.closed().await;
    }
}

/// An idle connection taken out of the pool, to be closed.
pub(crate) struct IdleConnection<DB: sqlx::Database>(Pooled<DB>);

impl<DB: sqlx::Database> IdleConnection<DB> {
    /// Closes it gracefully.
    pub(crate) async fn close(self) {
        self.0.close().await;
    }
}

/// Keeps the pool in shape until it is closed or dropped: closes connections older than
/// `pool_recycle`, and idle ones above `pool_size` idle longer than `idle_timeout`, and opens
/// connections up to `pool_size`.
async fn maintain<DB: sqlx::Database>(shared: Weak<Shared<DB>>) {
    // Often enough that a limit is kept within a quarter of itself, and never busier than 20 a
    // second or lazier than every 10 s.
    let period = {
        let Some(shared) = shared.upgrade() else { return };
        [shared.idle_timeout, shared.pool.manager().max_lifetime]
            .into_iter()
            .flatten()
            .map(|limit| limit / 4)
            .min()
            .unwrap_or(Duration::MAX)
            .clamp(Duration::from_millis(50), Duration::from_secs(10))
    };
    loop {
        {
            let Some(shared) = shared.upgrade() else { return };
            if shared.pool.is_closed() {
                return;
            }
            shared.sweep();
            shared.fill().await;
        }
        tokio::time::sleep(period).await;
    }
}

impl<DB: sqlx::Database> Shared<DB> {
    /// Closes idle connections past `pool_recycle`, and those above `pool_size` idle past
    /// `idle_timeout`.
    fn sweep(&self) {
        let max_lifetime = self.pool.manager().max_lifetime;
        let mut surplus = self.pool.status().size.saturating_sub(self.min);
        let expired = self.pool.retain(|conn, metrics| {
            if max_lifetime.is_some_and(|max| metrics.age() >= max) {
                surplus = surplus.saturating_sub(1);
                return false;
            }
            if surplus > 0 && self.idle_timeout.is_some_and(|limit| conn.last_used.elapsed() >= limit) {
                surplus -= 1;
                return false;
            }
            true
        });
        for conn in expired.removed {
            conn.close_in_background();
        }
    }

    /// Opens connections until `pool_size` are open, all at once, each given to the pool (and to
    /// a caller waiting for one) as soon as it is open; a failure is left for the next round (and
    /// for callers to see).
    async fn fill(&self) {
        let missing = self.min.saturating_sub(self.pool.status().size);
        // Every checkout starts before any completes, so none is handed an idle connection
        // another just opened: each opens one.
        futures_util::future::join_all((0..missing).map(|_| async {
            let status = self.pool.status();
            // Idle connections would be handed to us instead of new ones.
            if status.available > 0 || status.size >= self.min {
                return;
            }
            drop(self.pool.timeout_get(&Timeouts::new()).await);
        }))
        .await;
    }
}

/// A connection checked out of a [`SqlPool`]. Dropping it returns the connection: at once when
/// the call left it clean, after a reset in the background when not, or closed (see the module
/// docs).
pub(crate) struct PoolConnection<DB: sqlx::Database> {
    // `None` only while being dropped.
    conn: Option<Object<Connector<DB>>>,
}

impl<DB: sqlx::Database> std::ops::Deref for PoolConnection<DB> {
    type Target = DB::Connection;
    #[inline]
    fn deref(&self) -> &DB::Connection {
        &self.conn.as_ref().expect("checked out").raw
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for PoolConnection<DB> {
    #[inline]
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.conn.as_mut().expect("checked out").raw
    }
}

impl<DB: sqlx::Database> Drop for PoolConnection<DB> {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        if crate::operation::take_lost_connection() {
            drop(Object::take(conn));
            return;
        }
        let Some(pool) = Object::pool(&conn).filter(|pool| !pool.is_closed()) else {
            // A drain closed the pool while this was out: close it (after what is queued, such as
            // a dropped transaction's ROLLBACK), without waiting for replies still owed.
            Object::take(conn).close_in_background();
            return;
        };
        match conn.raw.flush().now_or_never() {
            // Clean: back to the pool now.
            Some(Ok(())) => conn.last_used = Instant::now(),
            // The driver saw the connection fail: nothing to reset.
            Some(Err(_)) => drop(Object::take(conn)),
            None => {
                pool.manager().metrics.reset();
                match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => drop(runtime.spawn(reset(conn))),
                    Err(_) => drop(Object::take(conn)),
                }
            }
        }
    }
}

/// Sends what a returned connection has queued and reads the replies it is owed, then pools it
/// again; closes it if that fails or takes longer than [`RESET_LIMIT`].
async fn reset<DB: sqlx::Database>(mut conn: Object<Connector<DB>>) {
    match tokio::time::timeout(RESET_LIMIT, conn.raw.flush()).await {
        Ok(Ok(())) if Object::pool(&conn).is_some_and(|pool| !pool.is_closed()) => conn.last_used = Instant::now(),
        Ok(Ok(())) => Object::take(conn).close_in_background(),
        Ok(Err(_)) | Err(_) => drop(Object::take(conn)),
    }
}
