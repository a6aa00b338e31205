//! Connection and pool configuration: [`DatabaseConfig`], built from a URL, from fields, or from the
//! environment (see [`env`](mod@env)).
//!
//! A password is held apart from the URL, as a [`SecretString`], from the moment a configuration is
//! built: `Debug`, [`DatabaseConfig::redacted_url`], logs and errors show `***` in its place.

mod duration;
pub mod env;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::Backend;

pub use duration::{ParseDurationError, parse_duration};

/// The configuration of one database: where it is, how to log in, and how to pool connections.
///
/// ```
/// use std::time::Duration;
/// use dbkit_runtime::{Backend, DatabaseConfig};
///
/// let config = DatabaseConfig::from_url("postgres://app:s3cret@db.internal:5432/shop")?
///     .pool_size(10)
///     .pool_timeout(Duration::from_secs(5));
/// assert_eq!(config.backend(), Backend::Postgres);
/// assert_eq!(config.max_connections(), 20); // pool_size + max_overflow
/// assert_eq!(config.redacted_url(), "postgres://app:***@db.internal:5432/shop");
/// assert!(!format!("{config:?}").contains("s3cret"));
/// # Ok::<(), dbkit_runtime::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct DatabaseConfig {
    backend: Backend,
    target: Target,
    password: Option<SecretString>,
    pool_size: u32,
    max_overflow: u32,
    pool_timeout: Duration,
    pool_recycle: Option<Duration>,
    pool_pre_ping: bool,
    idle_timeout: Option<Duration>,
    connect_timeout: Duration,
    command_timeout: Option<Duration>,
    echo: bool,
    application_name: String,
    charset: String,
    sqlite_busy_timeout: Duration,
    mysql_insert_returning: Option<bool>,
    clickhouse_query_parameters: Option<bool>,
    /// Read replicas, in the order given; a URL that did not parse is kept as its error, which
    /// connecting reports.
    replicas: Vec<Result<Replica, ConfigError>>,
    replica_max_lag: Option<Duration>,
    replica_wait: Duration,
    replica_check_interval: Duration,
}

/// One read replica: where it is, and its password when its URL had one.
#[derive(Clone)]
struct Replica {
    backend: Backend,
    url: Url,
    password: Option<SecretString>,
}

/// Where a database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// An SQLite database file, created when missing.
    SqliteFile(PathBuf),
    /// An in-memory SQLite database, private to the pool that opens it.
    SqliteMemory,
    /// A server, addressed by a URL whose password has been taken out.
    Server(Url),
}

/// Query parameters whose values are secrets and are redacted like a password.
const SECRET_PARAMS: &[&str] = &["password", "sslpassword", "pass", "pwd", "token", "access_token"];

