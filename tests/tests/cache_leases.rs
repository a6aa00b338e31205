//! `RedisCache::read_through` against the Redis test server: the stale-refill race closed by
//! leases (and, with leases switched off, observed: the test can fail), a lease that times out,
//! `FLUSHDB` mid-load, one database load for 500 concurrent misses from 4 caches, a lease holder
//! that dies, a value that does not decode, and Redis down.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dbkit::cache::{ReadOutcome, ReadThrough, RedisCache, RedisCacheConfig};
use dbkit_tests::{redis_url, unique_name};
use tokio::sync::{Mutex, Notify};

/// A cache of its own key prefix, so tests running at once never share a key.
async fn cache(url: &str) -> RedisCache {
    let config = RedisCacheConfig::from_url(url).unwrap().key_prefix(unique_name("lease"));
    RedisCache::connect_with(config).await.unwrap()
}

/// Another connection on the same prefix: another process, as far as Redis can tell.
async fn another(cache: &RedisCache) -> RedisCache {
    RedisCache::connect_with(cache.config().clone()).await.unwrap()
}

fn how() -> ReadThrough {
    ReadThrough::new(Duration::from_secs(60))
}

/// The race: a reader reads the database, a writer writes and invalidates, the reader fills.
/// Returns what the next two reads see.
async fn stale_refill_race(cache: &RedisCache, how: ReadThrough) -> (ReadOutcome, String) {
    let database = Arc::new(Mutex::new("old".to_owned()));
    let (read_done, resume) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let reader = tokio::spawn({
        let (cache, database, read_done, resume) =
            (another(cache).await, database.clone(), read_done.clone(), resume.clone());
        async move {
            cache
                .read_through("user:1", how, async || {
                    let row = database.lock().await.clone();
                    read_done.notify_one();
                    resume.notified().await; // paused after its database read
                    Ok(Some(row))
                })
                .await
                .unwrap()
        }
    });
    read_done.notified().await;
    *database.lock().await = "new".to_owned(); // the write commits…
    cache.invalidate(&["user:1"]).await.unwrap(); // …and invalidates
    resume.notify_one();
    let (read, outcome) = reader.await.unwrap();
    assert_eq!(read.as_deref(), Some("old"), "the paused reader returns what it read");
    // The next read: from the cache if the reader's fill was stored, else from the database.
    let (next, _) = cache.read_through("user:1", how, async || Ok(Some(database.lock().await.clone()))).await.unwrap();
    (outcome, next.unwrap())
}

#[tokio::test]
async fn a_fill_from_before_an_invalidation_is_refused() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let (outcome, next) = stale_refill_race(&cache, how()).await;
    assert_eq!(outcome, ReadOutcome::FillRefused);
    assert_eq!(next, "new", "the next read is the database's, not the stale fill");
    let (again, outcome) = cache.read_through::<String, _, _>("user:1", how(), async || panic!("a hit")).await.unwrap();
    assert_eq!((again.as_deref(), outcome), (Some("new"), ReadOutcome::Hit));
}

/// The control: without leases the same race leaves the stale row in Redis.
#[tokio::test]
async fn without_leases_the_race_leaves_a_stale_row() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let (outcome, next) = stale_refill_race(&cache, how().without_leases_for_tests()).await;
    assert_eq!(outcome, ReadOutcome::Filled);
    assert_eq!(next, "old", "the stale refill is what the leases prevent");
}

#[tokio::test]
async fn a_load_that_outlives_its_lease_is_not_stored() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let how = how().lease(Duration::from_millis(100));
    let (value, outcome) = cache
        .read_through("slow", how, async || {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(Some(1_u32))
        })
        .await
        .unwrap();
    assert_eq!((value, outcome), (Some(1), ReadOutcome::FillRefused));
    let (_, outcome) = cache.read_through("slow", how, async || Ok(Some(2_u32))).await.unwrap();
    assert_eq!(outcome, ReadOutcome::Filled, "a later read takes a new lease");
}

#[tokio::test]
async fn flushdb_during_a_load_refuses_its_fill() {
    let Some(url) = redis_url() else { return };
    // A database number of its own: FLUSHDB must not touch the other tests' keys.
    let mut url = url::Url::parse(&url).unwrap();
    url.set_path("/13");
    let cache = cache(url.as_str()).await;
    let flusher = another(&cache).await;
    let (value, outcome) = cache
        .read_through("k", how(), async || {
            flushdb(&flusher).await;
            Ok(Some("loaded".to_owned()))
        })
        .await
        .unwrap();
    assert_eq!((value.as_deref(), outcome), (Some("loaded"), ReadOutcome::FillRefused));
}

