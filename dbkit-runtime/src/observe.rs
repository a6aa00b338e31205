//! Metrics and tracing, named as OpenTelemetry's database client conventions name them.
//!
//! **Metrics** go through the [`metrics`] facade: dbkit records, the application installs a
//! recorder (`metrics-exporter-prometheus`, an OpenTelemetry bridge, …). Install it before
//! connecting: a database registers its handles when it connects, and a generated method on its
//! first call.
//!
//! | metric | kind, unit | labels |
//! |---|---|---|
//! | `db.client.operation.duration` | histogram, s | `db.system.name`, `db.namespace`, `db.operation.name`, `db.collection.name`, `server.address`, `error.type` (failures only) |
//! | `db.client.connection.count` | gauge | `db.client.connection.pool.name`, `db.client.connection.state` (`idle`, `used`) |
//! | `db.client.connection.max`, `.idle.max`, `.idle.min` | gauge | pool name |
//! | `db.client.connection.pending_requests` | gauge | pool name |
//! | `db.client.connection.timeouts` | counter | pool name |
//! | `db.client.connection.wait_time`, `.use_time` | histogram, s | pool name (PostgreSQL, MySQL, Oracle; not SQLite's generated calls: its engine has no pool to wait on) |
//! | `db.client.connection.create_time` | histogram, s | pool name (PostgreSQL, MySQL; SQLite's raw sessions; not Oracle: ODPI-C opens its sessions itself) |
//! | `dbkit.connection.pings` | counter: pings before a checkout (a connection idle past the window) | pool name |
//! | `dbkit.connection.resets` | counter: connections given back unclean (a cancelled statement, a dropped transaction) | pool name |
//! | `dbkit.replica.lag` | gauge, s | pool name, `server.address` (the replica's host) |
//! | `dbkit.replica.available` | gauge: 1 serving reads, 0 out | pool name, `server.address` |
//! | `dbkit.replica.reads` | counter | pool name, `dbkit.read.target` (`replica`, `primary`) |
//! | `dbkit.retries` | counter | `db.namespace`, `db.system.name`, `error.type` (the category) |
//! | `dbkit.outcomes_unknown` | counter | `db.namespace`, `db.system.name` |
//! | `dbkit.drain.state` | gauge: 0 open, 1 draining, 2 closed | pool name |
//! | `dbkit.drain.duration` | histogram, s | pool name, `dbkit.drain.mode` |
//! | `dbkit.cache.hits`, `.misses`, `.refused_fills`, `.lease_waits`, `.redis_failures` | counter | `dbkit.cache.name` |
//!
//! ClickHouse has no `db.client.connection.*` metrics: its connections are hyper's, inside the
//! `clickhouse` crate's client, which dbkit neither sizes nor sees. Oracle's counts by state are
//! ODPI-C's session pool's own.
//!
//! The pool name is the database's registered name; `db.namespace` is the database on the server
//! (the URL's path, or the SQLite file). `error.type` is the failure's [`ErrorCategory`](crate::ErrorCategory), never
//! its message: a server's message can quote a value (MySQL's "Duplicate entry 'alice'").
//!
//! **Tracing**: every generated call is one span named by its query summary (`SELECT users`,
//! at `INFO`, target `dbkit`) with the same attributes plus `db.query.summary` and
//! `db.query.text` (the statement, with placeholders: never a value), and `otel.kind = "client"`
//! and `otel.status_code` for `tracing-opentelemetry`; its retries are events inside it. A unit of
//! work (`Database::transaction`) is one span named `transaction`.
//!
//! **Nothing recorded carries a value or a credential**: labels and fields are the names dbkit
//! knows at compile time, the database's name, host and category — no bound parameter, no key, no
//! URL with a password, no server message.
//!
//! **Cost.** A database asks once, when it connects, whether a recorder is installed
//! ([`recorder_installed`]). With none, each metrics hook on the call path is one branch on that
//! answer: no clock is read and no handle touched. A span is made only when a subscriber's level
//! (or, with no subscriber ever set, the `log` crate's) could take it; otherwise a call has none:
//! its span slot stays empty, and its attempts are polled in no span. SQLite's engine has no pool
//! to wait on, so its calls time no checkout. The clock the calls read is `quanta`'s (see
//! `retry::Attempts`). Measured on a ~3 µs SQLite `get` on dbkit's engine (the README's
//! Performance section): with neither installed 3.1 ns, 0.09–0.11 %; with a recorder
//! 1.007–1.010× (dbkit's part 10 ns, the rest the recorder's histogram). Install the recorder
//! before connecting: a database connected with none records no metrics for its life.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
// The pool's waits and uses are timed on the call's clock (see `retry::Attempts`).
#[cfg(any(feature = "_sql", feature = "oracle"))]
use quanta::Instant;

