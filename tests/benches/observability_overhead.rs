//! What metrics and tracing cost a generated call on its success path: a SQLite `get` by key
//! (a WAL file, 10 000 rows, a pool of one connection, keys spread over the table) with nothing
//! installed, with a metrics recorder installed, and with a tracing subscriber installed. The goal:
//! with a recorder ≤ 1 %, with neither ≤ 0.1 % of the `get`. Single-threaded (SQLite's worker
//! thread aside), one process, three parts:
//!
//! 1. **Nothing installed**: the hooks alone. They cannot be taken out at run time, so they are
//!    timed on a model, before any recorder or subscriber exists in the process: batches of 1 000
//!    iterations of what a call adds, minus the same without it, the median of the per-batch
//!    differences. A database asks once, when it connects, whether a recorder is installed
//!    ([`recorder_installed`](dbkit::observe::recorder_installed)); with none, every metrics hook
//!    is one branch on that answer and no clock is read for it. *Call*: the generated call loop
//!    (an async loop over `attempt` and `finish` on a stand-in for `Call`, the attempt's poll out
//!    of line as a generated method's is) with the hooks `Call` has — the question whether a span
//!    is wanted (`spans_wanted`) and the span slot it fills (`None`), the branch in `attempt` that
//!    polls the attempt in no span when there is none, the `db.query.text` branch, the branch in
//!    `finish`, the slot dropped — against the same loop without them. *Pool* (`Telemetry::
//!    acquiring`, `InFlight`'s drop; the sqlx backends', printed apart, as SQLite's engine has no
//!    pool checkout to time): the branch on the way in, and the one on the way out on an empty
//!    checkout time, against the bare polling. Printed as a fraction of side A's `get` in part 2,
//!    with the cost of one read of the calls' clock (`quanta`'s) beside it; and, for comparison,
//!    the same hooks with `recording` set: on no-op handles (dbkit's part of what a recorder
//!    costs: the branch taken, the clock read, the handle found) and on metrics-util's histogram
//!    (with the recorder's own work, storing the sample).
//! 2. **A recorder**: `metrics_util`'s `DebuggingRecorder` (its histograms are the lock-free
//!    buckets the Prometheus exporter keeps; drained every 1 000 rounds, as a scrape would), no
//!    subscriber. A database binds its metric handles when it connects and a method its duration
//!    handle on its first call, so each side has its own database (the same file) and its own
//!    model (the same table), each the first and only database of its methods: A, nothing
//!    installed; A′, the same again, the control for what two databases and two models differ by;
//!    B, connected and first called under the recorder (`set_default_local_recorder`, also set
//!    around each of its batches, outside the timing). The recorder's samples are counted against
//!    B's calls at the end.
//! 3. **A subscriber**: `tracing_subscriber::registry()` with no layers, so every span is created,
//!    entered and closed; set around side C's batches (outside the timing), not A's, on the same
//!    repository. Last, because once a subscriber exists in the process every callsite is marked
//!    interesting, and A there creates its spans on tracing's no-op dispatcher instead of skipping
//!    them: part 1's call hooks are timed again in that state and the difference printed.
//!
//! Each round of parts 2 and 3 runs a batch of each side on the same keys, the order cycling
//! through all orders of the sides; a batch is one untimed `get` and ten timed ones. The untimed
//! one is there because sqlx returns a connection to its pool in a task spawned when it is dropped,
//! which pings it (a round trip to SQLite's worker) and runs at the next call's first await:
//! single `get`s timed back to back each paid the previous side's return, 10 µs on one side or the
//! other, and spread the per-round ratios over 0.6–1.6. The figures are the median per-round
//! ratios B/A, A′/A and C/A with their interquartile ranges, and each side's median time per `get`.
//!
//! ```text
//! cargo bench -p dbkit-tests --bench observability_overhead --no-run   # then, pinned to one core:
//! taskset -c 1 target/release/deps/observability_overhead-<hash> --bench
//! ```
//!
//! Without `--bench` (as `cargo test --benches` runs it) it does a fiftieth of the rounds.

