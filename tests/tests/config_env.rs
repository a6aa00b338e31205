//! Configuration from the environment: both variable layouts, bad values, `.env` layering and
//! `APP_ENV`, the names `DatabaseManager::from_env` registers (and its SQLite fallback when nothing
//! is configured), and that passwords never leak.
//!
//! Nothing here touches the process environment (tests run in parallel): variables come from
//! `Env::from_pairs`, and `.env` files from directories under the system temp dir.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dbkit::config::env::Env;
use dbkit::{Backend, ConfigError, DatabaseConfig, DatabaseManager};

fn env(pairs: &[(&str, &str)]) -> Env {
    Env::from_pairs(pairs.iter().copied())
}

fn config(prefix: &str, pairs: &[(&str, &str)]) -> DatabaseConfig {
    DatabaseConfig::from_env(prefix, &env(pairs)).unwrap_or_else(|e| panic!("{e}"))
}

fn config_error(prefix: &str, pairs: &[(&str, &str)]) -> ConfigError {
    match DatabaseConfig::from_env(prefix, &env(pairs)) {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(e) => e,
    }
}

fn registered(pairs: &[(&str, &str)]) -> DatabaseManager {
    DatabaseManager::from_env_source(&env(pairs)).unwrap_or_else(|e| panic!("{e}"))
}

