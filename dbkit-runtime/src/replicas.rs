//! Read replicas (PostgreSQL streaming standbys, MariaDB GTID replicas): which one a generated read
//! goes to, and how far behind each is, by replication position rather than by a guess of time.
//!
//! - **Routing.** A generated read (`get`, finders, `list`, `count`, read-only `#[dbkit::queries]`
//!   methods) outside a unit of work goes, by default, to the next healthy replica in turn
//!   ([`ReadFrom::Replica`]); writes, units of work (`in_transaction`, and so `get_for_update`) and
//!   raw sessions go to the primary. With no healthy replica, reads go to the primary: no call fails
//!   because a replica is down. [`ReadFrom::Primary`] sends a repository's reads to the primary
//!   (`repo.with_options(CallOptions::new().reads(ReadFrom::Primary))`).
//! - **Read-your-writes by position.** [`Database::primary_position`](crate::Database::primary_position),
//!   asked after a write has returned, is a point of the primary's history at or after that write
//!   (PostgreSQL: `pg_current_wal_lsn()`; MariaDB: `@@gtid_binlog_pos`). A read with
//!   [`ReadFrom::AtLeast`] goes only to a replica that has replayed it: one the checks already saw
//!   past it, or else the first healthy one, asked and waited for up to `replica_wait`
//!   (MariaDB waits server-side, `MASTER_GTID_WAIT`); failing that, the primary. A
//!   [`ReplicaPosition`] is a plain value (`Display`/`FromStr`, serde as a string), so a request can
//!   carry it in a cookie or header to the next.
//! - **Health and lag.** A task checks every replica each `replica_check_interval`: whether it
//!   answers, whether it is still a replica (a promoted PostgreSQL standby is out of recovery; a
//!   MariaDB replica whose `read_only` is off), and what it has replayed. Its lag is how long ago
//!   the primary was first seen at a position the replica has not yet replayed — measured, not
//!   estimated from timestamps, the same on both backends, and as fine as the check interval (a
//!   replica a few milliseconds behind under steady writes reads as 0). A check that takes longer
//!   than the interval (at least a second) counts the replica down. A replica that fails, was promoted,
//!   or lags more than `replica_max_lag` is out until it recovers. [`crate::Database::info`] lists
//!   each replica with its state, lag and position.
//!
//! *Features `postgres`, `mysql`.*

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::engine::Engine;
use crate::{DatabaseConfig, Error, Result};

tokio::task_local! {
    /// Set while a cache fills: see [`on_primary`].
    static ON_PRIMARY: ();
}

/// Runs `work` with every routed read in it sent to the primary. A cache fill runs so: a replica
/// behind a write that has just invalidated the key would otherwise put the older row back in the
/// cache, until its TTL.
#[cfg(feature = "redis")]
pub(crate) fn on_primary<F: Future>(work: F) -> impl Future<Output = F::Output> {
    ON_PRIMARY.scope((), work)
}

/// Whether the current task runs inside [`on_primary`].
pub(crate) fn primary_only() -> bool {
    ON_PRIMARY.try_with(|()| ()).is_ok()
}

/// Where a generated read goes; see [`crate::replicas`]. Set per repository with
/// [`CallOptions::reads`](crate::exec::CallOptions::reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadFrom {
    /// A healthy replica within the lag limit, in turn; the primary when there is none.
    #[default]
    Replica,
    /// The primary, always.
    Primary,
    /// A replica that has replayed at least this position, waited for up to `replica_wait`; else
    /// the primary.
    AtLeast(ReplicaPosition),
}