use std::future::Future;
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use dbkit::prelude::*;
use dbkit_tests::paired::Paired;
use metrics::{Counter, Gauge, Histogram};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

// One model per side, all on the same table: a generated method caches its duration handle for
// the first database it runs on, so each side's database is the first of its own methods.

/// Sides A and C.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "bench_observe")]
pub struct Plain {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
    pub bio: Option<String>,
}

/// Side A′, the control.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "bench_observe")]
pub struct Twin {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
    pub bio: Option<String>,
}

/// Side B, under the recorder.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "bench_observe")]
pub struct Recorded {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
    pub bio: Option<String>,
}

const ROWS: i64 = 10_000;
/// Rounds of part 2 (a batch per side, three sides) and of part 3 (two sides).
const ROUNDS: usize = 20_000;
/// Timed `get`s in a side's batch, after one untimed.
const GETS: usize = 10;
/// Part 1: batches, and iterations in each.
const BATCHES: usize = 4_000;
const BATCH: usize = 1_000;
/// Part 2: the recorder is drained (as a scrape would) every this many rounds.
const SCRAPE_EVERY: usize = 1_000;

/// A key spread over the table (a multiplicative hash of the round).
fn key(round: usize) -> i64 {
    ((round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as i64 % ROWS + 1
}

/// One side's batch: an untimed `get`, which pays for returning the previous side's connection
/// (see the module docs), then `GETS` timed ones on keys from `first` on; the time per timed `get`.
macro_rules! timed {
    ($repo:expr, $first:expr) => {{
        black_box($repo.get(key($first + GETS)).await.unwrap());
        let t = Instant::now();
        for i in 0..GETS {
            black_box($repo.get(key($first + i)).await.unwrap());
        }
        t.elapsed() / GETS as u32
    }};
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let scale = if args.iter().any(|a| a == "--bench") { 1 } else { 50 };
    let (rounds, batches) = (ROUNDS / scale, BATCHES / scale);

    let dir = std::env::temp_dir().join(format!("dbkit-bench-observe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bench.db");
    let config = || DatabaseConfig::sqlite_file(&file).pool_size(1).max_overflow(0).pool_pre_ping(false);

    let db_a = Database::connect_named("plain", config()).await.unwrap();
    db_a.create_table::<Plain>().await.unwrap();
    let plain = PlainRepository::new(&db_a);
    let rows: Vec<NewPlain> = (0..ROWS)
        .map(|i| NewPlain { username: format!("user{i}"), email: format!("u{i}@example.com"), bio: None })
        .collect();
    plain.create_many(&rows).await.unwrap();
    let db_a2 = Database::connect_named("twin", config()).await.unwrap();
    let twin = TwinRepository::new(&db_a2);

    // B: connected and first called under the recorder, so its handles are the recorder's.
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let db_b = {
        let _recorder = metrics::set_default_local_recorder(&recorder);
        let db = Database::connect_named("recorded", config()).await.unwrap();
        RecordedRepository::new(&db).get(1).await.unwrap().unwrap();
        db
    };
    let recorded = RecordedRepository::new(&db_b);

    // Warm every side over every key: statement caches, each connection's page cache.
    for k in 1..=ROWS {
        assert_eq!(plain.get(k).await.unwrap().unwrap().username, format!("user{}", k - 1));
        twin.get(k).await.unwrap().unwrap();
        let _recorder = metrics::set_default_local_recorder(&recorder);
        recorded.get(k).await.unwrap().unwrap();
    }
    let mut b_calls = ROWS as usize + 1;
    let mut b_samples = duration_samples(&snapshotter);
    assert_eq!(b_samples, b_calls, "B's calls are recorded, and only B's");

    // How many times the executor polls a `get` (the instrumented future is polled as often).
    let mut polls = 0_usize;
    for round in 0..2_000 {
        let mut get = pin!(plain.get(key(round)));
        std::future::poll_fn(|cx| {
            polls += 1;
            get.as_mut().poll(cx)
        })
        .await
        .unwrap();
    }
    let polls_per_get = polls.div_ceil(2_000);

    // 1. Nothing installed: the hooks alone, as a database connected now has them; and the same
    //    with the clocks read, as before a database asked.
    let hooks = Hooks::new(polls_per_get as u32, dbkit::observe::recorder_installed(), None);
    assert!(!hooks.recording, "no recorder is installed yet");
    let none = hooks_alone(&hooks, batches);
    //    And with a recorder: dbkit's part (the branch taken, the clock read, the handle found)
    //    on no-op handles; then with metrics-util's histogram, which records each duration.
    let clocked = hooks_alone(&Hooks::new(polls_per_get as u32, true, None), batches / 4);
    let bucket_recorder = DebuggingRecorder::new();
    let bucketed = hooks_alone(&Hooks::new(polls_per_get as u32, true, Some(&bucket_recorder)), batches / 4);
    drop(bucket_recorder);

    // 2. A, A′ (control) and B (recorder), the same keys, the order cycling through all six.
    const ORDERS: [[u8; 3]; 6] = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [2, 1, 0], [1, 0, 2]];
    let mut times = [Vec::with_capacity(rounds), Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    for round in 0..rounds {
        let first = round * GETS;
        for side in ORDERS[round % 6] {
            let per_get = match side {
                0 => timed!(plain, first),
                1 => timed!(twin, first),
                _ => {
                    let _recorder = metrics::set_default_local_recorder(&recorder);
                    timed!(recorded, first)
                }
            };
            times[side as usize].push(per_get);
        }
        if (round + 1) % SCRAPE_EVERY == 0 {
            b_samples += duration_samples(&snapshotter);
        }
    }
    b_calls += rounds * (GETS + 1);
    b_samples += duration_samples(&snapshotter);
    let (mut b_over_a, mut twin_over_a) = (Paired::default(), Paired::default());
    for ((&a, &twin), &b) in times[0].iter().zip(&times[1]).zip(&times[2]) {
        b_over_a.record(b, a);
        twin_over_a.record(twin, a);
    }
    let a_median = median(&mut times[0].clone());

    // 3. C (a subscriber, spans on) against A on the same repository, alternating which goes first.
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry());
    // From here every callsite is interesting: A's spans go to the no-op dispatcher.
    let none_after = hooks_alone(&hooks, batches / 4);
    let mut c_over_a = Paired::default();
    for round in 0..rounds {
        let first = round * GETS;
        let (a, c);
        if round % 2 == 0 {
            a = timed!(plain, first);
            let _subscriber = tracing::dispatcher::set_default(&dispatch);
            c = timed!(plain, first);
        } else {
            {
                let _subscriber = tracing::dispatcher::set_default(&dispatch);
                c = timed!(plain, first);
            }
            a = timed!(plain, first);
        }
        c_over_a.record(c, a);
    }
    let spans = spans_of_gets(&plain).await;

    println!(
        "none: hooks {:.1} ns per get (IQR {:.1}–{:.1}; call {:.1} + pool {:.1}; a clock read {:.1}; \
         {polls_per_get} polls instrumented; medians of {batches} batches of {BATCH}) = {:.3} % of A's {:.2} µs get; \
         with a recorder: dbkit's part {:.1} ns = {:.3} %, with metrics-util's histogram recording {:.1} ns = {:.3} %",
        none.all.0,
        none.all.1,
        none.all.2,
        none.call.0,
        none.pool.0,
        none.clock.0,
        none.all.0 / (a_median.as_secs_f64() * 1e9) * 100.0,
        a_median.as_secs_f64() * 1e6,
        clocked.all.0,
        clocked.all.0 / (a_median.as_secs_f64() * 1e9) * 100.0,
        bucketed.all.0,
        bucketed.all.0 / (a_median.as_secs_f64() * 1e9) * 100.0,
    );
    println!("{}", b_over_a.report("recorder B/A", "B", "A"));
    println!("{}", twin_over_a.report("control A'/A", "A'", "A"));
    println!(
        "{}; A's call hooks here {:+.1} ns",
        c_over_a.report("subscriber C/A", "C", "A"),
        none_after.call.0 - none.call.0
    );
    println!("checks: recorder {b_samples} durations for B's {b_calls} calls; subscriber {spans} spans for 100 gets");
    assert_eq!(b_samples, b_calls);
    assert_eq!(spans, 100);

    db_a.close().await;
    db_a2.close().await;
    db_b.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Drains the recorder and counts its `db.client.operation.duration` samples.
fn duration_samples(snapshotter: &Snapshotter) -> usize {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == "db.client.operation.duration")
        .map(|(.., value)| match value {
            DebugValue::Histogram(samples) => samples.len(),
            _ => 0,
        })
        .sum()
}

/// The spans 100 `get`s make under a subscriber that counts them: that part 3's side C made spans.
async fn spans_of_gets(plain: &PlainRepository) -> usize {
    struct Count(&'static AtomicUsize);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if attrs.metadata().name() == "SELECT bench_observe" {
                self.0.fetch_add(1, Relaxed);
            }
        }
    }
    static SPANS: AtomicUsize = AtomicUsize::new(0);
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(Count(&SPANS)));
    for k in 1..=100 {
        plain.get(k).await.unwrap().unwrap();
    }
    SPANS.load(Relaxed)
}

