//! A Redis cache in front of the repositories (feature `redis`): [`RedisCache`].
//!
//! Values are stored as JSON (through `serde_json`) under `"{prefix}:{key}"`, with an expiry per
//! call or the cache's default. The connection is a [`redis::aio::ConnectionManager`]: one
//! multiplexed connection, shared by every clone of the cache, that reconnects by itself after
//! the server restarts or the network drops.
//!
//! # Cache-aside, and why the cache never fails a request
//!
//! [`RedisCache::get_or_set_with`] reads the key; on a miss it runs the loader (a repository
//! call, say) and stores what it returns. A cache that is down, slow or full of bad data must not
//! turn a request the database could serve into an error, so every cache failure on that path —
//! a read, a write, a value that no longer decodes — is logged at `WARN` (through `tracing`) and
//! the loader's result is returned as if the cache were not there. Only the loader's own error is
//! returned. Every call is bounded in time (see [`RedisCacheConfig::connect_timeout`] and
//! [`RedisCacheConfig::response_timeout`]), so a dead cache costs a request at most that long.
//!
//! [`RedisCache::read_through`] is the same cache-aside without its two holes: concurrent misses
//! on a key cause one load (the others wait for its fill), and a value read before a concurrent
//! write's [`invalidate`](RedisCache::invalidate) is never stored, however the two interleave
//! (leases; see [`ReadThrough`]). `get_or_set_with` has neither guarantee: each miss loads, and
//! the last fill wins, stale or not.
//!
//! The plain [`get`](RedisCache::get), [`set`](RedisCache::set) and
//! [`delete`](RedisCache::delete) do return cache errors ([`Error::Redis`], classified like
//! every other error): a caller that uses them directly decides what a failure means.
//!
//! # Configuration from the environment
//!
//! [`RedisCache::from_env`] and [`RedisCacheConfig::from_env`] read:
//!
//! | variable | form | default |
//! |---|---|---|
//! | `REDIS_URL` | `redis://[user][:password]@host[:port][/db]` | — (this or `REDIS_HOST`) |
//! | `REDIS_HOST` | a host name or IP address, instead of a URL | — |
//! | `REDIS_PORT` | with `REDIS_HOST`: a port | `6379` |
//! | `REDIS_PASSWORD` | with `REDIS_HOST`: the password (empty: none) | none |
//! | `REDIS_DB` | with `REDIS_HOST`: the database number | `0` |
//! | `REDIS_KEY_PREFIX` (or seed 000's `REDIS_PREFIX`) | any text; keys become `"{prefix}:{key}"` | `dbkit` |
//! | `REDIS_DEFAULT_TTL` | a duration (`30`, `2.5`, `500ms`, `30s`, `5m`, `1h`), or `0` or `-1` for no expiry | no expiry |
//!
//! Durations take the forms [`config::env`](crate::config::env) describes. A bad value is a
//! [`ConfigError`] naming the variable; the URL (which may hold a password) is never repeated.
//!
//! ```
//! use std::time::Duration;
//! use dbkit_runtime::cache::RedisCacheConfig;
//! use dbkit_runtime::config::env::Env;
//!
//! let env = Env::from_pairs([
//!     ("REDIS_URL", "redis://:s3cret@cache.internal:6379/0"),
//!     ("REDIS_KEY_PREFIX", "shop"),
//!     ("REDIS_DEFAULT_TTL", "5m"),
//! ]);
//! let config = RedisCacheConfig::from_env(&env)?;
//! assert_eq!(config.redacted_url(), "redis://:***@cache.internal:6379/0");
//! assert_eq!(config.get_key_prefix(), "shop");
//! assert_eq!(config.get_default_ttl(), Some(Duration::from_secs(300)));
//! assert!(!format!("{config:?}").contains("s3cret"));
//!
//! let bad = Env::from_pairs([("REDIS_URL", "redis://h"), ("REDIS_DEFAULT_TTL", "soon")]);
//! assert_eq!(RedisCacheConfig::from_env(&bad).unwrap_err().variable(), Some("REDIS_DEFAULT_TTL"));
//! # Ok::<(), dbkit_runtime::ConfigError>(())
//! ```

mod lease;
mod repository;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::env::{Env, found, parse_optional_duration};
use crate::{ConfigError, Error, Result};

pub use lease::{CacheStats, ReadOutcome, ReadThrough};
#[doc(hidden)]
pub use repository::{CacheKey, Cacheable, cache_key, manager_cache, read_key, read_row};

