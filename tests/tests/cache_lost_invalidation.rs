//! A lost invalidation: a TCP proxy in front of Redis cuts one process (`a`) off while it writes,
//! then resets its connection, so the `DEL` never arrives. That process still reads its own write
//! (it reads the database for the keys whose invalidation failed, until a retried `DEL` succeeds;
//! with that switched off, the test sees the old row); another process that nobody tells serves
//! the old value until the TTL, and no longer. Against the Redis test server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dbkit::cache::{ReadOutcome, ReadThrough, RedisCache, RedisCacheConfig};
use dbkit_tests::{redis_url, unique_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

/// A network between one process and Redis that the test can cut: while `cut` is set, the bytes
/// sent either way are held (a partition, which TCP sees as silence); `reset` then closes every
/// connection and discards what was held, as TCP does when a partition outlasts its retries.
#[derive(Clone, Default)]
struct Network {
    cut: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
}

impl Network {
    fn reset(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.cut.store(false, Ordering::SeqCst);
    }

    /// A proxy to `upstream` through this network; its address.
    async fn proxy(&self, upstream: String) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let network = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let Ok(server) = TcpStream::connect(&upstream).await else { return };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(network.clone().pipe(client_read, server_write));
                tokio::spawn(network.clone().pipe(server_read, client_write));
            }
        });
        address.to_string()
    }

    async fn pipe(self, mut from: impl AsyncReadExt + Unpin, mut to: impl AsyncWriteExt + Unpin) {
        let generation = self.generation.load(Ordering::SeqCst);
        let reset = || self.generation.load(Ordering::SeqCst) != generation;
        let mut buffer = [0; 16 * 1024];
        loop {
            let n = tokio::select! {
                read = from.read(&mut buffer) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                },
                () = until(&reset) => return,
            };
            while self.cut.load(Ordering::SeqCst) {
                if reset() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            if reset() || to.write_all(&buffer[..n]).await.is_err() {
                return;
            }
        }
    }
}

async fn until(condition: &impl Fn() -> bool) {
    while !condition() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_writer_reads_its_own_write_after_its_invalidation_is_lost() {
    let Some(url) = redis_url() else { return };
    let url = url::Url::parse(&url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(6379));
    let network = Network::default();
    let mut through_proxy = url.clone();
    let proxied = network.proxy(upstream).await;
    let (host, port) = proxied.split_once(':').unwrap();
    through_proxy.set_host(Some(host)).unwrap();
    through_proxy.set_port(Some(port.parse().unwrap())).unwrap();

    let prefix = unique_name("lost");
    let config = |url: &url::Url| {
        RedisCacheConfig::from_url(url.as_str())
            .unwrap()
            .key_prefix(prefix.clone())
            .response_timeout(Duration::from_millis(200))
            .connect_timeout(Duration::from_millis(200))
    };
    let a = RedisCache::connect_with(config(&through_proxy)).await.unwrap();
    let b = RedisCache::connect_with(config(&url)).await.unwrap();
    let database = Arc::new(Mutex::new("old".to_owned()));
    let ttl = Duration::from_millis(1500);
    let how = ReadThrough::new(ttl).lease(Duration::from_millis(300));
    let read = async |cache: &RedisCache| {
        let (value, outcome) =
            cache.read_through("row", how, async || Ok(Some(database.lock().await.clone()))).await.unwrap();
        (value.unwrap(), outcome)
    };
    assert_eq!(read(&a).await, ("old".to_owned(), ReadOutcome::Filled));
    assert_eq!(read(&b).await, ("old".to_owned(), ReadOutcome::Hit));
    let filled = Instant::now();

    // `a` writes; its invalidation is cut off, times out, and is then lost with the connection.
    *database.lock().await = "new".to_owned();
    network.cut.store(true, Ordering::SeqCst);
    assert!(a.invalidate(&["row"]).await.is_err(), "no answer to the DEL");
    network.reset();
    // Redis still holds the old row (the DEL never arrived), and `a` can reach it again: every
    // read of `a` is the database's, its own write, until its retried DEL succeeds.
    assert_eq!(read(&b).await, ("old".to_owned(), ReadOutcome::Hit), "the DEL was lost");
    for _ in 0..10 {
        assert_eq!(read(&a).await.0, "new", "a reads its own write");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The retried DEL reached Redis: `b` sees the new row at once, and `a` uses the cache again.
    assert_eq!(read(&b).await.0, "new");
    assert!(filled.elapsed() < ttl, "well before the TTL would have ended it");
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the circuit breaker's second
    assert_eq!(read(&a).await, ("new".to_owned(), ReadOutcome::Hit));
}

/// Without a retried `DEL`, `b` serves the old row until the TTL ends it, and no longer.
#[tokio::test]
async fn another_process_converges_within_the_ttl() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_name("lost");
    let b = RedisCache::connect_with(RedisCacheConfig::from_url(&url).unwrap().key_prefix(prefix)).await.unwrap();
    let ttl = Duration::from_millis(800);
    let how = ReadThrough::new(ttl);
    let database = Arc::new(Mutex::new("old".to_owned()));
    let read =
        async || b.read_through("row", how, async || Ok(Some(database.lock().await.clone()))).await.unwrap().0.unwrap();
    assert_eq!(read().await, "old");
    let filled = Instant::now();
    *database.lock().await = "new".to_owned(); // written, and its invalidation lost
    while read().await == "old" {
        assert!(filled.elapsed() < ttl + Duration::from_millis(300), "still the old row after the TTL");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(filled.elapsed() >= ttl - ttl / 10, "not before the TTL (less its jitter): {:?}", filled.elapsed());
}
