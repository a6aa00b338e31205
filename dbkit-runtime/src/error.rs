//! dbkit's error type and the categories that drive retry and alerting.

use std::fmt;

use crate::{Backend, ConfigError, ConstraintKind};

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is, as far as a caller deciding what to do next cares.
///
/// See [`Error::category`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// Likely to succeed if tried again as is: a deadlock, a serialization failure, a server that is
    /// starting up or shedding load.
    Transient,
    /// Will fail again however often it is tried: bad SQL, a missing table, a permission problem,
    /// a misconfiguration.
    Permanent,
    /// A limit on time ran out: waiting for a pooled connection, a statement timeout, a lock wait.
    Timeout,
    /// The connection to the server could not be made or was lost.
    Connection,
    /// The data broke a constraint: a unique key clash, a foreign key with no parent, a NOT NULL
    /// column left empty, a failed CHECK.
    Integrity,
    /// None of the above could be told from the error.
    Unknown,
}

impl ErrorCategory {
    /// The category's name in lower case, as used in logs and metrics labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::Transient => "transient",
            ErrorCategory::Permanent => "permanent",
            ErrorCategory::Timeout => "timeout",
            ErrorCategory::Connection => "connection",
            ErrorCategory::Integrity => "integrity",
            ErrorCategory::Unknown => "unknown",
        }
    }

    /// Whether an operation that failed this way may succeed if tried again.
    pub const fn is_retryable(self) -> bool {
        matches!(self, ErrorCategory::Transient | ErrorCategory::Timeout | ErrorCategory::Connection)
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in dbkit.
///
/// Every variant can be classified with [`Error::category`]. Messages never contain a password or
/// a URL with credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is missing or malformed; the message names the variable.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The configuration names a backend this build of dbkit was compiled without.
    #[error("the {backend} backend is not enabled: add the `{}` feature to the `dbkit` dependency", backend.feature())]
    BackendNotEnabled {
        /// The backend asked for.
        backend: Backend,
    },

    /// Connecting to a database failed.
    #[error("cannot connect to database `{database}`: {source}")]
    Connect {
        /// The database's registered name (or the cache's, for a cache of the registry).
        database: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },

    /// Several databases failed to connect; each error names its database.
    #[error("{} databases failed to connect: {}", errors.len(), errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    ConnectAll {
        /// One [`Error::Connect`] per database that failed.
        errors: Vec<Error>,
    },

    /// No database is registered under the name asked for.
    #[error("no database named `{name}` is registered; registered: {}", list_or_none(.registered))]
    UnknownDatabase {
        /// The name asked for.
        name: String,
        /// The names that are registered, sorted.
        registered: Vec<String>,
    },

    /// No cache is registered under the name asked for ([`DatabaseManager::cache`](crate::DatabaseManager::cache)).
    #[error("no cache named `{name}` is registered; registered: {}", list_or_none(.registered))]
    UnknownCache {
        /// The name asked for.
        name: String,
        /// The names that are registered, sorted.
        registered: Vec<String>,
    },

    /// A repository of a model that lists several backends, built with `from_manager` and no
    /// `#[database(..., name = "...")]`, found a database registered under more than one of their
    /// names, and cannot tell which one the application means.
    #[error(
        "{what} is for {}, and databases named {} are all registered: name the one to use with `#[database(..., name = \"...\")]`, or build the repository with `new(&database)`",
        one_of(.backends),
        list_or_none(.registered)
    )]
    AmbiguousDatabase {
        /// The repository, for example `NoteRepository`.
        what: &'static str,
        /// The backends its model lists.
        backends: Vec<Backend>,
        /// The names among theirs that are registered.
        registered: Vec<String>,
    },

    /// [`Database::transaction`](crate::Database::transaction) on a backend whose transactions
    /// dbkit does not run: ClickHouse has none; Oracle's come with the unit-of-work support still
    /// to land.
    #[error(
        "transactions through `Database::transaction` run on SQLite, PostgreSQL and MySQL; database `{database}` is {backend}"
    )]
    TransactionsUnsupported {
        /// The database's backend.
        backend: Backend,
        /// The database's name.
        database: String,
    },

    /// Raw sqlx asked of a SQLite unit of work (`tx.sqlx::<Sqlite>()`): SQLite's units run on
    /// dbkit's native engine (see `dbkit_runtime::engine` docs on SQLite), so their connection is
    /// a rusqlite one, [`DatabaseTransaction::sqlite`](crate::DatabaseTransaction::sqlite).
    #[cfg(feature = "sqlite")]
    #[error(
        "the units of work of SQLite database `{database}` run on dbkit's native engine, not on sqlx: use `tx.sqlite()?` \
         (a `rusqlite::Connection`) for raw SQL in them, or `db.begin::<Sqlite>()` for a sqlx transaction of your own"
    )]
    SqliteUnitIsNative {
        /// The database's name.
        database: String,
    },

    /// A database is already registered under this name.
    #[error("a database named `{name}` is already registered")]
    AlreadyRegistered {
        /// The name.
        name: String,
    },

    /// A database was registered but [`DatabaseManager::connect_all`](crate::DatabaseManager::connect_all)
    /// has not connected it yet.
    #[error("database `{name}` is registered but not connected: call `connect_all` first")]
    NotConnected {
        /// The database's registered name.
        name: String,
    },

    /// A repository, query or model was used with a database of a backend it was not generated
    /// for.
    #[error("{what} is for {}, but database `{database}` is {actual}", one_of(.expected))]
    BackendMismatch {
        /// What was called, for example `UserRepository`.
        what: &'static str,
        /// The backends it was generated for (`#[database(...)]`), in the order written.
        expected: Vec<Backend>,
        /// The backend of the database it was given.
        actual: Backend,
        /// The database's name.
        database: String,
    },

    /// The database is draining or closed and hands out no new sessions.
    #[error("database `{database}` is {state}: no new sessions are handed out")]
    Unavailable {
        /// The database's name.
        database: String,
        /// `draining` or `closed`.
        state: &'static str,
    },

    /// Waiting for a connection took longer than allowed.
    #[error("timed out after {elapsed:?} waiting for {what} on database `{database}`")]
    Timeout {
        /// The database's name.
        database: String,
        /// What was waited for.
        what: &'static str,
        /// How long was waited.
        elapsed: std::time::Duration,
    },

    /// An error from sqlx (SQLite, PostgreSQL, MySQL/MariaDB).
    #[cfg(feature = "_sql")]
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),

    /// An error from dbkit's native SQLite engine (the `rusqlite` crate's).
    #[cfg(feature = "sqlite")]
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// An error from the `clickhouse` crate.
    #[cfg(feature = "clickhouse")]
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] clickhouse::error::Error),

    /// An error from the `oracle` crate.
    #[cfg(feature = "oracle")]
    #[error("oracle: {0}")]
    Oracle(#[from] oracle::Error),

    /// An error from the `redis` crate.
    #[cfg(feature = "redis")]
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),

    /// A write was sent and then the connection was lost (or the call otherwise ended) before the
    /// server answered: it **may or may not have been applied**, and dbkit did not run it again.
    ///
    /// Check whether it took effect (read the row back by its key, for example) before writing
    /// again; a write that is safe to repeat (an upsert, a delete by key) can simply be retried.
    /// [`category`](Error::category) is that of `source` (usually
    /// [`Connection`](ErrorCategory::Connection)), but [`is_retryable`](Error::is_retryable) is
    /// `false`. See [`crate::retry`].
    #[error(
        "the write may or may not have been applied: {source} (the outcome is unknown; check before writing again)"
    )]
    OutcomeUnknown {
        /// What cut the call short.
        #[source]
        source: Box<Error>,
    },

    /// A generated method's write broke a constraint: `source` is the driver's error, and this
    /// adds which kind of constraint and, for a unique clash, which field of the model (see
    /// [`crate::constraint`] for how each backend's is found).
    ///
    /// [`category`](Error::category), [`is_retryable`](Error::is_retryable) and
    /// [`is_rolled_back`](Error::is_rolled_back) are those of `source`: an
    /// [`Integrity`](ErrorCategory::Integrity) error, never retried. The message names the field,
    /// then shows `source`'s own message, and adds nothing of the clashing value.
    #[error("{}", constraint_message(*.kind, *.field, .source))]
    Constraint {
        /// Which kind of constraint.
        kind: ConstraintKind,
        /// For a unique clash, the model field whose key or unique column clashed, when the server
        /// named it in a way dbkit maps back ([`crate::constraint`]); `None` otherwise.
        field: Option<&'static str>,
        /// The driver's error.
        #[source]
        source: Box<Error>,
    },

    /// A value could not be decoded into the Rust type asked for.
    #[error("cannot decode column `{column}`: {message}")]
    Decode {
        /// The column.
        column: String,
        /// Why.
        message: String,
    },
}

