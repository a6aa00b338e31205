//! Read-through with leases: [`RedisCache::read_through`] and [`RedisCache::invalidate`].
//!
//! The hole every hand-written cache-aside has: a reader misses, reads the database, and before
//! it stores what it read a writer commits and deletes the key; the reader then stores the row it
//! read, now stale, and it stays until its expiry. The fix is the lease of "Scaling Memcache at
//! Facebook" (and rockscache's Redis form of it): a miss takes a lease *before* reading the
//! database, the fill is accepted only while that lease is still the key's, and an invalidation
//! deletes the key, lease included. So a reader whose read may predate a write can never store it.
//!
//! A key is one Redis hash: `v`, the stored value, or `l`, the token of the lease a loader holds.
//! Three scripts act on it on the server, atomically and by the server's clock:
//!
//! - *lookup*: `v` if there is one (a hit); else, when another loader holds the lease, "busy";
//!   else a new lease under the caller's token, the hash expiring with the lease.
//! - *fill*: stores `v` with its expiry only if `l` is still the caller's token.
//! - *invalidate*: `DEL`, which drops the value and revokes any lease.
//!
//! Concurrent misses on one key therefore cause one database load per lease period, across
//! processes: the others see "busy" and poll for the value, and after a bounded wait read the
//! database themselves without filling (the lease holder may have died).
//!
//! Hand-written here rather than taken from a crate: no Rust crate implements leases on Redis (the
//! well-known implementation, rockscache, is Go); the scripts are short and every branch of them is
//! exercised by `tests/tests/cache_leases.rs`.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{RedisCache, timeout_error};
use crate::observe::CacheMetrics;
use crate::{Error, Result};

/// Returns `{1, value}` on a hit, `{2, ""}` when another loader holds the lease, or `{0, ""}` after
/// taking the lease `ARGV[1]` for `ARGV[2]` ms.
static LOOKUP: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local h = redis.call('HMGET', KEYS[1], 'v', 'l')
if h[1] then return {1, h[1]} end
if h[2] then return {2, ''} end
redis.call('HSET', KEYS[1], 'l', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {0, ''}
",
    )
});

/// Stores `ARGV[2]` for `ARGV[3]` ms if the lease is still `ARGV[1]`; 1 if stored, 0 if refused.
static FILL: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if redis.call('HGET', KEYS[1], 'l') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
",
    )
});

/// Drops the lease `ARGV[1]` if it is still the key's (and nothing was stored): 1 if dropped.
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if redis.call('HGET', KEYS[1], 'l') ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'v') == 1 then return 0 end
redis.call('DEL', KEYS[1])
return 1
",
    )
});

/// How a [`RedisCache::read_through`] key is kept: its expiry, and how long a loader may hold the
/// lease.
#[derive(Debug, Clone, Copy)]
pub struct ReadThrough {
    ttl: Duration,
    lease: Duration,
    wait: Duration,
    command_timeout: Duration,
    absent: bool,
    leases: bool,
}

impl ReadThrough {
    /// Values expire after `ttl`, less up to a tenth at random so that keys filled together are not
    /// reloaded together; at least 1 ms, as there is no "never expires": an entry that outlived an
    /// invalidation lost on the way would be stale for good. The lease lasts 2 s and a waiter
    /// waits as long.
    pub fn new(ttl: Duration) -> Self {
        ReadThrough {
            ttl: ttl.max(Duration::from_millis(1)),
            lease: Duration::from_secs(2),
            wait: Duration::from_secs(2),
            command_timeout: Duration::from_millis(100),
            absent: true,
            leases: true,
        }
    }

    /// How long a loader holds the lease (default 2 s): longer than a database read takes, since a
    /// fill that arrives after it is refused; and the bound on how long a stale value can be
    /// filled after a lost invalidation, beyond the TTL.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// How long a miss waits for another loader's fill before it reads the database itself,
    /// without filling (default 2 s).
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// How long a lookup or a fill waits for Redis before the call reads the database instead
    /// (default 100 ms): what a slow or paused Redis costs a read at most, until the circuit
    /// breaker opens and it costs nothing.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Whether `None` from the loader is stored too (default `true`). Off for a key whose row may
    /// be created without its key's invalidation (an auto-generated key written by `create_many`,
    /// which does not learn the keys it created): the lease is then released, not filled.
    pub fn cache_absent(mut self, absent: bool) -> Self {
        self.absent = absent;
        self
    }

    /// The hole leases close, open again: a fill is accepted without a lease. Only for the test
    /// that shows the stale refill the leases prevent.
    #[doc(hidden)]
    pub fn without_leases_for_tests(mut self) -> Self {
        self.leases = false;
        self
    }
}

