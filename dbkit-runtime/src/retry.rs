//! Retry: how often and how long a failed call is tried again, and which failures are safe to
//! try again at all.
//!
//! Every generated repository method runs through [`exec::Call`](crate::exec::Call), which asks
//! its [`RetryPolicy`] after each failed attempt. The default policy tries a call up to 3 times
//! within 10 s; [`RetryPolicy::disabled`] turns retry off. A repository takes its policy from its
//! [`CallOptions`](crate::exec::CallOptions); [`Database::transaction_with`] takes one per call.
//!
//! # What is run again
//!
//! A read is harmless to repeat; a write must never be applied twice, so it is repeated only when
//! it certainly did not apply.
//!
//! | operation | failure | run again? |
//! |---|---|---|
//! | read | any retryable error ([`Error::is_retryable`]) | yes |
//! | write | before the statement was sent: no connection, pool timeout, server refusing connections | yes |
//! | write | the server reports the statement undone ([`Error::is_rolled_back`]): serialization failure, deadlock, lock wait timeout, … | yes |
//! | write | the connection was lost, or timed out, after the statement was sent | **no**: [`Error::OutcomeUnknown`] |
//! | write | any other error (a unique key clash, bad SQL, …) | no, returned as it is |
//! | transaction ([`Database::transaction_with`]) | any retryable error before `COMMIT` is sent | yes: the closure runs again in a new transaction |
//! | transaction | `COMMIT` fails and the server reports a rollback (a serialization failure found at commit) | yes |
//! | transaction | `COMMIT` fails with a lost connection | **no**: [`Error::OutcomeUnknown`] |
//!
//! Never retried: a database that is draining or closed ([`Error::Unavailable`]), and an error
//! that is already [`Error::OutcomeUnknown`].
//!
//! Why a lost connection after a write is unknown: the server may have committed the statement
//! and lost only its answer. PostgreSQL's fast shutdown, MariaDB being killed, or a network cut
//! all look the same from the client. dbkit does not guess; it reports
//! [`Error::OutcomeUnknown`] with the cause as its `source`, and leaves the check to the caller,
//! who knows whether the write is idempotent.
//!
//! Inside a transaction nothing is durable before `COMMIT`, so a lost connection before it is safe
//! to retry: the server discards the unfinished transaction.
//!
//! # Back-off
//!
//! Delays grow exponentially from [`base_delay`](RetryPolicy::base_delay) by
//! [`multiplier`](RetryPolicy::multiplier) up to [`max_delay`](RetryPolicy::max_delay), computed
//! by the [`backon`] crate's `ExponentialBuilder`. With jitter (the default) each delay gets a
//! random extra of up to 100 % of itself, so callers that failed together do not come back
//! together. No retry starts once the [`deadline`](RetryPolicy::deadline), counted from the start
//! of the call, would pass during its delay.
//!
//! ```
//! use std::time::Duration;
//! use dbkit_runtime::retry::RetryPolicy;
//!
//! let patient = RetryPolicy::new()
//!     .max_attempts(8)
//!     .base_delay(Duration::from_millis(100))
//!     .max_delay(Duration::from_secs(2))
//!     .deadline(Duration::from_secs(30))
//!     .on_retry(|event| eprintln!("retrying {} after {:?}: {}", event.database, event.delay, event.error));
//! assert_eq!(patient.get_max_attempts(), 8);
//! assert!(!RetryPolicy::disabled().is_enabled());
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant; // follows tokio's clock, so paused-time tests see the deadline

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::Error;
#[cfg(feature = "_transactions")]
use crate::database::FailedTransaction;
pub(crate) use crate::operation::final_error;
use crate::operation::{OpKind, Operation};
#[cfg(feature = "_transactions")]
use crate::transaction::DatabaseTransaction;
#[cfg(feature = "_transactions")]
use crate::{Database, Result};

/// Called before each retry with what failed and how long dbkit will wait.
type RetryHook = Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

/// How often and how long a failed call is tried again. See the [module docs](self) for which
/// failures are tried again at all.
///
/// `Default` is [`RetryPolicy::new`].
#[derive(Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    multiplier: f32,
    jitter: bool,
    deadline: Option<Duration>,
    on_retry: Option<RetryHook>,
}