/// `FLUSHDB` on the cache's database.
async fn flushdb(cache: &RedisCache) {
    let client = redis::Client::open(cache_url(cache)).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("FLUSHDB").query_async(&mut connection).await.unwrap();
}

fn cache_url(cache: &RedisCache) -> String {
    // The test server has no password, so the redacted URL is the URL.
    cache.config().redacted_url()
}

#[tokio::test]
async fn five_hundred_concurrent_misses_from_four_caches_load_once() {
    let Some(url) = redis_url() else { return };
    let first = cache(&url).await;
    let mut caches = vec![first.clone()];
    for _ in 0..3 {
        caches.push(another(&first).await);
    }
    let loads = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let (cache, loads) = (caches[i % 4].clone(), loads.clone());
            tokio::spawn(async move {
                cache
                    .read_through("cold", how(), async || {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await; // the database read
                        Ok(Some(7_u64))
                    })
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        let (value, outcome) = task.await.unwrap();
        assert_eq!(value, Some(7));
        outcomes.push(outcome);
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1, "one database load for 500 misses");
    assert_eq!(outcomes.iter().filter(|o| **o == ReadOutcome::Filled).count(), 1);
    assert!(outcomes.iter().all(|o| matches!(o, ReadOutcome::Filled | ReadOutcome::Hit)), "{outcomes:?}");
}

#[tokio::test]
async fn when_the_lease_holder_dies_the_waiters_still_answer() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let how = how().lease(Duration::from_millis(800)).wait(Duration::from_millis(200));
    let holder = tokio::spawn({
        let cache = cache.clone();
        async move { cache.read_through::<u32, _, _>("orphan", how, async || std::future::pending().await).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    holder.abort(); // dies holding the lease
    let started = Instant::now();
    let (value, outcome) = cache.read_through("orphan", how, async || Ok(Some(3_u32))).await.unwrap();
    assert_eq!((value, outcome), (Some(3), ReadOutcome::WaitedOut), "answered from the database, not filled");
    assert!(started.elapsed() < Duration::from_millis(700), "a bounded wait: {:?}", started.elapsed());
    tokio::time::sleep(Duration::from_millis(800)).await; // the lease expires on the server
    let (_, outcome) = cache.read_through("orphan", how, async || Ok(Some(3_u32))).await.unwrap();
    assert_eq!(outcome, ReadOutcome::Filled);
}

#[tokio::test]
async fn a_value_that_does_not_decode_is_read_from_the_database_and_dropped() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let client = redis::Client::open(cache_url(&cache)).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("HSET")
        .arg(cache.full_key("bad"))
        .arg("v")
        .arg("{not json")
        .query_async(&mut connection)
        .await
        .unwrap();
    let (value, outcome) = cache.read_through("bad", how(), async || Ok(Some(5_i32))).await.unwrap();
    assert_eq!((value, outcome), (Some(5), ReadOutcome::Bypassed));
    let (_, outcome) = cache.read_through("bad", how(), async || Ok(Some(5_i32))).await.unwrap();
    assert_eq!(outcome, ReadOutcome::Filled, "the bad value was dropped");
}

#[tokio::test]
async fn an_absent_row_is_cached_until_invalidated() {
    let Some(url) = redis_url() else { return };
    let cache = cache(&url).await;
    let (value, _) = cache.read_through::<String, _, _>("user:9", how(), async || Ok(None)).await.unwrap();
    assert_eq!(value, None);
    let (value, outcome) = cache.read_through::<String, _, _>("user:9", how(), async || panic!("a hit")).await.unwrap();
    assert_eq!((value, outcome), (None, ReadOutcome::Hit));
    cache.invalidate(&["user:9"]).await.unwrap(); // the row was created
    let (value, _) = cache.read_through("user:9", how(), async || Ok(Some("ada".to_owned()))).await.unwrap();
    assert_eq!(value.as_deref(), Some("ada"));
}

#[tokio::test]
async fn redis_down_costs_a_bounded_time_and_no_error() {
    let config = RedisCacheConfig::from_url("redis://127.0.0.1:9/0")
        .unwrap()
        .connect_timeout(Duration::from_millis(100))
        .response_timeout(Duration::from_millis(100));
    let cache = RedisCache::connect_lazy(config).unwrap();
    let started = Instant::now();
    let (value, outcome) = cache.read_through("k", how(), async || Ok(Some(1_u8))).await.unwrap();
    assert_eq!((value, outcome), (Some(1), ReadOutcome::Bypassed));
    eprintln!("redis down: read_through took {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}
