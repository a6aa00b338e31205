//! `RedisCache::read_through` while Redis fails: paused (`CLIENT PAUSE`), out of memory, and
//! restarted. Every read returns the database's answer; what Redis costs is bounded by the
//! command timeout until the circuit breaker opens, and then nothing. One test, its steps in
//! order: each fault is server-wide (its own test binary, which cargo runs alone).

use std::time::{Duration, Instant};

use dbkit::cache::{ReadOutcome, ReadThrough, RedisCache, RedisCacheConfig};
use dbkit_test_servers::Server;
use dbkit_tests::{servers, unique_name};

/// A connection of its own, opened before any fault: a new one cannot connect to a paused server.
async fn admin_connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap()
}

async fn admin(connection: &mut redis::aio::MultiplexedConnection, command: &[&str]) {
    let mut cmd = redis::cmd(command[0]);
    for arg in &command[1..] {
        cmd.arg(*arg);
    }
    let _: redis::Value = cmd.query_async(connection).await.unwrap();
}

/// One read of `key` whose database answer is `7`: what it returned, how, and how long it took.
async fn read(cache: &RedisCache, key: &str) -> (ReadOutcome, Duration) {
    let started = Instant::now();
    let how = ReadThrough::new(Duration::from_secs(60)).command_timeout(Duration::from_millis(100));
    let (value, outcome) = cache.read_through(key, how, async || Ok(Some(7_u32))).await.unwrap();
    assert_eq!(value, Some(7), "the database's answer, whatever Redis does");
    (outcome, started.elapsed())
}

#[tokio::test]
async fn every_read_answers_while_redis_fails() {
    let Some(servers) = servers() else { return };
    let url = Server::Redis.url(&servers);
    let config = RedisCacheConfig::from_url(&url).unwrap().key_prefix(unique_name("faults"));
    let cache = RedisCache::connect_with(config).await.unwrap();
    let mut connection = admin_connection(&url).await;
    assert_eq!(read(&cache, "a").await.0, ReadOutcome::Filled);
    assert_eq!(read(&cache, "a").await.0, ReadOutcome::Hit);

    // Paused: each read waits out the command timeout until the breaker opens after three, then
    // skips Redis.
    admin(&mut connection, &["CLIENT", "PAUSE", "1000", "ALL"]).await;
    let mut costs = Vec::new();
    for _ in 0..5 {
        let (outcome, took) = read(&cache, "a").await;
        assert_eq!(outcome, ReadOutcome::Bypassed);
        costs.push(took);
    }
    eprintln!("paused: {costs:?}");
    assert!(costs[..3].iter().all(|t| *t < Duration::from_millis(600)), "bounded by the timeout: {costs:?}");
    assert!(costs[3..].iter().all(|t| *t < Duration::from_millis(50)), "the breaker is open: {costs:?}");
    // The pause ends by itself (a paused server does not answer `CLIENT UNPAUSE` either), and the
    // breaker half-opens a second after it opened.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(read(&cache, "a").await.0, ReadOutcome::Hit, "back to the cache");

    // Out of memory: lookups that take a lease and fills are refused; the database answers.
    admin(&mut connection, &["CONFIG", "SET", "maxmemory", "1"]).await;
    let (outcome, took) = read(&cache, "b").await;
    admin(&mut connection, &["CONFIG", "SET", "maxmemory", "0"]).await;
    eprintln!("out of memory: {outcome:?} in {took:?}");
    assert_eq!(outcome, ReadOutcome::Bypassed);

    // Restarted: the connection comes back by itself.
    Server::Redis.restart(&servers).unwrap();
    let mut outcome = read(&cache, "c").await.0;
    let started = Instant::now();
    while outcome != ReadOutcome::Filled && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        outcome = read(&cache, "c").await.0;
    }
    assert_eq!(outcome, ReadOutcome::Filled, "filled again after the restart");
    let stats = cache.stats();
    assert!(stats.redis_failures >= 6, "{stats:?}");
    assert!(stats.hits >= 2 && stats.fills >= 2, "{stats:?}");
}
