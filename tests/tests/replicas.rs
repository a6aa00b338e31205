//! Read replicas against real replication on loopback (issue 19): a PostgreSQL streaming standby
//! and a MariaDB GTID replica, started by `scripts/servers`.
//!
//! Which server answered is proved from the server side, not by trusting the router: with the
//! replica's replay paused (`pg_wal_replay_pause()`, `STOP SLAVE SQL_THREAD`), a row written on the
//! primary is on the primary only, so a read that does not find it was served by the replica, and
//! one that does was not.
//!
//! The tests pause, stop and start the shared replicas, so they hold one lock and put the replica
//! back as they found it.

use std::time::Duration;

use dbkit::RedisCache;
use dbkit::cache::RedisCacheConfig;
use dbkit::prelude::*;
use dbkit::sqlx;
use dbkit::{Backend, CallOptions, ReadFrom, ReplicaPosition, ReplicaState};
use dbkit_test_servers::{Server, Servers};
use dbkit_tests::{record_metrics, redis_url, replica_url, server_url, servers, unique_name};
use metrics_util::debugging::{DebugValue, Snapshotter};

static REPLICAS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `dbkit.replica.reads` since the last call (the recorder's snapshot takes what it reports): the
/// reads routed to a replica, and to the primary.
fn routed(snapshotter: &Snapshotter) -> (u64, u64) {
    let mut routed = (0, 0);
    for (key, .., value) in snapshotter.snapshot().into_vec() {
        if key.key().name() != "dbkit.replica.reads" {
            continue;
        }
        let DebugValue::Counter(n) = value else { panic!("not a counter: {value:?}") };
        match key.key().labels().find(|l| l.key() == "dbkit.read.target").map(|l| l.value().to_owned()).as_deref() {
            Some("replica") => routed.0 += n,
            Some("primary") => routed.1 += n,
            other => panic!("unexpected target {other:?}"),
        }
    }
    routed
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres, mysql)]
#[repository(table = "replica_notes")]
pub struct Note {
    #[key]
    pub id: i64,
    pub body: String,
}

