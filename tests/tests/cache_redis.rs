//! `RedisCache` against the Redis test server (`DBKIT_TEST_REDIS_URL`): JSON round trips, expiry,
//! deletion, key prefixes, undecodable values, cache-aside, and a dead cache that must not fail a
//! request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dbkit::ErrorCategory;
use dbkit::cache::{RedisCache, RedisCacheConfig};
use dbkit::config::env::Env;
use dbkit_tests::{redis_url, unique_name};
use serde::{Deserialize, Serialize};

const URL_VARIABLE: &str = "DBKIT_TEST_REDIS_URL";

/// Nothing listens on the discard port.
const DEAD_URL: &str = "redis://127.0.0.1:9/0";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: i64,
    name: String,
    tags: Vec<String>,
    bio: Option<String>,
}

fn ada() -> Profile {
    Profile { id: 7, name: "ada".into(), tags: vec!["math".into(), "engines".into()], bio: None }
}

/// A cache on the test server whose keys no other test shares.
async fn cache(url: &str) -> RedisCache {
    let config = RedisCacheConfig::from_url(url).unwrap().key_prefix(unique_name("dbkit_cache_test"));
    RedisCache::connect_with(config)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the Redis test server ({URL_VARIABLE}): {e}"))
}

/// A plain redis connection, to look at what the cache stored.
async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap()
}

#[tokio::test]
async fn a_struct_round_trips_as_json() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    cache.health_check().await.unwrap();

    assert_eq!(cache.get::<Profile>("profile:7").await.unwrap(), None);
    cache.set("profile:7", &ada(), None).await.unwrap();
    assert_eq!(cache.get::<Profile>("profile:7").await.unwrap(), Some(ada()));

    let grace = Profile { id: 7, name: "grace".into(), tags: vec![], bio: Some("admiral".into()) };
    cache.set("profile:7", &grace, Duration::from_secs(60)).await.unwrap();
    assert_eq!(cache.get::<Profile>("profile:7").await.unwrap(), Some(grace));
    cache.delete("profile:7").await.unwrap();
}

#[tokio::test]
async fn values_expire_after_their_ttl() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let mut raw = raw(&url).await;

    cache.set("short", &ada(), Duration::from_secs(1)).await.unwrap();
    cache.set("forever", &ada(), None).await.unwrap();
    assert_eq!(cache.get::<Profile>("short").await.unwrap(), Some(ada()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(cache.get::<Profile>("short").await.unwrap(), None, "the 1 s value outlived its TTL");
    assert_eq!(cache.get::<Profile>("forever").await.unwrap(), Some(ada()), "no default TTL: no expiry");

    // The default TTL applies to `None`; zero means no expiry.
    let config = cache.config().clone().default_ttl(Duration::from_secs(300));
    let with_default = RedisCache::connect_with(config).await.unwrap();
    with_default.set("defaulted", &1, None).await.unwrap();
    with_default.set("zero", &1, Duration::ZERO).await.unwrap();
    let pttl: i64 = redis::cmd("PTTL").arg(with_default.full_key("defaulted")).query_async(&mut raw).await.unwrap();
    assert!(pttl > 0 && pttl <= 300_000, "PTTL {pttl}");
    let pttl: i64 = redis::cmd("PTTL").arg(with_default.full_key("zero")).query_async(&mut raw).await.unwrap();
    assert_eq!(pttl, -1, "a zero TTL stores without expiry");

    for key in ["forever", "defaulted", "zero"] {
        cache.delete(key).await.unwrap();
    }
}

#[tokio::test]
async fn delete_says_whether_there_was_a_value() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;

    cache.set("gone", &ada(), None).await.unwrap();
    assert!(cache.delete("gone").await.unwrap());
    assert!(!cache.delete("gone").await.unwrap());
    assert_eq!(cache.get::<Profile>("gone").await.unwrap(), None);
}

