//! Which constraint an [`Integrity`](crate::ErrorCategory::Integrity) error broke
//! ([`ConstraintKind`]), and for a unique clash on a generated method, which field of the model.
//!
//! The kind comes from each server's structured code, never its wording:
//!
//! | source | looked up by | table |
//! |---|---|---|
//! | PostgreSQL | SQLSTATE | [`POSTGRES_CONSTRAINTS`] |
//! | MySQL, MariaDB | error number | [`MYSQL_CONSTRAINTS`] |
//! | SQLite | extended result code | [`SQLITE_CONSTRAINTS`] |
//! | Oracle | `ORA-` number | [`ORACLE_CONSTRAINTS`] |
//! | ClickHouse | exception code 469 (`VIOLATED_CONSTRAINT`, a `CHECK`) | |
//!
//! # Which field clashed
//!
//! A generated method knows its model's key and `#[unique]` columns ([`UniqueKeys`]); when its
//! call fails on a unique clash, the call path maps what the server names back to the model field
//! and returns [`Error::Constraint`], whose [`Error::unique_violation`] is that field. What each
//! server names, in the order it is tried:
//!
//! | backend | structured | fallback (documented parsing) |
//! |---|---|---|
//! | PostgreSQL | the constraint's name: `<table>_<column>_key` for a `UNIQUE` column, `<table>_pkey` for the key (PostgreSQL's own names for the DDL dbkit writes) | the column list of the error's `DETAIL`, `Key (column)=(…)`: only the text before `)=(` is read, never the value |
//! | MySQL, MariaDB | none: error 1062 names the key in its message only | the key in `… for key 'name'` (MySQL 8 writes `'table.name'`): a `UNIQUE` column's key is named after the column, the primary key is `PRIMARY` |
//! | SQLite | none: the extended code says unique or primary key | the columns of `UNIQUE constraint failed: table.column` |
//! | Oracle | the constraint name of `ORA-00001: unique constraint (SCHEMA.NAME) violated`: dbkit's DDL names each `<table>_<column>_key` and the key `<table>_pkey` | none |
//!
//! A clash on several columns at once (a composite index made outside dbkit), a constraint named
//! otherwise (a table created by other DDL: Oracle's system names `SYS_C…`, and dbkit's Oracle
//! names that would exceed Oracle 12.1's 30 bytes, which stay system-named), or a clash on a
//! column that is not the model's, leaves the field `None`; the kind is still known.
//!
//! On an error that did not come through a generated method (raw SQL through a session),
//! [`Error::unique_violation`] is the single column the server names — SQLite's message,
//! PostgreSQL's `DETAIL` — or `None` (MySQL and Oracle name keys and constraints, not columns).
//!
//! None of this reads the clashing value, and [`Error::Constraint`] adds nothing of it to what its
//! source error already shows.
//!
//! ```
//! use dbkit_runtime::ConstraintKind;
//! use dbkit_runtime::constraint::{mysql_kind, postgres_kind};
//!
//! assert_eq!(postgres_kind("23505"), Some(ConstraintKind::Unique));
//! assert_eq!(mysql_kind(1452), Some(ConstraintKind::ForeignKey));
//! assert_eq!(postgres_kind("40001"), None); // not a constraint
//! ```

use std::fmt;

use crate::Error;
use ConstraintKind::{Check, ForeignKey, NotNull, Unique};

/// Which kind of constraint a write broke. See [`Error::constraint_kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConstraintKind {
    /// A unique key or the primary key already holds the value.
    Unique,
    /// A foreign key without its parent row, or a parent row still referenced.
    ForeignKey,
    /// A `NOT NULL` column left empty.
    NotNull,
    /// A `CHECK` constraint failed.
    Check,
}

impl ConstraintKind {
    /// The kind in lower case, as used in messages and logs: `unique`, `foreign key`, `not null`,
    /// `check`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unique => "unique",
            ForeignKey => "foreign key",
            NotNull => "not null",
            Check => "check",
        }
    }
}