/// Runs the invalidations a unit of work queued, once it has committed. A failure is the
/// cache's to remember ([`RedisCache::invalidate`]); the unit's result stands.
pub(crate) async fn invalidate_all(invalidations: Vec<(RedisCache, Vec<String>)>) {
    for (cache, keys) in invalidations {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let _ = cache.invalidate(&keys).await;
    }
}

/// Where a Redis cache is and how it behaves: the URL, the key prefix, the default expiry and
/// the time limits. Built from a URL or from the environment; the password is kept apart as a
/// secret, and `Debug`, `Display` and [`redacted_url`](RedisCacheConfig::redacted_url) show `***`
/// in its place.
///
/// ```
/// use std::time::Duration;
/// use dbkit_runtime::cache::RedisCacheConfig;
///
/// let config = RedisCacheConfig::from_url("redis://:hunter2@10.0.0.7:6379/2")?
///     .key_prefix("orders")
///     .default_ttl(Duration::from_secs(60))
///     .connect_timeout(Duration::from_millis(500));
/// assert_eq!(config.to_string(), "redis://:***@10.0.0.7:6379/2");
/// # Ok::<(), dbkit_runtime::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct RedisCacheConfig {
    /// The URL with its password taken out.
    url: Url,
    /// The password as it appeared in the URL (still percent-encoded).
    password: Option<SecretString>,
    key_prefix: String,
    default_ttl: Option<Duration>,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl RedisCacheConfig {
    /// Parses a Redis URL, `redis://[user][:password]@host[:port][/db]`, with every other
    /// setting at its default.
    ///
    /// A bad URL is an error that never repeats the URL itself, since it may hold a password.
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        Self::parse_url(url, None)
    }

    fn parse_url(url: &str, variable: Option<&str>) -> Result<Self, ConfigError> {
        let err = |message: String| match variable {
            Some(variable) => ConfigError::for_variable(variable, message),
            None => ConfigError::new(message),
        };
        const EXPECTED: &str = "expected a Redis URL such as `redis://:password@host:6379/0`";
        let mut parsed = Url::parse(url.trim()).map_err(|e| err(format!("{EXPECTED}: {e}")))?;
        if !matches!(parsed.scheme(), "redis" | "rediss" | "valkey" | "valkeys") {
            return Err(err(format!(
                "{EXPECTED}; found the scheme `{}`",
                parsed.scheme().chars().take(32).collect::<String>()
            )));
        }
        // The redis crate's own checks (host, database number, TLS support), run on the full URL
        // once here so that connecting later cannot fail on the configuration. Its messages are
        // fixed texts that never quote the URL.
        redis::IntoConnectionInfo::into_connection_info(parsed.clone()).map_err(|e| err(format!("{EXPECTED}: {e}")))?;
        let password = parsed.password().map(|p| SecretString::from(p.to_owned()));
        let _ = parsed.set_password(None);
        Ok(RedisCacheConfig {
            url: parsed,
            password,
            // Keys of this cache never collide with other clients' keys on a shared server.
            key_prefix: "dbkit".to_owned(),
            // No expiry unless asked for: a safe lifetime depends on the data.
            default_ttl: None,
            // A cache on the local network connects in milliseconds; a request waiting on a dead
            // one should fall back to the database quickly.
            connect_timeout: Duration::from_secs(2),
            // Redis answers in well under a millisecond; a cache slower than this is slower than
            // the database it stands in front of.
            response_timeout: Duration::from_secs(1),
        })
    }

    /// Reads the cache's location from `REDIS_URL`, or from `REDIS_HOST`, `REDIS_PORT`,
    /// `REDIS_PASSWORD` and `REDIS_DB` (seed 000's layout), then `REDIS_KEY_PREFIX` (or the seed's
    /// `REDIS_PREFIX`) and `REDIS_DEFAULT_TTL` (see the [module docs](self#configuration-from-the-environment)).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mut config = match (env.get("REDIS_URL"), env.get("REDIS_HOST")) {
            (Some(url), None) => {
                for part in ["REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB"] {
                    if env.get(part).is_some() {
                        return Err(ConfigError::for_variable(
                            "REDIS_URL",
                            format!(
                                "`REDIS_URL` and `{part}` are both set: give the location either as a URL or as \
                                 separate variables, not both"
                            ),
                        ));
                    }
                }
                Self::parse_url(url, Some("REDIS_URL"))?
            }
            (None, Some(host)) => Self::from_host_layout(env, host)?,
            (Some(_), Some(_)) => {
                return Err(ConfigError::for_variable(
                    "REDIS_URL",
                    "`REDIS_URL` and `REDIS_HOST` are both set: give the location either as a URL or as \
                     separate variables, not both",
                ));
            }
            (None, None) => {
                return Err(ConfigError::for_variable(
                    "REDIS_URL",
                    "is not set (nor `REDIS_HOST`): expected a Redis URL such as `redis://:password@host:6379/0`",
                ));
            }
        };
        match (env.get("REDIS_KEY_PREFIX"), env.get("REDIS_PREFIX")) {
            (Some(a), Some(b)) if a.trim() != b.trim() => {
                return Err(ConfigError::for_variable(
                    "REDIS_KEY_PREFIX",
                    "`REDIS_KEY_PREFIX` and `REDIS_PREFIX` are both set, to different prefixes: keep one",
                ));
            }
            (Some(prefix), _) | (None, Some(prefix)) => config.key_prefix = prefix.trim().to_owned(),
            (None, None) => {}
        }
        if let Some(ttl) = env.get("REDIS_DEFAULT_TTL") {
            let ttl = ttl.trim();
            // `0` is accepted for "no expiry" as well: it is what a zero default TTL means.
            let parsed = if ttl == "0" { Some(None) } else { parse_optional_duration(ttl) };
            config.default_ttl = parsed.ok_or_else(|| {
                ConfigError::for_variable(
                    "REDIS_DEFAULT_TTL",
                    format!(
                        "expected a duration greater than zero: seconds (`30`, `2.5`) or with a unit \
                         (`500ms`, `30s`, `5m`, `1h`), or 0 or -1 for no expiry, {}",
                        found(ttl)
                    ),
                )
            })?;
        }
        Ok(config)
    }

    /// `redis://[:REDIS_PASSWORD@]REDIS_HOST:REDIS_PORT/REDIS_DB`, each part checked and named in
    /// its error; the port defaults to 6379 and the database to 0, as in the seed.
    fn from_host_layout(env: &Env, host: &str) -> Result<Self, ConfigError> {
        let host = host.trim();
        let port = match env.get("REDIS_PORT") {
            None => 6379,
            Some(port) => port.trim().parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                ConfigError::for_variable("REDIS_PORT", format!("expected a port, 1 to 65535, {}", found(port)))
            })?,
        };
        let db = match env.get("REDIS_DB") {
            None => 0,
            Some(db) => db.trim().parse::<u32>().map_err(|_| {
                ConfigError::for_variable("REDIS_DB", format!("expected a database number, 0 or more, {}", found(db)))
            })?,
        };
        let mut url = Url::parse("redis://localhost").expect("a valid URL");
        url.set_host(Some(host)).map_err(|e| {
            ConfigError::for_variable("REDIS_HOST", format!("expected a host name or IP address: {e}, {}", found(host)))
        })?;
        let _ = url.set_port(Some(port));
        url.set_path(&format!("/{db}"));
        let mut config = Self::parse_url(url.as_str(), Some("REDIS_HOST"))?;
        // Held apart as the URL's own password is, percent-encoded as it would be in a URL.
        config.password = env.get("REDIS_PASSWORD").filter(|p| !p.is_empty()).map(|password| {
            let mut holder = Url::parse("redis://h").expect("a valid URL");
            let _ = holder.set_password(Some(password));
            SecretString::from(holder.password().unwrap_or_default().to_owned())
        });
        Ok(config)
    }

    /// The prefix of every key (default `"dbkit"`): `get("user:1")` reads `"{prefix}:user:1"`.
    /// An empty prefix stores keys as given.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// The expiry of a value stored without one (`ttl` of `None` in [`RedisCache::set`]);
    /// `None` or zero for no expiry (default).
    pub fn default_ttl(mut self, ttl: impl Into<Option<Duration>>) -> Self {
        self.default_ttl = ttl.into().filter(|ttl| !ttl.is_zero());
        self
    }

    /// How long one attempt to connect may take (default 2 s). [`RedisCache::connect`] fails
    /// after this long; a call made while the connection is being re-established waits at most
    /// this plus the [response timeout](RedisCacheConfig::response_timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a command waits for the server's reply (default 1 s).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// See [`RedisCacheConfig::key_prefix`].
    pub fn get_key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// See [`RedisCacheConfig::default_ttl`].
    pub fn get_default_ttl(&self) -> Option<Duration> {
        self.default_ttl
    }

    /// See [`RedisCacheConfig::connect_timeout`].
    pub fn get_connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// See [`RedisCacheConfig::response_timeout`].
    pub fn get_response_timeout(&self) -> Duration {
        self.response_timeout
    }

    /// The URL with the password replaced by `***`: safe to log.
    pub fn redacted_url(&self) -> String {
        let mut url = self.url.clone();
        if self.password.is_some() {
            let _ = url.set_password(Some("***"));
        }
        // `***` is percent-encoded by `url`; show it as typed.
        url.as_str().replace("%2A%2A%2A", "***")
    }

    fn client(&self) -> Result<redis::Client> {
        let mut url = self.url.clone();
        if let Some(password) = &self.password {
            let _ = url.set_password(Some(password.expose_secret()));
        }
        Ok(redis::Client::open(url)?)
    }

    fn manager_config(&self) -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout))
            // Two quick reconnection attempts, not the crate's six with exponential back-off: a
            // call waiting on the reconnection should fall back to the database soon, and the next
            // call starts a new attempt anyway.
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(200))
    }
}

