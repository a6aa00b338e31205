//! Configuration from environment variables and `.env` files.
//!
//! # Where the variables come from
//!
//! [`Env::load`] takes a snapshot of three layers, each overriding the one before it:
//!
//! 1. `.env` in the current directory;
//! 2. `.env.<APP_ENV>` (for example `.env.production`), where `APP_ENV` is read from the process
//!    environment, or else from `.env` (a plain name: letters, digits, `_`, `-`, `.`);
//! 3. the process environment, which always wins.
//!
//! A missing file is skipped. A file that cannot be parsed is an error naming the file and the
//! line, never the line's text (it may hold a password). The files use the `dotenvy` syntax:
//! `NAME=value`, an optional `export `, `#` comments, `'single'` or `"double"` quotes (a value
//! with spaces needs them), and `$NAME` / `${NAME}`, which expand to the process environment's
//! value, or else to a value defined earlier in the same file. The process environment is only
//! read, never modified, and its variables whose name or value is not UTF-8 are skipped.
//!
//! An empty value is the same as no value: `POSTGRES_HOST=` in `.env.test` switches off the
//! PostgreSQL database that `.env` configures, and `DB_POOL_SIZE=${POOL}` with `POOL` unset
//! leaves the default. Surrounding whitespace is ignored, except in a password.
//!
//! # Which databases [`DatabaseManager::from_env`](crate::DatabaseManager::from_env) registers
//!
//! Databases are named after their backend, as in the seeds' registry, plus the names listed in
//! `DBKIT_DATABASES`. Each name reads the variables of one prefix (described below):
//!
//! | name | registered when | variables read |
//! |---|---|---|
//! | `mysql` | `MYSQL_URL` or `MYSQL_HOST` is set | `MYSQL_*` |
//! | `postgres` | `POSTGRES_URL` or `POSTGRES_HOST` is set | `POSTGRES_*` |
//! | `sqlite` | `SQLITE_DATABASE_FILE` or `SQLITE_URL` is set | `SQLITE_*` |
//! | `clickhouse` | `CLICKHOUSE_URL` or `CLICKHOUSE_HOST` is set | `CLICKHOUSE_*` |
//! | `oracle` | `ORACLE_URL` or `ORACLE_HOST` is set | `ORACLE_*` |
//! | the backend of `DB_URL` (`"postgres"` for `postgres://…`) | `DB_URL` (or `DB_HOST` with `DB_BACKEND`) is set | `DB_*` |
//! | each `name` in `DBKIT_DATABASES=orders,analytics` | always: a listed name must be configured | `NAME_*` (`ORDERS_URL`, …) |
//! | `sqlite`, the fallback | none of the above, and `DBKIT_DATABASES` is unset | `DBKIT_FALLBACK_SQLITE_FILE` |
//!
//! - With no database configured at all, `sqlite` is the SQLite file `app.db` in the current
//!   directory (the seeds' default, `sqlite+aiosqlite:///app.db`), or the path in
//!   `DBKIT_FALLBACK_SQLITE_FILE`, with default settings. The file, but not its directory, is
//!   created on connect when missing, and an `INFO` log line names it. Where a missing
//!   configuration must fail instead, list the database required: `DBKIT_DATABASES=postgres`.
//!   Without the `sqlite` cargo feature there is no fallback: nothing is registered.
//! - A backend's variables count as configured only once its URL or host (or SQLite file) is
//!   set: `MYSQL_USER`, `POSTGRES_PASSWORD` and the like alone register nothing, because the
//!   official MySQL and PostgreSQL container images read those same names from a shared `.env`.
//! - The generic `DB_` layout may not configure a name the per-backend layout also configures:
//!   `DB_URL=postgres://…` together with `POSTGRES_HOST` is an error naming both variables. Give
//!   the second database its own name in `DBKIT_DATABASES` instead.
//! - Names in `DBKIT_DATABASES` are separated by commas, made of `a`–`z`, `0`–`9` and `_`, and
//!   listed once each. Listing a backend's name (`postgres`) is allowed and makes it required;
//!   `db` is not allowed, as the `DB_` variables register under their backend's name.
//!
//! # The variables of one database
//!
//! [`DatabaseConfig::from_env`] reads the variables of one prefix `P` (`POSTGRES`, `DB`,
//! `ORDERS`, …). The location comes either from a URL or from separate variables, the *host
//! layout*; setting both is an error.
//!
//! | variable | form | default |
//! |---|---|---|
//! | `P_URL` | a database URL (see [`DatabaseConfig::from_url`]) | — |
//! | `P_HOST` | a host name or IP address | — (required by the host layout) |
//! | `P_PORT` | a port, `1` to `65535` | the backend's usual port (ClickHouse: `8123`) |
//! | `P_USER` | a user name | the driver's default |
//! | `P_PASSWORD` | any text; may also accompany a `P_URL` that has no password | none |
//! | `P_DATABASE` | the database (Oracle: service) name | the server's default |
//! | `P_DATABASE_FILE` | an SQLite file path, or `:memory:` (`SQLITE_DATABASE_FILE` for `SQLITE`) | — |
//! | `P_BACKEND` | `mysql`, `mariadb`, `postgres`, `postgresql`, `sqlite`, `clickhouse`, `oracle` | from the prefix |
//!
//! The backend comes from the URL's scheme, or from `P_BACKEND`, or from the prefix itself:
//! `MYSQL`/`MARIADB` → MySQL, `POSTGRES`/`POSTGRESQL`/`PG` → PostgreSQL, `SQLITE`, `CLICKHOUSE`,
//! `ORACLE`; `P_DATABASE_FILE` alone means SQLite. When two of these disagree it is an error.
//!
//! The pool and connection settings apply to every prefix:
//!
//! | variable | form | default |
//! |---|---|---|
//! | `P_POOL_SIZE` | a whole number, `0` to `10000` | `5` |
//! | `P_MAX_OVERFLOW` | a whole number, `0` to `10000` | `10` |
//! | `P_POOL_TIMEOUT` | a duration | `30s` |
//! | `P_POOL_RECYCLE` | a duration, or `-1` for never (SQLAlchemy's convention) | `30m` |
//! | `P_POOL_PRE_PING` | a boolean | `true` |
//! | `P_IDLE_TIMEOUT` | a duration, or `-1` for never | `10m` |
//! | `P_CONNECT_TIMEOUT` | a duration | `10s` |
//! | `P_COMMAND_TIMEOUT` | a duration, or `-1` for no limit | no limit |
//! | `P_ECHO` | a boolean | `false` |
//! | `P_CHARSET` | a character set name (letters, digits, `_`); MySQL only | `utf8mb4` |
//! | `P_APPLICATION_NAME` | any text; PostgreSQL only | `dbkit` |
//! | `P_REPLICA_URLS` | read replicas' URLs, separated by commas (PostgreSQL, MySQL/MariaDB) | none |
//! | `P_REPLICA_MAX_LAG` | a duration, or `-1` for no limit | `10s` |
//! | `P_REPLICA_WAIT` | a duration | `50ms` |
//!
//! A *duration* is a number of seconds (`30`, `2.5`) or a number with a unit: `500ms`, `30s`,
//! `5m`, `1h` ([`config::parse_duration`](super::parse_duration) reads it, for your own variables
//! too). It must be greater than zero: `0` would mean "fail at once" for a timeout and "replace
//! every connection" for the recycle age, so where "never" is allowed it is spelled `-1`. A *boolean* is `true`/`false`, `1`/`0`, `yes`/`no` or `on`/`off`, in any case.
//!
//! # Errors
//!
//! A bad value is a [`ConfigError`] whose [`variable`](ConfigError::variable) is the variable at
//! fault and whose message says the form expected and the value found. The value of a
//! `_PASSWORD` or `_URL` variable is never repeated, in any error.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use dbkit_runtime::config::env::Env;
//! use dbkit_runtime::{Backend, DatabaseConfig, DatabaseManager};
//!
//! let env = Env::from_pairs([
//!     ("POSTGRES_HOST", "db.internal"),
//!     ("POSTGRES_USER", "app"),
//!     ("POSTGRES_PASSWORD", "s3cret"),
//!     ("POSTGRES_DATABASE", "shop"),
//!     ("POSTGRES_POOL_SIZE", "20"),
//!     ("POSTGRES_POOL_TIMEOUT", "2.5"),
//!     ("DBKIT_DATABASES", "orders"),
//!     ("ORDERS_URL", "mysql://svc@orders.internal:3306/orders"),
//!     ("ORDERS_PASSWORD", "hunter2"),
//!     ("ORDERS_POOL_RECYCLE", "-1"),
//! ]);
//!
//! let postgres = DatabaseConfig::from_env("POSTGRES", &env)?;
//! assert_eq!(postgres.redacted_url(), "postgres://app:***@db.internal:5432/shop");
//! assert_eq!(postgres.get_pool_size(), 20);
//! assert_eq!(postgres.get_pool_timeout(), Duration::from_millis(2500));
//!
//! let orders = DatabaseConfig::from_env("ORDERS", &env)?;
//! assert_eq!(orders.backend(), Backend::MySql);
//! assert!(orders.has_password());
//! assert_eq!(orders.get_pool_recycle(), None);
//!
//! let manager = DatabaseManager::from_env_source(&env)?;
//! assert_eq!(manager.names(), ["orders", "postgres"]);
//!
//! let bad = Env::from_pairs([("DB_URL", "sqlite::memory:"), ("DB_POOL_SIZE", "lots")]);
//! let err = DatabaseConfig::from_env("DB", &bad).unwrap_err();
//! assert_eq!(err.variable(), Some("DB_POOL_SIZE"));
//! assert_eq!(err.message(), "expected a whole number from 0 to 10000, found \"lots\"");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{Backend, ConfigError, DatabaseConfig};