impl RetryPolicy {
    /// The default policy.
    pub fn new() -> Self {
        RetryPolicy {
            // One try and two retries: enough to ride out a deadlock, a failover's first refused
            // connections or a pooled connection the server closed, without stacking up load.
            max_attempts: 3,
            // Long enough for a deadlock's winner to commit; short enough not to be felt.
            base_delay: Duration::from_millis(50),
            // A restarting server is usually back within a few seconds.
            max_delay: Duration::from_secs(2),
            // The usual doubling.
            multiplier: 2.0,
            // Spread out callers that failed at the same moment (a restart fails them all at once).
            jitter: true,
            // A caller waiting longer than this would rather have the error.
            deadline: Some(Duration::from_secs(10)),
            on_retry: None,
        }
    }

    /// No retry: every call is tried once. Write outcomes are still classified (a lost connection
    /// after a write is still [`Error::OutcomeUnknown`]).
    pub fn disabled() -> Self {
        RetryPolicy::new().max_attempts(1)
    }

    /// How many times a call is tried in all, the first try included (default 3; at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The delay before the first retry (default 50 ms).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest delay between two tries, before jitter (default 2 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How much each delay grows over the one before (default 2.0; at least 1.0).
    pub fn multiplier(mut self, multiplier: f32) -> Self {
        self.multiplier = if multiplier.is_finite() { multiplier.max(1.0) } else { 1.0 };
        self
    }

    /// Whether each delay gets a random extra of up to 100 % of itself (default on).
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// How long after a call starts no retry may begin any more (default 10 s); `None` for no
    /// limit beyond [`max_attempts`](RetryPolicy::max_attempts).
    pub fn deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.deadline = deadline.into();
        self
    }

    /// Calls `hook` before each retry, for logging or metrics. It runs on the caller's task, so it
    /// should be quick.
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    /// Whether a failed call may be tried again at all (`max_attempts > 1`).
    pub fn is_enabled(&self) -> bool {
        self.max_attempts > 1
    }

    /// See [`RetryPolicy::max_attempts`].
    pub fn get_max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// See [`RetryPolicy::base_delay`].
    pub fn get_base_delay(&self) -> Duration {
        self.base_delay
    }

    /// See [`RetryPolicy::max_delay`].
    pub fn get_max_delay(&self) -> Duration {
        self.max_delay
    }

    /// See [`RetryPolicy::multiplier`].
    pub fn get_multiplier(&self) -> f32 {
        self.multiplier
    }

    /// See [`RetryPolicy::jitter`].
    pub fn get_jitter(&self) -> bool {
        self.jitter
    }

    /// See [`RetryPolicy::deadline`].
    pub fn get_deadline(&self) -> Option<Duration> {
        self.deadline
    }

    fn backoff(&self) -> <ExponentialBuilder as BackoffBuilder>::Backoff {
        let builder = ExponentialBuilder::new()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.multiplier)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter { builder.with_jitter() } else { builder }.build()
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new()
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .field("multiplier", &self.multiplier)
            .field("jitter", &self.jitter)
            .field("deadline", &self.deadline)
            .field("on_retry", &self.on_retry.as_ref().map(|_| "Fn"))
            .finish()
    }
}

/// What [`RetryPolicy::on_retry`] is told before a retry.
#[derive(Debug)]
#[non_exhaustive]
pub struct RetryEvent<'a> {
    /// The database's name.
    pub database: &'a str,
    /// The generated method, or `None` for a [`Database::transaction_with`] closure.
    pub operation: Option<&'static Operation>,
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// Why it failed.
    pub error: &'a Error,
    /// How long dbkit waits before the next attempt.
    pub delay: Duration,
    /// Time since the call started.
    pub elapsed: Duration,
}

/// Whether a failed attempt may be run again without risk of applying a write twice (attempts and
/// deadline aside). `sent`: the statement had reached the server.
pub(crate) fn safe_to_retry(kind: OpKind, sent: bool, error: &Error) -> bool {
    if !error.is_retryable() {
        return false;
    }
    match kind {
        OpKind::Read => true,
        OpKind::Write => !sent || error.is_rolled_back(),
    }
}