impl fmt::Debug for RedisCacheConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCacheConfig")
            .field("url", &self.redacted_url())
            .field("key_prefix", &self.key_prefix)
            .field("default_ttl", &self.default_ttl)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

impl fmt::Display for RedisCacheConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted_url())
    }
}

/// A JSON cache in Redis (feature `redis`). Cheap to clone: clones share one connection.
///
/// See the [module docs](self) for the cache-aside rules and the environment variables.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use std::time::Duration;
/// use dbkit_runtime::cache::RedisCache;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Profile { name: String, visits: u64 }
///
/// let cache = RedisCache::connect("redis://127.0.0.1:6379/0").await?;
/// cache.set("profile:7", &Profile { name: "ada".into(), visits: 3 }, Duration::from_secs(60)).await?;
/// let profile: Option<Profile> = cache.get("profile:7").await?;
/// assert_eq!(profile.map(|p| p.visits), Some(3));
///
/// // Cache-aside: the loader runs on a miss only, and a broken cache falls back to it.
/// let profile = cache
///     .get_or_set_with("profile:8", Duration::from_secs(60), || async {
///         Ok(Profile { name: "grace".into(), visits: 1 }) // a repository call, say
///     })
///     .await?;
/// assert_eq!(profile.name, "grace");
///
/// assert!(cache.delete("profile:7").await?);
/// cache.health_check().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    config: RedisCacheConfig,
    /// The circuit breaker and counters of [`read_through`](RedisCache::read_through), shared by
    /// every clone.
    guard: std::sync::Arc<lease::Guard>,
}

