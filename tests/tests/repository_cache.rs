//! `#[repository(cache(ttl = "..."))]`: `get` and `get_by_<unique>` read through Redis, and the
//! generated writes invalidate what they change — at once, or in a unit of work once it commits
//! (never when it rolls back). On SQLite, PostgreSQL and MariaDB, with the Redis test server.

use dbkit::cache::{RedisCache, RedisCacheConfig};
use dbkit::prelude::*;
use dbkit::{Backend, config::env::Env};
use dbkit_tests::{redis_url, unique_name};

#[derive(Debug, Clone, PartialEq, Repository, serde::Serialize, serde::Deserialize)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "cached_users", cache(ttl = "5m"))]
pub struct CachedUser {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
}

#[dbkit::queries]
impl CachedUserRepository {
    /// A write the cache does not see: custom queries do not invalidate.
    #[query("UPDATE cached_users SET email = :email WHERE id = :id")]
    async fn set_email_behind_the_cache(&self, id: i64, email: &str) -> dbkit::Result<u64>;
}

/// Another struct on the same table, cached too: its keys carry another hash of the columns, so
/// neither decodes the other's values.
#[derive(Debug, Clone, PartialEq, Repository, serde::Serialize, serde::Deserialize)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "cached_users", cache(ttl = "5m"))]
pub struct CachedHandle {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
}

async fn cache() -> Option<RedisCache> {
    let url = redis_url()?;
    let config = RedisCacheConfig::from_url(&url).unwrap().key_prefix(unique_name("repo"));
    Some(RedisCache::connect_with(config).await.unwrap())
}

fn new(username: &str) -> NewCachedUser {
    NewCachedUser { username: username.into(), email: format!("{username}@example.com") }
}