/// A point in the primary's history: a PostgreSQL WAL position (`lsn:0/3000148`) or a MariaDB GTID
/// position (`gtid:0-1-42`, one entry per replication domain). Written and read as text, so it can
/// travel in a cookie or a header; in serde, a string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ReplicaPosition(Position);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    /// PostgreSQL: a byte offset in the WAL.
    Lsn(u64),
    /// MariaDB: per replication domain, the server id and sequence number last applied.
    Gtid(Vec<Gtid>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gtid {
    domain: u32,
    server: u32,
    sequence: u64,
}

impl Position {
    /// Whether a replica that has replayed `self` has also replayed `wanted`.
    fn reached(&self, wanted: &Position) -> bool {
        match (self, wanted) {
            (Position::Lsn(replayed), Position::Lsn(wanted)) => replayed >= wanted,
            // Every domain of `wanted` replayed at least as far (sequence numbers grow within a
            // domain, whichever server wrote them).
            (Position::Gtid(replayed), Position::Gtid(wanted)) => wanted
                .iter()
                .all(|want| replayed.iter().any(|have| have.domain == want.domain && have.sequence >= want.sequence)),
            _ => false,
        }
    }

    /// PostgreSQL's text form of an LSN, `X/Y` in hexadecimal.
    fn parse_lsn(text: &str) -> Option<Position> {
        let (high, low) = text.split_once('/')?;
        let (high, low) = (u64::from_str_radix(high, 16).ok()?, u64::from_str_radix(low, 16).ok()?);
        (high <= u64::from(u32::MAX) && low <= u64::from(u32::MAX)).then_some(Position::Lsn(high << 32 | low))
    }

    /// MariaDB's GTID position: `domain-server-sequence`, comma-separated; empty for none.
    fn parse_gtid(text: &str) -> Option<Position> {
        let mut gtids = Vec::new();
        for gtid in text.split(',').map(str::trim).filter(|g| !g.is_empty()) {
            let mut parts = gtid.splitn(3, '-');
            let domain = parts.next()?.parse().ok()?;
            let server = parts.next()?.parse().ok()?;
            let sequence = parts.next()?.parse().ok()?;
            gtids.push(Gtid { domain, server, sequence });
        }
        Some(Position::Gtid(gtids))
    }
}

impl ReplicaPosition {
    /// Whether a server at this position has replayed everything up to `other` (on MariaDB: every
    /// replication domain of `other`). Positions of different backends are never at or after
    /// each other.
    pub fn is_at_or_after(&self, other: &ReplicaPosition) -> bool {
        self.0.reached(&other.0)
    }
}

/// A position as its server writes it: `X/Y` (PostgreSQL), `D-S-N,…` (MariaDB).
impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Lsn(lsn) => write!(f, "{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF),
            Position::Gtid(gtids) => {
                for (n, g) in gtids.iter().enumerate() {
                    if n > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}-{}-{}", g.domain, g.server, g.sequence)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for ReplicaPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0 {
            Position::Lsn(_) => "lsn",
            Position::Gtid(_) => "gtid",
        };
        write!(f, "{kind}:{}", self.0)
    }
}

/// A text that is not a [`ReplicaPosition`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a replica position: expected `lsn:X/Y` (PostgreSQL) or `gtid:D-S-N[,…]` (MariaDB)")]
pub struct ParsePositionError;

impl FromStr for ReplicaPosition {
    type Err = ParsePositionError;

    fn from_str(text: &str) -> std::result::Result<Self, ParsePositionError> {
        let position = match text.split_once(':') {
            Some(("lsn", lsn)) => Position::parse_lsn(lsn),
            Some(("gtid", gtid)) => Position::parse_gtid(gtid),
            _ => None,
        };
        position.map(ReplicaPosition).ok_or(ParsePositionError)
    }
}

impl From<ReplicaPosition> for String {
    fn from(position: ReplicaPosition) -> String {
        position.to_string()
    }
}

impl TryFrom<String> for ReplicaPosition {
    type Error = ParsePositionError;
    fn try_from(text: String) -> std::result::Result<Self, ParsePositionError> {
        text.parse()
    }
}

/// What a replica is fit for, as its last check found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[repr(u8)]
pub enum ReplicaState {
    /// Not checked yet.
    Unknown,
    /// Answering, replicating, within the lag limit: serves reads.
    Healthy,
    /// Further behind than `replica_max_lag`: serves only reads that wait for a position.
    Lagging,
    /// Not answering.
    Down,
    /// No longer a replica (promoted): serves nothing.
    Promoted,
}

