//! The one path every generated repository call takes: acquire a session, run the statement,
//! decide what a failure means. Retry, draining, metrics and tracing hook in here, so generated
//! code never changes when they do.
//!
//! Generated code drives a [`Call`] in a loop (no closures, so the future stays `Send` and borrows
//! nothing it does not need); [`Call::attempt`] abandons an attempt when a force drain starts:
//!
//! ```ignore
//! let mut call = Call::new(&self.db, &self.options, &OPERATION);
//! loop {
//!     let outcome = call.attempt(pin!(async {
//!         let mut s = call.session::<sqlx::Sqlite>().await?;          // Failure::NotSent on error
//!         let row = sqlx::query(SQL).bind(id).fetch_optional(&mut *s).await
//!             .map_err(Failure::sent)?;                               // sent: outcome may be unknown
//!         Ok(row.map(decode).transpose().map_err(Failure::sent)?)
//!     })).await;
//!     if let Some(result) = call.finish(outcome).await { break result; }
//! }
//! ```
//!
//! A write in a transaction (`create_many`) maps the errors of its statements with
//! [`Failure::not_applied`] — nothing is durable before `COMMIT` — and the error of `commit` with
//! [`Failure::sent`]:
//!
//! ```ignore
//! let mut tx = call.begin::<sqlx::Postgres>().await?;
//! for row in rows {
//!     sqlx::query(SQL).bind(..).execute(&mut *tx).await.map_err(Failure::not_applied)?;
//! }
//! tx.commit().await.map_err(Failure::sent)?;
//! ```
//!
//! [`Call::finish`] applies the [`RetryPolicy`]: see [`crate::retry`] for which failures are
//! tried again.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(feature = "_sql")]
pub use crate::call_session::{CallSession, CallTransaction, Lent};
use crate::constraint::UniqueKeys;
#[cfg(feature = "clickhouse")]
use crate::engine::clickhouse::ClickHouseSession;
#[cfg(feature = "oracle")]
use crate::engine::oracle::OracleSession;
#[cfg(feature = "sqlite")]
pub use crate::engine::sqlite::call::SqliteCall;
pub use crate::operation::{Failure, OpKind, Operation};
use crate::replicas::ReadFrom;
use crate::retry::{Attempts, RetryPolicy, final_error, safe_to_retry};
#[cfg(feature = "_sql")]
use crate::session::SqlDriver;
#[cfg(feature = "_transactions")]
use crate::transaction::{DatabaseTransaction, Slot};
use crate::{Backend, Database, Error, Result};

/// Per-repository settings of the call path. `Default` is what `XRepository::new` uses: retry
/// with [`RetryPolicy::default`].
///
/// ```
/// use dbkit_runtime::exec::CallOptions;
/// use dbkit_runtime::retry::RetryPolicy;
///
/// let no_retry = CallOptions::new().retry(RetryPolicy::disabled());
/// assert!(!no_retry.retry.is_enabled());
/// assert!(CallOptions::default().retry.is_enabled());
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// Where generated reads go when the database has read replicas (see [`crate::replicas`]).
    pub reads: ReadFrom,
}

impl CallOptions {
    /// The defaults: retry with [`RetryPolicy::default`].
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// Sets the retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets where generated reads go when the database has read replicas: a replica (the
    /// default), the primary, or a replica that has replayed a position.
    pub fn reads(mut self, from: ReadFrom) -> Self {
        self.reads = from;
        self
    }
}

/// One call of a generated method, across its attempts.
#[derive(Debug)]
pub struct Call<'a> {
    db: &'a Database,
    operation: &'static Operation,
    /// The model's unique keys, to name the field of a unique clash: set for generated writes.
    unique_keys: Option<&'static UniqueKeys>,
    attempts: Attempts<'a>,
    /// Whether the current attempt got a connection, so a statement may have reached the server.
    /// Atomic rather than a `Cell` only so that `&Call` is `Send` across the attempt's awaits.
    connected: AtomicBool,
    /// In a unit of work (`repo.in_transaction(tx)`): the caller's transaction, lent to one
    /// statement at a time.
    #[cfg(feature = "_transactions")]
    unit: Option<Slot<'a>>,
    /// The call's span (see [`crate::observe`]), entered while an attempt is polled; `None` when
    /// nothing could want one, so a call then makes, moves and drops no span at all.
    span: Option<tracing::Span>,
    /// Where a read goes when the database has replicas.
    #[cfg_attr(not(feature = "_sql"), allow(dead_code))]
    reads: &'a ReadFrom,
    /// The replica the current attempt's read went to (its index), `usize::MAX` for the primary:
    /// a connection failure there takes it out before the retry.
    replica: std::sync::atomic::AtomicUsize,
}

