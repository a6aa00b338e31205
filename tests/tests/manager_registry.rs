//! The database registry: registration, lookup errors, connecting all at once (and what a failure
//! does to the others), health, and disconnecting.

use std::time::Duration;

use dbkit::config::env::Env;
use dbkit::{Backend, DatabaseConfig, DatabaseManager, Error, ErrorCategory, HealthStatus};

fn unreachable_postgres() -> DatabaseConfig {
    // Nothing listens on port 9 of a test machine; the password must never show up anywhere.
    DatabaseConfig::from_url("postgres://app:hunter2-secret@127.0.0.1:9/app")
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
}

#[tokio::test]
async fn unknown_names_list_the_registered_ones() {
    let manager = DatabaseManager::new();
    let err = manager.get("main").unwrap_err();
    assert_eq!(err.to_string(), "no database named `main` is registered; registered: none");

    manager.register("sqlite", DatabaseConfig::sqlite_memory()).unwrap();
    manager.register("analytics", DatabaseConfig::sqlite_memory()).unwrap();
    let err = manager.get("main").unwrap_err();
    assert!(matches!(&err, Error::UnknownDatabase { registered, .. } if registered == &["analytics", "sqlite"]));
    assert_eq!(err.to_string(), "no database named `main` is registered; registered: `analytics`, `sqlite`");
    assert_eq!(err.category(), ErrorCategory::Permanent);
    assert_eq!(manager.names(), ["analytics", "sqlite"]);
}

#[tokio::test]
async fn a_name_is_registered_once() {
    let manager = DatabaseManager::new();
    manager.register("main", DatabaseConfig::sqlite_memory()).unwrap();
    let err = manager.register("main", DatabaseConfig::sqlite_memory()).unwrap_err();
    assert!(matches!(err, Error::AlreadyRegistered { ref name } if name == "main"), "{err}");
}

#[tokio::test]
async fn registered_but_not_connected_says_so() {
    let manager = DatabaseManager::new();
    manager.register("main", DatabaseConfig::sqlite_memory()).unwrap();
    let err = manager.get("main").unwrap_err();
    assert!(err.to_string().contains("connect_all"), "{err}");
    let health = manager.health().await;
    assert_eq!(health.get("main").unwrap().status, HealthStatus::NotConnected);
    assert!(!health.is_healthy());
}

#[tokio::test]
async fn connect_all_connects_every_database_and_health_checks_them() {
    let manager = DatabaseManager::new();
    manager.register("sqlite", DatabaseConfig::sqlite_memory()).unwrap();
    manager.register("reports", DatabaseConfig::sqlite_memory()).unwrap();
    for backend in [Backend::Postgres, Backend::MySql] {
        if let Some(url) = dbkit_tests::server_url(backend) {
            manager.register(backend.name(), DatabaseConfig::from_url(&url).unwrap()).unwrap();
        }
    }
    manager.connect_all().await.unwrap();
    let health = manager.health().await;
    assert!(health.is_healthy(), "{health:?}");
    assert_eq!(health.databases.len(), manager.names().len());
    for name in manager.names() {
        let db = manager.get(&name).unwrap();
        assert_eq!(db.name(), name);
        db.health_check().await.unwrap();
    }

    manager.disconnect_all().await;
    assert!(matches!(manager.get("sqlite").unwrap_err(), Error::NotConnected { .. }));
    // Still registered: connect_all brings them back.
    manager.connect_all().await.unwrap();
    assert!(manager.health().await.is_healthy());
    manager.disconnect_all().await;
}

#[tokio::test]
async fn a_failing_database_is_named_and_the_others_stay_connected() {
    let manager = DatabaseManager::new();
    manager.register("main", DatabaseConfig::sqlite_memory()).unwrap();
    manager.register("orders", unreachable_postgres()).unwrap();
    let err = manager.connect_all().await.unwrap_err();
    let Error::Connect { database, source } = &err else { panic!("expected Connect, got {err:?}") };
    assert_eq!(database, "orders");
    assert_eq!(source.category(), ErrorCategory::Connection, "{source}");
    assert_eq!(err.category(), ErrorCategory::Connection);
    assert!(err.to_string().starts_with("cannot connect to database `orders`: "), "{err}");
    for shown in [err.to_string(), format!("{err:?}"), format!("{manager:?}")] {
        assert!(!shown.contains("hunter2-secret"), "{shown}");
    }

    // The healthy one is usable; the failed one is reported, not hidden.
    manager.get("main").unwrap().health_check().await.unwrap();
    let health = manager.health().await;
    assert_eq!(health.get("main").unwrap().status, HealthStatus::Healthy);
    assert_eq!(health.get("orders").unwrap().status, HealthStatus::NotConnected);

    // Several failures: each one named.
    manager.register("billing", unreachable_postgres()).unwrap();
    let err = manager.connect_all().await.unwrap_err();
    let Error::ConnectAll { errors } = &err else { panic!("expected ConnectAll, got {err:?}") };
    let names: Vec<String> = errors
        .iter()
        .map(|e| match e {
            Error::Connect { database, .. } => database.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["billing", "orders"]);
    assert!(err.to_string().contains("`billing`") && err.to_string().contains("`orders`"), "{err}");
    manager.disconnect_all().await;
}

#[tokio::test]
async fn from_env_registers_the_configured_databases_by_backend_name() {
    let env = Env::from_pairs([("DB_URL", "sqlite::memory:")]);
    let manager = DatabaseManager::from_env_source(&env).unwrap();
    assert_eq!(manager.names(), ["sqlite"]);
    manager.connect_all().await.unwrap();
    assert!(manager.health().await.is_healthy());
    manager.disconnect_all().await;
}

#[tokio::test]
async fn an_inserted_database_is_found_by_its_name() {
    let db = dbkit::Database::connect_named("cache", DatabaseConfig::sqlite_memory()).await.unwrap();
    let manager = DatabaseManager::new();
    manager.insert(db).unwrap();
    assert_eq!(manager.get("cache").unwrap().backend(), Backend::Sqlite);
}