/// A snapshot of configuration variables: the process environment layered over `.env.<APP_ENV>`
/// layered over `.env` (see the [module docs](self)).
///
/// ```
/// use dbkit_runtime::config::env::Env;
///
/// let env = Env::from_pairs([("DB_URL", "sqlite::memory:"), ("DB_ECHO", "")]);
/// assert_eq!(env.get("DB_URL"), Some("sqlite::memory:"));
/// assert_eq!(env.get("DB_ECHO"), None); // empty is unset
/// ```
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Reads `.env`, then `.env.<APP_ENV>`, from the current directory, then the process
    /// environment.
    pub fn load() -> Result<Env, ConfigError> {
        Env::load_from(Path::new("."))
    }

    /// Like [`Env::load`], with the `.env` files read from `dir`.
    pub fn load_from(dir: &Path) -> Result<Env, ConfigError> {
        let process =
            std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
        Env::load_layered(dir, process)
    }

    /// Like [`Env::load_from`], with `environment` in place of the process environment: the
    /// `.env` files in `dir`, overridden by `environment`. `APP_ENV` is looked up in `environment`
    /// first.
    pub fn load_layered<K: Into<String>, V: Into<String>>(
        dir: &Path,
        environment: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Env, ConfigError> {
        let environment = Env::from_pairs(environment);
        let mut vars = read_env_file(&dir.join(".env"))?;
        let app_env = match environment.get("APP_ENV") {
            Some(app_env) => Some(app_env.to_owned()),
            None => vars.get("APP_ENV").filter(|v| !v.is_empty()).cloned(),
        };
        if let Some(app_env) = app_env {
            check_app_env(&app_env)?;
            vars.extend(read_env_file(&dir.join(format!(".env.{app_env}")))?);
        }
        vars.extend(environment.vars);
        Ok(Env { vars })
    }

    /// An explicit set of variables (for tests, or configuration from elsewhere).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// The value of `name`, if set to something other than the empty string.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").field("variables", &self.vars.len()).finish()
    }
}

