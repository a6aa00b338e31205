//! [`DatabaseManager`]: the application's registry of named databases.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

#[cfg(feature = "redis")]
use crate::cache::{RedisCache, RedisCacheConfig};
use crate::config::env::Env;
use crate::drain::tracker::DatabaseState;
use crate::drain::{DrainMode, DrainReport};
use crate::{Backend, Database, DatabaseConfig, Error, Result};

/// The registry of an application's databases, by name.
///
/// The application owns it (there is no global instance) and passes it, or the [`Database`]s it
/// hands out, to whatever needs them; a repository finds its database here by name with
/// `XRepository::from_manager(&manager)`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::{DatabaseConfig, DatabaseManager};
///
/// let manager = DatabaseManager::new();
/// manager.register("sqlite", DatabaseConfig::sqlite_memory())?;
/// manager.register("cache", DatabaseConfig::from_url("sqlite::memory:")?)?;
/// manager.connect_all().await?;
/// assert!(manager.health().await.is_healthy());
///
/// let err = manager.get("orders").unwrap_err();
/// assert_eq!(err.to_string(), "no database named `orders` is registered; registered: `cache`, `sqlite`");
/// manager.disconnect_all().await;
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct DatabaseManager {
    entries: RwLock<BTreeMap<String, Entry>>,
    /// The Redis caches, by name: connected, checked and disconnected with the databases.
    #[cfg(feature = "redis")]
    caches: RwLock<BTreeMap<String, CacheEntry>>,
}

struct Entry {
    config: DatabaseConfig,
    database: Option<Database>,
}

#[cfg(feature = "redis")]
struct CacheEntry {
    config: RedisCacheConfig,
    cache: Option<RedisCache>,
}

impl DatabaseManager {
    /// An empty registry.
    pub fn new() -> Self {
        DatabaseManager::default()
    }

    /// A registry of the databases the environment configures (process environment, over
    /// `.env.<APP_ENV>`, over `.env`, all read from the current directory). Nothing is connected
    /// yet: call [`connect_all`](DatabaseManager::connect_all).
    ///
    /// Databases are named after their backend, as in the seeds' registry: `mysql` when
    /// `MYSQL_URL` or `MYSQL_HOST` is set (read with [`DatabaseConfig::from_env`]`("MYSQL", …)`),
    /// likewise `postgres`, `clickhouse` and `oracle`, and `sqlite` when `SQLITE_DATABASE_FILE`
    /// or `SQLITE_URL` is set. The generic `DB_URL` registers under its URL's backend name, and
    /// is an error if that name is configured twice. Each name in `DBKIT_DATABASES=orders,analytics`
    /// is read from the variables of its upper-cased prefix (`ORDERS_URL`, `ORDERS_POOL_SIZE`, …)
    /// and must be configured. Every variable, its form and its default are listed in
    /// [`config::env`](crate::config::env).
    ///
    /// With nothing configured (none of these variables, and `DBKIT_DATABASES` unset), `sqlite` is
    /// registered: the SQLite file `app.db` in the current directory, or the path in
    /// `DBKIT_FALLBACK_SQLITE_FILE`, created on connect, and named in an `INFO` log line. Where a
    /// missing configuration must fail instead, list the database required:
    /// `DBKIT_DATABASES=postgres`. Without the `sqlite` feature, nothing is registered.
    ///
    /// With the `redis` feature, the Redis cache of seed 000 is registered as `redis` when
    /// `REDIS_URL` or `REDIS_HOST` is set (read with [`RedisCacheConfig::from_env`]); it does not
    /// count as a configured database for the SQLite fallback.
    ///
    /// A missing or malformed value is [`Error::Config`], naming the variable; nothing in it
    /// repeats a password or a URL.
    pub fn from_env() -> Result<Self> {
        DatabaseManager::from_env_source(&Env::load()?)
    }

