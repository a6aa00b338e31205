//! A cached `get` against the same `get` without a cache, on PostgreSQL: a hit (Redis answers)
//! and a miss (the cost the cache adds when it cannot help: its lookup, the database read, the
//! fill). Both sides on the same repository type and rows; Redis and PostgreSQL from
//! `scripts/servers env`. Each round times one call of each side back to back, alternating which
//! goes first; the figure is the median per-round ratio with its interquartile range.
//!
//! ```text
//! eval "$(bash scripts/servers env)"
//! cargo bench -p dbkit-tests --bench cache_vs_database
//! ```

use dbkit::cache::{RedisCache, RedisCacheConfig};
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository, serde::Serialize, serde::Deserialize)]
#[database(postgres)]
#[repository(table = "bench_cache_users", cache(ttl = "10m"))]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
}

const ROUNDS: usize = 3_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (Ok(pg), Ok(redis)) = (std::env::var("DBKIT_TEST_POSTGRES_URL"), std::env::var("DBKIT_TEST_REDIS_URL")) else {
        eprintln!("skipped: run `eval \"$(bash scripts/servers env)\"` first");
        return;
    };
    let config = DatabaseConfig::from_url(&pg).unwrap().pool_size(1).max_overflow(0).pool_pre_ping(false);
    let db = Database::connect_with(config).await.unwrap();
    db.drop_table::<User>().await.unwrap();
    db.create_table::<User>().await.unwrap();
    let plain = UserRepository::new(&db);
    let rows: Vec<NewUser> =
        (0..ROUNDS).map(|i| NewUser { username: format!("user{i}"), email: format!("user{i}@example.com") }).collect();
    plain.create_many(&rows).await.unwrap();
    let prefix = format!("bench{}", std::process::id());
    let cache = RedisCache::connect_with(RedisCacheConfig::from_url(&redis).unwrap().key_prefix(prefix)).await.unwrap();
    let cached = UserRepository::new(&db).with_cache(cache.clone());

    // Hits: one row, cached once.
    cached.get(1).await.unwrap();
    let hits = dbkit_tests::paired!(ROUNDS, cached.get(1).await.unwrap(), plain.get(1).await.unwrap());
    println!("{}", hits.report("postgres/get hit", "cached", "database"));

    // Misses: each round a row not read before, so the cached side always misses and fills.
    let mut next = 1_i64;
    let misses = dbkit_tests::paired!(
        ROUNDS - 1,
        {
            next += 1;
            cached.get(next).await.unwrap()
        },
        plain.get(next).await.unwrap()
    );
    println!("{}", misses.report("postgres/get miss", "cached", "database"));
    db.drop_table::<User>().await.unwrap();
}