/// What a pooled call holds for its hooks, registered with no recorder installed: noop handles.
struct Hooks {
    /// What a database asks when it connects: is a recorder installed?
    recording: bool,
    // The call's.
    id: u64,
    operation: OnceLock<(u64, Histogram)>,
    system: &'static str,
    namespace: String,
    server_address: String,
    polls: u32,
    // The pool's.
    pending: Gauge,
    used: Gauge,
    idle: Gauge,
    timeouts: Counter,
    wait_time: Histogram,
    use_time: Histogram,
    in_use: AtomicU32,
    open: AtomicU32,
    pool_size: AtomicU32,
}

impl Hooks {
    /// With `recorder`, the handles are its own (and `recording` is set), else no-op ones.
    fn new(polls: u32, recording: bool, recorder: Option<&DebuggingRecorder>) -> Hooks {
        match recorder {
            Some(recorder) => metrics::with_local_recorder(recorder, || Hooks::registered(polls, true)),
            None => Hooks::registered(polls, recording),
        }
    }

    fn registered(polls: u32, recording: bool) -> Hooks {
        let operation = OnceLock::new();
        operation
            .get_or_init(|| (7, metrics::histogram!("db.client.operation.duration", "db.system.name" => "sqlite")));
        Hooks {
            recording,
            id: 7,
            operation,
            system: "sqlite",
            namespace: "/tmp/bench.db".to_owned(),
            server_address: "localhost".to_owned(),
            polls,
            pending: metrics::gauge!("db.client.connection.pending_requests"),
            used: metrics::gauge!("db.client.connection.count", "db.client.connection.state" => "used"),
            idle: metrics::gauge!("db.client.connection.count", "db.client.connection.state" => "idle"),
            timeouts: metrics::counter!("db.client.connection.timeouts"),
            wait_time: metrics::histogram!("db.client.connection.wait_time"),
            use_time: metrics::histogram!("db.client.connection.use_time"),
            in_use: AtomicU32::new(0),
            open: AtomicU32::new(1),
            pool_size: AtomicU32::new(1),
        }
    }
}