    /// Like [`from_env`](DatabaseManager::from_env), from an explicit set of variables.
    ///
    /// ```
    /// use dbkit_runtime::config::env::Env;
    /// use dbkit_runtime::DatabaseManager;
    ///
    /// // Nothing configured: the SQLite fallback, here moved by `DBKIT_FALLBACK_SQLITE_FILE`.
    /// let env = Env::from_pairs([("DBKIT_FALLBACK_SQLITE_FILE", "data/dev.db")]);
    /// let manager = DatabaseManager::from_env_source(&env)?;
    /// assert_eq!(manager.names(), ["sqlite"]);
    /// assert_eq!(manager.config("sqlite")?.redacted_url(), "sqlite://data/dev.db");
    ///
    /// // A database configured: no fallback.
    /// let env = Env::from_pairs([("POSTGRES_HOST", "db.internal")]);
    /// assert_eq!(DatabaseManager::from_env_source(&env)?.names(), ["postgres"]);
    /// # Ok::<(), dbkit_runtime::Error>(())
    /// ```
    pub fn from_env_source(env: &Env) -> Result<Self> {
        let manager = DatabaseManager::new();
        for (name, config) in crate::config::env::databases(env)? {
            manager.register(&name, config)?;
        }
        #[cfg(feature = "redis")]
        if env.get("REDIS_URL").is_some() || env.get("REDIS_HOST").is_some() {
            manager.register_cache("redis", RedisCacheConfig::from_env(env)?)?;
        }
        Ok(manager)
    }

    /// Registers a Redis cache under `name` (its own namespace: a cache and a database may share
    /// a name, as `redis` is only ever a cache). Fails if a cache of that name is registered.
    ///
    /// *Feature `redis`.*
    #[cfg(feature = "redis")]
    pub fn register_cache(&self, name: &str, config: RedisCacheConfig) -> Result<()> {
        let mut caches = self.caches.write().expect("registry lock poisoned");
        if caches.contains_key(name) {
            return Err(Error::AlreadyRegistered { name: name.to_owned() });
        }
        caches.insert(name.to_owned(), CacheEntry { config, cache: None });
        Ok(())
    }

    /// The connected cache registered as `name`: the Redis cache of `from_env` is `"redis"`.
    ///
    /// An unknown name is an error that lists the registered caches; a known one that is not
    /// connected is [`Error::NotConnected`].
    ///
    /// *Feature `redis`.*
    #[cfg(feature = "redis")]
    pub fn cache(&self, name: &str) -> Result<RedisCache> {
        let caches = self.caches.read().expect("registry lock poisoned");
        match caches.get(name) {
            Some(CacheEntry { cache: Some(cache), .. }) => Ok(cache.clone()),
            Some(_) => Err(Error::NotConnected { name: name.to_owned() }),
            None => Err(Error::UnknownCache { name: name.to_owned(), registered: caches.keys().cloned().collect() }),
        }
    }

    /// The names of the registered caches, sorted as [`names`](DatabaseManager::names) are.
    ///
    /// *Feature `redis`.*
    #[cfg(feature = "redis")]
    pub fn cache_names(&self) -> Vec<String> {
        self.caches.read().expect("registry lock poisoned").keys().cloned().collect()
    }

    /// Registers a database under `name`. Fails if the name is taken.
    pub fn register(&self, name: &str, config: DatabaseConfig) -> Result<()> {
        let mut entries = self.entries.write().expect("registry lock poisoned");
        if entries.contains_key(name) {
            return Err(Error::AlreadyRegistered { name: name.to_owned() });
        }
        entries.insert(name.to_owned(), Entry { config, database: None });
        Ok(())
    }

    /// Registers an already connected database under its own name.
    pub fn insert(&self, database: Database) -> Result<()> {
        let mut entries = self.entries.write().expect("registry lock poisoned");
        let name = database.name().to_owned();
        if entries.contains_key(&name) {
            return Err(Error::AlreadyRegistered { name });
        }
        entries.insert(name, Entry { config: database.config().clone(), database: Some(database) });
        Ok(())
    }