impl fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A model's key and `#[unique]` columns, each with its field, for the call path to name the field
/// of a unique clash. The derive writes one per repository; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UniqueKeys {
    /// The table, unquoted.
    pub table: &'static str,
    /// The key's `(column, field)`.
    pub key: Option<(&'static str, &'static str)>,
    /// Each `#[unique]` field's `(column, field)`, in field order.
    pub unique: &'static [(&'static str, &'static str)],
}

impl UniqueKeys {
    /// The unique keys of `table`; the derive calls this.
    pub const fn new(
        table: &'static str,
        key: Option<(&'static str, &'static str)>,
        unique: &'static [(&'static str, &'static str)],
    ) -> UniqueKeys {
        UniqueKeys { table, key, unique }
    }

    /// The field whose unique constraint is named `name`: `<table>_<column>_key` (PostgreSQL's
    /// name, and dbkit's Oracle DDL's), `<table>_pkey`, or a MySQL key (`column`, `PRIMARY`, either
    /// prefixed `table.` by MySQL 8).
    fn field_of_constraint(&self, name: &str) -> Option<&'static str> {
        let name = name.strip_prefix(self.table).and_then(|n| n.strip_prefix('.')).unwrap_or(name);
        if let Some((_, field)) = self.key
            && (name == "PRIMARY" || name.strip_prefix(self.table) == Some("_pkey"))
        {
            return Some(field);
        }
        let generated = |column: &str| {
            name.strip_prefix(self.table)
                .and_then(|n| n.strip_prefix('_'))
                .and_then(|n| n.strip_suffix("_key"))
                .is_some_and(|c| c == column)
        };
        self.unique.iter().find(|(column, _)| name == *column || generated(column)).map(|&(_, field)| field)
    }

    /// The field of `column`, written bare or as `table.column` (SQLite).
    fn field_of_column(&self, column: &str) -> Option<&'static str> {
        let column = column.strip_prefix(self.table).and_then(|c| c.strip_prefix('.')).unwrap_or(column);
        self.key.iter().chain(self.unique).find(|(c, _)| *c == column).map(|&(_, field)| field)
    }
}