/// The attempts of one call: counts them, keeps the back-off, and waits.
///
/// Every call reads the clock once when it starts, so that its deadline, and its duration when
/// a recorder is installed, count from there. That read is `quanta`'s (the TSC, calibrated
/// against the OS clock once per process; the OS clock where the TSC is not invariant): 10 ns on
/// the VMs dbkit is measured on, where `Instant::now` is a `clock_gettime` of 23 ns, 0.4 % of a
/// SQLite `get`. From the first failure on, the call's start is carried over to tokio's clock,
/// which back-off sleeps on and paused-time tests advance.
#[derive(Debug)]
pub(crate) struct Attempts<'p> {
    policy: &'p RetryPolicy,
    /// When the call started: for the deadline and the call's duration. `None` for a call that
    /// can neither retry nor record (a statement in a unit of work with no recorder installed),
    /// which then reads no clock.
    started: Option<quanta::Instant>,
    /// The same on tokio's clock, from the first failure on.
    since: Option<Instant>,
    failed: u32,
    /// Built at the first failure, so a call that succeeds never pays for it.
    backoff: Option<<ExponentialBuilder as BackoffBuilder>::Backoff>,
}

impl<'p> Attempts<'p> {
    pub(crate) fn new(policy: &'p RetryPolicy) -> Self {
        Attempts { policy, started: Some(quanta::Instant::now()), since: None, failed: 0, backoff: None }
    }

    /// Attempts under `policy`, which never retries, of a call whose duration nobody records.
    #[cfg(feature = "_transactions")]
    pub(crate) fn untimed(policy: &'p RetryPolicy) -> Self {
        Attempts { policy, started: None, since: None, failed: 0, backoff: None }
    }

    pub(crate) fn failed(&self) -> u32 {
        self.failed
    }

    /// Time since the call started.
    pub(crate) fn elapsed(&self) -> Duration {
        match (self.since, self.started) {
            (Some(since), _) => since.elapsed(),
            (None, Some(started)) => started.elapsed(),
            (None, None) => Duration::ZERO,
        }
    }

    pub(crate) fn set_policy(&mut self, policy: &'p RetryPolicy) {
        self.policy = policy;
    }

    /// Counts a failed attempt. When `safe` and the policy allows another attempt, calls the hook,
    /// waits the back-off and returns `true`.
    pub(crate) async fn retry_after(
        &mut self,
        safe: bool,
        error: &Error,
        database: &str,
        operation: Option<&'static Operation>,
    ) -> bool {
        self.failed += 1;
        if !safe || self.failed >= self.policy.max_attempts {
            return false;
        }
        if self.since.is_none() {
            let now = Instant::now();
            self.since = Some(now.checked_sub(self.elapsed()).unwrap_or(now));
        }
        let Some(delay) = self.backoff.get_or_insert_with(|| self.policy.backoff()).next() else {
            return false;
        };
        let elapsed = self.elapsed();
        if self.policy.deadline.is_some_and(|deadline| elapsed + delay >= deadline) {
            return false;
        }
        tracing::debug!(
            database,
            repository = operation.map(|o| o.repository),
            method = operation.map(|o| o.method),
            attempt = self.failed,
            delay_ms = delay.as_millis() as u64,
            error.type = crate::observe::error_type(error),
            "retrying"
        );
        if let Some(hook) = &self.policy.on_retry {
            hook(&RetryEvent { database, operation, attempt: self.failed, error, delay, elapsed });
        }
        tokio::time::sleep(delay).await;
        true
    }
}

#[cfg(feature = "_transactions")]
impl Database {
    /// Runs `f` in a transaction, like [`Database::transaction`], and runs the whole transaction
    /// again — the closure, on a new transaction and connection — when it fails in a way that is
    /// safe to retry under `policy`: a serialization failure or deadlock anywhere, including at
    /// `COMMIT`, or any retryable error (a lost connection, a server restarting) before `COMMIT`
    /// was sent. A lost connection during `COMMIT` is [`Error::OutcomeUnknown`], never retried.
    /// See the [module docs](crate::retry).
    ///
    /// `f` may run several times, so it should have no effects outside the transaction (or only
    /// ones that are safe to repeat). Its own errors are judged like any other: return a
    /// retryable error from it to ask for a retry, a permanent one to give up.
    ///
    /// The returned future is `Send` when `f`'s futures are and `f` owns everything it captures,
    /// so it can be spawned: write the closure as `async move |tx| …` over owned values (an `Arc`,
    /// a clone, a `String` rather than a `&'static str`). rustc cannot yet prove `Send` for a
    /// future that calls an async closure holding any reference
    /// ([rust-lang/rust#100013](https://github.com/rust-lang/rust/issues/100013)); awaited in
    /// place, without spawning, a borrowing closure is fine.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use dbkit_runtime::Database;
    /// use dbkit_runtime::retry::RetryPolicy;
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// let mut runs = 0;
    /// let n = db
    ///     .transaction_with(&RetryPolicy::new(), async |tx| {
    ///         runs += 1;
    ///         let n: i64 = tx.sqlite()?.query_row("SELECT 40 + 2", [], |row| row.get(0))?;
    ///         Ok(n)
    ///     })
    ///     .await?;
    /// assert_eq!((n, runs), (42, 1));
    /// # Ok(()) }
    /// ```
    pub async fn transaction_with<T>(
        &self,
        policy: &RetryPolicy,
        mut f: impl AsyncFnMut(&mut DatabaseTransaction) -> Result<T>,
    ) -> Result<T> {
        let mut attempts = Attempts::new(policy);
        loop {
            let FailedTransaction { error, committing } = match self.run_transaction(&mut f).await {
                Ok(value) => return Ok(value),
                Err(failed) => failed,
            };
            // Before COMMIT nothing is durable, so the transaction is a read as far as safety goes.
            let kind = if committing { OpKind::Write } else { OpKind::Read };
            let safe = safe_to_retry(kind, committing, &error) && !error.is_outcome_unknown();
            if !attempts.retry_after(safe, &error, self.name(), None).await {
                let error = final_error(kind, committing, error);
                if error.is_outcome_unknown() {
                    self.telemetry().outcome_unknown();
                }
                return Err(error);
            }
            self.telemetry().retried(&error);
        }
    }
}