/// The `APP_ENV` value becomes part of a file name: keep it to one plain path component.
fn check_app_env(app_env: &str) -> Result<(), ConfigError> {
    let plain = app_env.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if plain && !app_env.starts_with('.') {
        Ok(())
    } else {
        Err(ConfigError::for_variable(
            "APP_ENV",
            format!(
                "expected an environment name such as `production` (letters, digits, `_`, `-`, `.`), {}",
                found(app_env)
            ),
        ))
    }
}

/// The variables of one `.env` file; none when it does not exist.
fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    // Read the whole file first, rather than through `dotenvy::from_path_iter`, so that a parse
    // error can be placed on a line: dotenvy reports the offending text, which must not be shown.
    let content = match std::fs::read_to_string(path) {
        Ok(content) => content,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(ConfigError::new(format!("cannot read `{}`: {e}", path.display()))),
    };
    let mut vars = BTreeMap::new();
    for item in dotenvy::from_read_iter(content.as_bytes()) {
        match item {
            Ok((name, value)) => {
                vars.insert(name, value);
            }
            Err(dotenvy::Error::LineParse(text, _)) => {
                let place = match line_of(&content, &text) {
                    Some(line) => format!("`{}` line {line}", path.display()),
                    None => format!("`{}`", path.display()),
                };
                return Err(ConfigError::new(format!(
                    "{place}: expected `NAME=value`, where NAME is a letter or `_` followed by letters, \
                     digits, `_` or `.`, and a value holding spaces is quoted"
                )));
            }
            Err(e) => return Err(ConfigError::new(format!("cannot read `{}`: {e}", path.display()))),
        }
    }
    Ok(vars)
}

/// The 1-based line of `content` where `text` (a line, or the tail of one, that dotenvy
/// rejected) starts.
fn line_of(content: &str, text: &str) -> Option<usize> {
    if text.trim().is_empty() {
        return None;
    }
    let at = content.find(text)?;
    Some(content[..at].matches('\n').count() + 1)
}

impl DatabaseConfig {
    /// Reads the configuration of the database whose variables start with `prefix` (`"POSTGRES"`
    /// reads `POSTGRES_HOST`, `POSTGRES_POOL_SIZE`, …; a trailing `_` in `prefix` is optional).
    ///
    /// Every variable, its form and its default are listed in the [`env` module](crate::config::env)'s
    /// docs. A prefix with none of its location variables set is an error naming `P_URL` (for
    /// SQLite, `P_DATABASE_FILE`) as the one expected; a host layout without `P_HOST` is an error
    /// naming `P_HOST`.
    ///
    /// ```
    /// use dbkit_runtime::config::env::Env;
    /// use dbkit_runtime::{Backend, DatabaseConfig};
    ///
    /// let env = Env::from_pairs([("SQLITE_DATABASE_FILE", "data/app.db"), ("SQLITE_ECHO", "yes")]);
    /// let config = DatabaseConfig::from_env("SQLITE", &env)?;
    /// assert_eq!(config.backend(), Backend::Sqlite);
    /// assert!(config.get_echo());
    ///
    /// let err = DatabaseConfig::from_env("ORDERS", &env).unwrap_err();
    /// assert_eq!(err.variable(), Some("ORDERS_URL"));
    /// # Ok::<(), dbkit_runtime::ConfigError>(())
    /// ```
    pub fn from_env(prefix: &str, env: &Env) -> Result<DatabaseConfig, ConfigError> {
        let vars = Prefixed::new(prefix, env)?;
        let config = vars.location()?;
        vars.tuning(config)
    }
}