/// Declares a `(code, kind)` table and renders its rows into its own docs.
macro_rules! kind_table {
    ($(#[$meta:meta])* $name:ident: $ty:ty, $head:literal { $($code:expr => $kind:ident, $what:literal;)* }) => {
        $(#[$meta])*
        ///
        #[doc = concat!("| ", $head, " | kind | meaning |")]
        /// |---|---|---|
        $(#[doc = concat!("| `", stringify!($code), "` | ", stringify!($kind), " | ", $what, " |")])*
        pub const $name: &[($ty, ConstraintKind, &str)] = &[$(($code, $kind, $what),)*];
    };
}

kind_table! {
    /// PostgreSQL SQLSTATEs of class 23 that name a kind (an exclusion constraint, `23P01`, has
    /// none of these kinds).
    POSTGRES_CONSTRAINTS: &str, "SQLSTATE" {
        "23505" => Unique, "unique_violation";
        "23503" => ForeignKey, "foreign_key_violation";
        "23502" => NotNull, "not_null_violation";
        "23514" => Check, "check_violation";
    }
}

kind_table! {
    /// MySQL and MariaDB error numbers of broken constraints.
    MYSQL_CONSTRAINTS: u16, "number" {
        1062 => Unique, "ER_DUP_ENTRY";
        1022 => Unique, "ER_DUP_KEY";
        1169 => Unique, "ER_DUP_UNIQUE";
        1586 => Unique, "ER_DUP_ENTRY_WITH_KEY_NAME";
        1452 => ForeignKey, "ER_NO_REFERENCED_ROW_2";
        1216 => ForeignKey, "ER_NO_REFERENCED_ROW";
        1451 => ForeignKey, "ER_ROW_IS_REFERENCED_2";
        1217 => ForeignKey, "ER_ROW_IS_REFERENCED";
        1048 => NotNull, "ER_BAD_NULL_ERROR";
        1364 => NotNull, "ER_NO_DEFAULT_FOR_FIELD: a NOT NULL column without a default left out";
        3819 => Check, "ER_CHECK_CONSTRAINT_VIOLATED (MySQL)";
        4025 => Check, "ER_CONSTRAINT_FAILED (MariaDB)";
    }
}

kind_table! {
    /// SQLite extended result codes of broken constraints. A clash on an `INTEGER PRIMARY KEY`
    /// is `SQLITE_CONSTRAINT_PRIMARYKEY`.
    SQLITE_CONSTRAINTS: i32, "code" {
        2067 => Unique, "SQLITE_CONSTRAINT_UNIQUE";
        1555 => Unique, "SQLITE_CONSTRAINT_PRIMARYKEY";
        2579 => Unique, "SQLITE_CONSTRAINT_ROWID";
        787 => ForeignKey, "SQLITE_CONSTRAINT_FOREIGNKEY";
        1299 => NotNull, "SQLITE_CONSTRAINT_NOTNULL";
        275 => Check, "SQLITE_CONSTRAINT_CHECK";
    }
}

kind_table! {
    /// Oracle `ORA-` numbers of broken constraints.
    ORACLE_CONSTRAINTS: i32, "ORA-" {
        1 => Unique, "unique constraint (SCHEMA.NAME) violated";
        2291 => ForeignKey, "integrity constraint (SCHEMA.NAME) violated - parent key not found";
        2292 => ForeignKey, "integrity constraint (SCHEMA.NAME) violated - child record found";
        1400 => NotNull, "cannot insert NULL into (…)";
        1407 => NotNull, "cannot update (…) to NULL";
        2290 => Check, "check constraint (SCHEMA.NAME) violated";
    }
}

fn lookup<K: PartialEq + Copy>(table: &[(K, ConstraintKind, &str)], key: K) -> Option<ConstraintKind> {
    table.iter().find(|(code, _, _)| *code == key).map(|&(_, kind, _)| kind)
}

/// The kind of a PostgreSQL SQLSTATE ([`POSTGRES_CONSTRAINTS`]).
pub fn postgres_kind(sqlstate: &str) -> Option<ConstraintKind> {
    lookup(POSTGRES_CONSTRAINTS, sqlstate)
}

/// The kind of a MySQL/MariaDB error number ([`MYSQL_CONSTRAINTS`]).
pub fn mysql_kind(number: u16) -> Option<ConstraintKind> {
    lookup(MYSQL_CONSTRAINTS, number)
}

/// The kind of an SQLite extended result code ([`SQLITE_CONSTRAINTS`]).
pub fn sqlite_kind(extended_code: i32) -> Option<ConstraintKind> {
    lookup(SQLITE_CONSTRAINTS, extended_code)
}

/// The kind of an `ORA-` number ([`ORACLE_CONSTRAINTS`]).
pub fn oracle_kind(ora: i32) -> Option<ConstraintKind> {
    lookup(ORACLE_CONSTRAINTS, ora)
}

/// The constraint an Oracle message names, `ORA-02291: integrity constraint (APP.ORDERS_FK)
/// violated …` → `ORDERS_FK`: the text in the first parentheses after the `ORA-` code, without
/// its schema. `None` when there is none (`ORA-01400` names a column, in quotes).
pub fn oracle_constraint_name(message: &str) -> Option<&str> {
    let rest = &message[message.find("ORA-")?..];
    let inside = &rest[rest.find('(')? + 1..];
    let inside = &inside[..inside.find(')')?];
    let name = inside.split_once('.').map_or(inside, |(_, name)| name);
    (!name.is_empty() && !name.contains('"')).then_some(name)
}

/// The key a MySQL/MariaDB 1062 message names: `Duplicate entry 'x' for key 'users.username'` →
/// `users.username`. Read from the end, so a value containing the same words cannot mislead it.
pub fn mysql_key_name(message: &str) -> Option<&str> {
    const MARK: &str = " for key '";
    let rest = &message[message.rfind(MARK)? + MARK.len()..];
    rest.strip_suffix('\'').filter(|key| !key.is_empty())
}

/// The one column SQLite's message names, `UNIQUE constraint failed: users.username` →
/// `users.username`; `None` for several columns (`t.a, t.b`).
pub fn sqlite_column(message: &str) -> Option<&str> {
    const MARK: &str = "constraint failed: ";
    let columns = &message[message.find(MARK)? + MARK.len()..];
    (!columns.is_empty() && !columns.contains(", ")).then_some(columns)
}

/// The one column a PostgreSQL unique violation's `DETAIL` names, `Key (username)=(ada) already
/// exists.` → `username`: the text between the last `(` before the first `)=(` and that `)=(`, so
/// the value (after it) is never read and a translated message still parses. `None` for several
/// columns.
pub fn postgres_detail_column(detail: &str) -> Option<&str> {
    let head = &detail[..detail.find(")=(")?];
    let columns = &head[head.rfind('(')? + 1..];
    (!columns.is_empty() && !columns.contains(", ")).then_some(columns)
}

/// What the server said about a broken constraint, borrowed from the error.
#[derive(Debug, Default)]
struct Violation<'e> {
    kind: Option<ConstraintKind>,
    /// The constraint's or (MySQL) key's name.
    name: Option<&'e str>,
    /// The one column named, bare or as `table.column`.
    column: Option<&'e str>,
}

/// The violation `error` reports, from its server's structured code.
fn violation(error: &Error) -> Violation<'_> {
    match error {
        Error::Constraint { source, .. } => violation(source),
        #[cfg(feature = "_sql")]
        Error::Sqlx(sqlx::Error::Database(db)) => sql_violation(db.as_ref()),
        #[cfg(feature = "sqlite")]
        Error::Sqlite(rusqlite::Error::SqliteFailure(e, message)) => match sqlite_kind(e.extended_code) {
            Some(kind) => Violation {
                kind: Some(kind),
                column: if kind == Unique { message.as_deref().and_then(sqlite_column) } else { None },
                ..Violation::default()
            },
            None => Violation::default(),
        },
        #[cfg(feature = "oracle")]
        Error::Oracle(e) => {
            let Some(kind) = crate::classify::oracle_code(e).and_then(oracle_kind) else {
                return Violation::default();
            };
            let name = e.db_error().and_then(|db| oracle_constraint_name(db.message()));
            Violation { kind: Some(kind), name, column: None }
        }
        #[cfg(feature = "clickhouse")]
        Error::ClickHouse(clickhouse::error::Error::BadResponse(text)) => Violation {
            kind: (crate::classify::clickhouse_code(text) == Some(469)).then_some(Check),
            ..Violation::default()
        },
        _ => Violation::default(),
    }
}

#[cfg(feature = "_sql")]
fn sql_violation<'e>(db: &'e (dyn sqlx::error::DatabaseError + 'static)) -> Violation<'e> {
    use crate::classify::SqlCode;
    let kind = match crate::classify::sql_code(db) {
        SqlCode::Postgres(state) => postgres_kind(state),
        SqlCode::MySql(number, _) => mysql_kind(number),
        SqlCode::Sqlite(code) => sqlite_kind(code),
        SqlCode::Other => None,
    };
    let Some(kind) = kind else { return Violation::default() };
    let mut violation = Violation { kind: Some(kind), ..Violation::default() };
    if kind != Unique {
        return violation;
    }
    #[cfg(feature = "postgres")]
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        violation.name = pg.constraint();
        violation.column = pg.detail().and_then(postgres_detail_column);
    }
    #[cfg(feature = "mysql")]
    if db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>().is_some() {
        violation.name = mysql_key_name(db.message());
    }
    #[cfg(feature = "sqlite")]
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        violation.column = sqlite_column(db.message());
    }
    violation
}