impl ReplicaState {
    /// Every state, at the index of its discriminant.
    const ALL: [ReplicaState; 5] = [
        ReplicaState::Unknown,
        ReplicaState::Healthy,
        ReplicaState::Lagging,
        ReplicaState::Down,
        ReplicaState::Promoted,
    ];
}

/// One replica, for [`DatabaseInfo`](crate::DatabaseInfo).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ReplicaInfo {
    /// Its URL, password redacted.
    pub url: String,
    /// What it serves now.
    pub state: ReplicaState,
    /// How far behind the primary it was at the last check (see [`crate::replicas`]); `None` before
    /// the first.
    #[serde(rename = "lag_ms", serialize_with = "crate::json::optional_millis")]
    pub lag: Option<Duration>,
    /// The position it had replayed at the last check.
    pub replayed: Option<ReplicaPosition>,
    /// Connections open to it.
    pub pool_size: u32,
}

/// A database's replicas, and the task that checks them.
pub(crate) struct ReplicaSet {
    nodes: Vec<Node>,
    next: AtomicUsize,
    wait: Duration,
    /// How long one check may take before the replica counts as down: a host that drops packets
    /// would otherwise hold the checks for a whole connect timeout.
    check_timeout: Duration,
    /// `dbkit.replica.reads` by where a routed read went (no-op handles without a recorder).
    reads_on_replica: metrics::Counter,
    reads_on_primary: metrics::Counter,
}

struct Node {
    url: String,
    engine: Engine,
    /// `dbkit.replica.lag` (seconds) and `dbkit.replica.available` (1 serving, 0 out).
    lag_gauge: metrics::Gauge,
    available_gauge: metrics::Gauge,
    /// A [`ReplicaState`], as its discriminant: read on every routed call.
    state: AtomicU8,
    checked: Mutex<Checked>,
}

/// What the checks know of a replica beyond its state.
#[derive(Default)]
struct Checked {
    replayed: Option<Position>,
    lag: Option<Duration>,
    /// Primary positions seen at each check, oldest first, that the replica had not replayed yet.
    pending: VecDeque<(Position, Instant)>,
}

impl Node {
    fn state(&self) -> ReplicaState {
        ReplicaState::ALL[usize::from(self.state.load(Ordering::Relaxed))]
    }

    fn set_state(&self, state: ReplicaState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }
}

impl fmt::Debug for ReplicaSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.nodes.iter().map(|n| (&n.url, n.state()))).finish()
    }
}

impl ReplicaSet {
    /// Connects each replica of `config` (its own pool, tuned as the primary's) and starts the
    /// checks against `primary`. A replica that cannot be reached now is not an error: it starts
    /// out `Down`, and the checks bring it in when it answers.
    pub(crate) async fn connect(config: &DatabaseConfig, name: &str, primary: &Engine) -> Result<Option<Arc<Self>>> {
        let configs = config.replica_configs();
        if configs.is_empty() {
            return Ok(None);
        }
        let recording = crate::observe::recorder_installed();
        let pool = || ("db.client.connection.pool.name", name.to_owned());
        let mut nodes = Vec::with_capacity(configs.len());
        for (n, replica) in configs.into_iter().enumerate() {
            let replica = replica?;
            let url = replica.redacted_url();
            let engine = Engine::connect_lazy(&replica, &format!("{name}.replica{}", n + 1))?;
            let (_, address) = replica.telemetry_target();
            let labels = [pool(), ("server.address", address)];
            let (lag_gauge, available_gauge) = if recording {
                (metrics::gauge!("dbkit.replica.lag", &labels), metrics::gauge!("dbkit.replica.available", &labels))
            } else {
                (metrics::Gauge::noop(), metrics::Gauge::noop())
            };
            let state = AtomicU8::new(0);
            nodes.push(Node { url, engine, lag_gauge, available_gauge, state, checked: Mutex::default() });
        }
        let (reads_on_replica, reads_on_primary) = if recording {
            (
                metrics::counter!("dbkit.replica.reads", &[pool(), ("dbkit.read.target", "replica".to_owned())]),
                metrics::counter!("dbkit.replica.reads", &[pool(), ("dbkit.read.target", "primary".to_owned())]),
            )
        } else {
            (metrics::Counter::noop(), metrics::Counter::noop())
        };
        let set = Arc::new(ReplicaSet {
            nodes,
            next: AtomicUsize::new(0),
            wait: config.get_replica_wait(),
            check_timeout: config.get_replica_check_interval().max(Duration::from_secs(1)),
            reads_on_replica,
            reads_on_primary,
        });
        set.check(primary, config.get_replica_max_lag()).await;
        tokio::spawn(watch(
            Arc::downgrade(&set),
            primary.clone(),
            config.get_replica_check_interval(),
            config.get_replica_max_lag(),
        ));
        Ok(Some(set))
    }