    /// Whether a database is registered under exactly `name` (connected or not).
    ///
    /// ```
    /// use dbkit_runtime::{DatabaseConfig, DatabaseManager};
    ///
    /// let manager = DatabaseManager::new();
    /// manager.register("orders", DatabaseConfig::sqlite_memory())?;
    /// assert!(manager.contains("orders"));
    /// assert!(!manager.contains("Orders")); // names are compared exactly
    /// # Ok::<(), dbkit_runtime::Error>(())
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.entries.read().expect("registry lock poisoned").contains_key(name)
    }

    /// The registered names (connected or not), sorted by their bytes (`"Zeta"` before `"alpha"`),
    /// the order of every list this registry returns: [`health`](DatabaseManager::health),
    /// [`databases`](DatabaseManager::databases) and the names in an [`Error::UnknownDatabase`].
    ///
    /// ```
    /// use dbkit_runtime::{DatabaseConfig, DatabaseManager};
    ///
    /// let manager = DatabaseManager::new();
    /// manager.register("orders", DatabaseConfig::sqlite_memory())?;
    /// manager.register("audit", DatabaseConfig::sqlite_memory())?;
    /// assert_eq!(manager.names(), ["audit", "orders"]);
    /// # Ok::<(), dbkit_runtime::Error>(())
    /// ```
    pub fn names(&self) -> Vec<String> {
        self.entries.read().expect("registry lock poisoned").keys().cloned().collect()
    }

    /// The registered configuration of `name`.
    pub fn config(&self, name: &str) -> Result<DatabaseConfig> {
        let entries = self.entries.read().expect("registry lock poisoned");
        entries.get(name).map(|e| e.config.clone()).ok_or_else(|| unknown(name, &entries))
    }

    /// Connects every registered database that is not connected yet, all at once.
    ///
    /// When some fail, the others stay connected and the error names each database that failed
    /// ([`Error::Connect`] for one, [`Error::ConnectAll`] for several); calling `connect_all` again
    /// retries only those. The registered caches connect at the same time, and a cache that cannot
    /// connect is an error like a database's: a service that should start without its cache
    /// registers none and builds it with [`RedisCache::connect_lazy`] instead.
    pub async fn connect_all(&self) -> Result<()> {
        let pending: Vec<(String, DatabaseConfig)> = {
            let entries = self.entries.read().expect("registry lock poisoned");
            entries
                .iter()
                .filter(|(_, e)| e.database.is_none())
                .map(|(name, e)| (name.clone(), e.config.clone()))
                .collect()
        };
        let databases = join_all(pending.into_iter().map(|(name, config)| async move {
            let result = Database::connect_named(&name, config).await;
            (name, result)
        }));
        #[cfg(feature = "redis")]
        let (results, mut errors) = futures_util::future::join(databases, self.connect_caches()).await;
        #[cfg(not(feature = "redis"))]
        let (results, mut errors) = (databases.await, Vec::new());
        // Connected twice (two `connect_all` at once) or unregistered meanwhile: closed below, so no
        // pool lives on outside the registry, where drain and disconnect_all would never reach it.
        let mut surplus = Vec::new();
        {
            let mut entries = self.entries.write().expect("registry lock poisoned");
            for (name, result) in results {
                match result {
                    Ok(database) => match entries.get_mut(&name) {
                        Some(entry) if entry.database.is_none() => entry.database = Some(database),
                        _ => surplus.push(database),
                    },
                    Err(source) => {
                        tracing::error!(database = %name, error = %source, "connect failed");
                        errors.push(Error::Connect { database: name, source: Box::new(source) });
                    }
                }
            }
        }
        join_all(surplus.iter().map(Database::close)).await;
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::ConnectAll { errors }),
        }
    }

    /// Connects the caches not connected yet; the errors of those that fail.
    #[cfg(feature = "redis")]
    async fn connect_caches(&self) -> Vec<Error> {
        let pending: Vec<(String, RedisCacheConfig)> = {
            let caches = self.caches.read().expect("registry lock poisoned");
            caches.iter().filter(|(_, e)| e.cache.is_none()).map(|(n, e)| (n.clone(), e.config.clone())).collect()
        };
        let results = join_all(pending.into_iter().map(|(name, config)| async move {
            let result = RedisCache::connect_with(config).await;
            (name, result)
        }))
        .await;
        let mut errors = Vec::new();
        let mut caches = self.caches.write().expect("registry lock poisoned");
        for (name, result) in results {
            match result {
                Ok(cache) => {
                    if let Some(entry) = caches.get_mut(&name).filter(|e| e.cache.is_none()) {
                        entry.cache = Some(cache);
                    }
                }
                Err(source) => {
                    tracing::error!(cache = %name, error = %source, "connect failed");
                    errors.push(Error::Connect { database: name, source: Box::new(source) });
                }
            }
        }
        errors
    }

    /// The connected database registered as `name`.
    ///
    /// An unknown name is an error that lists the registered ones; a known one that is not
    /// connected is [`Error::NotConnected`].
    pub fn get(&self, name: &str) -> Result<Database> {
        let entries = self.entries.read().expect("registry lock poisoned");
        match entries.get(name) {
            Some(Entry { database: Some(db), .. }) => Ok(db.clone()),
            Some(_) => Err(Error::NotConnected { name: name.to_owned() }),
            None => Err(unknown(name, &entries)),
        }
    }

    /// The connected databases.
    pub fn databases(&self) -> Vec<Database> {
        let entries = self.entries.read().expect("registry lock poisoned");
        entries.values().filter_map(|e| e.database.clone()).collect()
    }

    /// Checks every registered database at once.
    pub async fn health(&self) -> HealthReport {
        let targets: Vec<(String, Backend, Option<Database>)> = {
            let entries = self.entries.read().expect("registry lock poisoned");
            entries.iter().map(|(n, e)| (n.clone(), e.config.backend(), e.database.clone())).collect()
        };
        let databases = join_all(targets.into_iter().map(|(name, backend, database)| async move {
            let started = Instant::now();
            let replicas = database.as_ref().map(Database::replica_info).unwrap_or_default();
            let status = match database {
                None => HealthStatus::NotConnected,
                Some(db) => match db.state() {
                    DatabaseState::Draining => HealthStatus::Draining,
                    DatabaseState::Closed => HealthStatus::Closed,
                    DatabaseState::Open => match db.health_check().await {
                        Ok(()) => HealthStatus::Healthy,
                        Err(e) => HealthStatus::Unhealthy { category: e.category(), error: e.to_string() },
                    },
                },
            };
            DatabaseHealth { name, backend, status, latency: started.elapsed(), replicas }
        }));
        #[cfg(feature = "redis")]
        let (databases, caches) = futures_util::future::join(databases, self.cache_health()).await;
        #[cfg(not(feature = "redis"))]
        let (databases, caches) = (databases.await, Vec::new());
        HealthReport { databases, caches }
    }

    #[cfg(feature = "redis")]
    async fn cache_health(&self) -> Vec<CacheHealth> {
        let targets: Vec<(String, Option<RedisCache>)> = {
            let caches = self.caches.read().expect("registry lock poisoned");
            caches.iter().map(|(n, e)| (n.clone(), e.cache.clone())).collect()
        };
        join_all(targets.into_iter().map(|(name, cache)| async move {
            let started = Instant::now();
            let status = match cache {
                None => HealthStatus::NotConnected,
                Some(cache) => match cache.health_check().await {
                    Ok(()) => HealthStatus::Healthy,
                    Err(e) => HealthStatus::Unhealthy { category: e.category(), error: e.to_string() },
                },
            };
            CacheHealth { name, status, latency: started.elapsed() }
        }))
        .await
    }

    /// Drains every connected database at once; see [`DrainMode`] for what each mode does.
    ///
    /// Every database is marked draining before any of them starts waiting, so
    /// [`health`](DatabaseManager::health) reports [`HealthStatus::Draining`] for all of them from
    /// the moment this is called, and readiness probes fail before any connection is closed. The
    /// databases stay registered, drained and closed: [`disconnect_all`](DatabaseManager::disconnect_all)
    /// then forgets them (and `connect_all` would connect them afresh).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use std::time::Duration;
    /// use dbkit_runtime::{DatabaseConfig, DatabaseManager, DrainMode, HealthStatus};
    ///
    /// let manager = DatabaseManager::new();
    /// manager.register("main", DatabaseConfig::sqlite_memory())?;
    /// manager.register("audit", DatabaseConfig::sqlite_memory())?;
    /// manager.connect_all().await?;
    ///
    /// let report = manager.drain(DrainMode::Graceful, Duration::from_secs(10)).await;
    /// assert_eq!(report.databases.len(), 2);
    /// assert!(report.finished_within_timeout);
    /// assert_eq!(manager.health().await.get("main").unwrap().status, HealthStatus::Closed);
    /// manager.disconnect_all().await;
    /// # Ok(()) }
    /// ```
    pub async fn drain(&self, mode: DrainMode, timeout: Duration) -> DrainReport {
        let started = Instant::now();
        let databases = self.databases();
        for database in &databases {
            database.tracker().begin_drain();
        }
        let reports = join_all(databases.iter().map(|database| database.drain(mode, timeout))).await;
        DrainReport::new(mode, started.elapsed(), reports)
    }

    /// Closes every connected database at once, and lets go of the caches (a cache's connection
    /// closes with its last clone). They stay registered: `connect_all` reconnects them.
    pub async fn disconnect_all(&self) {
        let databases: Vec<Database> = {
            let mut entries = self.entries.write().expect("registry lock poisoned");
            entries.values_mut().filter_map(|e| e.database.take()).collect()
        };
        #[cfg(feature = "redis")]
        for entry in self.caches.write().expect("registry lock poisoned").values_mut() {
            entry.cache = None;
        }
        join_all(databases.iter().map(Database::close)).await;
    }
}

