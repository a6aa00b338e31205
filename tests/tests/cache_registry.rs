//! The Redis cache in the registry, as in seed 000: `DatabaseManager::from_env` registers it as
//! `redis` from `REDIS_URL` or the seed's `REDIS_HOST` layout; `connect_all`, `health` and
//! `disconnect_all` include it; `manager.cache("redis")` hands it out. Against the Redis test
//! server (`DBKIT_TEST_REDIS_URL`).

use std::time::Duration;

use dbkit::config::env::Env;
use dbkit::{DatabaseManager, Error, HealthStatus};
use dbkit_tests::{redis_url, unique_name};

/// A registry of an in-memory SQLite database and the cache `redis` configured by `pairs`.
fn registry(pairs: &[(&str, &str)]) -> dbkit::Result<DatabaseManager> {
    let mut all = vec![("SQLITE_URL", "sqlite::memory:")];
    all.extend_from_slice(pairs);
    DatabaseManager::from_env_source(&Env::from_pairs(all))
}

fn config_error(pairs: &[(&str, &str)]) -> (Option<String>, String) {
    match registry(pairs) {
        Err(Error::Config(e)) => (e.variable().map(str::to_owned), e.to_string()),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn the_seeds_host_layout_registers_the_cache() {
    let manager = registry(&[
        ("REDIS_HOST", "cache.internal"),
        ("REDIS_PORT", "6380"),
        ("REDIS_PASSWORD", "p@ss w0rd"),
        ("REDIS_DB", "2"),
        ("REDIS_PREFIX", "fastapi_mvc"),
    ])
    .unwrap();
    assert_eq!(manager.names(), ["sqlite"], "the cache is not a database");
    assert_eq!(manager.cache_names(), ["redis"]);
    assert!(matches!(manager.cache("redis"), Err(Error::NotConnected { .. })), "registered, not connected");
    let debug = format!("{manager:?}");
    assert!(debug.contains("redis://:***@cache.internal:6380/2 (not connected)"), "{debug}");
    assert!(!debug.contains("w0rd"), "no password in Debug: {debug}");

    // The control: without REDIS_URL or REDIS_HOST there is no cache.
    let manager = registry(&[("REDIS_PORT", "6380")]);
    assert!(manager.unwrap().cache_names().is_empty());
}

#[test]
fn each_bad_value_names_its_variable() {
    let (variable, message) = config_error(&[("REDIS_HOST", "h"), ("REDIS_PORT", "sixty")]);
    assert_eq!(variable.as_deref(), Some("REDIS_PORT"), "{message}");
    assert!(message.contains("expected a port, 1 to 65535, found \"sixty\""), "{message}");
    let (variable, _) = config_error(&[("REDIS_HOST", "h"), ("REDIS_DB", "-1")]);
    assert_eq!(variable.as_deref(), Some("REDIS_DB"));
    let (variable, message) = config_error(&[("REDIS_URL", "redis://h"), ("REDIS_HOST", "h")]);
    assert_eq!(variable.as_deref(), Some("REDIS_URL"));
    assert!(message.contains("`REDIS_URL` and `REDIS_HOST` are both set"), "{message}");
    let (variable, _) = config_error(&[("REDIS_URL", "redis://:secret@h"), ("REDIS_PASSWORD", "x")]);
    assert_eq!(variable.as_deref(), Some("REDIS_URL"));
    let (variable, message) =
        config_error(&[("REDIS_URL", "redis://h"), ("REDIS_PREFIX", "a"), ("REDIS_KEY_PREFIX", "b")]);
    assert_eq!(variable.as_deref(), Some("REDIS_KEY_PREFIX"), "{message}");
    let (_, message) = config_error(&[("REDIS_URL", "redis://:secret@h:notaport")]);
    assert!(!message.contains("secret"), "no password in the error: {message}");
}

#[tokio::test]
async fn connect_all_health_and_disconnect_all_include_the_cache() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_name("registry");
    let manager = registry(&[("REDIS_URL", &url), ("REDIS_KEY_PREFIX", &prefix)]).unwrap();
    manager.connect_all().await.unwrap();

    let cache = manager.cache("redis").unwrap();
    assert_eq!(cache.config().get_key_prefix(), prefix);
    cache.set("answer", &42, Duration::from_secs(30)).await.unwrap();
    let clone = manager.cache("redis").unwrap();
    assert_eq!(clone.get::<u32>("answer").await.unwrap(), Some(42), "one cache, handed out twice");

    let health = manager.health().await;
    assert!(health.is_healthy());
    assert_eq!(health.caches.len(), 1);
    assert_eq!((health.caches[0].name.as_str(), &health.caches[0].status), ("redis", &HealthStatus::Healthy));
    let json = serde_json::to_value(&health).unwrap();
    assert_eq!(json["caches"][0]["status"], "healthy", "{json}");

    let err = manager.cache("sessions").unwrap_err();
    assert_eq!(err.to_string(), "no cache named `sessions` is registered; registered: `redis`");

    cache.delete("answer").await.unwrap();
    manager.disconnect_all().await;
    assert!(matches!(manager.cache("redis"), Err(Error::NotConnected { .. })));
    let health = manager.health().await;
    assert_eq!(health.caches[0].status, HealthStatus::NotConnected);
}

#[tokio::test]
async fn a_cache_that_cannot_connect_fails_connect_all_by_name_and_not_the_databases() {
    let manager = registry(&[("REDIS_HOST", "127.0.0.1"), ("REDIS_PORT", "9"), ("REDIS_PASSWORD", "hunter2")]).unwrap();
    let err = manager.connect_all().await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(&err, Error::Connect { database, .. } if database == "redis"), "{message}");
    assert!(!message.contains("hunter2"), "no password in the error: {message}");
    // The database connected all the same; the report is healthy, and says the cache is not.
    assert!(manager.get("sqlite").is_ok());
    let health = manager.health().await;
    assert!(health.is_healthy(), "a cache down does not make the service unready");
    assert_eq!(health.caches[0].status, HealthStatus::NotConnected);
    manager.disconnect_all().await;
}