/// What [`RedisCache::read_through`] has done, counted since the cache was built (shared by its
/// clones), from [`RedisCache::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Reads served from Redis.
    pub hits: u64,
    /// Misses whose loaded value was stored.
    pub fills: u64,
    /// Misses whose fill was refused: the lease was revoked (or expired) during the load.
    pub fills_refused: u64,
    /// Misses that waited for another loader's fill and read the database after the wait.
    pub lease_waits_timed_out: u64,
    /// Reads that went to the database because Redis failed (an error, a timeout, a value that
    /// does not decode) or the circuit breaker was open.
    pub redis_failures: u64,
}

/// The circuit breaker and the counters of one cache (shared by its clones). After
/// [`Guard::TRIP`] Redis failures in a row the breaker opens: for [`Guard::OPEN`] reads skip
/// Redis, costing nothing; then one read tries it again, and a success closes the breaker.
#[derive(Debug)]
pub(crate) struct Guard {
    /// The same counts, for the application's metrics recorder.
    metrics: CacheMetrics,
    /// The keys whose invalidation failed: reads of them skip Redis until a retried `DEL`
    /// succeeds, so this process never reads a value older than its own acknowledged write.
    unconfirmed: Mutex<HashSet<String>>,
    failures_in_a_row: AtomicU32,
    open_until: Mutex<Option<Instant>>,
    hits: AtomicU64,
    fills: AtomicU64,
    fills_refused: AtomicU64,
    waits: AtomicU64,
    redis_failures: AtomicU64,
}

impl Guard {
    const TRIP: u32 = 3;
    const OPEN: Duration = Duration::from_secs(1);

    /// The guard of the cache named `name` (its key prefix) in the metrics.
    pub(crate) fn new(name: &str) -> Guard {
        Guard {
            metrics: CacheMetrics::new(name),
            unconfirmed: Mutex::default(),
            failures_in_a_row: AtomicU32::default(),
            open_until: Mutex::default(),
            hits: AtomicU64::default(),
            fills: AtomicU64::default(),
            fills_refused: AtomicU64::default(),
            waits: AtomicU64::default(),
            redis_failures: AtomicU64::default(),
        }
    }

    fn redis_failed(&self) {
        self.redis_failures.fetch_add(1, Ordering::Relaxed);
        self.metrics.redis_failures.increment(1);
    }

    fn allows(&self) -> bool {
        let open_until = self.open_until.lock().expect("breaker lock poisoned");
        open_until.is_none_or(|until| Instant::now() >= until)
    }

    fn succeeded(&self) {
        if self.failures_in_a_row.swap(0, Ordering::Relaxed) > 0 {
            *self.open_until.lock().expect("breaker lock poisoned") = None;
        }
    }

    fn failed(&self) {
        self.redis_failed();
        if self.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1 >= Self::TRIP {
            *self.open_until.lock().expect("breaker lock poisoned") = Some(Instant::now() + Self::OPEN);
        }
    }

    fn count(&self, outcome: ReadOutcome) {
        // An event inside the call's span: what the cache decided, never the key.
        tracing::debug!(dbkit.cache.outcome = outcome.as_str(), "cache read");
        let metrics = &self.metrics;
        match outcome {
            ReadOutcome::Hit => metrics.hits.increment(1),
            ReadOutcome::Filled | ReadOutcome::Absent => metrics.misses.increment(1),
            ReadOutcome::FillRefused => {
                metrics.misses.increment(1);
                metrics.refused_fills.increment(1);
            }
            ReadOutcome::WaitedOut => {
                metrics.misses.increment(1);
                metrics.lease_waits.increment(1);
            }
            ReadOutcome::Bypassed => {}
        }
        let counter = match outcome {
            ReadOutcome::Hit => &self.hits,
            ReadOutcome::Filled => &self.fills,
            ReadOutcome::FillRefused => &self.fills_refused,
            ReadOutcome::WaitedOut => &self.waits,
            // Counted where the failure happened (`failed`).
            ReadOutcome::Bypassed | ReadOutcome::Absent => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            fills: self.fills.load(Ordering::Relaxed),
            fills_refused: self.fills_refused.load(Ordering::Relaxed),
            lease_waits_timed_out: self.waits.load(Ordering::Relaxed),
            redis_failures: self.redis_failures.load(Ordering::Relaxed),
        }
    }
}

/// What a lookup found.
enum Lookup {
    Hit(Vec<u8>),
    /// The caller holds the lease under this token.
    Lease(String),
    Busy,
}