fn unknown(name: &str, entries: &BTreeMap<String, Entry>) -> Error {
    Error::UnknownDatabase { name: name.to_owned(), registered: entries.keys().cloned().collect() }
}

impl fmt::Debug for DatabaseManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.entries.read().expect("registry lock poisoned");
        let mut map = f.debug_map();
        for (name, entry) in entries.iter() {
            map.entry(
                name,
                &format_args!(
                    "{} ({})",
                    entry.config.redacted_url(),
                    if entry.database.is_some() { "connected" } else { "not connected" }
                ),
            );
        }
        #[cfg(feature = "redis")]
        for (name, entry) in self.caches.read().expect("registry lock poisoned").iter() {
            map.entry(
                &format_args!("cache {name}"),
                &format_args!(
                    "{} ({})",
                    entry.config.redacted_url(),
                    if entry.cache.is_some() { "connected" } else { "not connected" }
                ),
            );
        }
        map.finish()
    }
}

/// The health of every registered database, from [`DatabaseManager::health`].
///
/// It implements `serde::Serialize`, so a `/health` endpoint can return it as it is: `healthy` is
/// [`is_healthy`](HealthReport::is_healthy), each database's status is a lower-case string
/// (`healthy`, `draining`, `closed`, `not_connected`, `unhealthy`; an unhealthy one adds
/// `error_category` and `error`, the error's message), and `latency_ms` is milliseconds to the
/// microsecond; the registered caches follow under `caches`, in the same shape without `backend`.
/// Nothing in it names a host, a user or a password.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::{DatabaseConfig, DatabaseManager};
///
/// let manager = DatabaseManager::new();
/// manager.register("main", DatabaseConfig::sqlite_memory())?;
/// manager.register("audit", DatabaseConfig::sqlite_memory())?;
/// manager.connect_all().await?;
/// manager.get("audit")?.close().await;
///
/// let json = serde_json::to_value(manager.health().await).unwrap();
/// assert_eq!(json["healthy"], false);
/// assert_eq!(json["databases"][0]["name"], "audit");
/// assert_eq!(json["databases"][0]["status"], "closed");
/// assert_eq!(json["databases"][1]["status"], "healthy");
/// assert_eq!(json["databases"][1]["backend"], "sqlite");
/// assert!(json["databases"][1]["latency_ms"].is_f64());
/// // {"healthy":false,"databases":[{"name":"audit","backend":"sqlite","status":"closed","latency_ms":0.002},
/// //   {"name":"main","backend":"sqlite","status":"healthy","latency_ms":0.061}],"caches":[]}
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct HealthReport {
    /// One entry per registered database, by name.
    pub databases: Vec<DatabaseHealth>,
    /// One entry per registered cache, by name (feature `redis`; otherwise empty).
    pub caches: Vec<CacheHealth>,
}