/// The variables of one prefix.
struct Prefixed<'a> {
    prefix: &'a str,
    env: &'a Env,
}

impl<'a> Prefixed<'a> {
    fn new(prefix: &'a str, env: &'a Env) -> Result<Self, ConfigError> {
        let prefix = prefix.strip_suffix('_').unwrap_or(prefix);
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ConfigError::new(format!(
                "invalid variable prefix {prefix:?}: expected letters, digits and `_`, such as `POSTGRES`"
            )));
        }
        Ok(Prefixed { prefix, env })
    }

    /// The full name of the variable `P_{suffix}`.
    fn name(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.prefix)
    }

    /// The value of `P_{suffix}`, with surrounding whitespace removed; `None` when unset or blank.
    fn get(&self, suffix: &str) -> Option<&'a str> {
        self.env.get(&self.name(suffix)).map(str::trim).filter(|v| !v.is_empty())
    }

    /// The value of `P_{suffix}` as written, for passwords.
    fn get_raw(&self, suffix: &str) -> Option<&'a str> {
        self.env.get(&self.name(suffix))
    }

    /// The backend named by `P_BACKEND`, or else by the prefix itself.
    fn named_backend(&self) -> Result<Option<(Backend, String)>, ConfigError> {
        if let Some(value) = self.get("BACKEND") {
            let backend = value.parse::<Backend>().map_err(|_| {
                ConfigError::for_variable(
                    self.name("BACKEND"),
                    format!(
                        "expected one of `mysql`, `mariadb`, `postgres`, `postgresql`, `sqlite`, \
                         `clickhouse`, `oracle`, {}",
                        found(value)
                    ),
                )
            })?;
            return Ok(Some((backend, format!("`{}`", self.name("BACKEND")))));
        }
        let backend = match self.prefix.to_ascii_uppercase().as_str() {
            "MYSQL" | "MARIADB" => Backend::MySql,
            "POSTGRES" | "POSTGRESQL" | "PG" => Backend::Postgres,
            "SQLITE" => Backend::Sqlite,
            "CLICKHOUSE" => Backend::ClickHouse,
            "ORACLE" => Backend::Oracle,
            _ => return Ok(None),
        };
        Ok(Some((backend, format!("the prefix `{}_`", self.prefix))))
    }

    /// Where the database is and how to log in: from `P_URL`, or from the host layout.
    fn location(&self) -> Result<DatabaseConfig, ConfigError> {
        let named = self.named_backend()?;
        if let Some(url) = self.get("URL") {
            return self.url_location(url, named);
        }
        let file = self.get("DATABASE_FILE");
        let backend = match (&named, file) {
            (Some((backend, _)), _) => *backend,
            (None, Some(_)) => Backend::Sqlite,
            (None, None) if self.get("HOST").is_some() => {
                return Err(ConfigError::for_variable(
                    self.name("BACKEND"),
                    format!(
                        "not set, and the prefix `{}_` names no backend: with `{}` set, expected \
                         one of `mysql`, `postgres`, `sqlite`, `clickhouse`, `oracle`",
                        self.prefix,
                        self.name("HOST")
                    ),
                ));
            }
            (None, None) => return Err(self.missing_host(None)),
        };
        if backend == Backend::Sqlite {
            let Some(file) = file else {
                return Err(ConfigError::for_variable(
                    self.name("DATABASE_FILE"),
                    format!(
                        "not set: expected the SQLite database file (or `:memory:`), or a URL in `{}`",
                        self.name("URL")
                    ),
                ));
            };
            return Ok(if file == ":memory:" {
                DatabaseConfig::sqlite_memory()
            } else {
                DatabaseConfig::sqlite_file(file)
            });
        }
        if file.is_some() {
            return Err(ConfigError::for_variable(
                self.name("DATABASE_FILE"),
                format!("is for SQLite only, and this database is {backend}: use `{}`", self.name("DATABASE")),
            ));
        }
        self.host_location(backend)
    }

    fn url_location(&self, url: &str, named: Option<(Backend, String)>) -> Result<DatabaseConfig, ConfigError> {
        let url_var = self.name("URL");
        for part in ["HOST", "PORT", "USER", "DATABASE", "DATABASE_FILE"] {
            if self.get(part).is_some() {
                return Err(ConfigError::for_variable(
                    &url_var,
                    format!(
                        "`{url_var}` and `{}` are both set: give the location either as a URL or as \
                         separate variables, not both",
                        self.name(part)
                    ),
                ));
            }
        }
        let mut config = DatabaseConfig::parse_url(url, Some(&url_var))?;
        if let Some((backend, source)) = named
            && backend != config.backend()
        {
            return Err(ConfigError::for_variable(
                &url_var,
                format!("the URL is for {}, but {source} says {backend}", config.backend()),
            ));
        }
        if let Some(password) = self.get_raw("PASSWORD") {
            match config.password_secret() {
                None => config = config.password(password),
                Some(existing) if existing == password => {}
                Some(_) => {
                    return Err(ConfigError::for_variable(
                        self.name("PASSWORD"),
                        format!("`{url_var}` holds a different password: set the password in one place"),
                    ));
                }
            }
        }
        Ok(config)
    }

    fn host_location(&self, backend: Backend) -> Result<DatabaseConfig, ConfigError> {
        let Some(host) = self.get("HOST") else { return Err(self.missing_host(Some(backend))) };
        let mut config = DatabaseConfig::new(backend).host(host).map_err(|e| {
            ConfigError::for_variable(
                self.name("HOST"),
                if host.contains("://") || host.contains('@') {
                    // A URL put in the host variable may carry a password: never echo it.
                    format!("expected a host name or IP address, found a URL: put it in `{}`", self.name("URL"))
                } else {
                    format!("expected a host name or IP address, {} ({})", found(host), e.message())
                },
            )
        })?;
        if let Some(port) = self.parse("PORT", parse_port, "expected a port number from 1 to 65535")? {
            config = config.port(port);
        }
        if let Some(user) = self.get("USER") {
            config = config.username(user);
        }
        if let Some(password) = self.get_raw("PASSWORD") {
            config = config.password(password);
        }
        if let Some(database) = self.get("DATABASE") {
            config = config.database(database);
        }
        Ok(config)
    }

    /// The error for a host layout without its host: names `P_HOST` when other parts of the layout
    /// are set, or else `P_URL`, the usual way to configure a database.
    fn missing_host(&self, backend: Option<Backend>) -> ConfigError {
        let present = ["PORT", "USER", "PASSWORD", "DATABASE"].into_iter().find(|part| self.get_raw(part).is_some());
        let Some(part) = present else { return self.nothing_set() };
        let server = match backend {
            Some(backend) => format!("the {backend} server's host name"),
            None => format!("the server's host name, with its backend in `{}`", self.name("BACKEND")),
        };
        ConfigError::for_variable(
            self.name("HOST"),
            format!("not set, but `{}` is: expected {server} (or a URL in `{}`)", self.name(part), self.name("URL")),
        )
    }

    fn nothing_set(&self) -> ConfigError {
        ConfigError::for_variable(
            self.name("URL"),
            format!(
                "not set: expected a database URL in `{url}`, or `{host}` (with optional `{port}`, \
                 `{user}`, `{password}`, `{database}`), or an SQLite file in `{file}`",
                url = self.name("URL"),
                host = self.name("HOST"),
                port = self.name("PORT"),
                user = self.name("USER"),
                password = self.name("PASSWORD"),
                database = self.name("DATABASE"),
                file = self.name("DATABASE_FILE"),
            ),
        )
    }

    /// The pool and connection settings, over `config`'s defaults.
    fn tuning(&self, mut config: DatabaseConfig) -> Result<DatabaseConfig, ConfigError> {
        const COUNT: &str = "expected a whole number from 0 to 10000";
        const DURATION: &str =
            "expected a duration greater than zero: seconds (`30`, `2.5`) or with a unit (`500ms`, `30s`, `5m`, `1h`)";
        const NEVER: &str = "expected a duration greater than zero: seconds (`30`, `2.5`) or with a unit \
             (`500ms`, `30s`, `5m`, `1h`), or -1 for never";
        const NO_LIMIT: &str = "expected a duration greater than zero: seconds (`30`, `2.5`) or with a unit \
             (`500ms`, `30s`, `5m`, `1h`), or -1 for no limit";
        const BOOLEAN: &str = "expected one of `true`, `false`, `1`, `0`, `yes`, `no`, `on`, `off`";
        const CHARSET: &str = "expected a character set name such as `utf8mb4` (letters, digits, `_`)";

        if let Some(n) = self.parse("POOL_SIZE", parse_count, COUNT)? {
            config = config.pool_size(n);
        }
        if let Some(n) = self.parse("MAX_OVERFLOW", parse_count, COUNT)? {
            config = config.max_overflow(n);
        }
        if let Some(d) = self.parse("POOL_TIMEOUT", parse_duration, DURATION)? {
            config = config.pool_timeout(d);
        }
        if let Some(d) = self.parse("POOL_RECYCLE", parse_optional_duration, NEVER)? {
            config = config.pool_recycle(d);
        }
        if let Some(b) = self.parse("POOL_PRE_PING", parse_bool, BOOLEAN)? {
            config = config.pool_pre_ping(b);
        }
        if let Some(d) = self.parse("IDLE_TIMEOUT", parse_optional_duration, NEVER)? {
            config = config.idle_timeout(d);
        }
        if let Some(d) = self.parse("CONNECT_TIMEOUT", parse_duration, DURATION)? {
            config = config.connect_timeout(d);
        }
        if let Some(d) = self.parse("COMMAND_TIMEOUT", parse_optional_duration, NO_LIMIT)? {
            config = config.command_timeout(d);
        }
        if let Some(b) = self.parse("ECHO", parse_bool, BOOLEAN)? {
            config = config.echo(b);
        }
        if let Some(charset) = self.parse("CHARSET", parse_charset, CHARSET)? {
            config = config.charset(charset);
        }
        if let Some(name) = self.get("APPLICATION_NAME") {
            config = config.application_name(name);
        }
        if let Some(urls) = self.get("REPLICA_URLS") {
            let variable = self.name("REPLICA_URLS");
            for (n, url) in urls.split(',').map(str::trim).filter(|url| !url.is_empty()).enumerate() {
                // Checked here, so the error names the variable; never the URL, which may hold a
                // password.
                DatabaseConfig::parse_url(url, Some(&variable)).map_err(|e| {
                    ConfigError::for_variable(variable.clone(), format!("replica {}: {}", n + 1, e.message))
                })?;
                config = config.replica(url);
            }
        }
        if let Some(d) = self.parse("REPLICA_MAX_LAG", parse_optional_duration, NO_LIMIT)? {
            config = config.replica_max_lag(d);
        }
        if let Some(d) = self.parse("REPLICA_WAIT", parse_duration, DURATION)? {
            config = config.replica_wait(d);
        }
        if config.get_pool_size() == 0 && config.get_max_overflow() == 0 {
            return Err(ConfigError::for_variable(
                self.name("POOL_SIZE"),
                format!(
                    "`{}` and `{}` are both 0, so no connection could ever be opened: set one of them to 1 or more",
                    self.name("POOL_SIZE"),
                    self.name("MAX_OVERFLOW")
                ),
            ));
        }
        Ok(config)
    }

    /// `P_{suffix}` parsed by `parse`; an error says `expected` and the value found.
    fn parse<T>(&self, suffix: &str, parse: fn(&str) -> Option<T>, expected: &str) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.get(suffix) else { return Ok(None) };
        match parse(value) {
            Some(parsed) => Ok(Some(parsed)),
            None => Err(ConfigError::for_variable(self.name(suffix), format!("{expected}, {}", found(value)))),
        }
    }
}