use metrics::{Counter, Gauge, Histogram, Label, Unit};

use crate::config::DatabaseConfig;
use crate::operation::Operation;
use crate::{Backend, Error};

/// OpenTelemetry's `db.system.name` for a backend (`mysql` or `mariadb` as the server says).
pub(crate) fn system_name(backend: Backend, mariadb: bool) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
        Backend::MySql if mariadb => "mariadb",
        Backend::MySql => "mysql",
        Backend::ClickHouse => "clickhouse",
        Backend::Oracle => "oracle.db",
    }
}

/// `error.type` of a failure: its category ([`ErrorCategory::as_str`](crate::ErrorCategory::as_str)),
/// or `outcome_unknown` / `unavailable` for dbkit's own two verdicts. Never the message.
pub(crate) fn error_type(error: &Error) -> &'static str {
    match error {
        Error::OutcomeUnknown { .. } => "outcome_unknown",
        Error::Unavailable { .. } => "unavailable",
        error => error.category().as_str(),
    }
}

/// Whether dbkit sees a metrics recorder installed (globally, or on this thread): what a database
/// asks once, when it connects, to decide whether its calls record metrics.
///
/// The `metrics` facade has no such question: with none installed it hands out no-op handles,
/// which cost a branch each but leave the clock reads around them (~23 ns each on the VMs this was
/// measured on, four a call). Its stand-in when none is installed, `NoopRecorder`, is zero-sized,
/// and a recorder that records keeps its registry somewhere — the Prometheus and OpenTelemetry
/// exporters and `metrics-util`'s recorders and layers all hold it — so a zero-sized recorder is
/// taken for none. A recorder of your own that keeps its state in a `static` must hold a field
/// to be seen.
pub fn recorder_installed() -> bool {
    metrics::with_recorder(|recorder| std::mem::size_of_val(recorder) != 0)
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A database's labels and pool handles, registered once when it connects.
pub(crate) struct Telemetry {
    /// Tells the databases apart in the handle caches of generated methods.
    id: u64,
    /// A recorder was installed when the database connected: only then are clocks read and
    /// handles touched on the call path (see [`recorder_installed`]).
    recording: bool,
    /// The backend has a pool dbkit sizes and sees (not ClickHouse).
    pooled: bool,
    pub(crate) system: &'static str,
    pub(crate) namespace: String,
    pub(crate) server_address: String,
    pool_name: String,
    pool: PoolMetrics,
    /// Operation handles of methods whose own cache holds another database's.
    operations: Mutex<Vec<(usize, Histogram)>>,
    /// Connections dbkit holds, and those the pool had open when last asked.
    used: AtomicU32,
    open: AtomicU32,
}

// Only sqlx's and Oracle's pools are waited on: without them the acquire side is unused.
#[cfg_attr(not(any(feature = "_sql", feature = "oracle")), allow(dead_code))]
struct PoolMetrics {
    idle: Gauge,
    used: Gauge,
    pending: Gauge,
    timeouts: Counter,
    wait_time: Histogram,
    use_time: Histogram,
    drain_state: Gauge,
}

impl Telemetry {
    pub(crate) fn new(name: &str, config: &DatabaseConfig, system: &'static str) -> Telemetry {
        let pool_name = || vec![Label::new("db.client.connection.pool.name", name.to_owned())];
        describe();
        // ClickHouse's connections are hyper's, inside the `clickhouse` crate's client: dbkit
        // neither sizes nor sees them, so it registers no pool metric rather than make one up.
        let pooled = config.backend() != Backend::ClickHouse;
        let gauge = |metric: &'static str| if pooled { metrics::gauge!(metric, pool_name()) } else { Gauge::noop() };
        let counter =
            |metric: &'static str| if pooled { metrics::counter!(metric, pool_name()) } else { Counter::noop() };
        let histogram =
            |metric: &'static str| if pooled { metrics::histogram!(metric, pool_name()) } else { Histogram::noop() };
        let state = |state: &'static str| {
            if !pooled {
                return Gauge::noop();
            }
            metrics::gauge!("db.client.connection.count", "db.client.connection.pool.name" => name.to_owned(),
                "db.client.connection.state" => state)
        };
        if pooled {
            let max = config.max_connections();
            let min = config.get_pool_size().min(max);
            gauge("db.client.connection.max").set(max);
            gauge("db.client.connection.idle.max").set(max);
            gauge("db.client.connection.idle.min").set(min);
        }
        let (namespace, server_address) = config.telemetry_target();
        let drain_state = metrics::gauge!("dbkit.drain.state", pool_name());
        drain_state.set(0.0);
        Telemetry {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            recording: recorder_installed(),
            pooled,
            system,
            namespace,
            server_address,
            pool_name: name.to_owned(),
            pool: PoolMetrics {
                idle: state("idle"),
                used: state("used"),
                pending: gauge("db.client.connection.pending_requests"),
                timeouts: counter("db.client.connection.timeouts"),
                wait_time: histogram("db.client.connection.wait_time"),
                use_time: histogram("db.client.connection.use_time"),
                drain_state,
            },
            operations: Mutex::new(Vec::new()),
            used: AtomicU32::new(0),
            open: AtomicU32::new(0),
        }
    }

    fn operation_duration(&self, operation: &Operation, error: Option<&'static str>) -> Histogram {
        let mut labels = vec![
            Label::new("db.system.name", self.system),
            Label::new("db.namespace", self.namespace.clone()),
            Label::new("db.operation.name", operation.name),
            Label::new("db.collection.name", operation.collection),
            Label::new("server.address", self.server_address.clone()),
        ];
        if let Some(error) = error {
            labels.push(Label::new("error.type", error));
        }
        metrics::histogram!("db.client.operation.duration", labels)
    }

    /// A session is about to wait for a connection: when, if a recorder is installed.
    #[cfg(any(feature = "_sql", feature = "oracle"))]
    pub(crate) fn acquiring(&self) -> Option<Instant> {
        if !self.recording {
            return None;
        }
        self.pool.pending.increment(1.0);
        Some(Instant::now())
    }

    /// The wait for a connection that began at `started` ended (`got` one or not, `timed_out` or
    /// not); `open` is how many connections the pool holds now. Returns when, for
    /// [`released`](Telemetry::released).
    #[cfg(any(feature = "_sql", feature = "oracle"))]
    pub(crate) fn acquired(&self, started: Instant, got: bool, timed_out: bool, open: u32) -> Instant {
        let now = Instant::now();
        self.pool.pending.decrement(1.0);
        self.pool.wait_time.record(now.duration_since(started));
        if timed_out {
            self.pool.timeouts.increment(1);
        }
        self.open.store(open, Ordering::Relaxed);
        let used = if got { self.used.fetch_add(1, Ordering::Relaxed) + 1 } else { self.used.load(Ordering::Relaxed) };
        self.set_counts(open, used);
        now
    }

    /// A connection went back after `used`.
    pub(crate) fn released(&self, used: Duration) {
        self.pool.use_time.record(used);
        let in_use = self.used.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
        self.set_counts(self.open.load(Ordering::Relaxed), in_use);
    }

    /// Whether a recorder was installed when the database connected.
    #[cfg(feature = "_transactions")]
    pub(crate) fn is_recording(&self) -> bool {
        self.recording
    }

    /// The connections open and idle, as the engine counts them (at connect).
    pub(crate) fn connections(&self, open: u32, idle: u32) {
        if self.recording && self.pooled {
            self.open.store(open, Ordering::Relaxed);
            self.set_counts(open, open.saturating_sub(idle));
            self.pool.pending.set(0.0);
        }
    }

    /// `db.client.connection.count` by state: `used` are the connections dbkit holds now, `idle`
    /// the rest of those the pool had open when last asked (sqlx's pool has no hook that would
    /// tell each change).
    fn set_counts(&self, open: u32, used: u32) {
        self.pool.used.set(used);
        self.pool.idle.set(open.saturating_sub(used));
    }

    /// A failure was retried.
    pub(crate) fn retried(&self, error: &Error) {
        if !self.recording {
            return;
        }
        metrics::counter!("dbkit.retries", "db.system.name" => self.system, "db.namespace" => self.namespace.clone(),
            "error.type" => error_type(error))
        .increment(1);
    }

    /// A write ended with its outcome unknown.
    pub(crate) fn outcome_unknown(&self) {
        if !self.recording {
            return;
        }
        metrics::counter!("dbkit.outcomes_unknown", "db.system.name" => self.system,
            "db.namespace" => self.namespace.clone())
        .increment(1);
    }

    /// The drain state changed: 0 open, 1 draining, 2 closed.
    pub(crate) fn drain_state(&self, state: u8) {
        self.pool.drain_state.set(state);
    }

    /// A drain ended after `elapsed`.
    pub(crate) fn drained(&self, mode: &'static str, elapsed: Duration) {
        metrics::histogram!("dbkit.drain.duration", "db.client.connection.pool.name" => self.pool_name.clone(),
            "dbkit.drain.mode" => mode)
        .record(elapsed);
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").field("system", &self.system).finish_non_exhaustive()
    }
}

