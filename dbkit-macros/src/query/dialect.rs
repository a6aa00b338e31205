//! The languages a query is checked in: each SQL dialect on sqlx, and ClickHouse's, which is not
//! one more of them (no transactions, no `RETURNING`, `RowBinary` rows decoded by exact width,
//! values bound two ways: see `clickhouse.rs`).

use crate::backend::{self, sql::Dialect};
use crate::model::Backend;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryDialect {
    Sql(Dialect),
    ClickHouse,
}

impl QueryDialect {
    /// The dialect of a backend, or `None` for one whose queries are not generated (Oracle).
    pub(crate) fn of(backend: Backend) -> Option<QueryDialect> {
        match Dialect::of(backend) {
            Some(dialect) => Some(QueryDialect::Sql(dialect)),
            None if backend == Backend::ClickHouse => Some(QueryDialect::ClickHouse),
            None => None,
        }
    }

    pub(crate) fn backend(self) -> Backend {
        match self {
            QueryDialect::Sql(dialect) => dialect.backend(),
            QueryDialect::ClickHouse => Backend::ClickHouse,
        }
    }

    pub(crate) fn product(self) -> &'static str {
        self.backend().product()
    }

    /// The SQL dialect on sqlx, `None` for ClickHouse.
    pub(crate) fn sql(self) -> Option<Dialect> {
        match self {
            QueryDialect::Sql(dialect) => Some(dialect),
            QueryDialect::ClickHouse => None,
        }
    }

    /// Quotes an identifier so that any name is taken literally.
    pub(crate) fn quote(self, ident: &str) -> String {
        match self {
            QueryDialect::Sql(dialect) => dialect.quote(ident),
            QueryDialect::ClickHouse => backend::clickhouse::quote(ident),
        }
    }

    /// Whether a backslash escapes the next character in a string literal (MySQL's and
    /// ClickHouse's literals).
    pub(crate) fn backslash_escapes(self) -> bool {
        matches!(self, QueryDialect::Sql(Dialect::MySql) | QueryDialect::ClickHouse)
    }

    pub(crate) fn parser(self) -> Box<dyn sqlparser::dialect::Dialect> {
        match self {
            QueryDialect::Sql(Dialect::Sqlite) => Box::new(sqlparser::dialect::SQLiteDialect {}),
            QueryDialect::Sql(Dialect::Postgres) => Box::new(sqlparser::dialect::PostgreSqlDialect {}),
            QueryDialect::Sql(Dialect::MySql) => Box::new(sqlparser::dialect::MySqlDialect {}),
            QueryDialect::ClickHouse => Box::new(sqlparser::dialect::ClickHouseDialect {}),
        }
    }
}
