//! The database products dbkit can talk to.

use std::fmt;
use std::str::FromStr;

/// A database backend.
///
/// Parsed from a URL scheme by [`Backend::from_scheme`] and from a name by [`FromStr`]
/// (`"mysql"`, `"mariadb"`, `"postgres"`, `"postgresql"`, `"sqlite"`, `"clickhouse"`, `"oracle"`).
///
/// ```
/// use dbkit_runtime::Backend;
/// assert_eq!("postgresql".parse::<Backend>().unwrap(), Backend::Postgres);
/// assert_eq!(Backend::MySql.to_string(), "mysql");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite, through sqlx (feature `sqlite`).
    Sqlite,
    /// PostgreSQL, through sqlx (feature `postgres`).
    Postgres,
    /// MySQL and MariaDB, through sqlx (feature `mysql`).
    MySql,
    /// ClickHouse over HTTP, through the `clickhouse` crate (feature `clickhouse`).
    ClickHouse,
    /// Oracle, through the `oracle` crate (feature `oracle`).
    Oracle,
}

impl Backend {
    /// Every backend, in a stable order.
    pub const ALL: [Backend; 5] =
        [Backend::Sqlite, Backend::Postgres, Backend::MySql, Backend::ClickHouse, Backend::Oracle];

    /// The backend's canonical name, also the default name a repository resolves from a
    /// [`DatabaseManager`](crate::DatabaseManager).
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
            Backend::ClickHouse => "clickhouse",
            Backend::Oracle => "oracle",
        }
    }

    /// The backend a URL scheme selects, if any: `sqlite`, `postgres`/`postgresql`,
    /// `mysql`/`mariadb`, `clickhouse`/`http`/`https`, `oracle`.
    pub fn from_scheme(scheme: &str) -> Option<Backend> {
        Some(match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            "mysql" | "mariadb" => Backend::MySql,
            "clickhouse" | "http" | "https" => Backend::ClickHouse,
            "oracle" => Backend::Oracle,
            _ => return None,
        })
    }

    /// The cargo feature of `dbkit` that enables this backend.
    pub const fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this build of dbkit was compiled with the backend's feature.
    pub const fn is_enabled(self) -> bool {
        match self {
            Backend::Sqlite => cfg!(feature = "sqlite"),
            Backend::Postgres => cfg!(feature = "postgres"),
            Backend::MySql => cfg!(feature = "mysql"),
            Backend::ClickHouse => cfg!(feature = "clickhouse"),
            Backend::Oracle => cfg!(feature = "oracle"),
        }
    }
}

/// The canonical name, as in `Display`: `"postgres"`.
impl serde::Serialize for Backend {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Backend`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend `{0}`: expected one of `sqlite`, `postgres`, `mysql`, `clickhouse`, `oracle`")]
pub struct UnknownBackend(pub String);

impl FromStr for Backend {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Backend::from_scheme(s) {
            // `http` is a ClickHouse URL scheme, not a backend name.
            Some(b) if !s.eq_ignore_ascii_case("http") && !s.eq_ignore_ascii_case("https") => Ok(b),
            _ => Err(UnknownBackend(s.to_owned())),
        }
    }
}