impl DatabaseConfig {
    /// A configuration for `backend` with every setting at its default: a server on `localhost` at
    /// the backend's default port, or an in-memory database for SQLite.
    pub fn new(backend: Backend) -> Self {
        let target = match backend {
            Backend::Sqlite => Target::SqliteMemory,
            _ => Target::Server(
                Url::parse(&format!("{}://localhost:{}/", server_scheme(backend), default_port(backend)))
                    .expect("a scheme, `localhost` and a port always form a valid URL"),
            ),
        };
        DatabaseConfig {
            backend,
            target,
            password: None,
            // SQLAlchemy's default, and what the seeds use: enough for a service that runs a few
            // concurrent requests per core; this many are opened at connect and kept open.
            pool_size: 5,
            // SQLAlchemy's default burst capacity; connections above `pool_size` are closed when idle.
            max_overflow: 10,
            // A request that waits longer than this for a connection is better failed than queued.
            pool_timeout: Duration::from_secs(30),
            // Below the idle cut-off of common load balancers and NAT gateways, and far below
            // MySQL's `wait_timeout` (8 h), so the server never closes a pooled connection first.
            pool_recycle: Some(Duration::from_secs(30 * 60)),
            // A connection that died while idle is found before a query is sent on it, as the seeds
            // chose; the pool pings only a connection idle for 500 ms or more (engine/pool.rs).
            pool_pre_ping: true,
            // Overflow connections idle this long are closed (sqlx's default).
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            // Long enough for a TLS handshake across regions, short enough to fail a dead host fast.
            connect_timeout: Duration::from_secs(10),
            // No statement timeout unless asked for: a safe value depends on the workload.
            command_timeout: None,
            echo: false,
            application_name: "dbkit".to_owned(),
            // The only MySQL character set that stores all of Unicode.
            charset: "utf8mb4".to_owned(),
            // How long SQLite waits on a locked database before failing with SQLITE_BUSY.
            sqlite_busy_timeout: Duration::from_secs(5),
            // Detected from the server's version.
            mysql_insert_returning: None,
            // Detected from the server's version.
            clickhouse_query_parameters: None,
            replicas: Vec::new(),
            // A replica further behind than this serves no read: ten seconds is stale by any
            // reader's measure, yet rides out a burst of writes or a long transaction's replay.
            replica_max_lag: Some(Duration::from_secs(10)),
            // A read that must see a position waits this long for a replica to reach it, then goes
            // to the primary: about what a replica in sync needs to replay a commit on a LAN.
            replica_wait: Duration::from_millis(50),
            // How often each replica's health, lag and replayed position are asked.
            replica_check_interval: Duration::from_secs(1),
        }
    }