    /// The replica a read with `from` runs on, by its index and engine; `None` for the primary.
    pub(crate) async fn route(&self, from: &ReadFrom) -> Option<(usize, &Engine)> {
        let index = match from {
            ReadFrom::Primary => None,
            ReadFrom::Replica => self.next_healthy(),
            ReadFrom::AtLeast(position) => self.reaching(&position.0).await,
        };
        let Some(index) = index else {
            self.reads_on_primary.increment(1);
            return None;
        };
        self.reads_on_replica.increment(1);
        Some((index, &self.nodes[index].engine))
    }

    /// The next replica in turn that is healthy, by its index.
    fn next_healthy(&self) -> Option<usize> {
        let count = self.nodes.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count).map(|i| (start + i) % count).find(|&i| self.nodes[i].state() == ReplicaState::Healthy)
    }

    /// A replica that has replayed `wanted`, by its index: one already seen past it, or else the
    /// first that serves reads, waited for up to `replica_wait`.
    async fn reaching(&self, wanted: &Position) -> Option<usize> {
        let usable = |&i: &usize| matches!(self.nodes[i].state(), ReplicaState::Healthy | ReplicaState::Lagging);
        let seen = (0..self.nodes.len()).filter(usable).find(|&i| {
            let checked = self.nodes[i].checked.lock().expect("not poisoned");
            checked.replayed.as_ref().is_some_and(|r| r.reached(wanted))
        });
        if seen.is_some() {
            return seen;
        }
        let index = self.next_healthy().or_else(|| (0..self.nodes.len()).find(usable))?;
        match tokio::time::timeout(self.wait, wait_for(&self.nodes[index].engine, wanted, self.wait)).await {
            Ok(Ok(true)) => Some(index),
            _ => None,
        }
    }

    /// The primary's position now: see [`crate::Database::primary_position`].
    pub(crate) async fn primary_position(primary: &Engine) -> Result<ReplicaPosition> {
        position_of(primary).await.map(ReplicaPosition)
    }

    /// Takes the replica whose engine is `engine` out until its next check finds it well: a
    /// statement on it failed with a connection error, so the calls retried meanwhile go elsewhere.
    pub(crate) fn failed(&self, index: usize) {
        if let Some(node) = self.nodes.get(index) {
            node.set_state(ReplicaState::Down);
        }
    }

    /// Each replica, for `info()`.
    pub(crate) fn info(&self) -> Vec<ReplicaInfo> {
        self.nodes
            .iter()
            .map(|node| {
                let checked = node.checked.lock().expect("not poisoned");
                ReplicaInfo {
                    url: node.url.clone(),
                    state: node.state(),
                    lag: checked.lag,
                    replayed: checked.replayed.clone().map(ReplicaPosition),
                    pool_size: node.engine.pool_counts().0,
                }
            })
            .collect()
    }

    /// Closes every replica's pool without waiting: idle connections now, the others as they
    /// come back.
    pub(crate) fn start_close(&self) {
        for node in &self.nodes {
            match &node.engine {
                #[cfg(feature = "postgres")]
                Engine::Postgres(pool) => pool.close(),
                #[cfg(feature = "mysql")]
                Engine::MySql(pool) => pool.close(),
                #[allow(unreachable_patterns)]
                _ => {}
            }
        }
    }

    /// Closes every replica's pool.
    pub(crate) async fn close(&self) {
        futures_util::future::join_all(self.nodes.iter().map(|node| node.engine.close())).await;
    }

    /// One round of checks: the primary's position, then each replica's.
    async fn check(&self, primary: &Engine, max_lag: Option<Duration>) {
        let primary_at = tokio::time::timeout(self.check_timeout, position_of(primary)).await.ok().and_then(Result::ok);
        let now = Instant::now();
        futures_util::future::join_all(self.nodes.iter().map(|node| async {
            let state = match tokio::time::timeout(self.check_timeout, replica_state(&node.engine)).await {
                Err(_) | Ok(Err(_)) => ReplicaState::Down,
                Ok(Ok(None)) => ReplicaState::Promoted,
                Ok(Ok(Some(replayed))) => {
                    let mut checked = node.checked.lock().expect("not poisoned");
                    if let Some(at) = &primary_at
                        && !replayed.reached(at)
                        && checked.pending.back().is_none_or(|(last, _)| last != at)
                    {
                        checked.pending.push_back((at.clone(), now));
                    }
                    while checked.pending.front().is_some_and(|(at, _)| replayed.reached(at)) {
                        checked.pending.pop_front();
                    }
                    let lag = checked.pending.front().map_or(Duration::ZERO, |(_, since)| now - *since);
                    checked.lag = Some(lag);
                    checked.replayed = Some(replayed);
                    if max_lag.is_some_and(|max| lag > max) { ReplicaState::Lagging } else { ReplicaState::Healthy }
                }
            };
            if state != node.state() {
                tracing::info!(target: "dbkit", replica = %node.url, state = ?state, "replica state changed");
            }
            node.set_state(state);
            node.available_gauge.set(if state == ReplicaState::Healthy { 1.0 } else { 0.0 });
            if let Some(lag) = node.checked.lock().expect("not poisoned").lag {
                node.lag_gauge.set(lag.as_secs_f64());
            }
        }))
        .await;
    }
}