/// A future ready on its `n + 1`th poll.
struct Polls(u32);

impl Future for Polls {
    type Output = ();
    // Out of line, as an attempt's poll is in a generated method (a large state machine): so that
    // neither side's loop folds it away.
    #[inline(never)]
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        Poll::Pending
    }
}

fn run_to_end(future: impl Future<Output = ()>) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    while future.as_mut().poll(&mut cx).is_pending() {}
}

/// The call loop the generated method runs (`dbkit_macros`' `call_loop`), on a stand-in for
/// `Call` with everything but the hooks taken out, around an attempt that polls `Polls`: what the
/// hooks are measured against.
struct BareCall<'h> {
    hooks: &'h Hooks,
}

impl BareCall<'_> {
    async fn attempt<T>(&self, attempt: Pin<&mut impl Future<Output = T>>) -> T {
        attempt.await
    }

    async fn finish<T>(&mut self, outcome: T) -> Option<T> {
        Some(outcome)
    }
}

/// The same, with the hooks `Call` has: the span slot, set by `Call::trace` from `call_span!`;
/// the span entered around each poll of the attempt (`Call::attempt`); `Call::text`; and
/// `record_call` in `Call::finish`. `started` stands for retry's start, which a call has anyway.
struct HookedCall<'h> {
    hooks: &'h Hooks,
    span: Option<tracing::Span>,
    started: quanta::Instant,
}

