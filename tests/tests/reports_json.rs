//! The registry's conveniences and its reports as JSON: `contains`/`names`, and `HealthReport`,
//! `DrainReport`/`DatabaseDrain` and `DatabaseInfo` serialized from real databases, with no
//! password anywhere in them.

use std::time::Duration;

use dbkit::{Backend, Database, DatabaseConfig, DatabaseManager, DrainMode};
use serde_json::{Value, json};

/// Takes `key` out of `object`, checking that it was a number of milliseconds.
fn take_millis(object: &mut Value, key: &str) -> f64 {
    let value = object.as_object_mut().expect("an object").remove(key).unwrap_or_else(|| panic!("no `{key}`"));
    let millis = value.as_f64().unwrap_or_else(|| panic!("`{key}` is not a number: {value}"));
    assert!(millis >= 0.0, "{key}: {millis}");
    millis
}

#[tokio::test]
async fn contains_and_names_cover_connected_and_registered_databases() {
    let manager = DatabaseManager::new();
    manager.register("orders", DatabaseConfig::sqlite_memory()).unwrap();
    manager.insert(Database::connect("sqlite::memory:").await.unwrap()).unwrap(); // named `sqlite`
    manager.register("audit", DatabaseConfig::sqlite_memory()).unwrap();

    assert!(manager.contains("orders"), "registered, not connected");
    assert!(manager.contains("sqlite"), "inserted, connected");
    assert!(!manager.contains("Orders"));
    assert!(!manager.contains("postgres"));
    assert_eq!(manager.names(), ["audit", "orders", "sqlite"]);
    manager.disconnect_all().await;
    assert!(manager.contains("sqlite"), "disconnecting keeps the registration");
}

#[tokio::test]
async fn a_database_drain_in_json() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let report = db.drain(DrainMode::Immediate, Duration::from_secs(5)).await;

    let mut json = serde_json::to_value(&report).unwrap();
    let elapsed_ms = take_millis(&mut json, "elapsed_ms");
    assert!((elapsed_ms - report.elapsed.as_secs_f64() * 1000.0).abs() < 0.001, "{elapsed_ms} vs {:?}", report.elapsed);
    assert_eq!(
        json,
        json!({
            "name": "sqlite",
            "backend": "sqlite",
            "mode": "immediate",
            "at_start": { "sessions_in_flight": 0, "connections_open": report.at_start.connections_open },
            "at_end": { "sessions_in_flight": 0, "connections_open": 0 },
            "finished_within_timeout": true,
        })
    );
    assert!(report.at_start.connections_open >= 1, "an in-memory database keeps a connection open");
}

#[tokio::test]
async fn a_manager_drain_in_json() {
    let file = std::env::temp_dir().join(format!("{}.db", dbkit_tests::unique_name("rg_drain")));
    let manager = DatabaseManager::new();
    manager.register("main", DatabaseConfig::sqlite_file(&file)).unwrap();
    manager.register("audit", DatabaseConfig::sqlite_memory()).unwrap();
    manager.connect_all().await.unwrap();
    // One session in flight on `main`, released while the graceful drain waits for it.
    let main = manager.get("main").unwrap();
    let session = main.session::<dbkit::sqlx::Sqlite>().await.unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(session);
    });

    let report = manager.drain(DrainMode::Graceful, Duration::from_secs(5)).await;
    release.await.unwrap();

    let mut json = serde_json::to_value(&report).unwrap();
    let elapsed_ms = take_millis(&mut json, "elapsed_ms");
    assert!(elapsed_ms >= 50.0, "the drain waited for the session: {elapsed_ms} ms");
    for database in json["databases"].as_array_mut().unwrap() {
        take_millis(database, "elapsed_ms");
    }
    let (audit, main) = (report.get("audit").unwrap(), report.get("main").unwrap());
    assert_eq!(
        json,
        json!({
            "mode": "graceful",
            "at_start": {
                "sessions_in_flight": 1,
                "connections_open": audit.at_start.connections_open + main.at_start.connections_open,
            },
            "at_end": { "sessions_in_flight": 0, "connections_open": 0 },
            "finished_within_timeout": true,
            "databases": [
                {
                    "name": "audit",
                    "backend": "sqlite",
                    "mode": "graceful",
                    "at_start": { "sessions_in_flight": 0, "connections_open": audit.at_start.connections_open },
                    "at_end": { "sessions_in_flight": 0, "connections_open": 0 },
                    "finished_within_timeout": true,
                },
                {
                    "name": "main",
                    "backend": "sqlite",
                    "mode": "graceful",
                    "at_start": { "sessions_in_flight": 1, "connections_open": main.at_start.connections_open },
                    "at_end": { "sessions_in_flight": 0, "connections_open": 0 },
                    "finished_within_timeout": true,
                },
            ],
        })
    );
    manager.disconnect_all().await;
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn a_health_report_in_json() {
    let manager = DatabaseManager::new();
    manager.register("main", DatabaseConfig::sqlite_memory()).unwrap();
    manager.register("closed", DatabaseConfig::sqlite_memory()).unwrap();
    manager.connect_all().await.unwrap();
    manager.register("later", DatabaseConfig::sqlite_memory()).unwrap();
    manager.get("closed").unwrap().close().await;

    let mut json = serde_json::to_value(manager.health().await).unwrap();
    for database in json["databases"].as_array_mut().unwrap() {
        take_millis(database, "latency_ms");
    }
    assert_eq!(
        json,
        json!({
            "healthy": false,
            "databases": [
                { "name": "closed", "backend": "sqlite", "status": "closed" },
                { "name": "later", "backend": "sqlite", "status": "not_connected" },
                { "name": "main", "backend": "sqlite", "status": "healthy" },
            ],
            "caches": [],
        })
    );
    manager.disconnect_all().await;

    let manager = DatabaseManager::new();
    manager.register("main", DatabaseConfig::sqlite_memory()).unwrap();
    manager.connect_all().await.unwrap();
    let report = manager.health().await;
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["healthy"], true);
    assert_eq!(json["databases"][0]["status"], "healthy");
    let latency_ms = json["databases"][0]["latency_ms"].as_f64().unwrap();
    assert!((latency_ms - report.databases[0].latency.as_secs_f64() * 1000.0).abs() < 0.001);
    manager.disconnect_all().await;
}