pub(crate) fn kind(error: &Error) -> Option<ConstraintKind> {
    match error {
        Error::Constraint { kind, .. } => Some(*kind),
        _ => violation(error).kind,
    }
}

/// The field (or, without a model, the column) of a unique clash.
pub(crate) fn unique_violation(error: &Error) -> Option<&str> {
    match error {
        Error::Constraint { kind: Unique, field: Some(field), .. } => Some(field),
        Error::Constraint { kind: Unique, source, .. } => unique_violation(source),
        Error::Constraint { .. } => None,
        _ => {
            let violation = violation(error);
            let column = violation.column.filter(|_| violation.kind == Some(Unique))?;
            // Without a model, `table.column` (SQLite) is read as the column after the first dot.
            Some(column.split_once('.').map_or(column, |(_, column)| column))
        }
    }
}

/// `error` as [`Error::Constraint`] when it reports a broken constraint, with the field of a
/// unique clash resolved against `keys`; any other error as it is. The call path's cold path.
pub(crate) fn attach(error: Error, keys: &UniqueKeys) -> Error {
    let violation = violation(&error);
    let Some(kind) = violation.kind else { return error };
    let field = match kind {
        Unique => violation
            .name
            .and_then(|name| keys.field_of_constraint(name))
            .or_else(|| violation.column.and_then(|column| keys.field_of_column(column))),
        _ => None,
    };
    Error::Constraint { kind, field, source: Box::new(error) }
}

