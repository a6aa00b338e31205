//! Metrics and tracing (`dbkit::observe`): with an in-process recorder (metrics-util's
//! `DebuggingRecorder`) and a span capture (a `tracing-subscriber` layer that keeps every span's
//! name and fields and every event), on SQLite, PostgreSQL and MariaDB:
//!
//! - each generated method records `db.client.operation.duration` once a call, labelled as
//!   OpenTelemetry's conventions say, and runs in one span named by its query summary whose
//!   `db.query.text` is the statement with placeholders;
//! - a failure is labelled with its `error.type`, and marks its span;
//! - the pool's metrics: wait and use times, pending requests, connection counts and limits, and a
//!   pool timeout counted; a unit of work is one `transaction` span, its retries counted
//!   (`dbkit.retries`); a drain sets `dbkit.drain.state` and records `dbkit.drain.duration`;
//! - a hostile marker bound into every method, and carried by a unique clash whose server message
//!   quotes it (MariaDB: "Duplicate entry '…'"), appears in nothing recorded. The control: the
//!   same search finds the marker when an event does carry it.
//!
//! Recorder and subscriber are thread-local (`set_default_local_recorder`, `set_default`), so each
//! test has its own, on the current-thread runtime `#[tokio::test]` gives it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbkit::prelude::*;
use dbkit::{Backend, DatabaseConfig, DrainMode, Error};
use dbkit_tests::record_metrics;
use metrics_util::debugging::{DebugValue, Snapshotter};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

const MARKER: &str = "HOSTILE-7f3a9c-marker";

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "obs_accounts")]
pub struct Account {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub note: Option<String>,
}

#[dbkit::queries]
impl AccountRepository {
    #[query("SELECT id, username, note FROM obs_accounts WHERE note = :note")]
    async fn by_note(&self, note: &str) -> dbkit::Result<Vec<Account>>;
}

/// A span's or an event's fields, by name, as text; under [`PARENT`], the name of the span it is
/// in, if any.
type FieldMap = BTreeMap<String, String>;

/// The capture's own field: the name of the span a span or an event is in.
const PARENT: &str = "(parent)";

/// What the span capture saw: every span (name and fields, later records included) and every
/// event (its fields), as text.
#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<BTreeMap<u64, (String, FieldMap)>>>,
    events: Arc<Mutex<Vec<FieldMap>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        if let Some(parent) = ctx.span(id).and_then(|span| span.parent()) {
            fields.insert(PARENT.to_owned(), parent.name().to_owned());
        }
        self.spans.lock().unwrap().insert(id.into_u64(), (attrs.metadata().name().to_owned(), fields));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some((_, fields)) = self.spans.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        fields.insert("level".to_owned(), event.metadata().level().to_string());
        if let Some(span) = ctx.event_span(event) {
            fields.insert(PARENT.to_owned(), span.name().to_owned());
        }
        self.events.lock().unwrap().push(fields);
    }
}

impl Capture {
    fn spans_named(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        self.spans.lock().unwrap().values().filter(|(n, _)| n == name).map(|(_, f)| f.clone()).collect()
    }

    /// The events whose message is `message`.
    fn events_saying(&self, message: &str) -> Vec<FieldMap> {
        self.events.lock().unwrap().iter().filter(|e| e.get("message").is_some_and(|m| m == message)).cloned().collect()
    }

    /// Everything the capture holds, as one text to search.
    fn text(&self) -> String {
        format!("{:?}\n{:?}", self.spans.lock().unwrap(), self.events.lock().unwrap())
    }
}

/// A span capture for this thread until the guard drops.
fn capture_spans() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    (capture, guard)
}

/// One metric as the recorder holds it: name, labels, value.
#[derive(Debug)]
struct Metric {
    name: String,
    labels: BTreeMap<String, String>,
    value: DebugValue,
}

fn metrics(snapshotter: &Snapshotter) -> Vec<Metric> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| Metric {
            name: key.key().name().to_owned(),
            labels: key.key().labels().map(|l| (l.key().to_owned(), l.value().to_owned())).collect(),
            value,
        })
        .collect()
}

fn find<'a>(metrics: &'a [Metric], name: &str, labels: &[(&str, &str)]) -> Vec<&'a Metric> {
    metrics
        .iter()
        .filter(|m| m.name == name && labels.iter().all(|(k, v)| m.labels.get(*k).map(String::as_str) == Some(*v)))
        .collect()
}