/// Checks the replicas every `interval` until the set is dropped.
async fn watch(set: Weak<ReplicaSet>, primary: Engine, interval: Duration, max_lag: Option<Duration>) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(set) = set.upgrade() else { return };
        set.check(&primary, max_lag).await;
    }
}

/// The primary's current position (any later read of it is at or after every write that has
/// returned). PostgreSQL's is the WAL write position, which a commit has passed by the time it
/// returns under `synchronous_commit = on` (the default); with it off, a commit returns before
/// its record is written, and a position asked at once may not yet include it.
async fn position_of(engine: &Engine) -> Result<Position> {
    match engine {
        #[cfg(feature = "postgres")]
        Engine::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            let text: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text").fetch_one(&mut *conn).await?;
            Position::parse_lsn(&text).ok_or_else(|| unexpected("pg_current_wal_lsn()", &text))
        }
        #[cfg(feature = "mysql")]
        Engine::MySql(pool) => {
            let mut conn = pool.acquire().await?;
            let text: String = sqlx::query_scalar("SELECT @@gtid_binlog_pos").fetch_one(&mut *conn).await?;
            Position::parse_gtid(&text).ok_or_else(|| unexpected("@@gtid_binlog_pos", &text))
        }
        #[allow(unreachable_patterns)]
        _ => Err(unsupported(engine)),
    }
}

/// A replica's replayed position, or `None` when it is no longer a replica.
async fn replica_state(engine: &Engine) -> Result<Option<Position>> {
    match engine {
        #[cfg(feature = "postgres")]
        Engine::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            let (recovering, text): (bool, Option<String>) =
                sqlx::query_as("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text")
                    .fetch_one(&mut *conn)
                    .await?;
            match (recovering, text) {
                (true, Some(text)) => {
                    Ok(Some(Position::parse_lsn(&text).ok_or_else(|| unexpected("pg_last_wal_replay_lsn()", &text))?))
                }
                (true, None) => Ok(Some(Position::Lsn(0))),
                (false, _) => Ok(None),
            }
        }
        #[cfg(feature = "mysql")]
        Engine::MySql(pool) => {
            let mut conn = pool.acquire().await?;
            let (read_only, text): (i64, String) =
                sqlx::query_as("SELECT CAST(@@read_only AS SIGNED), @@gtid_slave_pos").fetch_one(&mut *conn).await?;
            if read_only == 0 {
                return Ok(None);
            }
            Ok(Some(Position::parse_gtid(&text).ok_or_else(|| unexpected("@@gtid_slave_pos", &text))?))
        }
        #[allow(unreachable_patterns)]
        _ => Err(unsupported(engine)),
    }
}