#[cfg(test)]
mod tests {
    use super::*;

    static USERS: UniqueKeys =
        UniqueKeys::new("users", Some(("id", "id")), &[("username", "username"), ("mail", "email")]);

    #[test]
    fn every_code_maps_to_its_kind() {
        for &(code, kind, what) in POSTGRES_CONSTRAINTS {
            assert_eq!(postgres_kind(code), Some(kind), "{code} ({what})");
        }
        for &(number, kind, what) in MYSQL_CONSTRAINTS {
            assert_eq!(mysql_kind(number), Some(kind), "{number} ({what})");
        }
        for &(code, kind, what) in SQLITE_CONSTRAINTS {
            assert_eq!(sqlite_kind(code), Some(kind), "{code} ({what})");
        }
        for &(code, kind, what) in ORACLE_CONSTRAINTS {
            assert_eq!(oracle_kind(code), Some(kind), "ORA-{code:05} ({what})");
        }
        assert_eq!(postgres_kind("23P01"), None);
        assert_eq!(mysql_kind(1213), None);
        assert_eq!(sqlite_kind(19), None); // a bare SQLITE_CONSTRAINT says no kind
        assert_eq!(oracle_kind(60), None);
    }

    #[test]
    fn every_kind_is_an_integrity_code_of_its_backend() {
        use crate::ErrorCategory::Integrity;
        use crate::classify::{mysql_category, oracle_category, postgres_category, sqlite_category};
        for &(code, _, _) in POSTGRES_CONSTRAINTS {
            assert_eq!(postgres_category(code), Integrity, "{code}");
        }
        for &(number, _, _) in MYSQL_CONSTRAINTS {
            assert_eq!(mysql_category(number, None), Integrity, "{number}");
        }
        for &(code, _, _) in SQLITE_CONSTRAINTS {
            assert_eq!(sqlite_category(code), Integrity, "{code}");
        }
        for &(code, _, _) in ORACLE_CONSTRAINTS {
            assert_eq!(oracle_category(code), Integrity, "ORA-{code:05}");
        }
    }