#[tokio::test]
async fn keys_carry_the_configured_prefix() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let mut raw = raw(&url).await;
    let prefix = cache.config().get_key_prefix().to_owned();

    cache.set("user:1", &ada(), None).await.unwrap();
    assert_eq!(cache.full_key("user:1"), format!("{prefix}:user:1"));
    let stored: Option<String> = redis::cmd("GET").arg(format!("{prefix}:user:1")).query_async(&mut raw).await.unwrap();
    let stored: serde_json::Value = serde_json::from_str(&stored.expect("stored under the prefixed key")).unwrap();
    assert_eq!(stored, serde_json::to_value(ada()).unwrap());
    let bare: Option<String> = redis::cmd("GET").arg("user:1").query_async(&mut raw).await.unwrap();
    assert_eq!(bare, None, "nothing stored under the bare key");

    // Another prefix is another namespace.
    let other =
        RedisCache::connect_with(cache.config().clone().key_prefix(unique_name("dbkit_cache_other"))).await.unwrap();
    assert_eq!(other.get::<Profile>("user:1").await.unwrap(), None);
    cache.delete("user:1").await.unwrap();
}

#[tokio::test]
async fn an_undecodable_value_is_a_miss_and_is_deleted() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let mut raw = raw(&url).await;

    for (key, junk) in [("not_json", "{not json"), ("wrong_shape", r#"{"id":"seven"}"#)] {
        let full_key = cache.full_key(key);
        let () = redis::cmd("SET").arg(&full_key).arg(junk).query_async(&mut raw).await.unwrap();
        assert_eq!(cache.get::<Profile>(key).await.unwrap(), None, "{key}");
        let exists: u32 = redis::cmd("EXISTS").arg(&full_key).query_async(&mut raw).await.unwrap();
        assert_eq!(exists, 0, "{key}: the undecodable value was not deleted");
    }

    // Cache-aside replaces it with the loader's value.
    let () = redis::cmd("SET").arg(cache.full_key("stale")).arg("[1,2]").query_async(&mut raw).await.unwrap();
    let loaded = cache.get_or_set_with("stale", None, || async { Ok(ada()) }).await.unwrap();
    assert_eq!(loaded, ada());
    assert_eq!(cache.get::<Profile>("stale").await.unwrap(), Some(ada()));
    cache.delete("stale").await.unwrap();
}

#[tokio::test]
async fn get_or_set_with_loads_once_then_serves_from_the_cache() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let loads = AtomicUsize::new(0);
    let loader = async || {
        loads.fetch_add(1, Ordering::SeqCst);
        Ok(ada())
    };

    let first = cache.get_or_set_with("profile:7", Duration::from_secs(60), loader).await.unwrap();
    let second = cache.get_or_set_with("profile:7", Duration::from_secs(60), loader).await.unwrap();
    assert_eq!((first, second), (ada(), ada()));
    assert_eq!(loads.load(Ordering::SeqCst), 1, "the second call must be served from the cache");

    // A loader's error is returned, and nothing is stored.
    let failed = cache
        .get_or_set_with::<Profile, _, _>("missing", None, || async {
            Err(dbkit::Error::UnknownDatabase { name: "users".into(), registered: vec![] })
        })
        .await
        .unwrap_err();
    assert!(matches!(failed, dbkit::Error::UnknownDatabase { .. }), "{failed}");
    assert_eq!(cache.get::<Profile>("missing").await.unwrap(), None);
    cache.delete("profile:7").await.unwrap();
}