/// Waits on `engine`, a replica, until it has replayed `wanted`; whether it did within `wait`.
async fn wait_for(
    engine: &Engine,
    wanted: &Position,
    #[cfg_attr(not(feature = "mysql"), allow(unused_variables))] wait: Duration,
) -> Result<bool> {
    match (engine, wanted) {
        #[cfg(feature = "postgres")]
        (Engine::Postgres(pool), Position::Lsn(_)) => {
            // PostgreSQL 15 has no wait for replay: ask every millisecond (the caller's timeout
            // bounds it).
            let wanted = wanted.to_string();
            let mut conn = pool.acquire().await?;
            loop {
                let reached: Option<bool> = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
                    .bind(&wanted)
                    .fetch_one(&mut *conn)
                    .await?;
                if reached == Some(true) {
                    return Ok(true);
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        #[cfg(feature = "mysql")]
        (Engine::MySql(pool), Position::Gtid(_)) => {
            let mut conn = pool.acquire().await?;
            let waited: i64 = sqlx::query_scalar("SELECT MASTER_GTID_WAIT(?, ?)")
                .bind(wanted.to_string())
                .bind(wait.as_secs_f64())
                .fetch_one(&mut *conn)
                .await?;
            Ok(waited == 0)
        }
        _ => Ok(false),
    }
}

fn unsupported(engine: &Engine) -> Error {
    Error::Config(crate::ConfigError::new(format!(
        "read replicas are supported on PostgreSQL and MySQL/MariaDB, not {}",
        engine.backend()
    )))
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn unexpected(what: &str, text: &str) -> Error {
    Error::Sqlx(sqlx::Error::Protocol(format!("unexpected {what}: {}", text.chars().take(64).collect::<String>())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_and_write_as_text() {
        for text in ["lsn:0/3000148", "lsn:16/B374D848", "gtid:0-1-42", "gtid:0-1-42,1-2-7", "gtid:"] {
            let position: ReplicaPosition = text.parse().unwrap();
            assert_eq!(position.to_string(), text);
            let json = serde_json::to_string(&position).unwrap();
            assert_eq!(serde_json::from_str::<ReplicaPosition>(&json).unwrap(), position);
        }
        for bad in ["", "lsn:", "lsn:xyz", "lsn:1", "gtid:0-1", "gtid:a-b-c", "wal:0/1", "lsn:100000000/0"] {
            assert!(bad.parse::<ReplicaPosition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_position_is_reached_when_every_part_is() {
        let lsn = |s: &str| Position::parse_lsn(s).unwrap();
        assert!(lsn("0/3000148").reached(&lsn("0/3000148")));
        assert!(lsn("1/0").reached(&lsn("0/FFFFFFFF")));
        assert!(!lsn("0/3000147").reached(&lsn("0/3000148")));
        let gtid = |s: &str| Position::parse_gtid(s).unwrap();
        assert!(gtid("0-1-42").reached(&gtid("0-1-42")));
        assert!(gtid("0-2-43,1-1-5").reached(&gtid("0-1-42")));
        assert!(!gtid("0-1-41").reached(&gtid("0-1-42")));
        assert!(!gtid("1-1-50").reached(&gtid("0-1-1")), "a domain the replica never saw");
        assert!(gtid("0-1-1").reached(&gtid("")), "nothing to wait for");
        assert!(!lsn("0/1").reached(&gtid("0-1-1")), "positions of different backends");
    }
}