/// Waits up to 20 s for `done`, checking every 25 ms; whether it came.
async fn eventually(mut done: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..800 {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

/// One backend's primary, replica and the statements that pause and resume the replica's replay.
struct Setup {
    backend: Backend,
    primary: String,
    replica: String,
    servers: Servers,
    server: Server,
    pause: &'static str,
    resume: &'static str,
}

impl Setup {
    fn new(backend: Backend) -> Option<Setup> {
        let (primary, replica, servers) = (server_url(backend)?, replica_url(backend)?, servers()?);
        let (server, pause, resume) = match backend {
            Backend::Postgres => {
                (Server::PostgresStandby, "SELECT pg_wal_replay_pause()::text", "SELECT pg_wal_replay_resume()::text")
            }
            _ => (Server::MariaDbReplica, "STOP SLAVE SQL_THREAD", "START SLAVE SQL_THREAD"),
        };
        Some(Setup { backend, primary, replica, servers, server, pause, resume })
    }

    /// The primary with its replica, checked every 50 ms.
    async fn connect(&self, adjust: impl FnOnce(DatabaseConfig) -> DatabaseConfig) -> Database {
        let config = DatabaseConfig::from_url(&self.primary)
            .unwrap()
            .replica(&self.replica)
            .replica_check_interval(Duration::from_millis(50));
        Database::connect_with(adjust(config)).await.unwrap()
    }

    /// Runs `sql` on the replica itself.
    async fn on_replica(&self, sql: &'static str) {
        let db = Database::connect_with(DatabaseConfig::from_url(&self.replica).unwrap().pool_size(1)).await.unwrap();
        match self.backend {
            Backend::Postgres => {
                let mut s = db.session::<sqlx::Postgres>().await.unwrap();
                sqlx::query(sql).execute(&mut *s).await.unwrap();
            }
            _ => {
                let mut s = db.session::<sqlx::MySql>().await.unwrap();
                sqlx::raw_sql(sql).execute(&mut *s).await.unwrap();
            }
        }
        db.close().await;
    }

    async fn pause(&self) {
        self.on_replica(self.pause).await;
    }

    async fn resume(&self) {
        self.on_replica(self.resume).await;
    }

    /// A fresh table on the primary, replicated and the replica healthy.
    async fn fresh_table(&self, db: &Database) {
        db.drop_table::<Note>().await.unwrap();
        db.create_table::<Note>().await.unwrap();
        let notes = NoteRepository::new(db);
        notes.create(&NewNote { id: 0, body: "replicated".into() }).await.unwrap();
        let replicated = eventually(async || {
            replica_state(db).await == ReplicaState::Healthy && matches!(notes.get(0).await, Ok(Some(_)))
        });
        assert!(replicated.await, "the replica never caught up: {:?}", db.info().await.unwrap().replicas);
    }
}

async fn replica_state(db: &Database) -> ReplicaState {
    db.info().await.unwrap().replicas[0].state
}

fn on_primary() -> CallOptions {
    CallOptions::new().reads(ReadFrom::Primary)
}

fn at_least(position: ReplicaPosition) -> CallOptions {
    CallOptions::new().reads(ReadFrom::AtLeast(position))
}

macro_rules! replica_tests {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reads_go_to_the_replica_and_read_your_writes_waits_or_falls_back() {
                let Some(setup) = Setup::new($backend) else { return };
                let _lock = REPLICAS.lock().await;
                let (metrics, _guard) = record_metrics();
                setup.resume().await;
                let db = setup.connect(|c| c).await;
                setup.fresh_table(&db).await;
                let notes = NoteRepository::new(&db);
                routed(&metrics); // from here on

                setup.pause().await;
                notes.create(&NewNote { id: 1, body: "written".into() }).await.unwrap();
                // Served by the replica, which has not replayed the write.
                assert_eq!(notes.get(1).await.unwrap(), None, "a read went to the primary");
                assert_eq!(notes.count().await.unwrap(), 1, "a count went to the primary");
                // Control: the primary has it, and the per-repository switch reads there.
                let row = notes.clone().with_options(on_primary()).get(1).await.unwrap();
                assert_eq!(row.map(|n| n.body), Some("written".to_owned()));
                // The metrics say the same: two reads on the replica, one on the primary.
                assert_eq!(routed(&metrics), (2, 1));
                // Read-your-writes: the replica is behind the position, so the read waits, then
                // falls back to the primary, and never returns the old state.
                let position = db.primary_position().await.unwrap();
                let carried: ReplicaPosition = position.to_string().parse().unwrap();
                let row = notes.clone().with_options(at_least(carried.clone())).get(1).await.unwrap();
                assert!(row.is_some(), "a read at {carried} returned the state before it");

                // Resumed: the replica replays the write and is used again.
                setup.resume().await;
                assert!(eventually(async || notes.get(1).await.unwrap().is_some()).await);
                let row = notes.clone().with_options(at_least(carried)).get(1).await.unwrap();
                assert!(row.is_some());
                setup.pause().await;
                notes.create(&NewNote { id: 2, body: "second".into() }).await.unwrap();
                assert_eq!(notes.get(2).await.unwrap(), None, "the replica was not used again");
                setup.resume().await;

                db.drop_table::<Note>().await.unwrap();
                db.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_stopped_replica_sends_reads_to_the_primary_without_a_failed_call() {
                let Some(setup) = Setup::new($backend) else { return };
                let _lock = REPLICAS.lock().await;
                setup.resume().await;
                let db = setup.connect(|c| c).await;
                setup.fresh_table(&db).await;
                let notes = NoteRepository::new(&db);

                let stopped = {
                    let (servers, server) = (setup.servers.clone(), setup.server);
                    tokio::task::spawn_blocking(move || server.stop(&servers))
                };
                // Reads while it stops and while it is down: none fails.
                for n in 0..100 {
                    let read = notes.get(0).await;
                    assert!(matches!(read, Ok(Some(_))), "read {n} failed while the replica stopped: {read:?}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                stopped.await.unwrap().unwrap();
                assert!(eventually(async || replica_state(&db).await == ReplicaState::Down).await);
                notes.create(&NewNote { id: 3, body: "while down".into() }).await.unwrap();
                assert!(notes.get(3).await.unwrap().is_some(), "reads go to the primary while the replica is down");

                let started = {
                    let (servers, server) = (setup.servers.clone(), setup.server);
                    tokio::task::spawn_blocking(move || server.start(&servers))
                };
                started.await.unwrap().unwrap();
                assert!(eventually(async || replica_state(&db).await == ReplicaState::Healthy).await);
                // Back on the replica.
                assert!(eventually(async || notes.get(3).await.unwrap().is_some()).await);
                setup.pause().await;
                notes.create(&NewNote { id: 4, body: "after".into() }).await.unwrap();
                assert_eq!(notes.get(4).await.unwrap(), None, "reads did not go back to the replica");
                setup.resume().await;

                db.drop_table::<Note>().await.unwrap();
                db.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn lag_beyond_the_limit_takes_the_replica_out_until_it_catches_up() {
                let Some(setup) = Setup::new($backend) else { return };
                let _lock = REPLICAS.lock().await;
                setup.resume().await;
                let db = setup.connect(|c| c.replica_max_lag(Duration::from_millis(400))).await;
                setup.fresh_table(&db).await;
                let notes = NoteRepository::new(&db);

                setup.pause().await;
                notes.create(&NewNote { id: 5, body: "behind".into() }).await.unwrap();
                // Control: under the limit it still serves reads, stale.
                assert_eq!(notes.get(5).await.unwrap(), None);
                assert!(
                    eventually(async || replica_state(&db).await == ReplicaState::Lagging).await,
                    "never taken out: {:?}",
                    db.info().await.unwrap().replicas
                );
                let info = db.info().await.unwrap();
                assert!(info.replicas[0].lag.unwrap() > Duration::from_millis(400), "{info:?}");
                // Out: reads go to the primary, which has the row.
                assert!(notes.get(5).await.unwrap().is_some());

                setup.resume().await;
                assert!(eventually(async || replica_state(&db).await == ReplicaState::Healthy).await);
                let info = db.info().await.unwrap();
                assert_eq!(info.replicas[0].lag, Some(Duration::ZERO), "{info:?}");

                db.drop_table::<Note>().await.unwrap();
                db.close().await;
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Repository, serde::Serialize, serde::Deserialize)]
#[database(postgres, mysql)]
#[repository(table = "replica_cached", cache(ttl = "5m"))]
pub struct Cached {
    #[key]
    pub id: i64,
    pub body: String,
}

/// A cache fill reads from the primary: a replica behind a write that has just invalidated the key
/// would put the older row back in the cache.
async fn a_cache_fill_reads_the_primary(backend: Backend) {
    let Some(setup) = Setup::new(backend) else { return };
    let Some(redis) = redis_url() else { return };
    let _lock = REPLICAS.lock().await;
    setup.resume().await;
    let db = setup.connect(|c| c).await;
    db.drop_table::<Cached>().await.unwrap();
    db.create_table::<Cached>().await.unwrap();
    let config = RedisCacheConfig::from_url(&redis).unwrap().key_prefix(unique_name("replica"));
    let cache = RedisCache::connect_with(config).await.unwrap();
    let plain = CachedRepository::new(&db);
    let cached = CachedRepository::new(&db).with_cache(cache);
    plain.create(&NewCached { id: 1, body: "old".into() }).await.unwrap();
    assert!(eventually(async || matches!(plain.get(1).await, Ok(Some(_)))).await, "never replicated");
    assert_eq!(cached.get(1).await.unwrap().unwrap().body, "old");

    setup.pause().await;
    cached.update(1, &CachedPatch { body: Some("new".into()) }).await.unwrap();
    // Control: the replica still has the old row.
    assert_eq!(plain.get(1).await.unwrap().unwrap().body, "old");
    // The write invalidated the key; the fill reads the primary.
    assert_eq!(cached.get(1).await.unwrap().unwrap().body, "new", "the cache was filled from the replica");
    setup.resume().await;
    db.drop_table::<Cached>().await.unwrap();
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cache_fills_read_the_primary() {
    a_cache_fill_reads_the_primary(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_cache_fills_read_the_primary() {
    a_cache_fill_reads_the_primary(Backend::MySql).await;
}

/// A replica that stops being one is taken out. MariaDB's is told by `read_only`, which can be
/// turned off and on again; a promoted PostgreSQL standby cannot go back, so it is not tried here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_replica_no_longer_read_only_counts_as_promoted() {
    let Some(setup) = Setup::new(Backend::MySql) else { return };
    let _lock = REPLICAS.lock().await;
    setup.resume().await;
    let db = setup.connect(|c| c).await;
    setup.fresh_table(&db).await;
    setup.on_replica("SET GLOBAL read_only = 0").await;
    let promoted = eventually(async || replica_state(&db).await == ReplicaState::Promoted).await;
    setup.on_replica("SET GLOBAL read_only = 1").await;
    assert!(promoted, "never seen as promoted: {:?}", db.replica_info());
    assert!(eventually(async || replica_state(&db).await == ReplicaState::Healthy).await);
    db.drop_table::<Note>().await.unwrap();
    db.close().await;
}

replica_tests!(postgres, Backend::Postgres);
replica_tests!(mariadb, Backend::MySql);

#[tokio::test]
async fn a_bad_replica_url_fails_the_connect_naming_the_replica_and_never_its_text() {
    let Some(primary) = server_url(Backend::Postgres) else { return };
    let config = DatabaseConfig::from_url(&primary).unwrap().replica("postgres://app:hunter2@[bad/db");
    let error = Database::connect_with(config).await.unwrap_err().to_string();
    assert!(error.contains("replica 1"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    // A replica of another backend.
    let config = DatabaseConfig::from_url(&primary).unwrap().replica("mysql://app:hunter2@db/app");
    let error = Database::connect_with(config).await.unwrap_err().to_string();
    assert!(error.contains("same backend"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    // And none on SQLite.
    let config = DatabaseConfig::sqlite_memory().replica("postgres://db/app");
    let error = Database::connect_with(config).await.unwrap_err().to_string();
    assert!(error.contains("PostgreSQL and MySQL"), "{error}");
}

#[test]
fn replica_urls_come_from_the_environment_and_a_bad_one_names_the_variable() {
    use dbkit::config::env::Env;
    let env = Env::from_pairs([
        ("ORDERS_URL", "postgres://app:s3cret@primary/orders"),
        ("ORDERS_REPLICA_URLS", "postgres://app:s3cret@replica1/orders, postgres://replica2/orders"),
    ]);
    let config = DatabaseConfig::from_env("ORDERS", &env).unwrap();
    assert_eq!(
        config.redacted_replica_urls(),
        ["postgres://app:***@replica1/orders", "postgres://app:***@replica2/orders"],
        "the second replica takes the primary's user and password"
    );
    assert!(!format!("{config:?}").contains("s3cret"));
    let env = Env::from_pairs([("ORDERS_URL", "postgres://primary/orders"), ("ORDERS_REPLICA_URLS", "nonsense")]);
    let error = DatabaseConfig::from_env("ORDERS", &env).unwrap_err();
    assert_eq!(error.variable(), Some("ORDERS_REPLICA_URLS"), "{error}");
}
