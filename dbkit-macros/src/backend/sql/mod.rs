//! SQLite, PostgreSQL and MySQL/MariaDB on sqlx. Here, what differs between their dialects:
//! identifier quoting, placeholders, the column type each Rust type is stored as, generated keys,
//! and how many values one statement may bind; `statements.rs` has the text of every statement and
//! `provider.rs` the bodies that run them.
//!
//! The choices are documented, with their reasons, in the type table of the `dbkit` crate docs.

mod provider;
pub(crate) mod statements;

pub(crate) use self::provider::SqlProvider;
#[cfg(test)]
pub(crate) use self::statements::Statements;
use super::Unsupported;
use crate::model::{Backend, Field, Int, SqlType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
    /// MySQL and MariaDB: one DDL works on both; the statements that differ are chosen at run
    /// time (see `expand.rs`).
    MySql,
}

impl Dialect {
    /// The dialect of a backend, or `None` for a backend the repository derive does not generate
    /// SQL for.
    pub(crate) fn of(backend: Backend) -> Option<Dialect> {
        match backend {
            Backend::Sqlite => Some(Dialect::Sqlite),
            Backend::Postgres => Some(Dialect::Postgres),
            Backend::MySql => Some(Dialect::MySql),
            Backend::ClickHouse | Backend::Oracle => None,
        }
    }

    pub(crate) fn backend(self) -> Backend {
        match self {
            Dialect::Sqlite => Backend::Sqlite,
            Dialect::Postgres => Backend::Postgres,
            Dialect::MySql => Backend::MySql,
        }
    }