/// Records one finished call of `operation`: its duration (`elapsed`, read only when a recorder
/// is installed), labelled with its failure's category when it failed.
pub(crate) fn record_call(
    telemetry: &Telemetry,
    operation: &'static Operation,
    elapsed: impl FnOnce() -> Duration,
    error: Option<&Error>,
) {
    if !telemetry.recording {
        return;
    }
    let elapsed = elapsed();
    if let Some(error) = error {
        // Cold: the labels are built each time.
        telemetry.operation_duration(operation, Some(error_type(error))).record(elapsed);
        if error.is_outcome_unknown() {
            telemetry.outcome_unknown();
        }
        return;
    }
    let (id, histogram) =
        operation.metrics.first.get_or_init(|| (telemetry.id, telemetry.operation_duration(operation, None)));
    if *id == telemetry.id {
        histogram.record(elapsed);
        return;
    }
    let key = operation as *const Operation as usize;
    let mut others = telemetry.operations.lock().unwrap_or_else(PoisonError::into_inner);
    match others.iter().find(|(k, _)| *k == key) {
        Some((_, histogram)) => histogram.record(elapsed),
        None => {
            let histogram = telemetry.operation_duration(operation, None);
            histogram.record(elapsed);
            others.push((key, histogram));
        }
    }
}

