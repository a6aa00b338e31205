//! What a repository generated with `#[repository(cache(ttl = "..."))]` calls: its keys, and the
//! cache `from_manager` attaches. The reads and writes themselves are
//! [`RedisCache::read_through`] and [`RedisCache::invalidate`].

use std::fmt::Write;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{ReadThrough, RedisCache};
use crate::{DatabaseManager, Result};

/// What a cached model must be: stored as JSON, so serde's `Serialize` and `Deserialize`.
#[diagnostic::on_unimplemented(
    message = "a model with `#[repository(cache(...))]` is stored in Redis as JSON, and `{Self}` does not implement serde's `Serialize` and `Deserialize`",
    label = "not serializable",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to the model"
)]
pub trait Cacheable: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> Cacheable for T {}

/// A key or unique value as it appears in a cache key.
pub trait CacheKey {
    /// Appends the value's text.
    fn write_key(&self, out: &mut String);
}

macro_rules! display_keys {
    ($($ty:ty),*) => {$(
        impl CacheKey for $ty {
            fn write_key(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}

display_keys!(i8, i16, i32, i64, u8, u16, u32, u64, bool, str, String, uuid::Uuid, chrono::NaiveDate);

impl CacheKey for [u8] {
    fn write_key(&self, out: &mut String) {
        for byte in self {
            let _ = write!(out, "{byte:02x}");
        }
    }
}

impl CacheKey for Vec<u8> {
    fn write_key(&self, out: &mut String) {
        self.as_slice().write_key(out);
    }
}

impl<T: CacheKey + ?Sized> CacheKey for &T {
    fn write_key(&self, out: &mut String) {
        (**self).write_key(out);
    }
}

/// `"{prefix}{value}"`: `prefix` is the model's (`users:5f3a…:`, its table and the hash of its
/// columns and types, so two structs on one table, or a deploy that changes the struct, never
/// read each other's values) with the field for a unique value (`users:5f3a…:username=`).
pub fn cache_key(prefix: &str, value: &impl CacheKey) -> String {
    let mut key = String::with_capacity(prefix.len() + 24);
    key.push_str(prefix);
    value.write_key(&mut key);
    key
}

/// The cache `from_manager` attaches to a cached repository: the manager's `redis`, or its only
/// cache; none when it has none (the repository then reads the database).
pub fn manager_cache(manager: &DatabaseManager) -> Option<RedisCache> {
    match manager.cache("redis") {
        Ok(cache) => Some(cache),
        Err(_) => match &manager.cache_names()[..] {
            [only] => manager.cache(only).ok(),
            _ => None,
        },
    }
}

/// `get`'s read of a cached model: [`RedisCache::read_through`] of the row, under the bound that
/// says what a cached model needs.
pub async fn read_row<M, F, Fut>(cache: &RedisCache, key: &str, how: ReadThrough, loader: F) -> Result<Option<M>>
where
    M: Cacheable,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<M>>>,
{
    // Filled from the primary: see `replicas::on_primary`.
    Ok(cache.read_through(key, how, || crate::replicas::on_primary(loader())).await?.0)
}

/// `get_by_<unique>`'s first read: the key that `mapping` (a unique value) maps to.
pub async fn read_key<K, F, Fut>(cache: &RedisCache, mapping: &str, how: ReadThrough, loader: F) -> Result<Option<K>>
where
    K: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<K>>>,
{
    Ok(cache.read_through(mapping, how, || crate::replicas::on_primary(loader())).await?.0)
}
