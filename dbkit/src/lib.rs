//! # dbkit
//!
//! A data layer generated at compile time. Annotate a plain struct, and `#[derive(Repository)]`
//! writes a typed repository for it — `get`, `get_by_<unique>`, `list`, `count`, `create`,
//! `create_many`, partial `update`, `delete` — with the SQL for your database checked and fixed
//! at compile time, every value bound (never formatted into SQL), and sessions, transactions and
//! retries handled by the runtime.
//!
//! See the README for a tour; the everyday names are in [`prelude`].
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

pub use dbkit_runtime::{
    Backend, ConfigError, Database, DatabaseConfig, DatabaseHealth, DatabaseInfo, DatabaseManager, DatabaseState,
    Error, ErrorCategory, HealthReport, HealthStatus, MySqlFlavor, Result, classify, config,
};
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use dbkit_runtime::{Session, SqlDriver, Transaction, sqlx};

/// The everyday names: `use dbkit::prelude::*;`.
pub mod prelude {
    pub use dbkit_runtime::{Database, DatabaseConfig, DatabaseManager, Error, ErrorCategory, Result};
}

#[doc(hidden)]
pub mod __private {
    pub use dbkit_runtime;
}