fn histogram_count(metric: &Metric) -> usize {
    match &metric.value {
        DebugValue::Histogram(values) => values.len(),
        other => panic!("{} is not a histogram: {other:?}", metric.name),
    }
}

fn system_name(db: &Database) -> &'static str {
    match db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
        Backend::MySql if db.mysql_flavor() == Some(dbkit::MySqlFlavor::MariaDb) => "mariadb",
        Backend::MySql => "mysql",
        other => unreachable!("{other} is not tested here"),
    }
}

async fn fresh_table(db: &Database) {
    db.drop_table::<Account>().await.unwrap();
    db.create_table::<Account>().await.unwrap();
}

/// Every generated method once, with the marker bound wherever a value goes, and a unique clash
/// on the marker. Returns how many calls of each method ran.
async fn every_method(db: &Database) -> BTreeMap<&'static str, usize> {
    let repo = AccountRepository::new(db);
    let marker_note = Some(format!("{MARKER} note"));
    let created = repo.create(&NewAccount { username: MARKER.to_owned(), note: marker_note.clone() }).await.unwrap();
    let clash = repo.create(&NewAccount { username: MARKER.to_owned(), note: None }).await.unwrap_err();
    assert_eq!(clash.unique_violation(), Some("username"), "{clash}");
    repo.create_many(&[NewAccount { username: format!("{MARKER}-2"), note: marker_note.clone() }]).await.unwrap();
    assert!(repo.get(created.id).await.unwrap().is_some());
    assert!(repo.get_by_username(MARKER).await.unwrap().is_some());
    assert_eq!(repo.list(Page::new(0, 10)).await.unwrap().len(), 2);
    assert_eq!(repo.count().await.unwrap(), 2);
    let patch = AccountPatch { note: Some(Some(format!("{MARKER} patched"))), ..Default::default() };
    assert!(repo.update(created.id, &patch).await.unwrap().is_some());
    assert_eq!(repo.by_note(&format!("{MARKER} patched")).await.unwrap().len(), 1);
    assert!(repo.delete(created.id).await.unwrap());
    BTreeMap::from([
        ("create", 2),
        ("create_many", 1),
        ("get", 1),
        ("get_by_username", 1),
        ("list", 1),
        ("count", 1),
        ("update", 1),
        ("by_note", 1),
        ("delete", 1),
    ])
}