impl HookedCall<'_> {
    fn trace(&mut self, span: Option<tracing::Span>) {
        self.span = span;
    }

    fn text(&self, sql: &str) {
        if let Some(span) = &self.span
            && !span.is_disabled()
        {
            span.record("db.query.text", sql);
        }
    }

    async fn attempt<T>(&self, attempt: Pin<&mut impl Future<Output = T>>) -> T {
        match &self.span {
            None => attempt.await,
            Some(span) => attempt.instrument(span.clone()).await,
        }
    }

    async fn finish<T>(&mut self, outcome: T) -> Option<T> {
        if self.hooks.recording {
            let elapsed = self.started.elapsed();
            let (id, histogram) = self.hooks.operation.get_or_init(|| unreachable!());
            if *id == self.hooks.id {
                histogram.record(elapsed);
            }
        }
        Some(outcome)
    }
}

/// The loop's own work: polling the bare future to its end. What the pool's hooks and a clock
/// read are measured against.
#[inline(never)]
fn bare(h: &Hooks) {
    run_to_end(Polls(h.polls - 1));
}

/// The call loop without hooks, polling the bare future to its end. What the call's hooks are
/// measured against.
#[inline(never)]
fn bare_loop(h: &Hooks) {
    run_to_end(async {
        let mut call = BareCall { hooks: h };
        loop {
            let outcome = {
                let attempt = pin!(async {
                    Polls(call.hooks.polls - 1).await;
                    Ok::<(), ()>(())
                });
                call.attempt(attempt).await
            };
            if let Some(result) = call.finish(outcome).await {
                break black_box(result).unwrap();
            }
        }
    });
}

/// The call's hooks in the same loop, as the generated method has them.
#[inline(never)]
fn call_hooks(h: &Hooks, started: quanta::Instant) {
    run_to_end(async {
        let mut call = HookedCall { hooks: h, span: None, started };
        call.trace(if !dbkit::__private::spans_wanted() {
            None
        } else {
            Some(tracing::info_span!(
                target: "dbkit",
                "SELECT bench_observe",
                db.system.name = h.system,
                db.namespace = h.namespace.as_str(),
                db.operation.name = "SELECT",
                db.collection.name = "bench_observe",
                db.query.summary = "SELECT bench_observe",
                db.query.text = tracing::field::Empty,
                server.address = h.server_address.as_str(),
                error.type = tracing::field::Empty,
                otel.kind = "client",
                otel.status_code = tracing::field::Empty,
            ))
        });
        loop {
            let outcome = {
                let attempt = pin!(async {
                    call.text("SELECT ...");
                    Polls(call.hooks.polls - 1).await;
                    Ok::<(), ()>(())
                });
                call.attempt(attempt).await
            };
            if let Some(result) = call.finish(outcome).await {
                break black_box(result).unwrap();
            }
        }
    });
}