/// Nothing inside a unit of work is retried on its own: the unit is, whole
/// (`Database::transaction_with`).
#[cfg(feature = "_transactions")]
static NO_RETRY: std::sync::LazyLock<RetryPolicy> = std::sync::LazyLock::new(RetryPolicy::disabled);

impl<'a> Call<'a> {
    /// Starts a call of `operation` on `db`, retried as `options.retry` says.
    pub fn new(db: &'a Database, options: &'a CallOptions, operation: &'static Operation) -> Self {
        Call::with_attempts(db, operation, Attempts::new(&options.retry), &options.reads)
    }

    fn with_attempts(
        db: &'a Database,
        operation: &'static Operation,
        attempts: Attempts<'a>,
        reads: &'a ReadFrom,
    ) -> Self {
        Call {
            db,
            operation,
            unique_keys: None,
            attempts,
            connected: AtomicBool::new(false),
            #[cfg(feature = "_transactions")]
            unit: None,
            span: None,
            reads,
            replica: std::sync::atomic::AtomicUsize::new(usize::MAX),
        }
    }

    /// Runs the call in `span` (from `call_span!` in the generated method): each attempt is polled
    /// inside it, retries are events in it, and it records the statement's text and, if the call
    /// fails, its `error.type`.
    ///
    /// The call holds its span and enters it itself, rather than the generated method wrapping its
    /// loop in `Instrument`: with no span (nothing installed) there is then no span value to
    /// clone, move or drop on the call path, only a branch per attempt.
    pub fn trace(&mut self, span: Option<tracing::Span>) {
        self.span = span;
    }

    /// The statement about to be sent, as `db.query.text` (placeholders, never values).
    #[inline]
    pub fn text(&self, sql: &str) {
        if let Some(span) = &self.span
            && !span.is_disabled()
        {
            span.record("db.query.text", sql);
        }
    }