async fn records_each_method(db_for: impl AsyncFnOnce() -> Option<Database>) {
    let (snapshotter, _metrics) = record_metrics();
    let (capture, _spans) = capture_spans();
    // Connected under the recorder: the pool registers its handles when it connects.
    let Some(db) = db_for().await else { return };
    fresh_table(&db).await;
    let setup = metrics(&snapshotter); // forget the table's setup (what a histogram held is taken)
    let calls = every_method(&db).await;
    let system = system_name(&db);
    let recorded = metrics(&snapshotter);

    // One duration per successful call, labelled with the statement's verb and table.
    let verbs = [
        ("SELECT", calls["get"] + calls["get_by_username"] + calls["list"] + calls["count"] + calls["by_note"]),
        ("INSERT", calls["create"] - 1 + calls["create_many"]),
        ("UPDATE", calls["update"]),
        ("DELETE", calls["delete"]),
    ];
    for (verb, expected) in verbs {
        let durations = find(
            &recorded,
            "db.client.operation.duration",
            &[("db.system.name", system), ("db.operation.name", verb), ("db.collection.name", "obs_accounts")],
        );
        let ok: usize =
            durations.iter().filter(|m| !m.labels.contains_key("error.type")).map(|m| histogram_count(m)).sum();
        assert_eq!(ok, expected, "{system} {verb}: {durations:?}");
        for metric in durations {
            assert!(metric.labels.contains_key("db.namespace"), "{metric:?}");
            assert!(metric.labels.contains_key("server.address"), "{metric:?}");
        }
    }
    // The clash: one failed INSERT, labelled with its category.
    let failed = find(
        &recorded,
        "db.client.operation.duration",
        &[("db.operation.name", "INSERT"), ("error.type", "integrity")],
    );
    assert_eq!(failed.iter().map(|m| histogram_count(m)).sum::<usize>(), 1, "{failed:?}");

    // The pool: each session waited for and returned; limits as configured.
    let pool = [("db.client.connection.pool.name", db.name())];
    let waits: usize =
        find(&recorded, "db.client.connection.wait_time", &pool).iter().map(|m| histogram_count(m)).sum();
    let uses: usize = find(&recorded, "db.client.connection.use_time", &pool).iter().map(|m| histogram_count(m)).sum();
    let total_calls: usize = calls.values().sum();
    if db.backend() == Backend::Sqlite {
        // dbkit's own SQLite engine has no pool to wait on: nothing is timed per call.
        assert_eq!((waits, uses), (0, 0), "{system}");
    } else {
        assert!(waits >= total_calls, "{system}: {waits} waits for {total_calls} calls");
        assert_eq!(uses, waits, "{system}: every connection waited for was given back");
        // dbkit's pool opens its connections itself, and times each.
        let created: usize = [&setup, &recorded]
            .into_iter()
            .flat_map(|snapshot| find(snapshot, "db.client.connection.create_time", &pool))
            .map(histogram_count)
            .sum();
        assert!(created >= 1, "{system}: no connection's creation was timed");
    }
    for gauge in ["db.client.connection.pending_requests", "db.client.connection.count"] {
        assert!(!find(&recorded, gauge, &pool).is_empty(), "{system}: {gauge} in {recorded:?}");
    }

    // One span per call, named by its summary, with the statement's text and no value.
    let selects = capture.spans_named("SELECT obs_accounts");
    assert!(selects.len() >= 5, "{system}: {selects:?}");
    for span in &selects {
        assert_eq!(span.get("db.system.name").map(String::as_str), Some(system), "{span:?}");
        assert_eq!(span.get("otel.kind").map(String::as_str), Some("client"), "{span:?}");
        let text = span.get("db.query.text").unwrap_or_else(|| panic!("{system}: no db.query.text in {span:?}"));
        assert!(text.starts_with("SELECT"), "{text}");
    }
    let inserts = capture.spans_named("INSERT obs_accounts");
    assert_eq!(inserts.len(), 3, "{system}: create twice and create_many once: {inserts:?}");
    let marked: Vec<_> =
        inserts.iter().filter(|s| s.get("otel.status_code").map(String::as_str) == Some("ERROR")).collect();
    assert_eq!(marked.len(), 1, "{system}: the clash marks its span: {inserts:?}");
    assert_eq!(marked[0].get("error.type").map(String::as_str), Some("integrity"));
    assert_eq!(capture.spans_named("UPDATE obs_accounts").len(), 1);
    assert_eq!(capture.spans_named("DELETE obs_accounts").len(), 1);

    // Nothing recorded carries the marker.
    let everything = format!("{recorded:?}\n{}", capture.text());
    assert!(!everything.contains(MARKER), "{system}: the bound marker was recorded:\n{everything}");
    // Nor the test server's credentials (SQLite has none): the password is the user's name here,
    // so look for the URL's `user:password@`.
    if let Some(url) = dbkit_tests::server_url(db.backend()).filter(|_| db.backend() != Backend::Sqlite) {
        let url = url::Url::parse(&url).unwrap();
        let credentials = format!("{}:{}@", url.username(), url.password().expect("the test server has a password"));
        assert!(!everything.contains(&credentials), "{system}: the credentials were recorded:\n{everything}");
    }
}

#[tokio::test]
async fn sqlite_records_each_method() {
    records_each_method(async || dbkit_tests::connect(Backend::Sqlite).await).await;
}

#[tokio::test]
async fn postgres_records_each_method() {
    records_each_method(async || dbkit_tests::connect(Backend::Postgres).await).await;
}

#[tokio::test]
async fn mariadb_records_each_method() {
    records_each_method(async || dbkit_tests::connect(Backend::MySql).await).await;
}

/// The control of the marker search: an event that does carry the marker is found.
#[tokio::test]
async fn control_the_search_finds_a_marker_that_was_recorded() {
    let (capture, _spans) = capture_spans();
    let note = format!("{MARKER} note");
    tracing::info!(value = %note, "an application's own event that logs a value");
    assert!(capture.text().contains(MARKER));
}