impl HealthReport {
    /// Whether every database is connected, open and answering. The caches do not count: a cache
    /// that is down costs time, not answers (cached reads fall back to the database), so it should
    /// not take the service out of a load balancer. Their state is in [`caches`](HealthReport::caches).
    pub fn is_healthy(&self) -> bool {
        self.databases.iter().all(|d| d.status == HealthStatus::Healthy)
    }

    /// The entry for `name`.
    pub fn get(&self, name: &str) -> Option<&DatabaseHealth> {
        self.databases.iter().find(|d| d.name == name)
    }
}

impl serde::Serialize for HealthReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut report = serializer.serialize_struct("HealthReport", 3)?;
        report.serialize_field("healthy", &self.is_healthy())?;
        report.serialize_field("databases", &self.databases)?;
        report.serialize_field("caches", &self.caches)?;
        report.end()
    }
}

/// One cache's health, from [`DatabaseManager::health`]: connected and answering `PING`. In JSON,
/// as a database's without the backend: `{"name": "redis", "status": "healthy", "latency_ms": 0.2}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheHealth {
    /// The registered name.
    pub name: String,
    /// The verdict: `Healthy`, `NotConnected` or `Unhealthy`.
    #[serde(flatten)]
    pub status: HealthStatus,
    /// How long the check took.
    #[serde(rename = "latency_ms", serialize_with = "crate::json::millis")]
    pub latency: Duration,
}

