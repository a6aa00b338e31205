//! The in-flight tracker: what a drain waits for and cancels. Every session a
//! [`Database`](crate::Database) hands out (SQL, ClickHouse, Oracle) holds an [`InFlight`] while in
//! use; the tracker counts them, holds the open/draining/closed state, and carries the cancellation
//! signal of a [`DrainMode::Force`](crate::DrainMode::Force) drain.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use tokio::sync::Notify;

use crate::observe::Telemetry;
use crate::{Error, Result};

const OPEN: u8 = 0;
const DRAINING: u8 = 1;
const CLOSED: u8 = 2;

/// Whether a database hands out sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseState {
    /// Accepting work.
    Open,
    /// A drain has started: no new sessions; in-flight ones may finish.
    Draining,
    /// Closed: no sessions, no connections.
    Closed,
}

impl DatabaseState {
    /// `open`, `draining` or `closed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DatabaseState::Open => "open",
            DatabaseState::Draining => "draining",
            DatabaseState::Closed => "closed",
        }
    }
}

/// `"open"`, `"draining"` or `"closed"`.
impl serde::Serialize for DatabaseState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for DatabaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts the sessions in use, holds the open/draining/closed state, and carries the
/// cancellation signal a [`DrainMode::Force`](crate::DrainMode::Force) drain fires.
#[derive(Debug)]
pub(crate) struct SessionTracker {
    /// The database's name, for the errors a refused or cancelled session gets.
    database: String,
    in_flight: AtomicUsize,
    state: AtomicU8,
    /// Woken whenever the in-flight count drops to zero.
    idle: Notify,
    /// Set once, by a force drain; never cleared (a drained database is not reopened).
    cancelled: AtomicBool,
    /// Woken when `cancelled` is set.
    cancel: Notify,
    /// Set, and `draining` woken, once a drain has said what it does: for the work that must act
    /// on a drain rather than be waited for (a ClickHouse inserter flushes its rows). A force
    /// drain says so after firing `cancelled`, so that work sees it is cancelled, not asked to
    /// finish.
    announced: AtomicBool,
    draining: Notify,
    /// The database's metric handles (pool, drain).
    pub(crate) telemetry: Telemetry,
}

// `in_flight` and `state` are only touched with `SeqCst`: `enter` adds to the count and then reads
// the state, a drain sets the state and then reads the count, and only a single total order of
// those four operations guarantees that at least one side sees the other.
impl SessionTracker {
    pub(crate) fn new(database: &str, telemetry: Telemetry) -> Self {
        SessionTracker {
            telemetry,
            database: database.to_owned(),
            in_flight: AtomicUsize::new(0),
            state: AtomicU8::new(OPEN),
            idle: Notify::new(),
            cancelled: AtomicBool::new(false),
            cancel: Notify::new(),
            announced: AtomicBool::new(false),
            draining: Notify::new(),
        }
    }

    pub(crate) fn state(&self) -> DatabaseState {
        match self.state.load(Ordering::SeqCst) {
            OPEN => DatabaseState::Open,
            DRAINING => DatabaseState::Draining,
            _ => DatabaseState::Closed,
        }
    }

    pub(crate) fn set_state(&self, state: DatabaseState) {
        let value = match state {
            DatabaseState::Open => OPEN,
            DatabaseState::Draining => DRAINING,
            DatabaseState::Closed => CLOSED,
        };
        self.state.store(value, Ordering::SeqCst);
        self.telemetry.drain_state(value);
    }

    /// Open becomes draining; draining and closed stay as they are. From here on [`enter`]
    /// refuses, and health reports draining.
    ///
    /// [`enter`]: SessionTracker::enter
    pub(crate) fn begin_drain(&self) {
        if self.state.compare_exchange(OPEN, DRAINING, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            self.telemetry.drain_state(DRAINING);
        }
    }

    /// Wakes [`drain_started`](SessionTracker::drain_started): the drain has begun, and for a
    /// force drain the cancellation signal has already fired.
    pub(crate) fn announce_drain(&self) {
        self.announced.store(true, Ordering::SeqCst);
        self.draining.notify_waiters();
    }

    /// Completes once a drain has been announced.
    #[cfg_attr(not(feature = "clickhouse"), allow(dead_code))]
    pub(crate) async fn drain_started(&self) {
        loop {
            // Registered before the check, as in `cancelled`.
            let notified = self.draining.notified();
            if self.announced.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Counts a new session, unless the database no longer hands them out. `database` names it in
    /// the error.
    pub(crate) fn enter(self: &Arc<Self>, database: &str) -> Result<InFlight> {
        // Count first, then check: a drain that flips the state after our check still sees us in
        // the count, so it never closes the pool under a session it did not know about.
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight { tracker: Arc::clone(self), checked_out: None };
        match self.state() {
            DatabaseState::Open => Ok(guard),
            state => Err(Error::Unavailable { database: database.to_owned(), state: state.as_str() }),
        }
    }

    /// The error for work this database no longer does: a new session once a drain has started,
    /// or work a force drain cancelled (reported as `closed`: the database will not do it again).
    pub(crate) fn unavailable(&self, state: DatabaseState) -> Error {
        Error::Unavailable { database: self.database.clone(), state: state.as_str() }
    }

    /// Waits until no session is in flight.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Fires the cancellation signal: [`cancelled`](SessionTracker::cancelled) completes for every
    /// waiter, now and later.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.cancel.notify_waiters();
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Completes once a force drain has fired the cancellation signal.
    pub(crate) async fn cancelled(&self) {
        loop {
            // A `Notified` is registered as soon as it is created, so a `cancel` between the
            // check and the await still wakes it.
            let notified = self.cancel.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Held while a session is in use; its drop is what a drain waits for.
#[derive(Debug)]
pub(crate) struct InFlight {
    tracker: Arc<SessionTracker>,
    /// When it got its pooled connection, for `db.client.connection.use_time`.
    checked_out: Option<quanta::Instant>,
}

impl InFlight {
    /// The error to give instead of committing, once a force drain has fired; `None` before.
    #[cfg(feature = "_transactions")]
    pub(crate) fn refuse_commit(&self) -> Option<Error> {
        self.tracker.is_cancelled().then(|| self.tracker.unavailable(DatabaseState::Closed))
    }

    /// It holds a pooled connection from `at` until it is dropped.
    #[cfg(any(feature = "_sql", feature = "oracle"))]
    pub(crate) fn checked_out(&mut self, at: quanta::Instant) {
        self.checked_out = Some(at);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(at) = self.checked_out {
            self.tracker.telemetry.released(at.elapsed());
        }
        if self.tracker.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.tracker.idle.notify_waiters();
        }
    }
}