#[cfg(all(test, feature = "_sql"))]
mod tests {
    use super::*;
    use crate::ErrorCategory;
    use std::io;

    static READ: Operation = Operation::new("TestRepository", "get", OpKind::Read, "SELECT", "test");

    fn lost() -> Error {
        Error::Sqlx(sqlx::Error::Io(io::ErrorKind::ConnectionReset.into()))
    }

    fn busy() -> Error {
        // The only rolled-back error a unit test can make for real is SQLite's; see the tests of
        // the transaction retry below. Here a pool timeout stands in for "not sent".
        Error::Sqlx(sqlx::Error::PoolTimedOut)
    }

    #[test]
    fn reads_retry_on_any_retryable_error() {
        assert!(safe_to_retry(OpKind::Read, true, &lost()));
        assert!(safe_to_retry(OpKind::Read, false, &busy()));
        assert!(!safe_to_retry(OpKind::Read, true, &Error::Sqlx(sqlx::Error::RowNotFound)));
        let draining = Error::Unavailable { database: "db".into(), state: "draining" };
        assert!(!safe_to_retry(OpKind::Read, false, &draining));
    }

    #[test]
    fn writes_retry_only_when_certainly_not_applied() {
        assert!(safe_to_retry(OpKind::Write, false, &lost()), "not sent");
        assert!(!safe_to_retry(OpKind::Write, true, &lost()), "sent, then the connection was lost");
        let unknown = final_error(OpKind::Write, true, lost());
        assert!(unknown.is_outcome_unknown());
        assert!(!safe_to_retry(OpKind::Read, true, &unknown));
        assert!(!final_error(OpKind::Write, false, lost()).is_outcome_unknown());
        assert!(!final_error(OpKind::Read, true, lost()).is_outcome_unknown());
        // Not wrapped twice.
        assert!(
            matches!(final_error(OpKind::Write, true, unknown), Error::OutcomeUnknown { source } if !source.is_outcome_unknown())
        );
    }