    #[test]
    fn oracle_messages_name_their_constraint() {
        for (message, name) in [
            ("ORA-00001: unique constraint (APP.users_username_key) violated", Some("users_username_key")),
            (
                "ORA-00001: unique constraint (APP.users_pkey) violated on table APP.users columns (id)",
                Some("users_pkey"),
            ),
            ("ORA-02291: integrity constraint (APP.ORDERS_FK) violated - parent key not found", Some("ORDERS_FK")),
            ("ORA-02290: check constraint (SYS_C0012345) violated", Some("SYS_C0012345")),
            ("ORA-01400: cannot insert NULL into (\"APP\".\"USERS\".\"NAME\")", None),
            ("ORA-00001: unique constraint violated", None),
            ("no code at all (APP.X)", None),
        ] {
            assert_eq!(oracle_constraint_name(message), name, "{message}");
        }
    }

    #[test]
    fn mysql_messages_name_their_key() {
        for (message, key) in [
            ("Duplicate entry 'ada' for key 'username'", Some("username")),
            ("Duplicate entry 'ada' for key 'users.username'", Some("users.username")),
            ("Duplicate entry '1' for key 'PRIMARY'", Some("PRIMARY")),
            // The value cannot mislead it: the key is read from the end.
            ("Duplicate entry 'x' for key 'mail' for key 'username'", Some("username")),
            ("Duplicate entry 'x'", None),
        ] {
            assert_eq!(mysql_key_name(message), key, "{message}");
        }
    }

    #[test]
    fn sqlite_and_postgres_name_one_column() {
        assert_eq!(sqlite_column("UNIQUE constraint failed: users.username"), Some("users.username"));
        assert_eq!(sqlite_column("NOT NULL constraint failed: users.mail"), Some("users.mail"));
        assert_eq!(sqlite_column("UNIQUE constraint failed: t.a, t.b"), None);
        assert_eq!(sqlite_column("FOREIGN KEY constraint failed"), None);
        assert_eq!(postgres_detail_column("Key (username)=(ada) already exists."), Some("username"));
        assert_eq!(postgres_detail_column("Schlüssel »(mail)=(a@b)« existiert bereits."), Some("mail"));
        assert_eq!(postgres_detail_column("Key (a, b)=(1, 2) already exists."), None);
        // The value never decides, even when it looks like a column list.
        assert_eq!(postgres_detail_column("Key (username)=(x)=(y) already exists."), Some("username"));
        assert_eq!(postgres_detail_column("Failing row contains (1, null)."), None);
    }