/// A pool of one connection, held: the next session times out and is counted.
#[tokio::test]
async fn a_pool_timeout_is_counted() {
    let (snapshotter, _metrics) = record_metrics();
    let Some(db) = dbkit_tests::connect_configured(Backend::Postgres, |c: DatabaseConfig| {
        c.pool_size(1).max_overflow(0).pool_timeout(Duration::from_millis(200))
    })
    .await
    else {
        return;
    };
    let held = db.session::<dbkit::sqlx::Postgres>().await.unwrap();
    let error = db.session::<dbkit::sqlx::Postgres>().await.unwrap_err();
    assert_eq!(error.category(), dbkit::ErrorCategory::Timeout, "{error}");
    drop(held);
    let recorded = metrics(&snapshotter);
    let pool = [("db.client.connection.pool.name", db.name())];
    let timeouts = find(&recorded, "db.client.connection.timeouts", &pool);
    assert!(matches!(timeouts.as_slice(), [m] if m.value == DebugValue::Counter(1)), "{timeouts:?}");
    let max = find(&recorded, "db.client.connection.max", &pool);
    assert!(matches!(max.as_slice(), [m] if m.value == DebugValue::Gauge(1.0.into())), "{max:?}");
    let waits = find(&recorded, "db.client.connection.wait_time", &pool);
    assert_eq!(waits.iter().map(|m| histogram_count(m)).sum::<usize>(), 2, "{waits:?}");
}

