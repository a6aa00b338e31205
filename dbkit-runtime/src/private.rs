//! Everything the code `#[derive(Repository)]` and `#[dbkit::queries]` generate calls, in one
//! place: the `dbkit` facade re-exports this module as `dbkit::__private`, and generated code names
//! only `::dbkit::__private::…` paths. Not public API: these names change with the macros that
//! use them, which is why `dbkit` pins this crate to its exact version.

pub use crate::__dbkit_call_span as call_span;
#[cfg(feature = "_transactions")]
pub use crate::DatabaseTransaction;
pub use crate::constraint::UniqueKeys;
pub use crate::exec::{Call, CallOptions};
pub use crate::model::TableDef;
pub use crate::observe::__spans_wanted as spans_wanted;
pub use crate::operation::{Failure, OpKind, Operation};
pub use crate::schema::Column;
pub use crate::{Backend, Database, DatabaseManager, Error, Model, MySqlFlavor, Page, Result};

/// Asserts that `T` can be a SQLite column (see [`sqlite_row::SqliteColumn`]).
#[cfg(feature = "sqlite")]
pub const fn assert_sqlite_column<T: sqlite_row::SqliteColumn>() {}
/// The span of a generated call (`call_span!`) is `tracing`'s.
pub use tracing;
pub use tracing::Instrument;

/// The cache a generated repository reads through: none until `with_cache` (or `from_manager`)
/// attaches one to a model with `#[repository(cache(...))]`. Every repository holds one, so the
/// repository type is the same with and without the `redis` feature.
#[derive(Clone, Debug, Default)]
pub struct RepositoryCache {
    #[cfg(feature = "redis")]
    cache: Option<crate::RedisCache>,
}

#[cfg(feature = "redis")]
impl RepositoryCache {
    /// The cache `cache` (`None`: none).
    pub fn new(cache: Option<crate::RedisCache>) -> Self {
        RepositoryCache { cache }
    }

    /// The attached cache.
    pub fn get(&self) -> Option<&crate::RedisCache> {
        self.cache.as_ref()
    }
}

#[cfg(feature = "redis")]
pub use crate::cache::{CacheKey, Cacheable, ReadThrough, RedisCache, cache_key, manager_cache, read_key, read_row};

/// What `in_transaction` on a ClickHouse repository asks of its argument, and nothing can
/// implement (it is sealed): calling it is a compile error that says why.
#[diagnostic::on_unimplemented(
    message = "a ClickHouse repository has no `in_transaction`: ClickHouse has no transactions",
    label = "each ClickHouse statement applies on its own",
    note = "call the repository's methods directly; `create_many` sends its rows as one INSERT"
)]
pub trait ClickHouseHasNoTransactions: sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
}

// For the serde derives of the rows a ClickHouse repository generates, and of the `NewX` and
// `XPatch` of a `#[repository(serde)]` model, whose fields read through `request_body`.
pub use {crate::request_body, serde};

// The sqlx backends: the driver crate, and the row code that binds arguments and decodes columns.
#[cfg(feature = "_sql")]
pub use {
    crate::engine::sql::{decode, fetch_all, fetch_one, fetch_optional, push_bind, push_set},
    sqlx,
};

// SQLite: dbkit's native engine — the driver crate, what a call runs on, and the row code.
#[cfg(feature = "sqlite")]
pub use {
    crate::engine::sqlite::call::SqliteCall,
    crate::engine::sqlite::native::{SqliteConn, WriteKind},
    crate::engine::sqlite::row as sqlite_row,
    rusqlite,
};

// ClickHouse: the driver crate, and how the rows of a repository travel as `RowBinary`.
#[cfg(feature = "clickhouse")]
pub use {
    crate::engine::clickhouse::row as clickhouse_row,
    crate::{InsertRow, Inserter, InserterOptions},
    clickhouse,
};

// Oracle: the driver crate, and the binds, reads and steps every generated method shares.
#[cfg(feature = "oracle")]
pub use {crate::engine::oracle::row as oracle_row, oracle};

/// The database `XRepository::from_manager` runs on: the one registered as `name`
/// (`#[database(..., name = "...")]`), or else the one registered under the name of a backend the
/// model lists — an error when none or several are. `what` is the repository, `backends` the
/// model's, in `#[database(...)]` order. A database of a backend the model does not list is
/// refused here, at construction.
pub fn repository_database(
    manager: &DatabaseManager,
    what: &'static str,
    name: Option<&str>,
    backends: &[Backend],
) -> Result<Database> {
    let database = match name {
        Some(name) => manager.get(name)?,
        None => {
            let names = manager.names();
            let registered: Vec<String> =
                backends.iter().map(|b| b.name().to_owned()).filter(|n| names.contains(n)).collect();
            match &registered[..] {
                // None: the error names the first listed backend, and what is registered.
                [] => manager.get(backends.first().map_or("", |b| b.name()))?,
                [one] => manager.get(one)?,
                _ => return Err(Error::AmbiguousDatabase { what, backends: backends.to_vec(), registered }),
            }
        }
    };
    if !backends.contains(&database.backend()) {
        return Err(Error::BackendMismatch {
            what,
            expected: backends.to_vec(),
            actual: database.backend(),
            database: database.name().to_owned(),
        });
    }
    Ok(database)
}