impl RedisCache {
    /// Connects to the Redis server at `url` with the default settings (see
    /// [`RedisCacheConfig`]). Fails after the connect timeout (2 s) when the server cannot be
    /// reached.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(RedisCacheConfig::from_url(url)?).await
    }

    /// Connects with the settings from `REDIS_URL`, `REDIS_KEY_PREFIX` and `REDIS_DEFAULT_TTL`
    /// (see the [module docs](self#configuration-from-the-environment)).
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use dbkit_runtime::cache::RedisCache;
    /// use dbkit_runtime::config::env::Env;
    ///
    /// let cache = RedisCache::from_env(&Env::load()?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn from_env(env: &Env) -> Result<Self> {
        Self::connect_with(RedisCacheConfig::from_env(env)?).await
    }

    /// Connects with `config`, waiting for the first connection; an unreachable server is an
    /// [`Error::Connect`] (category `Connection`, or `Timeout` after the connect timeout).
    pub async fn connect_with(config: RedisCacheConfig) -> Result<Self> {
        let client = config.client()?;
        let manager_config = config.manager_config();
        let connected =
            tokio::time::timeout(config.connect_timeout, ConnectionManager::new_with_config(client, manager_config))
                .await;
        let connection = match connected {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => return Err(connect_error(Error::Redis(e))),
            Err(_) => return Err(connect_error(timeout_error("a connection", config.connect_timeout))),
        };
        let guard = std::sync::Arc::new(lease::Guard::new(config.get_key_prefix()));
        Ok(RedisCache { connection, config, guard })
    }

    /// Builds the cache without connecting: the connection is made by the first call, and a
    /// server that is down at start-up only makes calls fail (or, through
    /// [`get_or_set_with`](RedisCache::get_or_set_with), fall back to the loader) until it is up.
    /// For a service that should start whether or not its cache is there.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use dbkit_runtime::cache::{RedisCache, RedisCacheConfig};
    ///
    /// // Nothing listens on port 9: the loader's value is served all the same.
    /// let cache = RedisCache::connect_lazy(RedisCacheConfig::from_url("redis://127.0.0.1:9")?)?;
    /// let n: u32 = cache.get_or_set_with("answer", None, || async { Ok(42) }).await?;
    /// assert_eq!(n, 42);
    /// # Ok(()) }
    /// ```
    pub fn connect_lazy(config: RedisCacheConfig) -> Result<Self> {
        let connection = ConnectionManager::new_lazy_with_config(config.client()?, config.manager_config())?;
        let guard = std::sync::Arc::new(lease::Guard::new(config.get_key_prefix()));
        Ok(RedisCache { connection, config, guard })
    }

    /// The settings this cache was built with.
    pub fn config(&self) -> &RedisCacheConfig {
        &self.config
    }

    /// The key stored in Redis for `key`: `"{prefix}:{key}"`, or `key` when the prefix is empty.
    pub fn full_key(&self, key: &str) -> String {
        if self.config.key_prefix.is_empty() { key.to_owned() } else { format!("{}:{key}", self.config.key_prefix) }
    }

    /// The value stored under `key`, or `None` when there is none.
    ///
    /// A stored value that does not decode as a `T` (written by an older version of the type,
    /// say) is a miss: it is deleted, and the fact logged at `WARN`.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let full_key = self.full_key(key);
        let stored: Option<Vec<u8>> = self.query(redis::cmd("GET").arg(&full_key)).await?;
        let Some(bytes) = stored else { return Ok(None) };
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(Some(value)),
            Err(_) => {
                tracing::warn!(error.type = "decode", "cached value does not decode: treated as a miss and deleted");
                // Another client may have stored a good value in between; deleting it as well
                // costs one miss, never a wrong answer.
                if let Err(e) = self.query::<()>(redis::cmd("DEL").arg(&full_key)).await {
                    tracing::warn!(error.type = crate::observe::error_type(&e), "cannot delete the undecodable cached value");
                }
                Ok(None)
            }
        }
    }

    /// Stores `value` as JSON under `key`, replacing any value there.
    ///
    /// `ttl` is how long it lives: `None` for the cache's [default
    /// TTL](RedisCacheConfig::default_ttl), and zero (or `None` with no default) for no expiry.
    /// A value that cannot be encoded as JSON (a map with non-string keys, say) is an
    /// [`Error::Decode`] naming the key.
    pub async fn set<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: impl Into<Option<Duration>>,
    ) -> Result<()> {
        let full_key = self.full_key(key);
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::Decode { column: full_key.clone(), message: format!("cannot encode as JSON: {e}") })?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(&full_key).arg(bytes);
        if let Some(ttl) = ttl.into().or(self.config.default_ttl).filter(|ttl| !ttl.is_zero()) {
            // Whole milliseconds, rounded up so that a sub-millisecond TTL still expires.
            let millis = u64::try_from(ttl.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX).min(i64::MAX as u64);
            cmd.arg("PX").arg(millis);
        }
        self.query(&cmd).await
    }

    /// Deletes `key`; whether there was a value to delete.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        let deleted: u64 = self.query(redis::cmd("DEL").arg(self.full_key(key))).await?;
        Ok(deleted > 0)
    }

    /// Cache-aside: the value under `key`, or else what `loader` returns, stored with `ttl`
    /// (as in [`set`](RedisCache::set)) on the way out.
    ///
    /// The cache never makes this call fail: an error reading the cache is logged and treated
    /// as a miss, and an error storing the loaded value is logged and the value returned all the
    /// same. The only error returned is the loader's, and then nothing is stored. Concurrent
    /// misses on one key each run the loader (there is no lock); the last write wins.
    ///
    /// `loader` is any closure returning a future: `|| async { … }`, or an `async` closure.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// # use std::time::Duration;
    /// # use dbkit_runtime::cache::RedisCache;
    /// # async fn load_price(_: u32) -> dbkit_runtime::Result<u64> { Ok(1999) }
    /// let cache = RedisCache::connect("redis://127.0.0.1:6379/0").await?;
    /// let price: u64 = cache
    ///     .get_or_set_with("price:17", Duration::from_secs(30), async || load_price(17).await)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_or_set_with<T, F, Fut>(&self, key: &str, ttl: impl Into<Option<Duration>>, loader: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        match self.get(key).await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) => tracing::warn!(
                error.type = crate::observe::error_type(&e),
                "cache read failed: loading the value instead"
            ),
        }
        let value = loader().await?;
        if let Err(e) = self.set(key, &value, ttl).await {
            tracing::warn!(
                error.type = crate::observe::error_type(&e),
                "cache write failed: the loaded value is returned uncached"
            );
        }
        Ok(value)
    }

    /// Sends `PING`: `Ok` when the server answers, or the classified error.
    pub async fn health_check(&self) -> Result<()> {
        let reply: String = self.query(&redis::cmd("PING")).await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(Error::Redis(redis::RedisError::from((
                redis::ErrorKind::UnexpectedReturnType,
                "PING was not answered with PONG",
                reply,
            ))))
        }
    }

    /// Runs `cmd`, bounded by the connect and response timeouts together: the manager bounds
    /// each connection attempt and each reply, and this bounds a call that waits on a
    /// reconnection too.
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T> {
        let limit = self.config.connect_timeout + self.config.response_timeout;
        let mut connection = self.connection.clone();
        match tokio::time::timeout(limit, cmd.query_async::<T>(&mut connection)).await {
            Ok(reply) => Ok(reply?),
            Err(_) => Err(timeout_error("a reply", limit)),
        }
    }
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache").field("config", &self.config).finish_non_exhaustive()
    }
}