fn registry_error(pairs: &[(&str, &str)]) -> ConfigError {
    match DatabaseManager::from_env_source(&env(pairs)) {
        Ok(manager) => panic!("expected an error, got {manager:?}"),
        Err(dbkit::Error::Config(e)) => e,
        Err(e) => panic!("expected a configuration error, got {e:?}"),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("dbkit-config-env-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, file: &str, content: &str) -> &TempDir {
        std::fs::write(self.0.join(file), content).unwrap();
        self
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- the seeds' per-backend layout ----

#[test]
fn mysql_host_layout_reads_every_variable() {
    let c = config(
        "MYSQL",
        &[
            ("MYSQL_HOST", "mysql.internal"),
            ("MYSQL_PORT", "3307"),
            ("MYSQL_USER", "shop"),
            ("MYSQL_PASSWORD", "p@ss w0rd!"),
            ("MYSQL_DATABASE", "shop"),
            ("MYSQL_CHARSET", "latin1"),
            ("MYSQL_POOL_SIZE", "7"),
            ("MYSQL_MAX_OVERFLOW", "3"),
            ("MYSQL_POOL_PRE_PING", "off"),
        ],
    );
    assert_eq!(c.backend(), Backend::MySql);
    assert_eq!(c.redacted_url(), "mysql://shop:***@mysql.internal:3307/shop");
    assert!(c.has_password());
    assert_eq!(c.get_charset(), "latin1");
    assert_eq!(c.get_pool_size(), 7);
    assert_eq!(c.get_max_overflow(), 3);
    assert_eq!(c.max_connections(), 10);
    assert!(!c.get_pool_pre_ping());
}

#[test]
fn postgres_host_layout_reads_every_variable() {
    let c = config(
        "POSTGRES",
        &[
            ("POSTGRES_HOST", "10.0.0.7"),
            ("POSTGRES_PORT", "6432"),
            ("POSTGRES_USER", "billing"),
            ("POSTGRES_PASSWORD", "pg-secret"),
            ("POSTGRES_DATABASE", "ledger"),
            ("POSTGRES_CHARSET", "utf8"),
            ("POSTGRES_POOL_SIZE", "12"),
            ("POSTGRES_MAX_OVERFLOW", "0"),
            ("POSTGRES_POOL_PRE_PING", "TRUE"),
            ("POSTGRES_POOL_TIMEOUT", "500ms"),
            ("POSTGRES_POOL_RECYCLE", "-1"),
            ("POSTGRES_IDLE_TIMEOUT", "90s"),
            ("POSTGRES_CONNECT_TIMEOUT", "2.5"),
            ("POSTGRES_COMMAND_TIMEOUT", "1m"),
            ("POSTGRES_ECHO", "yes"),
            ("POSTGRES_APPLICATION_NAME", "billing-api"),
        ],
    );
    assert_eq!(c.backend(), Backend::Postgres);
    assert_eq!(c.redacted_url(), "postgres://billing:***@10.0.0.7:6432/ledger");
    assert!(c.has_password());
    assert_eq!(c.get_charset(), "utf8");
    assert_eq!(c.get_pool_size(), 12);
    assert_eq!(c.max_connections(), 12);
    assert!(c.get_pool_pre_ping());
    assert_eq!(c.get_pool_timeout(), Duration::from_millis(500));
    assert_eq!(c.get_pool_recycle(), None);
    assert_eq!(c.get_idle_timeout(), Some(Duration::from_secs(90)));
    assert_eq!(c.get_connect_timeout(), Duration::from_millis(2500));
    assert_eq!(c.get_command_timeout(), Some(Duration::from_secs(60)));
    assert!(c.get_echo());
    assert_eq!(c.get_application_name(), "billing-api");
}

#[test]
fn host_layout_needs_only_the_host() {
    let c = config("POSTGRES", &[("POSTGRES_HOST", "db")]);
    assert_eq!(c.redacted_url(), "postgres://db:5432/");
    assert!(!c.has_password());
    let defaults = DatabaseConfig::new(Backend::Postgres);
    assert_eq!(c.get_pool_size(), defaults.get_pool_size());
    assert_eq!(c.get_max_overflow(), defaults.get_max_overflow());
    assert_eq!(c.get_pool_timeout(), defaults.get_pool_timeout());
    assert_eq!(c.get_pool_recycle(), defaults.get_pool_recycle());
    assert_eq!(c.get_pool_pre_ping(), defaults.get_pool_pre_ping());
    assert_eq!(c.get_connect_timeout(), defaults.get_connect_timeout());
    assert_eq!(c.get_command_timeout(), defaults.get_command_timeout());
    assert_eq!(c.get_echo(), defaults.get_echo());
    assert_eq!(c.get_charset(), defaults.get_charset());
}

#[test]
fn sqlite_reads_its_database_file() {
    let c = config("SQLITE", &[("SQLITE_DATABASE_FILE", "data/app.db"), ("SQLITE_POOL_SIZE", "1")]);
    assert_eq!(c.backend(), Backend::Sqlite);
    assert_eq!(c.redacted_url(), "sqlite://data/app.db");
    assert_eq!(c.get_pool_size(), 1);
    let c = config("SQLITE", &[("SQLITE_DATABASE_FILE", ":memory:")]);
    assert_eq!(c.redacted_url(), "sqlite::memory:");
    let c = config("SQLITE", &[("SQLITE_URL", "sqlite:cache.db")]);
    assert_eq!(c.redacted_url(), "sqlite://cache.db");
}

#[test]
fn clickhouse_and_oracle_host_layouts() {
    let c = config("CLICKHOUSE", &[("CLICKHOUSE_HOST", "ch"), ("CLICKHOUSE_DATABASE", "events")]);
    assert_eq!(c.backend(), Backend::ClickHouse);
    assert_eq!(c.redacted_url(), "http://ch:8123/events");
    let c = config("CLICKHOUSE", &[("CLICKHOUSE_HOST", "ch"), ("CLICKHOUSE_PORT", "18123")]);
    assert_eq!(c.redacted_url(), "http://ch:18123/");
    let c = config(
        "ORACLE",
        &[("ORACLE_HOST", "ora"), ("ORACLE_PORT", "1521"), ("ORACLE_USER", "app"), ("ORACLE_DATABASE", "XEPDB1")],
    );
    assert_eq!(c.backend(), Backend::Oracle);
    assert_eq!(c.redacted_url(), "oracle://app@ora:1521/XEPDB1");
}

#[test]
fn the_backend_comes_from_the_prefix_or_from_backend() {
    for (prefix, backend) in [
        ("MYSQL", Backend::MySql),
        ("MARIADB", Backend::MySql),
        ("POSTGRES", Backend::Postgres),
        ("POSTGRESQL", Backend::Postgres),
        ("PG", Backend::Postgres),
        ("CLICKHOUSE", Backend::ClickHouse),
        ("ORACLE", Backend::Oracle),
    ] {
        let host = format!("{prefix}_HOST");
        assert_eq!(config(prefix, &[(&host, "h")]).backend(), backend, "{prefix}");
    }
    let c = config("ORDERS", &[("ORDERS_HOST", "h"), ("ORDERS_BACKEND", "mariadb"), ("ORDERS_DATABASE", "o")]);
    assert_eq!(c.backend(), Backend::MySql);
    assert_eq!(c.redacted_url(), "mysql://h:3306/o");
    let c = config("CACHE", &[("CACHE_DATABASE_FILE", "cache.db")]);
    assert_eq!(c.backend(), Backend::Sqlite);
    let c = config("CACHE", &[("CACHE_BACKEND", "sqlite"), ("CACHE_DATABASE_FILE", ":memory:")]);
    assert_eq!(c.redacted_url(), "sqlite::memory:");
    // A trailing `_` in the prefix is optional.
    assert_eq!(config("PG_", &[("PG_HOST", "h")]).backend(), Backend::Postgres);
}

// ---- the generic layout ----

#[test]
fn generic_layout_reads_every_variable() {
    let c = config(
        "DB",
        &[
            ("DB_URL", "postgresql://app:s3cr%40t@db.example.com:6432/main?sslmode=require"),
            ("DB_POOL_SIZE", "0"),
            ("DB_MAX_OVERFLOW", "4"),
            ("DB_POOL_TIMEOUT", "45"),
            ("DB_POOL_RECYCLE", "1h"),
            ("DB_POOL_PRE_PING", "0"),
            ("DB_CONNECT_TIMEOUT", "3s"),
            ("DB_COMMAND_TIMEOUT", "250ms"),
            ("DB_ECHO", "On"),
        ],
    );
    assert_eq!(c.backend(), Backend::Postgres);
    assert_eq!(c.redacted_url(), "postgresql://app:***@db.example.com:6432/main?sslmode=require");
    assert!(c.has_password());
    assert_eq!(c.get_pool_size(), 0);
    assert_eq!(c.max_connections(), 4);
    assert_eq!(c.get_pool_timeout(), Duration::from_secs(45));
    assert_eq!(c.get_pool_recycle(), Some(Duration::from_secs(3600)));
    assert!(!c.get_pool_pre_ping());
    assert_eq!(c.get_connect_timeout(), Duration::from_secs(3));
    assert_eq!(c.get_command_timeout(), Some(Duration::from_millis(250)));
    assert!(c.get_echo());
}

#[test]
fn a_password_variable_completes_a_url_without_one() {
    let c = config("DB", &[("DB_URL", "mysql://app@db/shop"), ("DB_PASSWORD", "from-a-secret-store")]);
    assert!(c.has_password());
    assert_eq!(c.redacted_url(), "mysql://app:***@db/shop");
    // The same password in both places is fine; a different one is an error.
    let c = config("DB", &[("DB_URL", "mysql://app:same@db/shop"), ("DB_PASSWORD", "same")]);
    assert!(c.has_password());
    let e = config_error("DB", &[("DB_URL", "mysql://app:in-url@db/shop"), ("DB_PASSWORD", "in-variable")]);
    assert_eq!(e.variable(), Some("DB_PASSWORD"));
    assert!(!e.to_string().contains("in-url") && !e.to_string().contains("in-variable"), "{e}");
}

#[test]
fn a_url_and_host_variables_together_are_an_error() {
    for part in ["DB_HOST", "DB_PORT", "DB_USER", "DB_DATABASE", "DB_DATABASE_FILE"] {
        let e = config_error("DB", &[("DB_URL", "postgres://u:url-secret@h/db"), (part, "5432")]);
        assert_eq!(e.variable(), Some("DB_URL"), "{part}");
        assert!(e.message().contains(part), "{e}");
        assert!(!e.to_string().contains("url-secret"), "{e}");
    }
}

#[test]
fn a_url_must_match_the_backend_its_prefix_names() {
    let e = config_error("POSTGRES", &[("POSTGRES_URL", "mysql://u:pw-in-url@h/db")]);
    assert_eq!(e.variable(), Some("POSTGRES_URL"));
    assert!(e.message().contains("mysql") && e.message().contains("postgres"), "{e}");
    assert!(!e.to_string().contains("pw-in-url"), "{e}");
    let e = config_error("ORDERS", &[("ORDERS_URL", "sqlite::memory:"), ("ORDERS_BACKEND", "oracle")]);
    assert_eq!(e.variable(), Some("ORDERS_URL"));
    assert!(e.message().contains("ORDERS_BACKEND"), "{e}");
}

// ---- bad values ----

/// Every tuning variable with values it must reject.
const BAD_TUNING: &[(&str, &[&str])] = &[
    ("POOL_SIZE", &["abc", "-1", "10001", "1.5"]),
    ("MAX_OVERFLOW", &["lots", "-1", "20000"]),
    ("POOL_TIMEOUT", &["0", "-1", "soon", "5d", "1e3"]),
    ("POOL_RECYCLE", &["0", "-2", "forever"]),
    ("POOL_PRE_PING", &["maybe", "2"]),
    ("IDLE_TIMEOUT", &["0", "never"]),
    ("CONNECT_TIMEOUT", &["0s", "-1", "fast"]),
    ("COMMAND_TIMEOUT", &["0", "unlimited"]),
    ("ECHO", &["loud", "y"]),
    ("CHARSET", &["utf8; SET x=1", "utf-8"]),
];

#[test]
fn bad_tuning_values_name_the_variable_and_the_form_expected() {
    for (prefix, location) in
        [("MYSQL", ("MYSQL_HOST", "h")), ("POSTGRES", ("POSTGRES_HOST", "h")), ("DB", ("DB_URL", "sqlite::memory:"))]
    {
        for (suffix, values) in BAD_TUNING {
            let variable = format!("{prefix}_{suffix}");
            for value in *values {
                let e = config_error(prefix, &[location, (&variable, value), ("POSTGRES_PASSWORD", "never-shown")]);
                assert_eq!(e.variable(), Some(variable.as_str()), "{variable}={value}: {e}");
                assert!(e.message().starts_with("expected "), "{e}");
                assert!(e.message().contains(&format!("found {value:?}")), "{e}");
                assert!(!e.to_string().contains("never-shown"), "{e}");
            }
        }
    }
}

#[test]
fn error_messages_read_well() {
    let e = config_error("DB", &[("DB_URL", "sqlite::memory:"), ("DB_POOL_SIZE", "abc")]);
    assert_eq!(
        e.to_string(),
        "invalid configuration: DB_POOL_SIZE: expected a whole number from 0 to 10000, found \"abc\""
    );
    let e = config_error("DB", &[("DB_URL", "sqlite::memory:"), ("DB_POOL_RECYCLE", "0")]);
    assert!(e.message().contains("or -1 for never"), "{e}");
    let e = config_error("DB", &[("DB_URL", "sqlite::memory:"), ("DB_ECHO", "loud")]);
    assert!(e.message().contains("`true`, `false`, `1`, `0`, `yes`, `no`, `on`, `off`"), "{e}");
    let e = config_error("DB", &[("DB_URL", "sqlite::memory:"), ("DB_CONNECT_TIMEOUT", "soon")]);
    assert!(e.message().contains("`500ms`, `30s`, `5m`, `1h`"), "{e}");
}

#[test]
fn bad_location_values_name_the_variable() {
    for (pairs, variable) in [
        (&[("POSTGRES_HOST", "h"), ("POSTGRES_PORT", "0")][..], "POSTGRES_PORT"),
        (&[("POSTGRES_HOST", "h"), ("POSTGRES_PORT", "65536")][..], "POSTGRES_PORT"),
        (&[("POSTGRES_HOST", "h"), ("POSTGRES_PORT", "pg")][..], "POSTGRES_PORT"),
        (&[("POSTGRES_HOST", "bad host name")][..], "POSTGRES_HOST"),
        (&[("POSTGRES_HOST", "h"), ("POSTGRES_BACKEND", "redis")][..], "POSTGRES_BACKEND"),
        (&[("POSTGRES_HOST", "h"), ("POSTGRES_DATABASE_FILE", "x.db")][..], "POSTGRES_DATABASE_FILE"),
        (&[("POSTGRES_URL", "postgres://u:url-secret@/db")][..], "POSTGRES_URL"),
        (&[("POSTGRES_URL", "nonsense-url-secret")][..], "POSTGRES_URL"),
    ] {
        let e = config_error("POSTGRES", pairs);
        assert_eq!(e.variable(), Some(variable), "{pairs:?}: {e}");
        assert!(!e.to_string().contains("url-secret"), "{e}");
    }
    let e = config_error("POSTGRES", &[("POSTGRES_HOST", "h"), ("POSTGRES_BACKEND", "redis")]);
    assert!(e.message().contains("expected one of `mysql`"), "{e}");
}

#[test]
fn missing_variables_are_named() {
    // Nothing at all: the URL is what is expected, and the host layout is offered.
    let e = config_error("POSTGRES", &[]);
    assert_eq!(e.variable(), Some("POSTGRES_URL"));
    assert!(e.message().contains("`POSTGRES_HOST`"), "{e}");
    let e = config_error("ORDERS", &[("ORDERS_POOL_SIZE", "3")]);
    assert_eq!(e.variable(), Some("ORDERS_URL"));
    // Part of the host layout, without the host.
    let e = config_error("POSTGRES", &[("POSTGRES_USER", "app"), ("POSTGRES_PASSWORD", "pw-never-shown")]);
    assert_eq!(e.variable(), Some("POSTGRES_HOST"));
    assert!(e.message().contains("`POSTGRES_USER` is"), "{e}");
    assert!(!e.to_string().contains("pw-never-shown"));
    // A host, but no way to know the backend.
    let e = config_error("ORDERS", &[("ORDERS_HOST", "h")]);
    assert_eq!(e.variable(), Some("ORDERS_BACKEND"));
    // SQLite wants its file.
    let e = config_error("SQLITE", &[("SQLITE_POOL_SIZE", "1")]);
    assert_eq!(e.variable(), Some("SQLITE_DATABASE_FILE"));
    let e = config_error("CACHE", &[("CACHE_BACKEND", "sqlite")]);
    assert_eq!(e.variable(), Some("CACHE_DATABASE_FILE"));
}

#[test]
fn a_pool_that_can_open_no_connection_is_an_error() {
    let e = config_error("DB", &[("DB_URL", "sqlite::memory:"), ("DB_POOL_SIZE", "0"), ("DB_MAX_OVERFLOW", "0")]);
    assert_eq!(e.variable(), Some("DB_POOL_SIZE"));
    assert!(e.message().contains("DB_MAX_OVERFLOW"), "{e}");
}

#[test]
fn empty_values_are_unset_and_whitespace_is_ignored() {
    let c = config(
        "DB",
        &[("DB_URL", " sqlite::memory: "), ("DB_POOL_SIZE", ""), ("DB_ECHO", " true "), ("DB_MAX_OVERFLOW", " 2 ")],
    );
    assert_eq!(c.get_pool_size(), DatabaseConfig::sqlite_memory().get_pool_size());
    assert!(c.get_echo());
    assert_eq!(c.get_max_overflow(), 2);
    assert_eq!(env(&[("X", "")]).get("X"), None);
}

// ---- the registry from_env builds ----

#[test]
fn the_seeds_registry_names_databases_after_their_backend() {
    let manager = registered(&[
        ("MYSQL_HOST", "mysql"),
        ("POSTGRES_URL", "postgres://app@pg/app"),
        ("SQLITE_DATABASE_FILE", ":memory:"),
        ("CLICKHOUSE_HOST", "ch"),
        ("ORACLE_URL", "oracle://ora:1521/XEPDB1"),
    ]);
    assert_eq!(manager.names(), ["clickhouse", "mysql", "oracle", "postgres", "sqlite"]);
    assert_eq!(manager.config("mysql").unwrap().backend(), Backend::MySql);
    assert_eq!(manager.config("clickhouse").unwrap().redacted_url(), "http://ch:8123/");
}

#[test]
fn the_generic_url_registers_under_its_backend_name() {
    let manager = registered(&[("DB_URL", "mysql://app:pw@db/shop"), ("DB_POOL_SIZE", "3"), ("POSTGRES_HOST", "pg")]);
    assert_eq!(manager.names(), ["mysql", "postgres"]);
    assert_eq!(manager.config("mysql").unwrap().get_pool_size(), 3);
    let manager = registered(&[("DB_HOST", "db"), ("DB_BACKEND", "postgres")]);
    assert_eq!(manager.names(), ["postgres"]);
}

#[test]
fn the_generic_url_and_the_backend_layout_may_not_configure_the_same_name() {
    let e = registry_error(&[("DB_URL", "postgres://u:generic-secret@h/db"), ("POSTGRES_HOST", "pg")]);
    assert_eq!(e.variable(), Some("DB_URL"));
    assert!(e.message().contains("`DB_URL`") && e.message().contains("`POSTGRES_HOST`"), "{e}");
    assert!(e.message().contains("`postgres`"), "{e}");
    assert!(!e.to_string().contains("generic-secret"), "{e}");
}

#[test]
fn container_image_variables_alone_register_nothing() {
    let manager = registered(&[
        ("POSTGRES_USER", "app"),
        ("POSTGRES_PASSWORD", "pw"),
        ("MYSQL_DATABASE", "shop"),
        ("MYSQL_ROOT_PASSWORD", "root"),
        ("DB_URL", "sqlite::memory:"),
    ]);
    assert_eq!(manager.names(), ["sqlite"]);
    assert_eq!(manager.config("sqlite").unwrap().redacted_url(), "sqlite::memory:");
}

#[test]
fn dbkit_databases_registers_named_databases_from_their_prefix() {
    let manager = registered(&[
        ("DBKIT_DATABASES", "orders, analytics,"),
        ("ORDERS_URL", "mysql://svc@orders/orders"),
        ("ORDERS_POOL_SIZE", "2"),
        ("ANALYTICS_HOST", "ch"),
        ("ANALYTICS_BACKEND", "clickhouse"),
        ("POSTGRES_HOST", "pg"),
    ]);
    assert_eq!(manager.names(), ["analytics", "orders", "postgres"]);
    assert_eq!(manager.config("orders").unwrap().get_pool_size(), 2);
    assert_eq!(manager.config("analytics").unwrap().backend(), Backend::ClickHouse);
    // A backend's own name may be listed: it is registered once, and required.
    let manager = registered(&[("DBKIT_DATABASES", "postgres"), ("POSTGRES_HOST", "pg")]);
    assert_eq!(manager.names(), ["postgres"]);
}

#[test]
fn dbkit_databases_errors_name_the_variable() {
    let e = registry_error(&[("DBKIT_DATABASES", "orders")]);
    assert_eq!(e.variable(), Some("ORDERS_URL"));
    let e = registry_error(&[("DBKIT_DATABASES", "orders"), ("ORDERS_USER", "svc")]);
    assert_eq!(e.variable(), Some("ORDERS_HOST"));
    assert!(e.message().contains("`ORDERS_BACKEND`"), "{e}");
    let e = registry_error(&[("DBKIT_DATABASES", "postgres")]);
    assert_eq!(e.variable(), Some("POSTGRES_URL"));
    for list in ["Orders", "or-ders", "a b", "db"] {
        let e = registry_error(&[("DBKIT_DATABASES", list), ("ORDERS_URL", "sqlite::memory:")]);
        assert_eq!(e.variable(), Some("DBKIT_DATABASES"), "{list}");
    }
    let e = registry_error(&[("DBKIT_DATABASES", "orders,orders"), ("ORDERS_URL", "sqlite::memory:")]);
    assert_eq!(e.variable(), Some("DBKIT_DATABASES"));
    assert!(e.message().contains("twice"), "{e}");
    // `DB_URL` claims `sqlite`; listing `sqlite` reads `SQLITE_*` for the same name.
    let e = registry_error(&[
        ("DB_URL", "sqlite::memory:"),
        ("DBKIT_DATABASES", "sqlite"),
        ("SQLITE_DATABASE_FILE", ":memory:"),
    ]);
    assert!(e.message().contains("DB_URL"), "{e}");
}

// ---- the SQLite fallback, when nothing is configured ----

/// The fallback's configuration, as `DatabaseManager::from_env_source` registers it for `pairs`.
fn fallback(pairs: &[(&str, &str)]) -> DatabaseConfig {
    let manager = registered(pairs);
    assert_eq!(manager.names(), ["sqlite"], "{pairs:?}");
    manager.config("sqlite").unwrap()
}

#[test]
fn with_nothing_configured_the_sqlite_file_app_db_is_registered() {
    let c = fallback(&[]);
    assert_eq!(c.backend(), Backend::Sqlite);
    assert_eq!(c.redacted_url(), "sqlite://app.db");
    assert_eq!(c.redacted_url(), DatabaseConfig::sqlite_file("app.db").redacted_url());
    assert_eq!(c.get_pool_size(), DatabaseConfig::sqlite_file("app.db").get_pool_size());
    // Variables that configure no database (a container image's, a blank list) leave the fallback.
    let c = fallback(&[("POSTGRES_USER", "app"), ("MYSQL_DATABASE", "shop"), ("DBKIT_DATABASES", " "), ("DB_URL", "")]);
    assert_eq!(c.redacted_url(), "sqlite://app.db");
}

#[test]
fn dbkit_fallback_sqlite_file_moves_the_file() {
    assert_eq!(fallback(&[("DBKIT_FALLBACK_SQLITE_FILE", "data/dev.db")]).redacted_url(), "sqlite://data/dev.db");
    assert_eq!(
        fallback(&[("DBKIT_FALLBACK_SQLITE_FILE", " /var/lib/app.db ")]).redacted_url(),
        "sqlite:///var/lib/app.db"
    );
    assert_eq!(fallback(&[("DBKIT_FALLBACK_SQLITE_FILE", "  ")]).redacted_url(), "sqlite://app.db");
    // Read through the same layers as every other variable.
    let dir = TempDir::new("fallback-layers");
    dir.write(".env", "DBKIT_FALLBACK_SQLITE_FILE=from-dotenv.db\n")
        .write(".env.test", "DBKIT_FALLBACK_SQLITE_FILE=from-test.db\n");
    let env = Env::load_layered(dir.path(), [("APP_ENV", "test")]).unwrap();
    let manager = DatabaseManager::from_env_source(&env).unwrap();
    assert_eq!(manager.config("sqlite").unwrap().redacted_url(), "sqlite://from-test.db");
    let env =
        Env::load_layered(dir.path(), [("APP_ENV", "test"), ("DBKIT_FALLBACK_SQLITE_FILE", "from-env.db")]).unwrap();
    let manager = DatabaseManager::from_env_source(&env).unwrap();
    assert_eq!(manager.config("sqlite").unwrap().redacted_url(), "sqlite://from-env.db");
}

#[test]
fn a_bad_fallback_file_names_the_variable() {
    let dir = TempDir::new("fallback-dir");
    let existing_dir = dir.path().to_str().unwrap();
    for bad in [":memory:", "sqlite:///app.db", "mysql://app:fallback-secret@db/shop", "data/", existing_dir] {
        let e = registry_error(&[("DBKIT_FALLBACK_SQLITE_FILE", bad)]);
        assert_eq!(e.variable(), Some("DBKIT_FALLBACK_SQLITE_FILE"), "{bad}: {e}");
        assert!(e.message().starts_with("expected an SQLite file path"), "{e}");
        assert!(!e.to_string().contains("fallback-secret"), "{e}");
    }
    // Unread, so never an error, when a database is configured.
    assert_eq!(
        registered(&[("DB_URL", "sqlite::memory:"), ("DBKIT_FALLBACK_SQLITE_FILE", ":memory:")]).names(),
        ["sqlite"]
    );
}

#[test]
fn any_configured_database_means_no_fallback() {
    // The control for the tests above: each of these configures a database, so `app.db` (or the
    // fallback file) must not appear.
    let configured: [&[(&str, &str)]; 11] = [
        &[("POSTGRES_URL", "postgres://app@pg/app")],
        &[("POSTGRES_HOST", "pg")],
        &[("MYSQL_HOST", "mysql")],
        &[("CLICKHOUSE_URL", "http://ch:8123/")],
        &[("ORACLE_HOST", "ora")],
        &[("SQLITE_DATABASE_FILE", ":memory:")],
        &[("SQLITE_URL", "sqlite:other.db")],
        &[("DB_URL", "postgres://app@db/app")],
        &[("DB_URL", "sqlite::memory:")],
        &[("DB_HOST", "db"), ("DB_BACKEND", "mysql")],
        &[("DBKIT_DATABASES", "orders"), ("ORDERS_URL", "sqlite:orders.db")],
    ];
    for pairs in configured {
        let mut pairs = pairs.to_vec();
        pairs.push(("DBKIT_FALLBACK_SQLITE_FILE", "fallback.db"));
        let manager = registered(&pairs);
        let shown = format!("{manager:?}");
        assert!(!shown.contains("app.db") && !shown.contains("fallback.db"), "{pairs:?}: {shown}");
    }
    // Listing the database required turns a missing configuration into an error.
    let e = registry_error(&[("DBKIT_DATABASES", "postgres")]);
    assert_eq!(e.variable(), Some("POSTGRES_URL"));
}

#[test]
fn the_fallback_shows_its_file_and_no_secret() {
    // `POSTGRES_PASSWORD` alone configures nothing: the fallback is registered, and the password
    // is nowhere in what the registry shows.
    let manager = registered(&[("POSTGRES_USER", "app"), ("POSTGRES_PASSWORD", "Fallback-Secret-Pw")]);
    for shown in [format!("{manager:?}"), format!("{manager:#?}"), format!("{:?}", manager.config("sqlite").unwrap())] {
        assert!(shown.contains("sqlite://app.db"), "{shown}");
        assert!(!shown.contains("Fallback-Secret-Pw"), "{shown}");
    }
    assert_eq!(format!("{manager:?}"), r#"{"sqlite": sqlite://app.db (not connected)}"#);
}

#[derive(Debug, Clone, PartialEq, dbkit::Repository)]
#[database(sqlite)]
#[repository(table = "fallback_notes")]
struct Note {
    #[key(auto)]
    id: i64,
    #[unique]
    title: String,
}

#[tokio::test]
async fn the_fallback_file_is_created_on_connect_and_holds_tables() {
    let dir = TempDir::new("fallback-e2e");
    let file = dir.path().join("fallback.db");
    assert!(!file.exists());
    let manager = registered(&[("DBKIT_FALLBACK_SQLITE_FILE", file.to_str().unwrap())]);
    manager.connect_all().await.unwrap();
    assert!(format!("{manager:?}").contains(&format!("sqlite://{} (connected)", file.display())), "{manager:?}");

    // A repository finds it by its backend's name, as it would a configured SQLite database.
    let notes = NoteRepository::from_manager(&manager).unwrap();
    notes.database().create_table::<Note>().await.unwrap();
    let note = notes.create(&NewNote { title: "kept on disk".to_owned() }).await.unwrap();
    assert_eq!(notes.get(note.id).await.unwrap(), Some(note.clone()));
    manager.disconnect_all().await;
    assert!(file.is_file(), "{} was not created", file.display());

    // The data is in the file: a second registry over the same variables reads it back.
    let again = registered(&[("DBKIT_FALLBACK_SQLITE_FILE", file.to_str().unwrap())]);
    again.connect_all().await.unwrap();
    assert_eq!(NoteRepository::from_manager(&again).unwrap().get(note.id).await.unwrap(), Some(note));
    again.disconnect_all().await;
}

// ---- .env files ----

#[test]
fn dotenv_files_are_layered_under_the_environment() {
    let dir = TempDir::new("layers");
    dir.write(".env", "APP_ENV=staging\nDB_URL=sqlite::memory:\nDB_POOL_SIZE=1\nDB_MAX_OVERFLOW=1\nDB_ECHO=true\n")
        .write(".env.staging", "DB_POOL_SIZE=2\nDB_MAX_OVERFLOW=2\n")
        .write(".env.production", "DB_POOL_SIZE=99\n");
    let env = Env::load_layered(dir.path(), [("DB_MAX_OVERFLOW", "3")]).unwrap();
    let c = DatabaseConfig::from_env("DB", &env).unwrap();
    assert!(c.get_echo(), ".env applies");
    assert_eq!(c.get_pool_size(), 2, ".env.staging overrides .env");
    assert_eq!(c.get_max_overflow(), 3, "the environment overrides both");
}

#[test]
fn app_env_from_the_environment_wins_over_the_one_in_dotenv() {
    let dir = TempDir::new("app-env");
    dir.write(".env", "APP_ENV=staging\nDB_URL=sqlite::memory:\n")
        .write(".env.staging", "DB_POOL_SIZE=2\n")
        .write(".env.production", "DB_POOL_SIZE=9\n");
    let env = Env::load_layered(dir.path(), [("APP_ENV", "production")]).unwrap();
    assert_eq!(DatabaseConfig::from_env("DB", &env).unwrap().get_pool_size(), 9);
    assert_eq!(env.get("APP_ENV"), Some("production"));
    // Without APP_ENV anywhere, only `.env` is read.
    let dir = TempDir::new("no-app-env");
    dir.write(".env", "DB_URL=sqlite::memory:\n").write(".env.production", "DB_POOL_SIZE=9\n");
    let env = Env::load_layered(dir.path(), Vec::<(String, String)>::new()).unwrap();
    assert_eq!(DatabaseConfig::from_env("DB", &env).unwrap().get_pool_size(), 5);
}

#[test]
fn an_empty_value_in_a_later_layer_unsets_the_earlier_one() {
    let dir = TempDir::new("unset");
    dir.write(".env", "POSTGRES_HOST=pg\nDB_URL=sqlite::memory:\n").write(".env.test", "POSTGRES_HOST=\n");
    let env = Env::load_layered(dir.path(), [("APP_ENV", "test")]).unwrap();
    assert_eq!(env.get("POSTGRES_HOST"), None);
    assert_eq!(DatabaseManager::from_env_source(&env).unwrap().names(), ["sqlite"]);
}

#[test]
fn missing_files_and_directories_are_fine() {
    let dir = TempDir::new("missing");
    let env = Env::load_layered(dir.path(), [("APP_ENV", "production"), ("DB_URL", "sqlite::memory:")]).unwrap();
    assert_eq!(env.get("DB_URL"), Some("sqlite::memory:"));
    let env = Env::load_layered(&dir.path().join("does-not-exist"), [("X", "1")]).unwrap();
    assert_eq!(env.get("X"), Some("1"));
}

#[test]
fn load_from_reads_the_files_under_the_process_environment() {
    let dir = TempDir::new("load-from");
    dir.write(".env", "DBKIT_CONFIG_ENV_TEST_ONLY_IN_FILE=from-file\n");
    let env = Env::load_from(dir.path()).unwrap();
    assert_eq!(env.get("DBKIT_CONFIG_ENV_TEST_ONLY_IN_FILE"), Some("from-file"));
    if let Ok(path) = std::env::var("PATH") {
        assert_eq!(env.get("PATH"), Some(path.as_str()).filter(|p| !p.is_empty()));
    }
}

#[test]
fn dotenv_syntax_quotes_comments_and_export() {
    let dir = TempDir::new("syntax");
    dir.write(
        ".env",
        "# a comment\n\nexport DB_URL=sqlite::memory:\nDB_APPLICATION_NAME=\"billing api\" # trailing\nDB_CHARSET='latin1'\n",
    );
    let env = Env::load_layered(dir.path(), Vec::<(String, String)>::new()).unwrap();
    let c = DatabaseConfig::from_env("DB", &env).unwrap();
    assert_eq!(c.get_application_name(), "billing api");
    assert_eq!(c.get_charset(), "latin1");
}

#[test]
fn a_malformed_file_names_the_file_and_line_but_not_the_text() {
    let dir = TempDir::new("malformed");
    dir.write(".env", "DB_URL=sqlite::memory:\n")
        .write(".env.production", "# secrets\nDB_POOL_SIZE=3\nPOSTGRES_PASSWORD=two words-hunter2\n");
    let e = Env::load_layered(dir.path(), [("APP_ENV", "production")]).unwrap_err();
    let text = e.to_string();
    assert!(text.contains(".env.production` line 3"), "{text}");
    assert!(text.contains("expected `NAME=value`"), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("two words"), "{text}");

    dir.write(".env", "DB_URL=sqlite::memory:\nthis line has no equals sign\n");
    let e = Env::load_layered(dir.path(), Vec::<(String, String)>::new()).unwrap_err();
    assert!(e.to_string().contains("/.env` line 2"), "{e}");
    assert!(!e.to_string().contains("equals"), "{e}");

    dir.write(".env", "A=1\nPASSWORD=\"unterminated-secret\n");
    let e = Env::load_layered(dir.path(), Vec::<(String, String)>::new()).unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
    assert!(!e.to_string().contains("unterminated-secret"), "{e}");
}

#[test]
fn app_env_must_be_a_plain_name() {
    let dir = TempDir::new("app-env-path");
    for bad in ["../etc", "a/b", ".hidden"] {
        let e = Env::load_layered(dir.path(), [("APP_ENV", bad)]).unwrap_err();
        assert_eq!(e.variable(), Some("APP_ENV"), "{bad}");
    }
}

// ---- passwords never leak ----

#[test]
fn passwords_never_appear_in_debug_display_or_errors() {
    const SECRET: &str = "Sup3r-Secret-Pw";
    let pairs = [
        ("POSTGRES_HOST", "pg"),
        ("POSTGRES_USER", "app"),
        ("POSTGRES_PASSWORD", SECRET),
        ("DB_URL", "mysql://app:Sup3r-Secret-Pw@db/shop"),
    ];
    let env = env(&pairs);
    assert!(!format!("{env:?}").contains(SECRET));
    for prefix in ["POSTGRES", "DB"] {
        let c = DatabaseConfig::from_env(prefix, &env).unwrap();
        assert!(c.has_password(), "{prefix}");
        for shown in [format!("{c:?}"), format!("{c:#?}"), c.to_string(), c.redacted_url()] {
            assert!(!shown.contains(SECRET), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
    }
    let manager = DatabaseManager::from_env_source(&env).unwrap();
    assert_eq!(manager.names(), ["mysql", "postgres"]);
    assert!(!format!("{manager:?}").contains(SECRET));
    assert!(!format!("{manager:#?}").contains(SECRET));

    // Errors about other variables, and about the URL itself.
    let failing: [&[(&str, &str)]; 6] = [
        &[("POSTGRES_HOST", "pg"), ("POSTGRES_PASSWORD", SECRET), ("POSTGRES_POOL_SIZE", "many")],
        &[("POSTGRES_HOST", "pg"), ("POSTGRES_PASSWORD", SECRET), ("POSTGRES_PORT", "x")],
        &[("POSTGRES_USER", "app"), ("POSTGRES_PASSWORD", SECRET)],
        &[("DB_URL", "mysql://app:Sup3r-Secret-Pw@db/shop"), ("DB_ECHO", "loud")],
        &[("DB_URL", "mysql://app:Sup3r-Secret-Pw@:0/shop")],
        &[("DB_URL", "redis://app:Sup3r-Secret-Pw@db/0")],
    ];
    for pairs in failing {
        let prefix = pairs[0].0.split('_').next().unwrap();
        let e = config_error(prefix, pairs);
        assert!(!e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET), "{e:?}");
        // (`POSTGRES_USER` and `POSTGRES_PASSWORD` alone register nothing, so that one is no error here.)
        if let Err(e) = DatabaseManager::from_env_source(&Env::from_pairs(pairs.iter().copied())) {
            assert!(!e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET), "{e:?}");
        }
    }
}