/// A cache's counters, registered when it is built.
#[cfg(feature = "redis")]
pub(crate) struct CacheMetrics {
    pub(crate) hits: Counter,
    pub(crate) misses: Counter,
    pub(crate) refused_fills: Counter,
    pub(crate) lease_waits: Counter,
    pub(crate) redis_failures: Counter,
}

#[cfg(feature = "redis")]
impl CacheMetrics {
    pub(crate) fn new(name: &str) -> CacheMetrics {
        let counter = |metric: &'static str| metrics::counter!(metric, "dbkit.cache.name" => name.to_owned());
        describe();
        CacheMetrics {
            hits: counter("dbkit.cache.hits"),
            misses: counter("dbkit.cache.misses"),
            refused_fills: counter("dbkit.cache.refused_fills"),
            lease_waits: counter("dbkit.cache.lease_waits"),
            redis_failures: counter("dbkit.cache.redis_failures"),
        }
    }
}

#[cfg(feature = "redis")]
impl std::fmt::Debug for CacheMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheMetrics")
    }
}

/// Units and descriptions, for exporters that show them (Prometheus's `# HELP`, OpenTelemetry's
/// unit). Each recorder hears them once.
pub(crate) fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_histogram!("db.client.operation.duration", Unit::Seconds, "Duration of database client operations.");
    describe_gauge!(
        "db.client.connection.count",
        "The number of connections that are currently in the state described by the state attribute."
    );
    describe_gauge!("db.client.connection.max", "The maximum number of open connections allowed.");
    describe_gauge!("db.client.connection.idle.max", "The maximum number of idle open connections allowed.");
    describe_gauge!("db.client.connection.idle.min", "The minimum number of idle open connections allowed.");
    describe_gauge!(
        "db.client.connection.pending_requests",
        "The number of current pending requests for an open connection."
    );
    describe_counter!(
        "db.client.connection.timeouts",
        "The number of connection timeouts that have occurred trying to obtain a connection from the pool."
    );
    describe_histogram!(
        "db.client.connection.wait_time",
        Unit::Seconds,
        "The time it took to obtain an open connection from the pool."
    );
    describe_histogram!(
        "db.client.connection.use_time",
        Unit::Seconds,
        "The time between borrowing a connection and returning it to the pool."
    );
    describe_histogram!(
        "db.client.connection.create_time",
        Unit::Seconds,
        "The time it took to create a new connection."
    );
    describe_counter!("dbkit.connection.pings", "Pings sent before handing out a connection idle past the window.");
    describe_counter!(
        "dbkit.connection.resets",
        "Connections returned with a reply still owed or a message queued, reset before reuse or closed."
    );
    describe_gauge!(
        "dbkit.replica.lag",
        Unit::Seconds,
        "How long ago the primary was at a position the replica has not replayed."
    );
    describe_gauge!("dbkit.replica.available", "1 while the replica serves reads, 0 while it is out.");
    describe_counter!("dbkit.replica.reads", "Generated reads routed, by where they went (replica or primary).");
    describe_counter!("dbkit.retries", "Failed attempts of generated calls that were tried again.");
    describe_counter!(
        "dbkit.outcomes_unknown",
        "Writes whose outcome is unknown (the connection was lost after sending)."
    );
    describe_gauge!("dbkit.drain.state", "0 open, 1 draining, 2 closed.");
    describe_histogram!("dbkit.drain.duration", Unit::Seconds, "How long drains took.");
    describe_counter!("dbkit.cache.hits", "Cached reads answered by Redis.");
    describe_counter!("dbkit.cache.misses", "Cached reads that went to the database.");
    describe_counter!("dbkit.cache.refused_fills", "Fills refused because an invalidation overtook the read.");
    describe_counter!("dbkit.cache.lease_waits", "Reads that waited for another reader's fill.");
    describe_counter!("dbkit.cache.redis_failures", "Redis commands that failed or timed out.");
}