/// What a [`RedisCache::read_through`] did, for the counters and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The value came from Redis.
    Hit,
    /// The loader ran under a lease and its value was stored.
    Filled,
    /// The loader ran under a lease, and the fill was refused: an invalidation revoked the lease
    /// (or it expired) while the database was read.
    FillRefused,
    /// Another loader held the lease past the wait: the loader ran, and nothing was stored.
    WaitedOut,
    /// Redis failed (down, slow, a value that does not decode): the loader's value, uncached.
    Bypassed,
    /// The loader found nothing, and absent values are not stored here
    /// ([`ReadThrough::cache_absent`]).
    Absent,
}

impl ReadOutcome {
    /// Its name in lower case, as in events: `hit`, `filled`, `fill_refused`, `waited_out`,
    /// `bypassed`, `absent`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReadOutcome::Hit => "hit",
            ReadOutcome::Filled => "filled",
            ReadOutcome::FillRefused => "fill_refused",
            ReadOutcome::WaitedOut => "waited_out",
            ReadOutcome::Bypassed => "bypassed",
            ReadOutcome::Absent => "absent",
        }
    }
}

impl RedisCache {
    /// The value under `key`, or what `loader` returns, stored under a lease so that a value read
    /// before a concurrent write's [`invalidate`](RedisCache::invalidate) is never stored (see the
    /// [cache module docs](crate::cache#cache-aside-and-why-the-cache-never-fails-a-request)).
    /// `None` is stored too, so that a miss in the database is also served from the cache; an
    /// [`invalidate`](RedisCache::invalidate) after the row is created ends it.
    ///
    /// Redis never makes this call fail: when it is down, slow or holds a value that does not
    /// decode, the loader's value is returned, uncached, and the fact logged at `WARN`. The only
    /// error returned is the loader's. Keys are in the format of this method only: do not
    /// [`get`](RedisCache::get) or [`set`](RedisCache::set) them.
    pub async fn read_through<T, F, Fut>(
        &self,
        key: &str,
        how: ReadThrough,
        loader: F,
    ) -> Result<(Option<T>, ReadOutcome)>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        if !self.guard.allows() {
            self.guard.redis_failed();
            return Ok((loader().await?, ReadOutcome::Bypassed));
        }
        let (value, outcome) = self.read_through_redis(key, how, loader).await?;
        self.guard.count(outcome);
        Ok((value, outcome))
    }

    /// What [`read_through`](RedisCache::read_through) has done so far, on this cache and its
    /// clones.
    pub fn stats(&self) -> CacheStats {
        self.guard.stats()
    }

    async fn read_through_redis<T, F, Fut>(
        &self,
        key: &str,
        how: ReadThrough,
        loader: F,
    ) -> Result<(Option<T>, ReadOutcome)>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let full_key = self.full_key(key);
        if self.still_unconfirmed(&full_key, how).await {
            self.guard.failed();
            return Ok((loader().await?, ReadOutcome::Bypassed));
        }
        let started = Instant::now();
        let token = uuid::Uuid::new_v4().simple().to_string();
        loop {
            let lookup = match self.lookup(&full_key, &token, how).await {
                Ok(lookup) => {
                    self.guard.succeeded();
                    lookup
                }
                Err(e) => {
                    self.guard.failed();
                    tracing::warn!(error.type = crate::observe::error_type(&e), "cache lookup failed: reading the database");
                    return Ok((loader().await?, ReadOutcome::Bypassed));
                }
            };
            match lookup {
                Lookup::Hit(bytes) => match serde_json::from_slice(&bytes) {
                    Ok(value) => return Ok((value, ReadOutcome::Hit)),
                    Err(_) => {
                        self.guard.redis_failed();
                        tracing::warn!(error.type = "decode", "cached value does not decode: deleted, reading the database");
                        let _ = self.invalidate(&[key]).await;
                        return Ok((loader().await?, ReadOutcome::Bypassed));
                    }
                },
                Lookup::Lease(token) => {
                    let value = loader().await?;
                    if value.is_none() && !how.absent {
                        let mut release = RELEASE.key(&full_key);
                        release.arg(&token);
                        if let Err(e) = self.invoke::<i64>(&release, how.command_timeout).await {
                            tracing::warn!(error.type = crate::observe::error_type(&e), "cache lease release failed: it expires by itself");
                        }
                        return Ok((value, ReadOutcome::Absent));
                    }
                    let outcome = match self.fill(&full_key, &token, &value, how).await {
                        Ok(true) => ReadOutcome::Filled,
                        Ok(false) => ReadOutcome::FillRefused,
                        Err(e) => {
                            self.guard.failed();
                            tracing::warn!(error.type = crate::observe::error_type(&e), "cache fill failed: the value is returned uncached");
                            ReadOutcome::Bypassed
                        }
                    };
                    return Ok((value, outcome));
                }
                Lookup::Busy if started.elapsed() >= how.wait => return Ok((loader().await?, ReadOutcome::WaitedOut)),
                // Another loader is at the database: its fill is a few milliseconds away.
                Lookup::Busy => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    /// Deletes `keys`, values and leases: a fill under a lease taken before this is refused.
    ///
    /// When it fails (Redis down, or the reply lost), the keys are remembered in this process:
    /// its [`read_through`](RedisCache::read_through)s of them read the database, first trying the
    /// `DEL` again, until one succeeds. So this process never reads a row older than its own
    /// acknowledged write; another process may, until the value's TTL (the TTL plus the lease,
    /// for a fill under way) has passed.
    pub async fn invalidate(&self, keys: &[&str]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let full_keys: Vec<String> = keys.iter().map(|key| self.full_key(key)).collect();
        let mut del = redis::cmd("DEL");
        del.arg(&full_keys);
        let deleted = self.query::<i64>(&del).await.map(drop);
        let mut unconfirmed = self.guard.unconfirmed.lock().expect("cache lock poisoned");
        match &deleted {
            Ok(()) => {
                for key in &full_keys {
                    unconfirmed.remove(key);
                }
            }
            Err(e) => {
                tracing::warn!(error.type = crate::observe::error_type(e), "cache invalidation failed: this process reads these keys from the database until it succeeds");
                unconfirmed.extend(full_keys);
            }
        }
        deleted
    }

    /// Whether `full_key`'s last invalidation failed and, tried again now, fails again.
    async fn still_unconfirmed(&self, full_key: &str, how: ReadThrough) -> bool {
        if !self.guard.unconfirmed.lock().expect("cache lock poisoned").contains(full_key) {
            return false;
        }
        let mut del = redis::cmd("DEL");
        del.arg(full_key);
        let limit = how.command_timeout.min(self.config.connect_timeout + self.config.response_timeout);
        let mut connection = self.connection.clone();
        match tokio::time::timeout(limit, del.query_async::<i64>(&mut connection)).await {
            Ok(Ok(_)) => {
                self.guard.unconfirmed.lock().expect("cache lock poisoned").remove(full_key);
                false
            }
            _ => true,
        }
    }

    async fn lookup(&self, full_key: &str, token: &str, how: ReadThrough) -> Result<Lookup> {
        let mut invocation = LOOKUP.key(full_key);
        invocation.arg(token).arg(millis(how.lease));
        let (found, value): (i64, Vec<u8>) = self.invoke(&invocation, how.command_timeout).await?;
        Ok(match found {
            1 => Lookup::Hit(value),
            2 if how.leases => Lookup::Busy,
            _ => Lookup::Lease(token.to_owned()),
        })
    }

    async fn fill<T: Serialize>(&self, full_key: &str, token: &str, value: &T, how: ReadThrough) -> Result<bool> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::Decode { column: full_key.to_owned(), message: e.to_string() })?;
        if !how.leases {
            let mut set = redis::cmd("DEL");
            set.arg(full_key);
            self.query::<i64>(&set).await?;
            let mut hset = redis::cmd("HSET");
            hset.arg(full_key).arg("v").arg(bytes);
            self.query::<i64>(&hset).await?;
            let mut expire = redis::cmd("PEXPIRE");
            expire.arg(full_key).arg(millis(how.ttl));
            self.query::<i64>(&expire).await?;
            return Ok(true);
        }
        let mut invocation = FILL.key(full_key);
        invocation.arg(token).arg(bytes).arg(millis(jittered(how.ttl)));
        let stored: i64 = self.invoke(&invocation, how.command_timeout).await?;
        Ok(stored == 1)
    }

    /// Runs a script, within `limit` (and the bounds of every command, [`RedisCache::query`]).
    async fn invoke<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
        limit: Duration,
    ) -> Result<T> {
        let limit = limit.min(self.config.connect_timeout + self.config.response_timeout);
        let mut connection = self.connection.clone();
        match tokio::time::timeout(limit, invocation.invoke_async::<T>(&mut connection)).await {
            Ok(reply) => Ok(reply?),
            Err(_) => Err(timeout_error("a reply", limit)),
        }
    }
}

/// `ttl` less up to a tenth, at random: keys filled together do not expire together, so their
/// reloads do not arrive at the database together.
fn jittered(ttl: Duration) -> Duration {
    let random = (uuid::Uuid::new_v4().as_u128() % 1000) as u32;
    ttl - ttl / 10 * random / 1000
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}