/// One database's health. In JSON, its status is flattened into it:
/// `{"name": "main", "backend": "postgres", "status": "unhealthy", "error_category": "connection",
/// "error": "…", "latency_ms": 5001.2}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DatabaseHealth {
    /// The registered name.
    pub name: String,
    /// The backend.
    pub backend: Backend,
    /// The verdict.
    #[serde(flatten)]
    pub status: HealthStatus,
    /// How long the check took.
    #[serde(rename = "latency_ms", serialize_with = "crate::json::millis")]
    pub latency: Duration,
    /// Each read replica, as its last check found it (see [`crate::replicas`]); in JSON only when
    /// there are any. A replica that is out does not make the database unhealthy: its reads go to
    /// the primary.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<crate::ReplicaInfo>,
}

/// A database's health.
///
/// In JSON, an object with the variant's snake_case name as `status`, plus the failure for
/// `Unhealthy`: `{"status": "not_connected"}`, `{"status": "unhealthy", "error_category":
/// "timeout", "error": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthStatus {
    /// Connected, open, and answered `SELECT 1`.
    Healthy,
    /// A drain has started; readiness probes should fail.
    Draining,
    /// Closed.
    Closed,
    /// Registered but not connected.
    NotConnected,
    /// The check failed.
    Unhealthy {
        /// The classified failure.
        #[serde(rename = "error_category", serialize_with = "crate::json::category")]
        category: crate::ErrorCategory,
        /// The error's message.
        error: String,
    },
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ErrorCategory;

    #[test]
    fn contains_is_exact_and_names_are_sorted() {
        let manager = DatabaseManager::new();
        assert!(!manager.contains("main"));
        assert!(manager.names().is_empty());
        for name in ["orders", "Zeta", "audit"] {
            manager.register(name, DatabaseConfig::sqlite_memory()).unwrap();
        }
        assert!(manager.contains("orders"));
        assert!(!manager.contains("order"));
        assert!(!manager.contains("ORDERS"));
        assert!(!manager.contains(" orders"));
        assert_eq!(manager.names(), ["Zeta", "audit", "orders"]);
    }

    // A failing check cannot be provoked on SQLite, so the unhealthy shape is checked on a value.
    #[test]
    fn an_unhealthy_database_in_json() {
        let report = HealthReport {
            caches: Vec::new(),
            databases: vec![
                DatabaseHealth {
                    name: "orders".into(),
                    backend: Backend::Postgres,
                    status: HealthStatus::Unhealthy {
                        category: ErrorCategory::Connection,
                        error: "connection refused".into(),
                    },
                    latency: Duration::from_micros(5_000_250),
                    replicas: Vec::new(),
                },
                DatabaseHealth {
                    name: "reports".into(),
                    backend: Backend::MySql,
                    status: HealthStatus::NotConnected,
                    latency: Duration::ZERO,
                    replicas: Vec::new(),
                },
            ],
        };
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            json!({
                "healthy": false,
                "databases": [
                    {
                        "name": "orders",
                        "backend": "postgres",
                        "status": "unhealthy",
                        "error_category": "connection",
                        "error": "connection refused",
                        "latency_ms": 5000.25,
                    },
                    { "name": "reports", "backend": "mysql", "status": "not_connected", "latency_ms": 0.0 },
                ],
                "caches": [],
            })
        );
        assert_eq!(serde_json::to_value(HealthStatus::Draining).unwrap(), json!({ "status": "draining" }));
    }
}