/// `found "value"`, shortened if long. Only for values that are never secrets.
pub(crate) fn found(value: &str) -> String {
    const MAX: usize = 64;
    if value.chars().count() <= MAX {
        format!("found {value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("found {head:?}…")
    }
}

/// The databases `env` configures, by name (see the [module docs](self)).
pub(crate) fn databases(env: &Env) -> Result<Vec<(String, DatabaseConfig)>, ConfigError> {
    // name → (configuration, the variable that configured it)
    let mut found: BTreeMap<String, (DatabaseConfig, String)> = BTreeMap::new();
    for backend in Backend::ALL {
        let prefix = backend.name().to_ascii_uppercase();
        if let Some(variable) = configured_by(env, &prefix) {
            found.insert(backend.name().to_owned(), (DatabaseConfig::from_env(&prefix, env)?, variable));
        }
    }
    if let Some(variable) = configured_by(env, "DB") {
        let config = DatabaseConfig::from_env("DB", env)?;
        let name = config.backend().name();
        if let Some((_, other)) = found.get(name) {
            return Err(ConfigError::for_variable(
                &variable,
                format!(
                    "`{variable}` and `{other}` both configure the database `{name}`: keep one, or give \
                     the second its own name in `DBKIT_DATABASES`"
                ),
            ));
        }
        found.insert(name.to_owned(), (config, variable));
    }
    let mut listed = BTreeSet::new();
    for name in env.get("DBKIT_DATABASES").unwrap_or("").split(',').map(str::trim).filter(|n| !n.is_empty()) {
        check_database_name(name)?;
        if !listed.insert(name) {
            return Err(ConfigError::for_variable("DBKIT_DATABASES", format!("`{name}` is listed twice")));
        }
        let prefix = name.to_ascii_uppercase();
        // A listed name must be configured: this fails, naming the variable expected, when not.
        let config = DatabaseConfig::from_env(&prefix, env)?;
        match found.get(name) {
            // A backend's own name, already registered from these same variables.
            Some((_, variable)) if variable.starts_with(&format!("{prefix}_")) => {}
            Some((_, other)) => {
                return Err(ConfigError::for_variable(
                    "DBKIT_DATABASES",
                    format!("`{name}` is listed, and `{other}` also configures a database named `{name}`: keep one"),
                ));
            }
            None => {
                let variable = configured_by(env, &prefix).unwrap_or_else(|| format!("{prefix}_URL"));
                found.insert(name.to_owned(), (config, variable));
            }
        }
    }
    if Backend::Sqlite.is_enabled()
        && found.is_empty()
        && env.get("DBKIT_DATABASES").is_none_or(|v| v.trim().is_empty())
    {
        let file = fallback_sqlite_file(env)?;
        let shown = std::path::absolute(&file).unwrap_or_else(|_| file.clone());
        tracing::info!(database = "sqlite", file = %shown.display(), "no database is configured: using an SQLite file");
        return Ok(vec![(Backend::Sqlite.name().to_owned(), DatabaseConfig::sqlite_file(file))]);
    }
    Ok(found.into_iter().map(|(name, (config, _))| (name, config)).collect())
}

/// The file of the SQLite database registered when nothing is configured: `app.db`, or the path
/// in `DBKIT_FALLBACK_SQLITE_FILE`.
fn fallback_sqlite_file(env: &Env) -> Result<PathBuf, ConfigError> {
    const VARIABLE: &str = "DBKIT_FALLBACK_SQLITE_FILE";
    const EXPECTED: &str = "expected an SQLite file path such as `data/app.db`";
    let Some(file) = env.get(VARIABLE).map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(PathBuf::from("app.db"));
    };
    let is_url =
        file.contains("://") || file.split_once(':').is_some_and(|(scheme, _)| Backend::from_scheme(scheme).is_some());
    let problem = if is_url {
        // A URL may carry a password: never echo it.
        format!("{EXPECTED}, found a URL: to configure a database by URL, set `DB_URL` instead")
    } else if file == ":memory:" {
        format!("{EXPECTED}, {}: for an in-memory database, set `SQLITE_DATABASE_FILE=:memory:`", found(file))
    } else if file.ends_with(['/', std::path::MAIN_SEPARATOR]) || Path::new(file).is_dir() {
        format!("{EXPECTED}, {}, a directory", found(file))
    } else {
        return Ok(PathBuf::from(file));
    };
    Err(ConfigError::for_variable(VARIABLE, problem))
}