#[tokio::test]
async fn a_dead_cache_falls_through_to_the_loader() {
    // Needs no server: nothing listens on 127.0.0.1:9.
    let config = RedisCacheConfig::from_url(DEAD_URL)
        .unwrap()
        .connect_timeout(Duration::from_millis(500))
        .response_timeout(Duration::from_millis(500));

    let started = Instant::now();
    let e = RedisCache::connect_with(config.clone()).await.unwrap_err();
    assert!(matches!(e.category(), ErrorCategory::Connection | ErrorCategory::Timeout), "{e}: {:?}", e.category());
    assert!(started.elapsed() < Duration::from_secs(10), "connect hung for {:?}", started.elapsed());

    let cache = RedisCache::connect_lazy(config).unwrap();
    let loads = AtomicUsize::new(0);
    for _ in 0..2 {
        let started = Instant::now();
        let profile = cache
            .get_or_set_with("profile:7", None, async || {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok(ada())
            })
            .await
            .expect("a dead cache must not fail the request");
        assert_eq!(profile, ada());
        assert!(started.elapsed() < Duration::from_secs(10), "get_or_set_with hung for {:?}", started.elapsed());
    }
    assert_eq!(loads.load(Ordering::SeqCst), 2);

    // The plain calls report the failure.
    let e = cache.get::<Profile>("profile:7").await.unwrap_err();
    assert!(e.is_retryable(), "{e}: {:?}", e.category());
    assert!(cache.health_check().await.is_err());
}

#[tokio::test]
async fn the_password_never_shows() {
    const SECRET: &str = "topsecret-hunter2";
    let url = format!("redis://app:{SECRET}@127.0.0.1:9/0");

    let config = RedisCacheConfig::from_url(&url).unwrap().connect_timeout(Duration::from_millis(500));
    assert_eq!(config.redacted_url(), "redis://app:***@127.0.0.1:9/0");
    assert!(!format!("{config:?}").contains(SECRET));
    assert!(!config.to_string().contains(SECRET));

    let cache = RedisCache::connect_lazy(config.clone()).unwrap();
    assert!(!format!("{cache:?}").contains(SECRET), "{cache:?}");
    assert!(!cache.to_string().contains(SECRET), "{cache}");
    let e = cache.get::<Profile>("k").await.unwrap_err();
    assert!(!e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET), "{e:?}");
    let e = RedisCache::connect_with(config).await.unwrap_err();
    assert!(!e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET), "{e:?}");

    // Bad URLs and bad variables never echo the URL.
    let e = RedisCacheConfig::from_url(&format!("http://app:{SECRET}@h/0")).unwrap_err();
    assert!(!e.to_string().contains(SECRET), "{e}");
    let env = Env::from_pairs([("REDIS_URL", format!("redis://app:{SECRET}@h/x"))]);
    let e = RedisCache::from_env(&env).await.unwrap_err();
    assert!(!e.to_string().contains(SECRET), "{e}");
    assert!(e.to_string().contains("REDIS_URL"), "{e}");

    // A wrong password against the real server: refused, and not repeated.
    let Some(server) = redis_url() else { return };
    let mut with_password = url::Url::parse(&server).unwrap();
    with_password.set_password(Some(SECRET)).unwrap();
    match RedisCache::connect(with_password.as_str()).await {
        Ok(cache) => assert!(!format!("{cache:?}").contains(SECRET)),
        Err(e) => assert!(!e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET), "{e:?}"),
    }
}

#[tokio::test]
async fn from_env_reads_the_redis_variables() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_name("dbkit_cache_env");
    let env = Env::from_pairs([
        ("REDIS_URL", url.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
        ("REDIS_DEFAULT_TTL", "90s"),
    ]);
    let cache = RedisCache::from_env(&env).await.unwrap();
    assert_eq!(cache.config().get_key_prefix(), prefix);
    assert_eq!(cache.config().get_default_ttl(), Some(Duration::from_secs(90)));
    cache.health_check().await.unwrap();

    let bad = Env::from_pairs([("REDIS_URL", url.as_str()), ("REDIS_DEFAULT_TTL", "a while")]);
    let e = RedisCache::from_env(&bad).await.unwrap_err();
    assert!(e.to_string().contains("REDIS_DEFAULT_TTL"), "{e}");
    assert_eq!(e.category(), ErrorCategory::Permanent);
}