    #[test]
    fn the_back_off_grows_and_is_capped() {
        let policy = RetryPolicy::new()
            .max_attempts(6)
            .base_delay(Duration::from_millis(10))
            .max_delay(Duration::from_millis(40))
            .jitter(false);
        // backon computes in f32: compare to the microsecond.
        let delays: Vec<_> = policy.backoff().map(|d| (d.as_secs_f64() * 1e6).round() as u64).collect();
        assert_eq!(delays, [10_000, 20_000, 40_000, 40_000, 40_000]);
        let ms = Duration::from_millis;
        let jittered = RetryPolicy::new().base_delay(ms(10)).max_delay(ms(40));
        for (i, delay) in jittered.backoff().enumerate() {
            let base = ms(10) * 2u32.pow(i as u32);
            let slack = Duration::from_micros(1);
            assert!(delay + slack >= base && delay < base * 2 + slack, "{delay:?} for {base:?}");
        }
        assert_eq!(RetryPolicy::disabled().backoff().count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_stop_at_max_attempts_and_call_the_hook() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let policy = RetryPolicy::new().max_attempts(3).jitter(false).on_retry(move |e| {
            let delay_ms = (e.delay.as_secs_f64() * 1e3).round() as u64;
            log.lock().unwrap().push((e.attempt, delay_ms, e.operation.map(|o| o.method)));
        });
        let mut attempts = Attempts::new(&policy);
        assert!(attempts.retry_after(true, &lost(), "db", Some(&READ)).await);
        assert!(attempts.retry_after(true, &lost(), "db", Some(&READ)).await);
        assert!(!attempts.retry_after(true, &lost(), "db", Some(&READ)).await);
        assert_eq!(attempts.failed(), 3);
        assert_eq!(*seen.lock().unwrap(), [(1, 50, Some("get")), (2, 100, Some("get"))]);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_stop_at_the_deadline_and_when_unsafe() {
        let policy = RetryPolicy::new()
            .max_attempts(100)
            .base_delay(Duration::from_millis(400))
            .jitter(false)
            .deadline(Duration::from_secs(1));
        let mut attempts = Attempts::new(&policy);
        assert!(attempts.retry_after(true, &lost(), "db", None).await); // at 0.4 s
        assert!(!attempts.retry_after(true, &lost(), "db", None).await); // 0.4 + 0.8 > 1
        assert!(attempts.elapsed() < Duration::from_secs(1));
        let mut attempts = Attempts::new(&policy);
        assert!(!attempts.retry_after(false, &lost(), "db", None).await);
        let unbounded = RetryPolicy::new().max_attempts(4).deadline(None);
        assert_eq!(unbounded.get_deadline(), None);
    }

    /// The first attempt's time counts toward the deadline when the call's start is carried over
    /// to tokio's clock at the first failure. The control: the same policy, with a first attempt
    /// that took no time, retries.
    #[tokio::test]
    async fn the_first_attempt_counts_toward_the_deadline() {
        let policy = RetryPolicy::new()
            .max_attempts(5)
            .base_delay(Duration::from_millis(100))
            .jitter(false)
            .deadline(Duration::from_millis(300));
        let mut quick = Attempts::new(&policy);
        assert!(quick.retry_after(true, &lost(), "db", None).await, "0 + 0.1 s < 0.3 s: retried");
        let mut slow = Attempts::new(&policy);
        std::thread::sleep(Duration::from_millis(250)); // a first attempt of 0.25 s
        assert!(!slow.retry_after(true, &lost(), "db", None).await, "0.25 + 0.1 s >= 0.3 s: not retried");
        assert!(slow.elapsed() >= Duration::from_millis(250), "{:?}", slow.elapsed());
    }

    #[test]
    fn policy_builder_and_debug() {
        let policy = RetryPolicy::new().max_attempts(0).multiplier(0.5).on_retry(|_| {});
        assert_eq!(policy.get_max_attempts(), 1);
        assert!(!policy.is_enabled());
        assert_eq!(policy.get_multiplier(), 1.0);
        assert!(format!("{policy:?}").contains("on_retry: Some(\"Fn\")"));
        assert!(RetryPolicy::default().is_enabled());
        assert_eq!(RetryPolicy::default().get_base_delay(), Duration::from_millis(50));
        assert_eq!(RetryPolicy::default().get_max_delay(), Duration::from_secs(2));
        assert!(RetryPolicy::default().get_jitter());
    }

    #[cfg(feature = "sqlite")]
    mod sqlite {
        use super::*;
        use std::sync::atomic::{AtomicU32, Ordering};

        fn quick() -> RetryPolicy {
            RetryPolicy::new().base_delay(Duration::from_millis(1)).jitter(false)
        }

        #[tokio::test]
        async fn a_transaction_that_fails_retryably_runs_again_whole() {
            let db = Database::connect("sqlite::memory:").await.unwrap();
            db.transaction(async |tx| {
                tx.sqlite()?.execute("CREATE TABLE t (x INT)", [])?;
                Ok(())
            })
            .await
            .unwrap();
            let mut runs = 0;
            let value = db
                .transaction_with(&quick(), async |tx| {
                    runs += 1;
                    tx.sqlite()?.execute("INSERT INTO t VALUES (1)", [])?;
                    if runs < 3 {
                        return Err(lost()); // rolled back by dbkit, then run again
                    }
                    Ok(runs)
                })
                .await
                .unwrap();
            assert_eq!(value, 3);
            let mut s = db.session::<sqlx::Sqlite>().await.unwrap();
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&mut *s).await.unwrap();
            assert_eq!(n, 1, "the two failed runs were rolled back");
        }

        #[tokio::test]
        async fn a_transaction_gives_up_on_permanent_errors_and_after_max_attempts() {
            let db = Database::connect("sqlite::memory:").await.unwrap();
            let mut runs = 0;
            let error = db
                .transaction_with::<()>(&quick(), async |tx| {
                    runs += 1;
                    tx.sqlite()?.execute("SELECT * FROM missing", [])?;
                    Ok(())
                })
                .await
                .unwrap_err();
            assert_eq!((runs, error.category()), (1, ErrorCategory::Permanent));

            let mut runs = 0;
            let error = db
                .transaction_with::<()>(&quick().max_attempts(4), async |_| {
                    runs += 1;
                    Err(lost())
                })
                .await
                .unwrap_err();
            assert_eq!(runs, 4);
            assert!(!error.is_outcome_unknown(), "nothing was committed: {error}");
            assert_eq!(error.category(), ErrorCategory::Connection);

            let mut runs = 0;
            db.transaction_with::<()>(&RetryPolicy::disabled(), async |_| {
                runs += 1;
                Err(lost())
            })
            .await
            .unwrap_err();
            assert_eq!(runs, 1);
        }

        /// Units of work whose `BEGIN IMMEDIATE` finds the file locked by another connection (a
        /// raw sqlx transaction, here) fail with `SQLITE_BUSY` at once (no busy timeout) and are
        /// run again until they get in: every unit lands once.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn busy_writers_on_a_file_database_are_retried() {
            let path = std::env::temp_dir().join(format!("dbkit-retry-busy-{}.db", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let config = crate::DatabaseConfig::from_url(&format!("sqlite://{}", path.display()))
                .unwrap()
                .sqlite_busy_timeout(Duration::ZERO);
            let db = Database::connect_with(config).await.unwrap();
            let mut s = db.session::<sqlx::Sqlite>().await.unwrap();
            sqlx::query("CREATE TABLE t (x INT)").execute(&mut *s).await.unwrap();
            drop(s);

            // Another writer, outside dbkit's engine, holding the write lock again and again.
            // It holds the lock first, so the first units meet it.
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (held, holding) = tokio::sync::oneshot::channel();
            let holder = {
                let (db, stop) = (db.clone(), Arc::clone(&stop));
                tokio::spawn(async move {
                    let mut s = db.session::<sqlx::Sqlite>().await.unwrap();
                    sqlx::query("BEGIN IMMEDIATE").execute(&mut *s).await.unwrap();
                    held.send(()).unwrap();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    sqlx::query("COMMIT").execute(&mut *s).await.unwrap();
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        // Fails at once while a unit holds the lock; the holder simply tries again.
                        if sqlx::query("BEGIN IMMEDIATE").execute(&mut *s).await.is_err() {
                            continue;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        sqlx::query("COMMIT").execute(&mut *s).await.unwrap();
                    }
                })
            };

            let retries = Arc::new(AtomicU32::new(0));
            let counter = Arc::clone(&retries);
            let policy = RetryPolicy::new()
                .max_attempts(1000)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(3))
                .deadline(Duration::from_secs(30))
                .on_retry(move |_| {
                    counter.fetch_add(1, Ordering::Relaxed);
                });
            holding.await.unwrap();
            let tasks: Vec<_> = (0..4)
                .map(|task| {
                    let db = db.clone();
                    let policy = policy.clone();
                    tokio::spawn(async move {
                        for i in 0..25 {
                            db.transaction_with(&policy, async move |tx| {
                                tx.sqlite()?.execute("INSERT INTO t VALUES (?1)", [task * 100 + i])?;
                                tokio::task::yield_now().await;
                                tx.sqlite()?.execute("UPDATE t SET x = x WHERE x = ?1", [task * 100 + i])?;
                                Ok(())
                            })
                            .await
                            .unwrap();
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            stop.store(true, Ordering::Relaxed);
            holder.await.unwrap();
            let mut s = db.session::<sqlx::Sqlite>().await.unwrap();
            let n: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT x) FROM t").fetch_one(&mut *s).await.unwrap();
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&mut *s).await.unwrap();
            assert_eq!((n, total), (100, 100), "every unit landed once");
            assert!(retries.load(Ordering::Relaxed) > 0, "the other writer's lock made units fail and run again");
            drop(s);
            db.close().await;
            let _ = std::fs::remove_file(&path);
        }
    }
}