    pub(crate) fn product(self) -> &'static str {
        self.backend().product()
    }

    /// The sqlx driver type, as generated code names it.
    pub(crate) fn sqlx_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "Sqlite",
            Dialect::Postgres => "Postgres",
            Dialect::MySql => "MySql",
        }
    }

    /// Quotes an identifier, doubling any quote character inside it, so reserved words (`order`,
    /// `user`) and any other name are taken literally.
    pub(crate) fn quote(self, ident: &str) -> String {
        let q = match self {
            Dialect::Sqlite | Dialect::Postgres => '"',
            Dialect::MySql => '`',
        };
        let mut quoted = String::with_capacity(ident.len() + 2);
        quoted.push(q);
        for c in ident.chars() {
            if c == q {
                quoted.push(q);
            }
            quoted.push(c);
        }
        quoted.push(q);
        quoted
    }

    /// The `n`th (1-based) bind placeholder.
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::Sqlite | Dialect::MySql => "?".to_owned(),
        }
    }

    /// The most values one statement may bind: SQLite's `SQLITE_MAX_VARIABLE_NUMBER` (32766 since
    /// 3.32), and the 16-bit parameter count of the PostgreSQL and MySQL wire protocols.
    pub(crate) fn bind_limit(self) -> usize {
        match self {
            Dialect::Sqlite => 32766,
            Dialect::Postgres | Dialect::MySql => 65535,
        }
    }

    /// Whether `INSERT … RETURNING` and `UPDATE … RETURNING` exist (SQLite ≥ 3.35, PostgreSQL).
    /// On MySQL-protocol servers it depends on the product, decided at run time.
    pub(crate) fn has_returning(self) -> bool {
        matches!(self, Dialect::Sqlite | Dialect::Postgres)
    }

    /// Table options after the column list.
    pub(crate) fn table_options(self) -> &'static str {
        match self {
            // utf8mb4 stores all of Unicode whatever the server's default; the binary collation
            // compares text exactly, as PostgreSQL and SQLite do (a unique `username` is
            // case-sensitive on every backend).
            Dialect::MySql => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            Dialect::Sqlite | Dialect::Postgres => "",
        }
    }

    /// The column definition of `field` without its name: type, nullability, default,
    /// uniqueness, primary key.
    pub(crate) fn column_definition(self, field: &Field<'_>) -> Result<String, Unsupported> {
        if field.is_auto_key() {
            return self.auto_key_definition(field.sql_type);
        }
        let indexed = field.is_key() || field.attrs.unique.is_some();
        let ty = match &field.attrs.column.sql_type {
            Some(sql_type) => {
                self.check_bindable(field.sql_type)?;
                sql_type.value.clone()
            }
            None => self.column_type(field.sql_type, indexed)?.to_owned(),
        };
        let mut definition = ty.clone();
        if !field.nullable {
            definition.push_str(" NOT NULL");
        }
        if let Some(default) = &field.attrs.column.default {
            definition.push_str(" DEFAULT ");
            definition.push_str(&self.default_expression(&ty, &default.value));
        }
        if field.is_key() {
            definition.push_str(" PRIMARY KEY");
        } else if field.attrs.unique.is_some() {
            definition.push_str(" UNIQUE");
        }
        Ok(definition)
    }

    /// A database-generated integer key (`i32`/`i64`, checked before).
    fn auto_key_definition(self, ty: SqlType) -> Result<String, Unsupported> {
        let wide = ty == SqlType::Int(Int::I64);
        Ok(match self {
            // The rowid itself: no extra index, and the value `INSERT` generates. Without
            // `AUTOINCREMENT` the largest id can be reused after it is deleted, which SQLite
            // recommends over the cost of its bookkeeping table.
            Dialect::Sqlite => "INTEGER PRIMARY KEY".to_owned(),
            // Identity columns are the SQL-standard spelling of `SERIAL` (PostgreSQL ≥ 10): the
            // sequence belongs to the column, and `BY DEFAULT` still lets a caller insert an
            // explicit id (data imports).
            Dialect::Postgres => {
                format!("{} GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", if wide { "BIGINT" } else { "INTEGER" })
            }
            Dialect::MySql => format!("{} NOT NULL AUTO_INCREMENT PRIMARY KEY", if wide { "BIGINT" } else { "INT" }),
        })
    }

    /// The column type dbkit chooses for `ty`; `indexed` for a key or unique column (MySQL cannot
    /// index `LONGTEXT`/`LONGBLOB` without a prefix length).
    pub(crate) fn column_type(self, ty: SqlType, indexed: bool) -> Result<&'static str, Unsupported> {
        self.check_bindable(ty)?;
        let unsupported = Unsupported::Fixable;
        Ok(match (self, ty) {
            (_, SqlType::Other) => return Err(Unsupported::Unknown),

            (Dialect::Sqlite, SqlType::Int(_)) => "INTEGER",
            (Dialect::Sqlite, SqlType::F32 | SqlType::F64) => "REAL",
            (Dialect::Sqlite, SqlType::Bool) => "BOOLEAN",
            (Dialect::Sqlite, SqlType::String | SqlType::Json) => "TEXT",
            (Dialect::Sqlite, SqlType::Bytes | SqlType::Uuid) => "BLOB",
            // sqlx stores chrono values in SQLite as ISO 8601 text.
            (
                Dialect::Sqlite,
                SqlType::DateTimeUtc | SqlType::NaiveDateTime | SqlType::NaiveDate | SqlType::NaiveTime,
            ) => "TEXT",

            (Dialect::Postgres, SqlType::Int(Int::I8)) => {
                return Err(unsupported("PostgreSQL has no one-byte integer: use `i16` (SMALLINT)".to_owned()));
            }
            (Dialect::Postgres, SqlType::Int(Int::I16)) => "SMALLINT",
            (Dialect::Postgres, SqlType::Int(Int::I32)) => "INTEGER",
            (Dialect::Postgres, SqlType::Int(_)) => "BIGINT",
            (Dialect::Postgres, SqlType::F32) => "REAL",
            (Dialect::Postgres, SqlType::F64) => "DOUBLE PRECISION",
            (Dialect::Postgres, SqlType::Bool) => "BOOLEAN",
            (Dialect::Postgres, SqlType::String) => "TEXT",
            (Dialect::Postgres, SqlType::Bytes) => "BYTEA",
            (Dialect::Postgres, SqlType::DateTimeUtc) => "TIMESTAMPTZ",
            (Dialect::Postgres, SqlType::NaiveDateTime) => "TIMESTAMP",
            (Dialect::Postgres, SqlType::NaiveDate) => "DATE",
            (Dialect::Postgres, SqlType::NaiveTime) => "TIME",
            (Dialect::Postgres, SqlType::Uuid) => "UUID",
            (Dialect::Postgres, SqlType::Json) => "JSONB",

            (Dialect::MySql, SqlType::Int(int)) => match int {
                Int::I8 => "TINYINT",
                Int::I16 => "SMALLINT",
                Int::I32 => "INT",
                Int::I64 => "BIGINT",
                Int::U8 => "TINYINT UNSIGNED",
                Int::U16 => "SMALLINT UNSIGNED",
                Int::U32 => "INT UNSIGNED",
                Int::U64 => "BIGINT UNSIGNED",
            },
            (Dialect::MySql, SqlType::F32) => "FLOAT",
            (Dialect::MySql, SqlType::F64) => "DOUBLE",
            (Dialect::MySql, SqlType::Bool) => "BOOLEAN",
            (Dialect::MySql, SqlType::String) => {
                if indexed {
                    "VARCHAR(255)"
                } else {
                    "LONGTEXT"
                }
            }
            (Dialect::MySql, SqlType::Bytes) => {
                if indexed {
                    "VARBINARY(255)"
                } else {
                    "LONGBLOB"
                }
            }
            // DATETIME rather than TIMESTAMP: years 1000–9999 instead of 1970–2038, and no
            // conversion by the session time zone (dbkit pins it to UTC anyway).
            (Dialect::MySql, SqlType::DateTimeUtc | SqlType::NaiveDateTime) => "DATETIME(6)",
            (Dialect::MySql, SqlType::NaiveDate) => "DATE",
            (Dialect::MySql, SqlType::NaiveTime) => "TIME(6)",
            // sqlx sends a `Uuid` to MySQL as 16 bytes; MariaDB's own `UUID` type (10.7+) does not
            // exist on MySQL, BINARY(16) works on both.
            (Dialect::MySql, SqlType::Uuid) => "BINARY(16)",
            // MariaDB's JSON is LONGTEXT with a validity check; sqlx decodes either.
            (Dialect::MySql, SqlType::Json) => "JSON",
        })
    }

    /// Rejects Rust types that sqlx cannot bind on this backend at all, whatever the column type.
    fn check_bindable(self, ty: SqlType) -> Result<(), Unsupported> {
        let message = match (self, ty) {
            (Dialect::Postgres, SqlType::Int(int)) if int.is_unsigned() => {
                let suggestion = match int {
                    Int::U8 | Int::U16 => "`i16` or `i32`",
                    Int::U32 => "`i64`",
                    _ => "`i64` (or a `String`/`rust_decimal` if values above `i64::MAX` matter)",
                };
                format!("PostgreSQL has no unsigned integers and sqlx cannot bind one: use {suggestion}")
            }
            (Dialect::Sqlite, SqlType::Int(Int::U64)) => {
                "SQLite integers are signed 64-bit and sqlx cannot bind a `u64`: use `i64`".to_owned()
            }
            _ => return Ok(()),
        };
        Err(Unsupported::Never(message))
    }

    /// The column type the DDL declares for `field` (without nullability, default or key), for the
    /// schema drift check.
    pub(crate) fn declared_type(self, field: &Field<'_>) -> String {
        if let Some(sql_type) = &field.attrs.column.sql_type {
            return sql_type.value.clone();
        }
        if field.is_auto_key() {
            let wide = field.sql_type == SqlType::Int(Int::I64);
            return match self {
                Dialect::Sqlite => "INTEGER",
                Dialect::Postgres | Dialect::MySql if wide => "BIGINT",
                Dialect::Postgres => "INTEGER",
                Dialect::MySql => "INT",
            }
            .to_owned();
        }
        let indexed = field.is_key() || field.attrs.unique.is_some();
        self.column_type(field.sql_type, indexed).map(str::to_owned).unwrap_or_default()
    }

    /// The expression a `#[column(on_update = "...")]` sets: as written, with `CURRENT_TIMESTAMP`
    /// at the column's precision on MySQL, as for `DEFAULT`.
    pub(crate) fn on_update_expression(self, field: &Field<'_>, expression: &str) -> String {
        self.default_expression(&self.declared_type(field), expression)
    }

    /// The `DEFAULT` expression as written, except that MySQL requires `CURRENT_TIMESTAMP` to
    /// carry the column's fractional-second precision (`DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6)`).
    fn default_expression(self, column_type: &str, expression: &str) -> String {
        let now = ["CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP()", "NOW()", "LOCALTIMESTAMP", "LOCALTIMESTAMP()"];
        if self == Dialect::MySql
            && column_type.ends_with("(6)")
            && now.iter().any(|n| n.eq_ignore_ascii_case(expression.trim()))
        {
            return "CURRENT_TIMESTAMP(6)".to_owned();
        }
        expression.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_per_dialect() {
        assert_eq!(Dialect::Sqlite.quote("order"), r#""order""#);
        assert_eq!(Dialect::Postgres.quote(r#"a"b"#), r#""a""b""#);
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    }

    #[test]
    fn placeholders() {
        assert_eq!(Dialect::Postgres.placeholder(3), "$3");
        assert_eq!(Dialect::MySql.placeholder(3), "?");
        assert_eq!(Dialect::Sqlite.placeholder(1), "?");
    }

    #[test]
    fn unsupported_types() {
        assert!(Dialect::Postgres.column_type(SqlType::Int(Int::U64), false).is_err());
        assert!(Dialect::Postgres.column_type(SqlType::Int(Int::I8), false).is_err());
        assert!(Dialect::Sqlite.column_type(SqlType::Int(Int::U64), false).is_err());
        assert_eq!(Dialect::Sqlite.column_type(SqlType::Int(Int::U32), false).ok(), Some("INTEGER"));
        assert_eq!(Dialect::MySql.column_type(SqlType::Int(Int::U64), false).ok(), Some("BIGINT UNSIGNED"));
        assert_eq!(Dialect::MySql.column_type(SqlType::String, true).ok(), Some("VARCHAR(255)"));
        assert_eq!(Dialect::MySql.column_type(SqlType::String, false).ok(), Some("LONGTEXT"));
    }

    #[test]
    fn mysql_current_timestamp_gets_the_column_precision() {
        assert_eq!(Dialect::MySql.default_expression("DATETIME(6)", "current_timestamp"), "CURRENT_TIMESTAMP(6)");
        assert_eq!(Dialect::MySql.default_expression("DATETIME", "CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP");
        assert_eq!(Dialect::Postgres.default_expression("TIMESTAMPTZ", "CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP");
    }
}