async fn exercise(db: &Database) {
    let Some(cache) = cache().await else { return };
    db.drop_table::<CachedUser>().await.unwrap();
    db.create_table::<CachedUser>().await.unwrap();
    let users = CachedUserRepository::new(db).with_cache(cache.clone());
    let backend = db.backend();

    // Read through: the second read is the cache's, even after a write it did not see.
    let ada = users.create(&new("ada")).await.unwrap();
    assert_eq!(users.get(ada.id).await.unwrap().as_ref(), Some(&ada));
    assert_eq!(users.set_email_behind_the_cache(ada.id, "hidden@example.com").await.unwrap(), 1);
    assert_eq!(users.get(ada.id).await.unwrap().unwrap().email, "ada@example.com", "{backend}: served by the cache");
    assert!(cache.stats().hits >= 1, "{backend}: {:?}", cache.stats());

    // A generated write invalidates: the next read is the database's.
    let patch = CachedUserPatch { email: Some("ada@new.example".into()), ..Default::default() };
    users.update(ada.id, &patch).await.unwrap();
    assert_eq!(users.get(ada.id).await.unwrap().unwrap().email, "ada@new.example", "{backend}");

    // By unique value: the value maps to the key; a changed value heals.
    assert_eq!(users.get_by_username("ada").await.unwrap().unwrap().id, ada.id);
    let rename = CachedUserPatch { username: Some("ada2".into()), ..Default::default() };
    users.update(ada.id, &rename).await.unwrap();
    assert_eq!(users.get_by_username("ada").await.unwrap(), None, "{backend}: the old name maps to nothing");
    assert_eq!(users.get_by_username("ada2").await.unwrap().unwrap().id, ada.id);

    // A cached absence ends with the create (and with `create_many`).
    assert_eq!(users.get_by_username("grace").await.unwrap(), None);
    let grace = users.create(&new("grace")).await.unwrap();
    assert_eq!(users.get_by_username("grace").await.unwrap().unwrap().id, grace.id, "{backend}");
    assert_eq!(users.get_by_username("hopper").await.unwrap(), None);
    users.create_many(&[new("hopper")]).await.unwrap();
    assert!(users.get_by_username("hopper").await.unwrap().is_some(), "{backend}: create_many ends it too");

    // A unit of work: rolled back, nothing is invalidated (nothing changed); committed, it is.
    assert!(users.get(grace.id).await.unwrap().is_some());
    let rolled_back = db
        .transaction(async |tx| {
            let patch = CachedUserPatch { email: Some("rolled@back".into()), ..Default::default() };
            users.in_transaction(tx).update(grace.id, &patch).await?;
            // Reads in the unit see its own write: they bypass the cache.
            assert_eq!(users.in_transaction(tx).get(grace.id).await?.unwrap().email, "rolled@back");
            Err::<(), _>(dbkit::Error::Config(dbkit::ConfigError::new("roll back")))
        })
        .await;
    assert!(rolled_back.is_err());
    assert_eq!(users.get(grace.id).await.unwrap().unwrap().email, "grace@example.com", "{backend}");
    let hits = cache.stats().hits;
    assert_eq!(users.get(grace.id).await.unwrap().unwrap().email, "grace@example.com");
    assert_eq!(cache.stats().hits, hits + 1, "{backend}: the rollback left the cached row");
    db.transaction(async |tx| {
        let patch = CachedUserPatch { email: Some("committed@example.com".into()), ..Default::default() };
        users.in_transaction(tx).update(grace.id, &patch).await?;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(users.get(grace.id).await.unwrap().unwrap().email, "committed@example.com", "{backend}");

    // Two structs on one table never read each other's values.
    let handles = CachedHandleRepository::new(db).with_cache(cache.clone());
    assert_eq!(handles.get(grace.id).await.unwrap().unwrap().username, "grace");
    assert_eq!(users.get(grace.id).await.unwrap().unwrap().username, "grace");
    assert_eq!(handles.get_by_username("grace").await.unwrap().unwrap().id, grace.id);

    // Deleted: the key and the unique value find nothing.
    assert!(users.delete(grace.id).await.unwrap());
    assert_eq!(users.get(grace.id).await.unwrap(), None, "{backend}");
    assert_eq!(users.get_by_username("grace").await.unwrap(), None, "{backend}");
    db.drop_table::<CachedUser>().await.unwrap();
}

#[tokio::test]
async fn sqlite() {
    exercise(&Database::connect("sqlite::memory:").await.unwrap()).await;
}

#[tokio::test]
async fn postgres() {
    let Some(db) = dbkit_tests::connect(Backend::Postgres).await else { return };
    exercise(&db).await;
}

#[tokio::test]
async fn mariadb() {
    let Some(db) = dbkit_tests::connect(Backend::MySql).await else { return };
    exercise(&db).await;
}

/// `from_manager` attaches the manager's `redis` cache; without one, the repository reads the
/// database.
#[tokio::test]
async fn from_manager_attaches_the_managers_cache() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_name("manager");
    let env = Env::from_pairs([("SQLITE_URL", "sqlite::memory:"), ("REDIS_URL", &url), ("REDIS_KEY_PREFIX", &prefix)]);
    let manager = DatabaseManager::from_env_source(&env).unwrap();
    manager.connect_all().await.unwrap();
    let db = manager.get("sqlite").unwrap();
    db.create_table::<CachedUser>().await.unwrap();
    let users = CachedUserRepository::from_manager(&manager).unwrap();
    let ada = users.create(&new("ada")).await.unwrap();
    users.get(ada.id).await.unwrap();
    users.get(ada.id).await.unwrap();
    assert!(manager.cache("redis").unwrap().stats().hits >= 1, "read through the manager's cache");

    // The control: a manager without a cache, the same calls, no cache.
    let plain = DatabaseManager::from_env_source(&Env::from_pairs([("SQLITE_URL", "sqlite::memory:")])).unwrap();
    plain.connect_all().await.unwrap();
    plain.get("sqlite").unwrap().create_table::<CachedUser>().await.unwrap();
    let users = CachedUserRepository::from_manager(&plain).unwrap();
    let ada = users.create(&new("ada")).await.unwrap();
    assert_eq!(users.set_email_behind_the_cache(ada.id, "x@y").await.unwrap(), 1);
    assert_eq!(users.get(ada.id).await.unwrap().unwrap().email, "x@y", "no cache: the database's answer");
    manager.disconnect_all().await;
    plain.disconnect_all().await;
}

/// A table of its own for the concurrency test, which runs beside the others.
#[derive(Debug, Clone, PartialEq, Repository, serde::Serialize, serde::Deserialize)]
#[database(postgres)]
#[repository(table = "cached_cold", cache(ttl = "5m"))]
pub struct Cold {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

/// 500 concurrent `get`s of a cold key from 4 repositories, each with its own connection to Redis
/// (as 4 processes would have): one database load, every other call served by its fill.
#[tokio::test]
async fn five_hundred_cold_gets_from_four_repositories_load_once() {
    let Some(db) = dbkit_tests::connect(Backend::Postgres).await else { return };
    let Some(first) = cache().await else { return };
    db.drop_table::<Cold>().await.unwrap();
    db.create_table::<Cold>().await.unwrap();
    let id = ColdRepository::new(&db).create(&NewCold { name: "cold".into() }).await.unwrap().id;
    let mut caches = vec![first.clone()];
    for _ in 0..3 {
        caches.push(RedisCache::connect_with(first.config().clone()).await.unwrap());
    }
    let repositories: Vec<_> = caches.iter().map(|c| ColdRepository::new(&db).with_cache(c.clone())).collect();
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let rows = repositories[i % 4].clone();
            tokio::spawn(async move { rows.get(id).await.unwrap().unwrap().name })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "cold");
    }
    let stats: Vec<_> = caches.iter().map(RedisCache::stats).collect();
    let loads: u64 = stats.iter().map(|s| s.fills + s.fills_refused + s.lease_waits_timed_out + s.redis_failures).sum();
    let hits: u64 = stats.iter().map(|s| s.hits).sum();
    assert_eq!((loads, hits), (1, 499), "one database load: {stats:?}");
    db.drop_table::<Cold>().await.unwrap();
}