/// Whether an `INFO` span of dbkit's can go anywhere: a subscriber's level admits it, or, with no
/// subscriber at all, the `log` crate's does.
///
/// Asked before making a span, because `tracing` alone does not make "nothing installed" free:
/// built with its `log` feature (sqlx turns it on), a span no subscriber wants still evaluates
/// every field and hands them to `log` while no subscriber has ever been set, and logs its every
/// enter, exit and close — 35 ns a generated call, measured, even with no logger. With neither
/// installed this is two relaxed loads, and there is no span.
///
/// Until a subscriber is first set (globally or scoped), `tracing`'s level filter is `OFF`, so
/// only `log`'s level can admit the span; from then on, only `tracing`'s.
#[doc(hidden)]
#[inline]
pub fn __spans_wanted() -> bool {
    if tracing::dispatcher::has_been_set() {
        tracing::level_filters::LevelFilter::current() >= tracing::Level::INFO
    } else {
        log::max_level() >= log::LevelFilter::Info
    }
}

/// The span of one generated call, named by its query summary (`SELECT users`, a literal, so it
/// is the span's name for every subscriber), with OpenTelemetry's attributes. Expanded in the
/// generated method, so each method is its own callsite. `None` when no subscriber or logger
/// could want it (see [`__spans_wanted`]); with a subscriber not interested in it, a disabled span
/// whose fields are not evaluated.
#[doc(hidden)]
#[macro_export]
macro_rules! __dbkit_call_span {
    ($summary:literal, $call:expr, $name:literal, $collection:literal) => {
        if !$crate::__private::spans_wanted() {
            ::core::option::Option::None
        } else {
            ::core::option::Option::Some($crate::__private::tracing::info_span!(
            target: "dbkit",
            $summary,
            db.system.name = $call.system_name(),
            db.namespace = $call.namespace(),
            db.operation.name = $name,
            db.collection.name = $collection,
            db.query.summary = $summary,
            db.query.text = $crate::__private::tracing::field::Empty,
            server.address = $call.server_address(),
            error.type = $crate::__private::tracing::field::Empty,
            otel.kind = "client",
            otel.status_code = $crate::__private::tracing::field::Empty,
            ))
        }
    };
}