    /// Parses a database URL. The backend comes from the scheme: `sqlite:`, `postgres:`/`postgresql:`,
    /// `mysql:`/`mariadb:`, `clickhouse:`/`http:`/`https:`, `oracle:`.
    ///
    /// SQLite accepts `sqlite::memory:`, `sqlite://:memory:`, `sqlite:relative/path.db`,
    /// `sqlite://relative/path.db` and `sqlite:///absolute/path.db`.
    ///
    /// A bad URL is an error that never repeats the URL itself, since it may hold a password.
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        Self::parse_url(url, None)
    }

    /// Like [`DatabaseConfig::from_url`], but an error names `variable`, the setting the URL came from.
    pub(crate) fn parse_url(url: &str, variable: Option<&str>) -> Result<Self, ConfigError> {
        let err = |message: String| ConfigError { variable: variable.map(str::to_owned), message };
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(err("expected a database URL such as `postgres://user:password@host:5432/db`, `mysql://…`, \
                 `sqlite:path.db` or `sqlite::memory:`; found no scheme"
                .to_owned()));
        };
        let Some(backend) = Backend::from_scheme(scheme) else {
            return Err(err(format!(
                "unknown URL scheme `{}`: expected one of `sqlite`, `postgres`, `postgresql`, `mysql`, \
                 `mariadb`, `clickhouse`, `http`, `https`, `oracle`",
                scheme.chars().take(32).collect::<String>()
            )));
        };
        let mut config = DatabaseConfig::new(backend);
        if backend == Backend::Sqlite {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split_once('?').map_or(path, |(p, _)| p);
            config.target = match path {
                "" | ":memory:" => Target::SqliteMemory,
                path => Target::SqliteFile(PathBuf::from(path)),
            };
            return Ok(config);
        }
        let mut parsed = Url::parse(url).map_err(|e| err(format!("not a valid {backend} URL: {e}")))?;
        if parsed.cannot_be_a_base() || parsed.host_str().is_none_or(str::is_empty) {
            return Err(err(format!(
                "a {backend} URL needs a host, as in `{}://user:password@host/db`",
                server_scheme(backend)
            )));
        }
        if let Some(password) = parsed.password() {
            let decoded = percent_decode(password)
                .ok_or_else(|| err("the URL's password is not valid percent-encoded UTF-8".to_owned()))?;
            config.password = Some(SecretString::from(decoded));
            let _ = parsed.set_password(None);
        }
        config.target = Target::Server(parsed);
        Ok(config)
    }

    /// An SQLite database in the file at `path`, created when missing.
    pub fn sqlite_file(path: impl AsRef<Path>) -> Self {
        let mut config = DatabaseConfig::new(Backend::Sqlite);
        config.target = Target::SqliteFile(path.as_ref().to_owned());
        config
    }

    /// An in-memory SQLite database. Every connection of the pool that opens it sees the same
    /// database; it is gone when the pool closes.
    pub fn sqlite_memory() -> Self {
        DatabaseConfig::new(Backend::Sqlite)
    }

    /// Sets the server's host name or address. Ignored for SQLite.
    pub fn host(mut self, host: &str) -> Result<Self, ConfigError> {
        if let Target::Server(url) = &mut self.target {
            url.set_host(Some(host)).map_err(|e| ConfigError::new(format!("invalid host: {e}")))?;
        }
        Ok(self)
    }

    /// Sets the server's port. Ignored for SQLite.
    pub fn port(mut self, port: u16) -> Self {
        if let Target::Server(url) = &mut self.target {
            let _ = url.set_port(Some(port));
        }
        self
    }

    /// Sets the user name. Ignored for SQLite.
    pub fn username(mut self, username: &str) -> Self {
        if let Target::Server(url) = &mut self.target {
            let _ = url.set_username(username);
        }
        self
    }

    /// Sets the password, kept as a secret: never shown by `Debug`, `Display`, logs or errors.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(SecretString::from(password.into()));
        self
    }

    /// Sets the database (schema) name, or for SQLite the database file.
    pub fn database(mut self, database: &str) -> Self {
        match &mut self.target {
            Target::Server(url) => url.set_path(&format!("/{database}")),
            target => {
                *target = if database == ":memory:" {
                    Target::SqliteMemory
                } else {
                    Target::SqliteFile(PathBuf::from(database))
                }
            }
        }
        self
    }

    /// Sets a URL query parameter passed to the driver (for example `sslmode=require`).
    /// Ignored for SQLite.
    pub fn param(mut self, key: &str, value: &str) -> Self {
        if let Target::Server(url) = &mut self.target {
            let kept: Vec<(String, String)> =
                url.query_pairs().filter(|(k, _)| k != key).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            url.query_pairs_mut().clear().extend_pairs(kept).append_pair(key, value);
        }
        self
    }

    /// Connections kept open (default 5): the pool opens them in the background after connecting and
    /// keeps that many however idle, so size it against the server's connection limit divided by
    /// the number of application instances.
    pub fn pool_size(mut self, pool_size: u32) -> Self {
        self.pool_size = pool_size;
        self
    }

    /// Extra connections opened under load and closed when idle (default 10).
    pub fn max_overflow(mut self, max_overflow: u32) -> Self {
        self.max_overflow = max_overflow;
        self
    }

    /// How long a caller waits for a pooled connection, a new one's connect included, before
    /// failing with a timeout (default 30 s).
    pub fn pool_timeout(mut self, timeout: Duration) -> Self {
        self.pool_timeout = timeout;
        self
    }

    /// The age at which a connection is closed and replaced; `None` keeps connections forever
    /// (default 30 min).
    pub fn pool_recycle(mut self, recycle: impl Into<Option<Duration>>) -> Self {
        self.pool_recycle = recycle.into();
        self
    }

    /// Whether a pooled connection idle for 500 ms or more is pinged before it is handed out, so a
    /// connection the server closed meanwhile is replaced before a statement is sent on it
    /// (default `true`). A connection used more recently is handed out without one: its last round
    /// trip has just shown the server alive (see the README's *PostgreSQL and MySQL*). SQLite's
    /// engine has no connection to lose; its raw sessions follow the same rule.
    pub fn pool_pre_ping(mut self, pre_ping: bool) -> Self {
        self.pool_pre_ping = pre_ping;
        self
    }

    /// How long a connection above `pool_size` may sit idle before it is closed (default 10 min).
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = timeout.into();
        self
    }

    /// Adds a read replica (repeatable; PostgreSQL and MySQL/MariaDB): a server of the same
    /// backend, pooled and tuned like this one, which generated reads go to while it is healthy
    /// and close enough behind (see [`replica_max_lag`](Self::replica_max_lag)). A replica URL
    /// without a user and password uses this configuration's. A URL that does not parse is reported when
    /// connecting, naming the replica by its place, never by its text.
    pub fn replica(mut self, url: &str) -> Self {
        let replica = DatabaseConfig::parse_url(url, None).and_then(|parsed| match parsed.target {
            Target::Server(url) => Ok(Replica { backend: parsed.backend, url, password: parsed.password }),
            _ => Err(ConfigError::new("a replica is a server URL, not an SQLite file")),
        });
        self.replicas.push(replica);
        self
    }

    /// The most a replica may lag behind the primary and still serve reads (default 10 s); `None`
    /// for no limit. One further behind is taken out until it catches up.
    pub fn replica_max_lag(mut self, lag: impl Into<Option<Duration>>) -> Self {
        self.replica_max_lag = lag.into();
        self
    }

    /// How long a read that must see a position (`ReadFrom::AtLeast`) waits for a replica to
    /// replay it before it goes to the primary (default 50 ms).
    pub fn replica_wait(mut self, wait: Duration) -> Self {
        self.replica_wait = wait;
        self
    }

    /// How often each replica's health, lag and replayed position are checked (default 1 s).
    pub fn replica_check_interval(mut self, interval: Duration) -> Self {
        self.replica_check_interval = interval;
        self
    }

    /// How long [`Database::connect`](crate::Database::connect) waits for the first connection
    /// (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// A server-side limit on each statement's run time, where the backend has one (PostgreSQL
    /// `statement_timeout`, MySQL `max_execution_time` for reads); `None` for no limit (default).
    pub fn command_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.command_timeout = timeout.into();
        self
    }

    /// Whether every statement is logged at `INFO` through `tracing` (default `false`).
    pub fn echo(mut self, echo: bool) -> Self {
        self.echo = echo;
        self
    }

    /// The name the server shows for this client's connections, where it has one (PostgreSQL
    /// `application_name`; default `"dbkit"`).
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }

    /// The MySQL connection character set (default `utf8mb4`).
    pub fn charset(mut self, charset: impl Into<String>) -> Self {
        self.charset = charset.into();
        self
    }

    /// How long SQLite waits for a lock before failing with `SQLITE_BUSY` (default 5 s).
    pub fn sqlite_busy_timeout(mut self, timeout: Duration) -> Self {
        self.sqlite_busy_timeout = timeout;
        self
    }

    /// Whether a MySQL-protocol server takes `INSERT … RETURNING`: `None` (the default) detects it
    /// from the server's version (MariaDB 10.5 and later); `Some(false)` makes generated `create`
    /// read the row back in its transaction instead, as on MySQL (for a proxy that reports another
    /// version, say).
    pub fn mysql_insert_returning(mut self, returning: impl Into<Option<bool>>) -> Self {
        self.mysql_insert_returning = returning.into();
        self
    }

    /// See [`DatabaseConfig::mysql_insert_returning`].
    pub fn get_mysql_insert_returning(&self) -> Option<bool> {
        self.mysql_insert_returning
    }

    /// Whether a ClickHouse server takes server-side query parameters (`{name:Type}`, sent as
    /// `param_name`), which `#[dbkit::queries]` methods then bind their values with: `None` (the
    /// default) detects it from the server's version (19.11 and later); `Some(false)` makes them
    /// write each value into the statement with the `clickhouse` crate's escaping instead, as on
    /// 18.16 (for a proxy that reports another version, say).
    pub fn clickhouse_query_parameters(mut self, parameters: impl Into<Option<bool>>) -> Self {
        self.clickhouse_query_parameters = parameters.into();
        self
    }

    /// See [`DatabaseConfig::clickhouse_query_parameters`].
    pub fn get_clickhouse_query_parameters(&self) -> Option<bool> {
        self.clickhouse_query_parameters
    }

    /// The backend this configuration connects to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// See [`DatabaseConfig::pool_size`].
    pub fn get_pool_size(&self) -> u32 {
        self.pool_size
    }

    /// See [`DatabaseConfig::max_overflow`].
    pub fn get_max_overflow(&self) -> u32 {
        self.max_overflow
    }

    /// The most connections the pool opens: `pool_size + max_overflow`, at least 1.
    pub fn max_connections(&self) -> u32 {
        self.pool_size.saturating_add(self.max_overflow).max(1)
    }

    /// See [`DatabaseConfig::pool_timeout`].
    pub fn get_pool_timeout(&self) -> Duration {
        self.pool_timeout
    }

    /// See [`DatabaseConfig::pool_recycle`].
    pub fn get_pool_recycle(&self) -> Option<Duration> {
        self.pool_recycle
    }

    /// See [`DatabaseConfig::pool_pre_ping`].
    pub fn get_pool_pre_ping(&self) -> bool {
        self.pool_pre_ping
    }

    /// See [`DatabaseConfig::idle_timeout`].
    pub fn get_idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// See [`DatabaseConfig::connect_timeout`].
    pub fn get_connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// See [`DatabaseConfig::command_timeout`].
    pub fn get_command_timeout(&self) -> Option<Duration> {
        self.command_timeout
    }

    /// See [`DatabaseConfig::echo`].
    pub fn get_echo(&self) -> bool {
        self.echo
    }

    /// See [`DatabaseConfig::application_name`].
    pub fn get_application_name(&self) -> &str {
        &self.application_name
    }

    /// See [`DatabaseConfig::charset`].
    pub fn get_charset(&self) -> &str {
        &self.charset
    }

    /// See [`DatabaseConfig::sqlite_busy_timeout`].
    pub fn get_sqlite_busy_timeout(&self) -> Duration {
        self.sqlite_busy_timeout
    }

    /// The replicas' URLs, each with its password redacted; safe to log.
    pub fn redacted_replica_urls(&self) -> Vec<String> {
        self.replica_configs()
            .iter()
            .map(|replica| replica.as_ref().map_or_else(|_| "<invalid URL>".to_owned(), DatabaseConfig::redacted_url))
            .collect()
    }

    /// See [`DatabaseConfig::replica_max_lag`].
    pub fn get_replica_max_lag(&self) -> Option<Duration> {
        self.replica_max_lag
    }

    /// See [`DatabaseConfig::replica_wait`].
    pub fn get_replica_wait(&self) -> Duration {
        self.replica_wait
    }

    /// See [`DatabaseConfig::replica_check_interval`].
    pub fn get_replica_check_interval(&self) -> Duration {
        self.replica_check_interval
    }

    /// Each replica as a configuration of its own: this one's settings with the replica's server
    /// (and its password, or else this one's), and no replicas.
    pub(crate) fn replica_configs(&self) -> Vec<Result<DatabaseConfig, ConfigError>> {
        self.replicas
            .iter()
            .map(|replica| {
                let replica = replica.as_ref().map_err(Clone::clone)?;
                let mut config = self.clone();
                config.replicas = Vec::new();
                let mut url = replica.url.clone();
                if let Target::Server(primary) = &self.target
                    && url.username().is_empty()
                {
                    let _ = url.set_username(primary.username());
                }
                config.target = Target::Server(url);
                if replica.password.is_some() {
                    config.password = replica.password.clone();
                }
                Ok(config)
            })
            .collect()
    }

    /// Whether a password is set (by URL or by [`DatabaseConfig::password`]).
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// `db.namespace` and `server.address` for metrics and spans: the database on the server (the
    /// URL's path, ClickHouse's `database` parameter, or the SQLite file) and the host. Never the
    /// user, password or other parameters.
    pub(crate) fn telemetry_target(&self) -> (String, String) {
        match &self.target {
            Target::SqliteMemory => (":memory:".to_owned(), String::new()),
            Target::SqliteFile(path) => (path.display().to_string(), String::new()),
            Target::Server(url) => {
                let path = url.path().trim_start_matches('/');
                let namespace = if path.is_empty() {
                    url.query_pairs().find(|(k, _)| k == "database").map(|(_, v)| v.into_owned()).unwrap_or_default()
                } else {
                    path.to_owned()
                };
                (namespace, url.host_str().unwrap_or_default().to_owned())
            }
        }
    }

    /// The URL with the password and secret query parameters replaced by `***`: safe to log.
    pub fn redacted_url(&self) -> String {
        match &self.target {
            Target::SqliteMemory => "sqlite::memory:".to_owned(),
            Target::SqliteFile(path) => format!("sqlite://{}", path.display()),
            Target::Server(url) => {
                let mut url = url.clone();
                if self.password.is_some() {
                    let _ = url.set_password(Some("***"));
                }
                if url.query().is_some() {
                    let pairs: Vec<(String, String)> = url
                        .query_pairs()
                        .map(|(k, v)| {
                            let secret = SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s));
                            (k.into_owned(), if secret { "***".to_owned() } else { v.into_owned() })
                        })
                        .collect();
                    url.query_pairs_mut().clear().extend_pairs(pairs);
                }
                // `***` is percent-encoded by `url`; show it as typed.
                url.as_str().replace("%2A%2A%2A", "***")
            }
        }
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    pub(crate) fn password_secret(&self) -> Option<&str> {
        self.password.as_ref().map(|p| p.expose_secret())
    }

    /// Checks the settings against each other; called before connecting.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.pool_size == 0 && self.max_overflow == 0 {
            return Err(ConfigError::new("pool_size + max_overflow must be at least 1"));
        }
        for (n, replica) in self.replicas.iter().enumerate() {
            let replica = replica.as_ref().map_err(|e| ConfigError {
                variable: e.variable.clone(),
                message: format!("replica {}: {}", n + 1, e.message),
            })?;
            if !matches!(self.backend, Backend::Postgres | Backend::MySql) {
                return Err(ConfigError::new(format!(
                    "read replicas are supported on PostgreSQL and MySQL/MariaDB, not {}",
                    self.backend
                )));
            }
            if replica.backend != self.backend {
                return Err(ConfigError::new(format!(
                    "replica {} is a {} URL, but the database is {}: a replica is a server of the same backend",
                    n + 1,
                    replica.backend,
                    self.backend
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("backend", &self.backend)
            .field("url", &self.redacted_url())
            .field("pool_size", &self.pool_size)
            .field("max_overflow", &self.max_overflow)
            .field("pool_timeout", &self.pool_timeout)
            .field("pool_recycle", &self.pool_recycle)
            .field("pool_pre_ping", &self.pool_pre_ping)
            .field("idle_timeout", &self.idle_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("echo", &self.echo)
            .field("application_name", &self.application_name)
            .field("charset", &self.charset)
            .field("replicas", &self.redacted_replica_urls())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted_url())
    }
}

fn server_scheme(backend: Backend) -> &'static str {
    match backend {
        Backend::ClickHouse => "http",
        other => other.name(),
    }
}

/// The port a server listens on unless told otherwise.
fn default_port(backend: Backend) -> u16 {
    match backend {
        Backend::Postgres => 5432,
        Backend::MySql => 3306,
        Backend::ClickHouse => 8123,
        Backend::Oracle => 1521,
        Backend::Sqlite => 0,
    }
}

fn percent_decode(s: &str) -> Option<String> {
    // `url` keeps userinfo percent-encoded; decode it by hand (RFC 3986 §2.1) rather than pull in a
    // crate for ten lines.
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A configuration value that is missing or malformed.
///
/// Its message names the variable (or setting) at fault and the form expected, and never repeats a
/// secret: a password or a URL that may hold one is not echoed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    variable: Option<String>,
    message: String,
}

impl ConfigError {
    /// An error about the configuration as a whole.
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError { variable: None, message: message.into() }
    }

    /// An error about one variable or setting.
    pub fn for_variable(variable: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { variable: Some(variable.into()), message: message.into() }
    }

    /// The environment variable or setting at fault, when there is one.
    pub fn variable(&self) -> Option<&str> {
        self.variable.as_deref()
    }

    /// What is wrong and what is expected.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.variable {
            Some(variable) => write!(f, "invalid configuration: {variable}: {}", self.message),
            None => write!(f, "invalid configuration: {}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_taken_out_of_the_url() {
        let c = DatabaseConfig::from_url("mysql://app:p%40ss@127.0.0.1:3306/shop?ssl-mode=disabled").unwrap();
        assert_eq!(c.password_secret(), Some("p@ss"));
        assert_eq!(c.redacted_url(), "mysql://app:***@127.0.0.1:3306/shop?ssl-mode=disabled");
        let Target::Server(url) = c.target() else { panic!() };
        assert_eq!(url.password(), None);
    }

    #[test]
    fn secret_query_parameters_are_redacted() {
        let c = DatabaseConfig::from_url("postgres://h/db?sslmode=require&sslpassword=hunter2").unwrap();
        assert!(!c.redacted_url().contains("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.to_string().contains("hunter2"));
    }

    #[test]
    fn sqlite_url_forms() {
        for (url, target) in [
            ("sqlite::memory:", Target::SqliteMemory),
            ("sqlite://:memory:", Target::SqliteMemory),
            ("sqlite:data/app.db", Target::SqliteFile("data/app.db".into())),
            ("sqlite://data/app.db?mode=rwc", Target::SqliteFile("data/app.db".into())),
            ("sqlite:///var/lib/app.db", Target::SqliteFile("/var/lib/app.db".into())),
        ] {
            assert_eq!(DatabaseConfig::from_url(url).unwrap().target(), &target, "{url}");
        }
    }

    #[test]
    fn bad_urls_say_what_is_expected_and_never_echo_the_url() {
        let e = DatabaseConfig::from_url("redis://u:topsecret@h/0").unwrap_err();
        assert!(e.message().contains("expected one of"), "{e}");
        assert!(!e.to_string().contains("topsecret"));
        let e = DatabaseConfig::from_url("postgres://u:topsecret@:99999/db").unwrap_err();
        assert!(!e.to_string().contains("topsecret"), "{e}");
        let e = DatabaseConfig::parse_url("nonsense", Some("DB_URL")).unwrap_err();
        assert_eq!(e.variable(), Some("DB_URL"));
    }

    #[test]
    fn schemes_select_backends() {
        for (url, backend) in [
            ("postgresql://h/db", Backend::Postgres),
            ("mariadb://h/db", Backend::MySql),
            ("http://h:8123/", Backend::ClickHouse),
            ("clickhouse://h:8123/", Backend::ClickHouse),
            ("oracle://h:1521/XEPDB1", Backend::Oracle),
        ] {
            assert_eq!(DatabaseConfig::from_url(url).unwrap().backend(), backend, "{url}");
        }
    }

    #[test]
    fn fields_build_a_url() {
        let c = DatabaseConfig::new(Backend::Postgres)
            .host("10.0.0.5")
            .unwrap()
            .port(6432)
            .username("svc")
            .password("pw")
            .database("orders")
            .param("sslmode", "require");
        assert_eq!(c.redacted_url(), "postgres://svc:***@10.0.0.5:6432/orders?sslmode=require");
    }
}