/// The pool's hooks (`Telemetry::acquiring`, `acquired`, `InFlight::checked_out`, `released`)
/// around the same polling.
#[inline(never)]
fn pool_hooks(h: &Hooks) {
    let checked_out = pool_acquired(h);
    run_to_end(Polls(h.polls - 1));
    pool_released(h, checked_out);
}

/// `Telemetry::acquiring` and `acquired`, and `InFlight::checked_out`: when the connection was
/// taken.
#[inline(always)]
fn pool_acquired(h: &Hooks) -> Option<quanta::Instant> {
    if !black_box(h.recording) {
        return None;
    }
    h.pending.increment(1.0);
    let started = quanta::Instant::now();
    let now = quanta::Instant::now();
    let size = h.pool_size.load(Relaxed);
    h.pending.decrement(1.0);
    h.wait_time.record(now.duration_since(started));
    if black_box(false) {
        h.timeouts.increment(1);
    }
    h.open.store(size, Relaxed);
    let used = h.in_use.fetch_add(1, Relaxed) + 1;
    h.used.set(used);
    h.idle.set(size.saturating_sub(used));
    black_box(Some(now))
}

/// `InFlight`'s drop: `Telemetry::released`.
#[inline(always)]
fn pool_released(h: &Hooks, checked_out: Option<quanta::Instant>) {
    if let Some(at) = checked_out {
        h.use_time.record(at.elapsed());
        let used = h.in_use.fetch_sub(1, Relaxed).saturating_sub(1);
        h.used.set(used);
        h.idle.set(h.open.load(Relaxed).saturating_sub(used));
    }
}

/// One clock read, around the same polling: what most of the hooks are.
#[inline(never)]
fn clock(h: &Hooks) {
    black_box(quanta::Instant::now());
    run_to_end(Polls(h.polls - 1));
}

/// Median, first and third quartile, in ns per iteration.
type Quartiles = (f64, f64, f64);

struct HooksAlone {
    call: Quartiles,
    pool: Quartiles,
    all: Quartiles,
    clock: Quartiles,
}

/// Part 1: each variant's batch minus the bare loop's in the same round, the order rotating.
fn hooks_alone(h: &Hooks, batches: usize) -> HooksAlone {
    let started = quanta::Instant::now();
    let batch = |variant: usize| {
        let t = Instant::now();
        for _ in 0..BATCH {
            let h = black_box(h);
            match variant {
                0 => bare(h),
                1 => call_hooks(h, black_box(started)),
                2 => pool_hooks(h),
                3 => bare_loop(h),
                _ => clock(h),
            }
        }
        t.elapsed().as_secs_f64() * 1e9 / BATCH as f64
    };
    // Warm up.
    for variant in 0..5 {
        batch(variant);
    }
    let mut diffs: [Vec<f64>; 4] = Default::default();
    for round in 0..batches {
        let mut ns = [0.0; 5];
        for i in 0..5 {
            let variant = (round + i) % 5;
            ns[variant] = batch(variant);
        }
        // The call's hooks against the call loop without them; the pool's and the clock against
        // the polling alone.
        let [call, pool, clock] = [ns[1] - ns[3], ns[2] - ns[0], ns[4] - ns[0]];
        // SQLite's engine has no pool checkout to time: its calls have the call's hooks alone.
        // (The pool's, printed apart, are the sqlx backends'.)
        for (diff, ns) in diffs.iter_mut().zip([call, pool, call, clock]) {
            diff.push(ns);
        }
    }
    let quartiles = |d: &mut Vec<f64>| {
        d.sort_by(f64::total_cmp);
        let n = d.len();
        (d[n / 2], d[n / 4], d[3 * n / 4])
    };
    let [mut call, mut pool, mut all, mut clock] = diffs;
    HooksAlone {
        call: quartiles(&mut call),
        pool: quartiles(&mut pool),
        all: quartiles(&mut all),
        clock: quartiles(&mut clock),
    }
}