/// `sqlite`, `sqlite or postgres`, `sqlite, postgres or mysql`.
fn one_of(backends: &[Backend]) -> String {
    match backends {
        [] => "no backend".to_owned(),
        [one] => one.to_string(),
        [init @ .., last] => {
            format!("{} or {last}", init.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
        }
    }
}

/// `unique constraint on `username` failed: …`, or without a field `foreign key constraint failed: …`.
fn constraint_message(kind: ConstraintKind, field: Option<&str>, source: &Error) -> String {
    match field {
        Some(field) => format!("{kind} constraint on `{field}` failed: {source}"),
        None => format!("{kind} constraint failed: {source}"),
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }
}

impl Error {
    /// What kind of failure this is. See [`crate::classify`] for how each backend's errors map.
    pub fn category(&self) -> ErrorCategory {
        crate::classify::category(self)
    }

    /// Whether the operation that failed may succeed if tried again (its category is transient,
    /// timeout or connection). [`Error::OutcomeUnknown`] is never retryable: trying again blindly
    /// could apply a write twice. Nor is [`Error::Unavailable`]: a draining or closed database
    /// will not take the work again; try another instance.
    pub fn is_retryable(&self) -> bool {
        !self.is_outcome_unknown() && !matches!(self, Error::Unavailable { .. }) && self.category().is_retryable()
    }

    /// Whether the server reported that the failed statement was undone — its transaction rolled
    /// back (serialization failure, deadlock) or the statement itself refused before it changed
    /// anything (lock wait timeout, `NOWAIT`, statement timeout, `SQLITE_BUSY`) — so running it
    /// again cannot apply it twice.
    ///
    /// Only server error codes count, never lost connections. The codes and why each is safe are
    /// listed in [`classify`](crate::classify#rolled-back-or-not).
    pub fn is_rolled_back(&self) -> bool {
        crate::classify::is_rolled_back(self)
    }

    /// Which kind of constraint the failed write broke — unique (or primary key), foreign key,
    /// `NOT NULL`, `CHECK` — read from the server's structured code (SQLSTATE, MySQL error number,
    /// SQLite extended code, `ORA-` number); `None` for any other error. Every error whose kind is
    /// known is [`Integrity`](ErrorCategory::Integrity), not every `Integrity` error has one (an
    /// exclusion constraint, a deferred constraint at commit). See [`crate::constraint`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use dbkit_runtime::{ConstraintKind, Database, ErrorCategory};
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// let mut s = db.session::<sqlx::Sqlite>().await?;
    /// sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE)").execute(&mut *s).await?;
    /// sqlx::query("INSERT INTO users (username) VALUES ('ada')").execute(&mut *s).await?;
    /// let clash = dbkit_runtime::Error::from(
    ///     sqlx::query("INSERT INTO users (username) VALUES ('ada')").execute(&mut *s).await.unwrap_err(),
    /// );
    /// assert_eq!(clash.category(), ErrorCategory::Integrity);
    /// assert_eq!(clash.constraint_kind(), Some(ConstraintKind::Unique));
    /// assert_eq!(clash.unique_violation(), Some("username")); // raw SQL: the column
    /// # Ok(()) }
    /// ```
    pub fn constraint_kind(&self) -> Option<ConstraintKind> {
        crate::constraint::kind(self)
    }

    /// For a unique clash (a `#[unique]` field or the key), the model field that clashed: from a
    /// generated method, `create` or `update`, the field's name (`Some("username")`), whatever its
    /// column is called. From raw SQL, which has no model, the column when the server names one
    /// alone (SQLite, PostgreSQL). `None` for any other error, or when the server's answer does not
    /// say (see [`crate::constraint`] for each backend's source and fallbacks).
    pub fn unique_violation(&self) -> Option<&str> {
        crate::constraint::unique_violation(self)
    }

    /// Whether this is [`Error::OutcomeUnknown`]: a write whose outcome is unknown.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }
}