    /// `db.system.name` of the call's database, for its span.
    pub fn system_name(&self) -> &'static str {
        self.db.telemetry().system
    }

    /// `db.namespace` of the call's database, for its span.
    pub fn namespace(&self) -> &str {
        &self.db.telemetry().namespace
    }

    /// `server.address` of the call's database, for its span.
    pub fn server_address(&self) -> &str {
        &self.db.telemetry().server_address
    }

    /// Starts a call of `operation` on the caller's transaction `tx` when there is one (a
    /// repository's `in_transaction`), else as [`Call::new`] does. In a transaction, every
    /// statement runs on it, a write that needs a transaction of its own gets a savepoint in it,
    /// and nothing is retried: a failure is the unit's to handle, and is returned as it is.
    #[cfg(feature = "_transactions")]
    pub fn with_transaction(
        db: &'a Database,
        options: &'a CallOptions,
        operation: &'static Operation,
        tx: Option<&'a mut DatabaseTransaction>,
    ) -> Self {
        let Some(tx) = tx else { return Call::new(db, options, operation) };
        // Nothing in a unit retries on its own, so only a recorder needs the call's start time.
        let attempts =
            if db.telemetry().is_recording() { Attempts::new(&NO_RETRY) } else { Attempts::untimed(&NO_RETRY) };
        let mut call = Call::with_attempts(db, operation, attempts, &options.reads);
        call.unit = Some(std::sync::Mutex::new(Some(tx)));
        call
    }

    /// Uses `policy` for this call instead of the repository's.
    pub fn with_retry(mut self, policy: &'a RetryPolicy) -> Self {
        self.attempts.set_policy(policy);
        self
    }

    /// Names the model's field in a constraint error: a failure that broke a constraint ends the
    /// call as [`Error::Constraint`], with the field of a unique clash resolved against `keys`
    /// (see [`crate::constraint`]). Read only when the call fails.
    pub fn unique_keys(mut self, keys: &'static UniqueKeys) -> Self {
        self.unique_keys = Some(keys);
        self
    }

    /// The database the call runs on.
    pub fn database(&self) -> &'a Database {
        self.db
    }

    /// What an attempt returns on a database of a backend its model does not list (`expected`,
    /// in `#[database(...)]` order): [`Error::BackendMismatch`] naming the repository, both
    /// backends and the database. Nothing was sent, and it is never retried.
    #[cold]
    pub fn wrong_backend(&self, expected: &[Backend]) -> Failure {
        Failure::NotSent(Error::BackendMismatch {
            what: self.operation.repository,
            expected: expected.to_vec(),
            actual: self.db.backend(),
            database: self.db.name().to_owned(),
        })
    }

    /// The attempts that have failed so far.
    pub fn failed_attempts(&self) -> u32 {
        self.attempts.failed()
    }

    /// Runs one attempt, abandoning it if a [`DrainMode::Force`](crate::DrainMode::Force) drain of
    /// the database starts first.
    ///
    /// Abandoning drops the attempt where it stands, and with it its session or transaction, whose
    /// connection is then closed (an open transaction rolls back). If the attempt had a connection,
    /// its statement may have reached the server: a write then ends as [`Error::OutcomeUnknown`].
    /// If it had none yet, nothing was sent, and the failure says the database is closed.
    ///
    /// The attempt is taken pinned in place (`core::pin::pin!(async { … })`) rather than by value:
    /// a future holding a MySQL or PostgreSQL connection acquire is 70–90 KB, and each move into
    /// the layers here would copy all of it, which costs more than the statement on SQLite.
    pub async fn attempt<T>(&self, attempt: Pin<&mut impl Future<Output = Result<T, Failure>>>) -> Result<T, Failure> {
        self.connected.store(false, Ordering::Relaxed);
        // Inside the call's span, if it has one; with none, the attempt is polled as it is.
        match &self.span {
            None => self.cancellable(attempt).await,
            Some(span) => self.cancellable(tracing::Instrument::instrument(attempt, span.clone())).await,
        }
    }

    /// The attempt, abandoned if a force drain starts first (see [`Call::attempt`]).
    async fn cancellable<T>(&self, attempt: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
        // In a unit of work the whole unit already runs inside the force drain's cancellation
        // (`Database::transaction`): one select for the unit rather than one per statement.
        #[cfg(feature = "_transactions")]
        if self.unit.is_some() {
            return attempt.await;
        }
        match self.db.cancellable(async { Ok::<_, Error>(attempt.await) }).await {
            Ok(outcome) => outcome,
            Err(cancelled) if !self.connected.load(Ordering::Relaxed) => Err(Failure::NotSent(cancelled)),
            Err(cancelled) if self.operation.kind == OpKind::Write => {
                Err(Failure::Sent(Error::OutcomeUnknown { source: Box::new(cancelled) }))
            }
            Err(cancelled) => Err(Failure::Sent(cancelled)),
        }
    }

    /// A session for this attempt: a pooled one, or the caller's transaction, lent.
    #[cfg(feature = "_sql")]
    pub async fn session<DB: SqlDriver>(&self) -> Result<CallSession<'_, 'a, DB>, Failure> {
        let session = match &self.unit {
            Some(slot) => CallSession::Lent(Lent::take(slot).map_err(Failure::NotSent)?),
            None if self.operation.kind == OpKind::Read && self.db.replicas().is_some() => {
                let from = if crate::replicas::primary_only() { &ReadFrom::Primary } else { self.reads };
                let (session, replica) = self.db.read_session::<DB>(from).await.map_err(Failure::NotSent)?;
                self.replica.store(replica.unwrap_or(usize::MAX), Ordering::Relaxed);
                CallSession::Pooled(session)
            }
            None => CallSession::Pooled(self.db.session::<DB>().await.map_err(Failure::NotSent)?),
        };
        self.connected.store(true, Ordering::Relaxed);
        Ok(session)
    }

    /// A transaction for this attempt: its own, or a savepoint in the caller's transaction.
    #[cfg(feature = "_sql")]
    pub async fn begin<DB: SqlDriver>(&self) -> Result<CallTransaction<'_, 'a, DB>, Failure> {
        let tx = match &self.unit {
            Some(slot) => {
                let lent = Lent::take(slot).map_err(Failure::NotSent)?;
                CallTransaction::savepoint(lent).await.map_err(Failure::NotSent)?
            }
            None => CallTransaction::Own(Some(self.db.begin::<DB>().await.map_err(Failure::NotSent)?)),
        };
        self.connected.store(true, Ordering::Relaxed);
        Ok(tx)
    }

    /// The native SQLite engine for this attempt, counted as a session in flight, or the caller's
    /// transaction.
    ///
    /// *Feature `sqlite`.*
    #[cfg(feature = "sqlite")]
    pub fn sqlite(&self) -> Result<SqliteCall<'_, 'a>, Failure> {
        let call = match &self.unit {
            Some(slot) => SqliteCall::lent(slot).map_err(Failure::NotSent)?,
            None => {
                let (engine, call, in_flight) = self.db.native_sqlite().map_err(Failure::NotSent)?;
                SqliteCall::pooled(engine, call, in_flight)
            }
        };
        self.connected.store(true, Ordering::Relaxed);
        Ok(call)
    }

    /// A ClickHouse client for this attempt, counted as a session in flight (ClickHouse has no
    /// transactions: each statement is its own HTTP request).
    ///
    /// *Feature `clickhouse`.*
    #[cfg(feature = "clickhouse")]
    pub fn clickhouse(&self) -> Result<ClickHouseSession, Failure> {
        let session = self.db.clickhouse().map_err(Failure::NotSent)?;
        self.connected.store(true, Ordering::Relaxed);
        Ok(session)
    }

    /// An Oracle connection for this attempt, counted as a session in flight, or the caller's
    /// transaction's; its work runs on the blocking pool through
    /// [`OracleSession::run`](crate::OracleSession::run).
    ///
    /// *Feature `oracle`.*
    #[cfg(feature = "oracle")]
    pub async fn oracle(&self) -> Result<OracleSession, Failure> {
        let session = match &self.unit {
            Some(slot) => crate::transaction::lend_oracle(slot).map_err(Failure::NotSent)?,
            None => self.db.oracle().await.map_err(Failure::NotSent)?,
        };
        self.connected.store(true, Ordering::Relaxed);
        Ok(session)
    }

    /// Ends an attempt: `Some(result)` is the call's result; `None` means try again (after any
    /// back-off, already waited).
    ///
    /// A failure is tried again when the [`RetryPolicy`] allows another attempt and it is safe
    /// (see [`crate::retry`]); a write sent and then cut off by a lost connection ends the call
    /// with [`Error::OutcomeUnknown`].
    pub async fn finish<T>(&mut self, outcome: Result<T, Failure>) -> Option<Result<T>> {
        let (error, sent) = match outcome {
            Ok(value) => {
                crate::observe::record_call(self.db.telemetry(), self.operation, || self.attempts.elapsed(), None);
                return Some(Ok(value));
            }
            Err(Failure::NotSent(error)) => (error, false),
            Err(Failure::Sent(error)) => (error, true),
        };
        // Retry's events and the failure's, inside the call's span.
        match self.span.clone() {
            None => self.failed(error, sent).await,
            Some(span) => tracing::Instrument::instrument(self.failed(error, sent), span).await,
        }
    }

    // Out of line and cold: `finish` on success stays a match and a return.
    #[cold]
    async fn failed<T>(&mut self, error: Error, sent: bool) -> Option<Result<T>> {
        // Which constraint, and which field: the classification and retry decision are the
        // source's, so this may come first.
        let error = match self.unique_keys {
            Some(keys) => crate::constraint::attach(error, keys),
            None => error,
        };
        // In the caller's transaction nothing is durable before its COMMIT: the error is the
        // unit's, as it is.
        #[cfg(feature = "_transactions")]
        if self.unit.is_some() {
            return Some(Err(self.ended(error)));
        }
        // A read that lost its replica's connection: take the replica out before the retry, so the
        // retry goes to another, or to the primary.
        let replica = self.replica.swap(usize::MAX, Ordering::Relaxed);
        if replica != usize::MAX
            && error.category() == crate::ErrorCategory::Connection
            && let Some(set) = self.db.replicas()
        {
            set.failed(replica);
        }
        let kind = self.operation.kind;
        let safe = safe_to_retry(kind, sent, &error);
        if self.attempts.retry_after(safe, &error, self.db.name(), Some(self.operation)).await {
            self.db.telemetry().retried(&error);
            return None;
        }
        let error = final_error(kind, sent, error);
        // The category, never the message: a server's message can quote a bound value.
        tracing::debug!(
            database = %self.db.name(),
            repository = self.operation.repository,
            method = self.operation.method,
            attempts = self.attempts.failed(),
            elapsed_ms = self.attempts.elapsed().as_millis() as u64,
            error.type = crate::observe::error_type(&error),
            "call failed"
        );
        Some(Err(self.ended(error)))
    }

    /// The call failed with `error`: its duration and `error.type`, in the metrics and the span.
    fn ended(&self, error: Error) -> Error {
        crate::observe::record_call(self.db.telemetry(), self.operation, || self.attempts.elapsed(), Some(&error));
        if let Some(span) = &self.span
            && !span.is_disabled()
        {
            span.record("error.type", crate::observe::error_type(&error));
            span.record("otel.status_code", "ERROR");
        }
        error
    }
}
