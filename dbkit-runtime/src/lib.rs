//! The runtime behind dbkit: pooled engines, configuration, the database registry, sessions and
//! transactions, error classification and safe retry.
//!
//! Applications use it through the `dbkit` crate, which re-exports everything here; the code that
//! `#[derive(Repository)]` generates calls into it.
//!
//! # Features
//!
//! | feature | backend | driver |
//! |---|---|---|
//! | `sqlite` (default) | SQLite | dbkit's native engine on rusqlite; sqlx for raw sessions |
//! | `postgres` | PostgreSQL | sqlx |
//! | `mysql` | MySQL, MariaDB | sqlx |
//! | `clickhouse` | ClickHouse | clickhouse |
//! | `oracle` | Oracle | oracle |
//! | `redis` | Redis cache | redis |

#![warn(missing_docs)]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
mod backend;
#[cfg(feature = "redis")]
pub mod cache;
#[cfg(feature = "_sql")]
mod call_session;
pub mod classify;
pub mod config;
pub mod constraint;
mod database;
pub mod drain;
mod engine;
mod error;
#[doc(hidden)]
pub mod exec;
mod json;
mod manager;
mod model;
pub mod observe;
mod operation;
mod page;
#[doc(hidden)]
// Without a SQL backend there is nothing to route to a replica.
#[cfg_attr(not(feature = "_sql"), allow(dead_code))]
pub mod replicas;
pub mod request_body;
pub mod retry;
pub mod schema;
#[cfg(feature = "_sql")]
mod session;
pub mod shutdown;
#[cfg(feature = "_transactions")]
mod transaction;

pub use backend::{Backend, UnknownBackend};
#[cfg(feature = "redis")]
pub use cache::RedisCache;
pub use config::{ConfigError, DatabaseConfig};
pub use constraint::ConstraintKind;
pub use database::{Database, DatabaseInfo};
pub use drain::tracker::DatabaseState;
pub use drain::{DatabaseDrain, DrainCounts, DrainMode, DrainReport};
pub use engine::MySqlFlavor;
#[cfg(feature = "clickhouse")]
pub use engine::clickhouse::{ClickHouseSession, InsertRow, Inserter, InserterOptions};
#[cfg(feature = "oracle")]
pub use engine::oracle::OracleSession;
pub use error::{Error, ErrorCategory, Result};
pub use manager::{CacheHealth, DatabaseHealth, DatabaseManager, HealthReport, HealthStatus};
pub use model::{Model, TableDef};
pub use page::Page;
pub use replicas::{ReadFrom, ReplicaInfo, ReplicaPosition, ReplicaState};
#[cfg(feature = "_sql")]
pub use session::{Session, SqlDriver, Transaction};
#[cfg(feature = "_transactions")]
pub use transaction::DatabaseTransaction;

/// The `clickhouse` crate dbkit's ClickHouse backend is built on, for queries on a
/// [`ClickHouseSession`].
#[cfg(feature = "clickhouse")]
pub use clickhouse;

/// The `oracle` crate dbkit's Oracle backend is built on, for statements on an [`OracleSession`].
#[cfg(feature = "oracle")]
pub use oracle;

/// The rusqlite crate dbkit's SQLite engine is built on, for raw SQL in a SQLite unit of work
/// ([`DatabaseTransaction::sqlite`]).
#[cfg(feature = "sqlite")]
pub use rusqlite;

/// The sqlx crate dbkit is built on, for raw queries on a [`Session`].
#[cfg(feature = "_sql")]
pub use sqlx;