    #[test]
    fn constraint_names_map_back_to_fields() {
        for (name, field) in [
            ("users_username_key", Some("username")),
            ("users_mail_key", Some("email")),
            ("users_pkey", Some("id")),
            ("username", Some("username")), // a MySQL key
            ("users.mail", Some("email")),  // MySQL 8
            ("PRIMARY", Some("id")),        // MySQL's primary key
            ("users.PRIMARY", Some("id")),  // MySQL 8
            ("SYS_C0012345", None),         // an Oracle system name
            ("users_bio_key", None),        // not a unique field of the model
            ("others_username_key", None),  // another table's
            ("users_username_key1", None),  // PostgreSQL's name after a clash of names
        ] {
            assert_eq!(USERS.field_of_constraint(name), field, "{name}");
        }
        assert_eq!(USERS.field_of_column("users.mail"), Some("email"));
        assert_eq!(USERS.field_of_column("id"), Some("id"));
        assert_eq!(USERS.field_of_column("bio"), None);
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn real_sqlite_violations() {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut conn).await.unwrap();
        sqlx::query(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, mail TEXT UNIQUE, \
             n INT CHECK (n > 0), parent INT REFERENCES users (id))",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query("INSERT INTO users VALUES (1, 'ada', 'a@x', 1, NULL)").execute(&mut conn).await.unwrap();
        // The native engine's driver, on the same schema: the same kinds, columns and fields.
        let native = rusqlite::Connection::open_in_memory().unwrap();
        native
            .execute_batch(
                "PRAGMA foreign_keys = ON; CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, \
                 mail TEXT UNIQUE, n INT CHECK (n > 0), parent INT REFERENCES users (id)); \
                 INSERT INTO users VALUES (1, 'ada', 'a@x', 1, NULL)",
            )
            .unwrap();
        for (sql, kind, column, field) in [
            ("INSERT INTO users VALUES (2, 'ada', 'b@x', 1, NULL)", Some(Unique), Some("username"), Some("username")),
            ("INSERT INTO users VALUES (2, 'bob', 'a@x', 1, NULL)", Some(Unique), Some("mail"), Some("email")),
            ("INSERT INTO users VALUES (1, 'bob', 'b@x', 1, NULL)", Some(Unique), Some("id"), Some("id")),
            ("INSERT INTO users VALUES (2, NULL, 'b@x', 1, NULL)", Some(NotNull), None, None),
            ("INSERT INTO users VALUES (2, 'bob', 'b@x', 0, NULL)", Some(Check), None, None),
            ("INSERT INTO users VALUES (2, 'bob', 'b@x', 1, 99)", Some(ForeignKey), None, None),
            ("SELECT * FROM missing", None, None, None),
        ] {
            let error = Error::from(sqlx::query(sql).execute(&mut conn).await.unwrap_err());
            assert_eq!(error.constraint_kind(), kind, "{sql}: {error}");
            assert_eq!(error.unique_violation(), column, "{sql}: {error}");
            let theirs = Error::from(native.execute(sql, []).unwrap_err());
            assert_eq!(theirs.constraint_kind(), kind, "native: {sql}: {theirs}");
            assert_eq!(theirs.unique_violation(), column, "native: {sql}: {theirs}");
            assert_eq!(attach(theirs, &USERS).unique_violation(), field, "native: {sql}");
            let attached = attach(error, &USERS);
            assert_eq!(attached.constraint_kind(), kind, "{sql}: {attached}");
            assert_eq!(attached.unique_violation(), field, "{sql}: {attached}");
            assert_eq!(
                attached.category(),
                if kind.is_some() { crate::ErrorCategory::Integrity } else { crate::ErrorCategory::Permanent }
            );
            assert!(!attached.is_retryable());
            if let Some(field) = field {
                assert!(attached.to_string().contains(&format!("`{field}`")), "{attached}");
            }
        }
    }

    #[cfg(feature = "oracle")]
    #[test]
    #[allow(deprecated)] // the enum variants are the only way to build an OCI error from outside
    fn oracle_errors_name_their_field() {
        let oci = |code: i32, message: &str| {
            Error::Oracle(oracle::Error::OciError(oracle::DbError::new(code, 0, message, "dpiStmt_execute", "execute")))
        };
        for (code, message, kind, field) in [
            (1, "ORA-00001: unique constraint (APP.users_username_key) violated", Some(Unique), Some("username")),
            (1, "ORA-00001: unique constraint (APP.users_mail_key) violated", Some(Unique), Some("email")),
            (1, "ORA-00001: unique constraint (APP.users_pkey) violated", Some(Unique), Some("id")),
            (1, "ORA-00001: unique constraint (APP.SYS_C0012345) violated", Some(Unique), None),
            (2291, "ORA-02291: integrity constraint (APP.FK) violated - parent key not found", Some(ForeignKey), None),
            (2292, "ORA-02292: integrity constraint (APP.FK) violated - child record found", Some(ForeignKey), None),
            (1400, "ORA-01400: cannot insert NULL into (\"APP\".\"users\".\"username\")", Some(NotNull), None),
            (2290, "ORA-02290: check constraint (APP.CK) violated", Some(Check), None),
            (942, "ORA-00942: table or view does not exist", None, None),
        ] {
            let error = oci(code, message);
            assert_eq!(error.constraint_kind(), kind, "{message}");
            assert_eq!(error.unique_violation(), None, "{message}: no column without a model");
            let attached = attach(error, &USERS);
            assert_eq!(attached.constraint_kind(), kind, "{message}");
            assert_eq!(attached.unique_violation(), field, "{message}");
            assert!(!attached.is_retryable(), "{message}");
            assert!(!attached.is_rolled_back(), "{message}");
        }
    }
}