/// The variable whose presence means `prefix` configures a database, if any is set.
fn configured_by(env: &Env, prefix: &str) -> Option<String> {
    ["URL", "HOST", "DATABASE_FILE"]
        .into_iter()
        .map(|suffix| format!("{prefix}_{suffix}"))
        .find(|variable| env.get(variable).is_some_and(|v| !v.trim().is_empty()))
}

fn check_database_name(name: &str) -> Result<(), ConfigError> {
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(ConfigError::for_variable(
            "DBKIT_DATABASES",
            format!(
                "expected names made of `a`-`z`, `0`-`9` and `_`, separated by commas, such as `orders,analytics`; \
                 {}",
                found(name)
            ),
        ));
    }
    if name == "db" {
        return Err(ConfigError::for_variable(
            "DBKIT_DATABASES",
            "`db` cannot be listed: the `DB_` variables register under their backend's name \
             (`postgres` for `DB_URL=postgres://…`); choose another name",
        ));
    }
    Ok(())
}

fn parse_count(text: &str) -> Option<u32> {
    text.parse::<u32>().ok().filter(|n| *n <= 10_000)
}

fn parse_port(text: &str) -> Option<u16> {
    text.parse::<u16>().ok().filter(|port| *port != 0)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_charset(text: &str) -> Option<String> {
    text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_').then(|| text.to_owned())
}

/// A duration greater than zero, or `-1` for none.
pub(crate) fn parse_optional_duration(text: &str) -> Option<Option<Duration>> {
    if text == "-1" { Some(None) } else { parse_duration(text).map(Some) }
}

/// [`config::parse_duration`](super::parse_duration), for [`Prefixed::parse`], whose errors say the
/// form expected and the value found.
fn parse_duration(text: &str) -> Option<Duration> {
    super::parse_duration(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (text, expected) in [
            ("30", Duration::from_secs(30)),
            ("2.5", Duration::from_millis(2500)),
            ("0.1", Duration::from_millis(100)),
            (".5", Duration::from_millis(500)),
            ("500ms", Duration::from_millis(500)),
            ("1.5ms", Duration::from_micros(1500)),
            ("30s", Duration::from_secs(30)),
            ("5m", Duration::from_secs(300)),
            ("1h", Duration::from_secs(3600)),
            ("0.5h", Duration::from_secs(1800)),
            ("10 s", Duration::from_secs(10)),
        ] {
            assert_eq!(parse_duration(text), Some(expected), "{text}");
        }
        for text in [
            "",
            "0",
            "0s",
            "0.0",
            "-1",
            "-5s",
            "abc",
            "5d",
            "1.2.3",
            ".",
            "s",
            "1e3",
            "inf",
            "NaN",
            "1.0000000001",
            "5 m s",
        ] {
            assert_eq!(parse_duration(text), None, "{text}");
        }
        assert_eq!(parse_duration("99999999999999999999999999999999999999h"), None);
    }

    #[test]
    fn optional_durations() {
        assert_eq!(parse_optional_duration("-1"), Some(None));
        assert_eq!(parse_optional_duration("90"), Some(Some(Duration::from_secs(90))));
        assert_eq!(parse_optional_duration("0"), None);
        assert_eq!(parse_optional_duration("-2"), None);
    }

    #[test]
    fn booleans() {
        for text in ["true", "TRUE", "True", "1", "yes", "YES", "on", "On"] {
            assert_eq!(parse_bool(text), Some(true), "{text}");
        }
        for text in ["false", "FALSE", "0", "no", "No", "off", "OFF"] {
            assert_eq!(parse_bool(text), Some(false), "{text}");
        }
        for text in ["", "2", "y", "n", "enabled", "truee"] {
            assert_eq!(parse_bool(text), None, "{text}");
        }
    }

    #[test]
    fn counts_and_ports() {
        assert_eq!(parse_count("0"), Some(0));
        assert_eq!(parse_count("10000"), Some(10_000));
        assert_eq!(parse_count("10001"), None);
        assert_eq!(parse_count("-1"), None);
        assert_eq!(parse_count("1.5"), None);
        assert_eq!(parse_port("5432"), Some(5432));
        assert_eq!(parse_port("65535"), Some(65535));
        assert_eq!(parse_port("0"), None);
        assert_eq!(parse_port("65536"), None);
        assert_eq!(parse_port("http"), None);
    }

    #[test]
    fn charsets() {
        assert_eq!(parse_charset("utf8mb4").as_deref(), Some("utf8mb4"));
        assert_eq!(parse_charset("latin1_swedish_ci").as_deref(), Some("latin1_swedish_ci"));
        assert_eq!(parse_charset("utf8; DROP"), None);
    }

    #[test]
    fn found_quotes_and_shortens() {
        assert_eq!(found("abc"), "found \"abc\"");
        let long = "x".repeat(100);
        assert_eq!(found(&long), format!("found \"{}\"…", "x".repeat(64)));
    }

    #[test]
    fn parse_errors_are_placed_on_their_line() {
        let content = "# comment\nA=1\n\nB=two words\nC=3\n";
        assert_eq!(line_of(content, "two words"), Some(4));
        assert_eq!(line_of(content, "B=two words"), Some(4));
        assert_eq!(line_of(content, "missing"), None);
        assert_eq!(line_of(content, "  "), None);
    }

    #[test]
    fn app_env_is_one_plain_path_component() {
        for ok in ["production", "staging-eu", "test_2", "v1.2"] {
            assert!(check_app_env(ok).is_ok(), "{ok}");
        }
        for bad in ["../secrets", "a/b", ".hidden", "prod env", "a\\b"] {
            assert_eq!(check_app_env(bad).unwrap_err().variable(), Some("APP_ENV"), "{bad}");
        }
    }

    #[test]
    fn database_names() {
        assert!(check_database_name("orders_2").is_ok());
        for bad in ["Orders", "or-ders", "db", "a b"] {
            assert_eq!(check_database_name(bad).unwrap_err().variable(), Some("DBKIT_DATABASES"), "{bad}");
        }
    }

    #[test]
    fn fallback_sqlite_files() {
        let file = |value: &str| fallback_sqlite_file(&Env::from_pairs([("DBKIT_FALLBACK_SQLITE_FILE", value)]));
        assert_eq!(fallback_sqlite_file(&Env::default()).unwrap(), Path::new("app.db"));
        assert_eq!(file("").unwrap(), Path::new("app.db"));
        assert_eq!(file("   ").unwrap(), Path::new("app.db"));
        assert_eq!(file(" data/dev.db ").unwrap(), Path::new("data/dev.db"));
        assert_eq!(file("/var/lib/app/app.db").unwrap(), Path::new("/var/lib/app/app.db"));
        for bad in [":memory:", "sqlite:///app.db", "sqlite:app.db", "postgres://u:pw-secret@h/db", "data/", ".", ".."]
        {
            let e = file(bad).unwrap_err();
            assert_eq!(e.variable(), Some("DBKIT_FALLBACK_SQLITE_FILE"), "{bad}");
            assert!(e.message().starts_with("expected an SQLite file path"), "{bad}: {e}");
            assert!(!e.message().contains("pw-secret"), "{e}");
        }
        assert!(file("sqlite:///app.db").unwrap_err().message().contains("`DB_URL`"));
        assert!(file(":memory:").unwrap_err().message().contains("`SQLITE_DATABASE_FILE=:memory:`"));
    }

    #[test]
    fn the_fallback_applies_only_when_nothing_is_configured() {
        let names = |pairs: &[(&str, &str)]| -> Vec<String> {
            databases(&Env::from_pairs(pairs.iter().copied())).unwrap().into_iter().map(|(name, _)| name).collect()
        };
        let fallback: &[&str] = if Backend::Sqlite.is_enabled() { &["sqlite"] } else { &[] };
        assert_eq!(names(&[]), fallback);
        assert_eq!(names(&[("POSTGRES_USER", "app"), ("DBKIT_DATABASES", " ")]), fallback);
        assert_eq!(names(&[("POSTGRES_HOST", "pg")]), ["postgres"]);
        assert_eq!(names(&[("DB_URL", "mysql://h/db")]), ["mysql"]);
        assert!(databases(&Env::from_pairs([("DBKIT_DATABASES", "postgres")])).is_err());
    }

    #[test]
    fn prefixes() {
        let env = Env::from_pairs([("PG_HOST", "h")]);
        assert_eq!(DatabaseConfig::from_env("PG_", &env).unwrap().backend(), Backend::Postgres);
        assert!(DatabaseConfig::from_env("", &env).is_err());
        assert!(DatabaseConfig::from_env("PG-X", &env).is_err());
    }
}
