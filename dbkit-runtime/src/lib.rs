//! The runtime behind dbkit: pooled engines, configuration, the database registry, sessions and
//! transactions, error classification.
//!
//! Applications use it through the `dbkit` crate, which re-exports everything here; the code that
//! `#[derive(Repository)]` generates calls into it.
//!
//! # Features
//!
//! | feature | backend | driver |
//! |---|---|---|
//! | `sqlite` (default) | SQLite | sqlx |
//! | `postgres` | PostgreSQL | sqlx |
//! | `mysql` | MySQL, MariaDB | sqlx |
//! | `clickhouse` | ClickHouse | clickhouse |
//! | `oracle` | Oracle | oracle |
//! | `redis` | Redis cache | redis |

#![warn(missing_docs)]

mod backend;
pub mod classify;
pub mod config;
mod database;
mod engine;
mod error;
#[doc(hidden)]
pub mod exec;
mod manager;
mod session;

pub use backend::{Backend, UnknownBackend};
pub use config::{ConfigError, DatabaseConfig};
pub use database::{Database, DatabaseInfo};
pub use engine::MySqlFlavor;
pub use error::{Error, ErrorCategory, Result};
pub use manager::{DatabaseHealth, DatabaseManager, HealthReport, HealthStatus};
pub use session::DatabaseState;
#[cfg(feature = "_sql")]
pub use session::{Session, SqlDriver, Transaction};

/// The sqlx crate dbkit is built on, for raw queries on a [`Session`].
#[cfg(feature = "_sql")]
pub use sqlx;