/// A unit of work retried once: one `transaction` span per run, the retry counted by category,
/// and the generated calls inside it are its children.
#[tokio::test]
async fn a_retried_unit_of_work_is_counted_and_traced() {
    let (snapshotter, _metrics) = record_metrics();
    let (capture, _spans) = capture_spans();
    let Some(db) = dbkit_tests::connect(Backend::Postgres).await else { return };
    fresh_table(&db).await;
    let repo = AccountRepository::new(&db);
    let mut runs = 0;
    let policy = dbkit::retry::RetryPolicy::default().max_attempts(3);
    db.transaction_with(&policy, async |tx| {
        runs += 1;
        repo.in_transaction(tx).count().await?;
        if runs == 1 {
            // A transient failure before COMMIT: the unit runs again.
            return Err(Error::Timeout { database: "test".to_owned(), what: "a test", elapsed: Duration::ZERO });
        }
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(runs, 2);
    let recorded = metrics(&snapshotter);
    let retries = find(&recorded, "dbkit.retries", &[("error.type", "timeout"), ("db.system.name", "postgresql")]);
    assert!(matches!(retries.as_slice(), [m] if m.value == DebugValue::Counter(1)), "{retries:?}");
    let transactions = capture.spans_named("transaction");
    assert_eq!(transactions.len(), 2, "{transactions:?}");
    assert_eq!(transactions[0].get("error.type").map(String::as_str), Some("timeout"));
    let selects = capture.spans_named("SELECT obs_accounts");
    assert_eq!(selects.len(), 2);
    for select in &selects {
        assert_eq!(select.get(PARENT).map(String::as_str), Some("transaction"), "{select:?}");
    }
    let retries = capture.events_saying("retrying");
    assert_eq!(retries.len(), 1, "{retries:?}");
}

/// A generated call that fails and is tried again is still one span, named by its summary, with
/// its retry and its failure as events inside it, and is marked failed. The failure: a pool of
/// one connection, held, so each attempt times out waiting (nothing sent: safe to retry). The
/// control: an event outside any call is seen outside any span, so "inside" is not a default.
#[tokio::test]
async fn a_retried_call_is_one_span_with_its_retries_inside() {
    let (snapshotter, _metrics) = record_metrics();
    let (capture, _spans) = capture_spans();
    let Some(db) = dbkit_tests::connect_configured(Backend::Postgres, |c: DatabaseConfig| {
        c.pool_size(1).max_overflow(0).pool_timeout(Duration::from_millis(100))
    })
    .await
    else {
        return;
    };
    fresh_table(&db).await;
    let policy = dbkit::retry::RetryPolicy::default().max_attempts(2);
    let repo = AccountRepository::new(&db).with_options(dbkit::CallOptions::new().retry(policy));
    let held = db.session::<dbkit::sqlx::Postgres>().await.unwrap();
    let error = repo.count().await.unwrap_err();
    drop(held);
    assert_eq!(error.category(), dbkit::ErrorCategory::Timeout, "{error}");
    tracing::info!("outside any call");

    let counts: Vec<_> = capture.spans_named("SELECT obs_accounts");
    assert_eq!(counts.len(), 1, "one span for both attempts: {counts:?}");
    assert_eq!(counts[0].get("error.type").map(String::as_str), Some("timeout"), "{counts:?}");
    assert_eq!(counts[0].get("otel.status_code").map(String::as_str), Some("ERROR"), "{counts:?}");
    for message in ["retrying", "call failed"] {
        let events = capture.events_saying(message);
        assert_eq!(events.len(), 1, "{message}: {events:?}");
        assert_eq!(events[0].get(PARENT).map(String::as_str), Some("SELECT obs_accounts"), "{message}: {events:?}");
    }
    let outside = capture.events_saying("outside any call");
    assert_eq!(outside.len(), 1);
    assert_eq!(outside[0].get(PARENT), None, "{outside:?}");
    let recorded = metrics(&snapshotter);
    let retries = find(&recorded, "dbkit.retries", &[("error.type", "timeout"), ("db.system.name", "postgresql")]);
    assert!(matches!(retries.as_slice(), [m] if m.value == DebugValue::Counter(1)), "{retries:?}");
}

/// A drain: the state gauge goes to closed (2), and its duration is recorded with its mode.
#[tokio::test]
async fn a_drain_is_recorded() {
    let (snapshotter, _metrics) = record_metrics();
    let Some(db) = dbkit_tests::connect(Backend::Sqlite).await else { return };
    let opened = metrics(&snapshotter);
    let pool = [("db.client.connection.pool.name", db.name())];
    let state = find(&opened, "dbkit.drain.state", &pool);
    assert!(matches!(state.as_slice(), [m] if m.value == DebugValue::Gauge(0.0.into())), "{state:?}");
    db.drain(DrainMode::Graceful, Duration::from_secs(5)).await;
    let drained = metrics(&snapshotter);
    let state = find(&drained, "dbkit.drain.state", &pool);
    assert!(matches!(state.as_slice(), [m] if m.value == DebugValue::Gauge(2.0.into())), "{state:?}");
    let duration = find(&drained, "dbkit.drain.duration", &[("dbkit.drain.mode", "graceful")]);
    assert_eq!(duration.iter().map(|m| histogram_count(m)).sum::<usize>(), 1, "{duration:?}");
}

#[derive(Debug, Clone, PartialEq, Repository, serde::Serialize, serde::Deserialize)]
#[database(sqlite)]
#[repository(table = "obs_cached", cache(ttl = "5m"))]
pub struct Cached {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
}

/// A cached repository: a miss then a hit, counted under the cache's name (its key prefix); the
/// cache's decisions are events inside the call's span; the marker, a unique value that is part
/// of a cache key, is in nothing recorded.
#[tokio::test]
async fn the_cache_counts_its_decisions() {
    let (snapshotter, _metrics) = record_metrics();
    let (capture, _spans) = capture_spans();
    let Some(url) = dbkit_tests::redis_url() else { return };
    let prefix = dbkit_tests::unique_name("obs");
    let config = dbkit::cache::RedisCacheConfig::from_url(&url).unwrap().key_prefix(prefix.clone());
    let cache = dbkit::RedisCache::connect_with(config).await.unwrap();
    let db = dbkit_tests::connect(Backend::Sqlite).await.unwrap();
    db.create_table::<Cached>().await.unwrap();
    let repo = CachedRepository::new(&db).with_cache(cache);
    let created = repo.create(&NewCached { username: MARKER.to_owned() }).await.unwrap();
    for _ in 0..2 {
        assert_eq!(repo.get_by_username(MARKER).await.unwrap().as_ref(), Some(&created));
    }
    let recorded = metrics(&snapshotter);
    let name = [("dbkit.cache.name", prefix.as_str())];
    let counter = |metric: &str| match find(&recorded, metric, &name).as_slice() {
        [Metric { value: DebugValue::Counter(n), .. }] => *n,
        other => panic!("{metric}: {other:?}"),
    };
    // Each read looks up twice (the unique value's key, then the row by key): the first misses
    // both, the second hits both.
    assert_eq!(counter("dbkit.cache.misses"), 2, "{recorded:?}");
    assert_eq!(counter("dbkit.cache.hits"), 2, "{recorded:?}");
    assert_eq!(counter("dbkit.cache.redis_failures"), 0, "{recorded:?}");
    let decisions: Vec<FieldMap> =
        capture.events.lock().unwrap().iter().filter(|e| e.contains_key("dbkit.cache.outcome")).cloned().collect();
    let outcomes: Vec<&str> = decisions.iter().map(|e| e["dbkit.cache.outcome"].as_str()).collect();
    assert_eq!(outcomes, ["filled", "filled", "hit", "hit"], "{decisions:?}");
    for decision in &decisions {
        assert_eq!(decision.get(PARENT).map(String::as_str), Some("SELECT obs_cached"), "{decision:?}");
    }
    // Per read, the cached `get_by_username` and, inside it, the cached `get` by the key it found.
    assert_eq!(capture.spans_named("SELECT obs_cached").iter().filter(|s| s.contains_key("dbkit.cached")).count(), 4);
    let everything = format!("{recorded:?}\n{}", capture.text());
    assert!(!everything.contains(MARKER), "the cached unique value was recorded:\n{everything}");
}

/// With no recorder when it connects, a database reads no clock for metrics and records nothing
/// for its life, even under a recorder installed later ("install the recorder before connecting").
/// The control: the same calls on a database connected under that recorder are recorded.
#[tokio::test]
async fn a_database_connected_with_no_recorder_records_nothing() {
    assert!(!dbkit::observe::recorder_installed(), "no recorder on this thread yet");
    let Some(unobserved) = dbkit_tests::connect(Backend::Sqlite).await else { return };
    let (snapshotter, _metrics) = record_metrics();
    assert!(dbkit::observe::recorder_installed(), "metrics-util's recorder is seen");
    let Some(observed) = dbkit_tests::connect(Backend::Sqlite).await else { return };
    for db in [&unobserved, &observed] {
        fresh_table(db).await;
        let repo = AccountRepository::new(db);
        let created = repo.create(&NewAccount { username: "quiet".to_owned(), note: None }).await.unwrap();
        assert!(repo.get(created.id).await.unwrap().is_some());
    }
    let metrics = metrics(&snapshotter);
    let durations = find(&metrics, "db.client.operation.duration", &[("db.operation.name", "SELECT")]);
    let samples: usize = durations.iter().map(|m| histogram_count(m)).sum();
    assert_eq!(samples, 1, "only the database connected under the recorder records its get: {durations:?}");
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "obs_events")]
pub struct Event {
    #[key]
    pub id: u64,
    #[unique]
    pub name: String,
}

/// ClickHouse: each generated call records its duration and has its span, labelled `clickhouse`;
/// and no pool metric is made up. Its connections are hyper's, inside the `clickhouse` crate's
/// client, which dbkit neither sizes nor sees. The control: the same recorder holds a SQLite
/// database's pool limits, connected alongside.
#[tokio::test]
async fn clickhouse_records_its_calls_and_no_pool() {
    let (snapshotter, _metrics) = record_metrics();
    let (capture, _spans) = capture_spans();
    let Some(db) = dbkit_tests::connect(Backend::ClickHouse).await else { return };
    let control = dbkit_tests::connect(Backend::Sqlite).await.unwrap();
    db.drop_table::<Event>().await.unwrap();
    db.create_table::<Event>().await.unwrap();
    let repo = EventRepository::new(&db);
    repo.create_many(&[NewEvent { id: 1, name: MARKER.to_owned() }]).await.unwrap();
    assert!(repo.get(1).await.unwrap().is_some());
    assert!(repo.get_by_name(MARKER).await.unwrap().is_some());
    let recorded = metrics(&snapshotter);

    let durations = find(&recorded, "db.client.operation.duration", &[("db.system.name", "clickhouse")]);
    let by_verb = |verb: &str| -> usize {
        durations.iter().filter(|m| m.labels["db.operation.name"] == verb).map(|m| histogram_count(m)).sum()
    };
    assert_eq!((by_verb("INSERT"), by_verb("SELECT")), (1, 2), "{durations:?}");
    assert_eq!(capture.spans_named("SELECT obs_events").len(), 2);
    for (name, pool) in [(db.name(), false), (control.name(), true)] {
        let limits = find(&recorded, "db.client.connection.max", &[("db.client.connection.pool.name", name)]);
        assert_eq!(!limits.is_empty(), pool, "{name}: {limits:?}");
    }
    let pool_metrics: Vec<_> = recorded
        .iter()
        .filter(|m| m.name.starts_with("db.client.connection.") && m.labels.values().any(|v| v == db.name()))
        .collect();
    assert!(pool_metrics.is_empty(), "{pool_metrics:?}");
    let everything = format!("{recorded:?}\n{}", capture.text());
    assert!(!everything.contains(MARKER), "the bound marker was recorded:\n{everything}");
}