impl fmt::Display for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redis cache at {}", self.config.redacted_url())
    }
}

fn connect_error(source: Error) -> Error {
    Error::Connect { database: "redis".to_owned(), source: Box::new(source) }
}

/// An I/O timeout as a redis error, which [`crate::classify`] files under `Timeout`.
fn timeout_error(what: &str, limit: Duration) -> Error {
    let message = format!("no {what} from the Redis server within {limit:?}");
    Error::Redis(std::io::Error::new(std::io::ErrorKind::TimedOut, message).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCategory;

    #[test]
    fn passwords_never_show() {
        let config = RedisCacheConfig::from_url("redis://app:p%40ss@h:6380/1").unwrap();
        assert_eq!(config.redacted_url(), "redis://app:***@h:6380/1");
        assert_eq!(config.password.as_ref().map(|p| p.expose_secret().to_owned()), Some("p%40ss".to_owned()));
        assert!(!format!("{config:?}").contains("p%40ss"));
        let e = RedisCacheConfig::from_url("postgres://u:topsecret@h/0").unwrap_err();
        assert!(!e.to_string().contains("topsecret"), "{e}");
        let e = RedisCacheConfig::from_url("redis://u:topsecret@h/notanumber").unwrap_err();
        assert!(!e.to_string().contains("topsecret"), "{e}");
    }

    #[test]
    fn env_errors_name_the_variable() {
        let e = RedisCacheConfig::from_env(&Env::from_pairs([("REDIS_KEY_PREFIX", "x")])).unwrap_err();
        assert_eq!(e.variable(), Some("REDIS_URL"));
        let e = RedisCacheConfig::from_env(&Env::from_pairs([
            ("REDIS_URL", "redis://u:pw@h/0"),
            ("REDIS_DEFAULT_TTL", "5 days"),
        ]))
        .unwrap_err();
        assert_eq!(e.variable(), Some("REDIS_DEFAULT_TTL"));
        assert!(e.message().ends_with("found \"5 days\""), "{e}");
        let e = RedisCacheConfig::from_env(&Env::from_pairs([("REDIS_URL", "http://u:pw@h/0")])).unwrap_err();
        assert_eq!(e.variable(), Some("REDIS_URL"));
        for never in ["-1", "0"] {
            let env = Env::from_pairs([("REDIS_URL", "redis://h"), ("REDIS_DEFAULT_TTL", never)]);
            assert_eq!(RedisCacheConfig::from_env(&env).unwrap().get_default_ttl(), None, "{never}");
        }
    }

    #[test]
    fn timeouts_are_classified_as_timeouts() {
        assert_eq!(timeout_error("a reply", Duration::from_secs(1)).category(), ErrorCategory::Timeout);
    }
}