#[tokio::test]
async fn database_info_in_json() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let info = db.info().await.unwrap();
    assert!(!info.server_version.is_empty());
    assert_eq!(
        serde_json::to_value(&info).unwrap(),
        json!({
            "name": "sqlite",
            "backend": "sqlite",
            "server_version": info.server_version,
            "pool_max": info.pool_max,
            "pool_size": info.pool_size,
            "pool_idle": info.pool_idle,
            "pool_in_use": info.pool_in_use,
            "sessions_in_flight": 0,
            "state": "open",
        })
    );
    db.close().await;
}

/// Every report of `manager` (health, then a drain) and the info of each connected database, as
/// one JSON text.
async fn every_report(manager: &DatabaseManager) -> String {
    let mut infos = Vec::new();
    for db in manager.databases() {
        infos.push(db.info().await.unwrap());
    }
    let health = manager.health().await;
    let drain = manager.drain(DrainMode::Graceful, Duration::from_secs(10)).await;
    serde_json::to_string(&json!({ "health": health, "infos": infos, "drain": drain })).unwrap()
}

#[tokio::test]
async fn no_password_in_the_reports_of_an_unreachable_server() {
    const PASSWORD: &str = "rg-hunter2-secret";
    // Nothing listens on port 9 of a test machine.
    let url = format!("postgres://app:{PASSWORD}@127.0.0.1:9/app");
    assert!(url.contains(PASSWORD), "the control: the configuration is built from a URL with the password");
    let manager = DatabaseManager::new();
    manager
        .register("orders", DatabaseConfig::from_url(&url).unwrap().connect_timeout(Duration::from_secs(5)))
        .unwrap();
    manager.register("sqlite", DatabaseConfig::sqlite_memory()).unwrap();
    let err = manager.connect_all().await.unwrap_err();
    assert!(!err.to_string().contains(PASSWORD), "{err}");

    let text = every_report(&manager).await;
    let json: Value = serde_json::from_str(&text).unwrap();
    let orders = &json["health"]["databases"][0];
    assert_eq!(
        (&orders["name"], &orders["backend"], &orders["status"]),
        (&json!("orders"), &json!("postgres"), &json!("not_connected"))
    );
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!text.contains("127.0.0.1") && !text.contains("app:"), "no address or user either: {text}");
    manager.disconnect_all().await;
}

/// The same on the live servers, where the databases are connected and their URLs hold the test
/// servers' real passwords.
#[tokio::test]
async fn no_password_in_the_reports_of_live_servers() {
    for backend in [Backend::Postgres, Backend::MySql] {
        let Some(url) = dbkit_tests::server_url(backend) else { continue };
        let password =
            url::Url::parse(&url).unwrap().password().expect("the test server URL has a password").to_owned();
        assert!(url.contains(&password), "the control: the URL holds the password");
        let manager = DatabaseManager::new();
        manager.register("rg_main", DatabaseConfig::from_url(&url).unwrap()).unwrap();
        manager.connect_all().await.unwrap_or_else(|e| {
            panic!("cannot reach the {backend} test server ({}): {e}", dbkit_tests::url_variable(backend))
        });

        let text = every_report(&manager).await;
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["health"]["healthy"], true, "{text}");
        assert_eq!(json["infos"][0]["backend"], backend.name(), "{text}");
        assert_eq!(json["drain"]["databases"][0]["name"], "rg_main", "{text}");
        assert!(!text.contains(&password), "{backend}: {text}");
        manager.disconnect_all().await;
    }
}
