//! Schema drift: [`Database::verify_schema`] compares a model with its live table.
//!
//! The model's side is its columns on the database's backend ([`Model::TABLES`]), which
//! `#[derive(Repository)]` fills from the same column types it writes into the DDL; the live side is `information_schema.columns` on
//! PostgreSQL (the current schema) and MySQL/MariaDB (the current database), and
//! `pragma_table_info` on SQLite. Types are compared as the backend sees them, through its
//! aliases: `int8` is `BIGINT`, `VARCHAR(255)` and `LONGTEXT` are both text on MySQL, and on
//! SQLite only the type affinity counts (`INTEGER`, `TEXT`, `BLOB`, `REAL`, `NUMERIC`).

use std::fmt;

use crate::{Backend, Database, Error, Model, Result};

/// One column of a model, as [`TableDef::columns`](crate::TableDef::columns) lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Column {
    /// The column's name, unquoted.
    pub name: &'static str,
    /// The column type the DDL declares (`BIGINT`, `TEXT`, `VARCHAR(255)`, a `sql_type`).
    pub sql_type: &'static str,
    /// Whether the column accepts NULL (an `Option` field).
    pub nullable: bool,
    /// Whether it is the model's key.
    pub key: bool,
}

impl Column {
    /// A column; the derive calls this in `Model::TABLES`.
    pub const fn new(name: &'static str, sql_type: &'static str, nullable: bool, key: bool) -> Column {
        Column { name, sql_type, nullable, key }
    }
}

/// One way a live table differs from its model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaDifference {
    /// The table does not exist.
    MissingTable,
    /// The model has a column the table lacks.
    MissingColumn {
        /// The column.
        column: String,
        /// Its type in the model's DDL.
        expected_type: String,
    },
    /// The table has a column the model does not map. Harmless to reads; an insert fails if it
    /// is `NOT NULL` without a default.
    ExtraColumn {
        /// The column.
        column: String,
        /// Its type in the database.
        actual_type: String,
        /// Whether it accepts NULL.
        nullable: bool,
    },
    /// The column's type differs from the model's.
    TypeMismatch {
        /// The column.
        column: String,
        /// The type the model declares.
        expected: String,
        /// The type in the database.
        actual: String,
    },
    /// The model's field is an `Option` and the column is `NOT NULL`, or the other way round.
    NullabilityMismatch {
        /// The column.
        column: String,
        /// Whether the model's field accepts NULL.
        model_nullable: bool,
        /// Whether the column does.
        column_nullable: bool,
    },
}

impl fmt::Display for SchemaDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let null = |nullable: bool| if nullable { "NULL" } else { "NOT NULL" };
        match self {
            SchemaDifference::MissingTable => f.write_str("the table does not exist"),
            SchemaDifference::MissingColumn { column, expected_type } => {
                write!(f, "column `{column}` ({expected_type}) is missing")
            }
            SchemaDifference::ExtraColumn { column, actual_type, nullable } => {
                write!(f, "column `{column}` ({actual_type} {}) is not in the model", null(*nullable))
            }
            SchemaDifference::TypeMismatch { column, expected, actual } => {
                write!(f, "column `{column}` is {actual}, the model declares {expected}")
            }
            SchemaDifference::NullabilityMismatch { column, model_nullable, column_nullable } => write!(
                f,
                "column `{column}` is {}, the model's field is {}",
                null(*column_nullable),
                if *model_nullable { "an `Option`" } else { "not an `Option`" }
            ),
        }
    }
}

/// The differences between a model and its live table, from [`Database::verify_schema`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaDiff {
    /// The table compared.
    pub table: String,
    /// Every difference found, in the model's column order, then the table's extra columns.
    pub differences: Vec<SchemaDifference>,
}

impl SchemaDiff {
    /// Whether the table matches the model.
    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }

    /// The differences.
    pub fn iter(&self) -> std::slice::Iter<'_, SchemaDifference> {
        self.differences.iter()
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(f, "table `{}` matches its model", self.table);
        }
        write!(f, "table `{}` differs from its model:", self.table)?;
        for difference in &self.differences {
            write!(f, "\n  - {difference}")?;
        }
        Ok(())
    }
}

/// A column as the database reports it.
struct LiveColumn {
    name: String,
    sql_type: String,
    nullable: bool,
}

impl Database {
    /// Compares `M` with its live table: columns missing from the table or not in the model,
    /// types and nullability that differ. An empty [`SchemaDiff`] means the table matches.
    ///
    /// The model's side is its columns on this database's backend; fails with
    /// [`Error::BackendMismatch`] when `M` does not list that backend.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
    /// use dbkit_runtime::schema::{Column, SchemaDifference};
    /// use dbkit_runtime::{Backend, Database, Model, TableDef};
    ///
    /// struct Note;
    /// impl Model for Note {
    ///     const TABLE: &'static str = "notes";
    ///     const TABLES: &'static [TableDef] = &[TableDef::new(
    ///         Backend::Sqlite,
    ///         r#"CREATE TABLE IF NOT EXISTS "notes" ("id" INTEGER PRIMARY KEY, "body" TEXT NOT NULL)"#,
    ///         r#"DROP TABLE IF EXISTS "notes""#,
    ///         &[Column::new("id", "INTEGER", false, true), Column::new("body", "TEXT", false, false)],
    ///     )];
    /// }
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// db.create_table::<Note>().await?;
    /// assert!(db.verify_schema::<Note>().await?.is_empty());
    ///
    /// let mut session = db.session::<sqlx::Sqlite>().await?;
    /// sqlx::query(r#"ALTER TABLE "notes" ADD COLUMN "tag" TEXT"#).execute(&mut *session).await?;
    /// drop(session);
    /// let diff = db.verify_schema::<Note>().await?;
    /// assert!(matches!(&diff.differences[..], [SchemaDifference::ExtraColumn { column, .. }] if column == "tag"));
    /// # Ok(()) }
    /// ```
    pub async fn verify_schema<M: Model>(&self) -> Result<SchemaDiff> {
        let table = self.table_of::<M>("verify_schema")?;
        let live = self.live_columns(table.backend, M::TABLE).await?;
        Ok(compare(table.backend, M::TABLE, table.columns, &live))
    }

    async fn live_columns(&self, backend: Backend, table: &str) -> Result<Vec<LiveColumn>> {
        match backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let mut session = self.session::<sqlx::Sqlite>().await?;
                let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    r#"SELECT "name", "type", "notnull", "pk" FROM pragma_table_info(?) ORDER BY "cid""#,
                )
                .bind(table)
                .fetch_all(&mut *session)
                .await?;
                // An `INTEGER PRIMARY KEY` is the rowid: never NULL, whatever `notnull` says.
                Ok(rows
                    .into_iter()
                    .map(|(name, sql_type, notnull, pk)| {
                        let rowid = pk > 0 && sql_type.eq_ignore_ascii_case("INTEGER");
                        LiveColumn { name, sql_type, nullable: notnull == 0 && !rowid }
                    })
                    .collect())
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut session = self.session::<sqlx::Postgres>().await?;
                let rows: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT column_name::text, udt_name::text, is_nullable::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(&mut *session)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(name, sql_type, n)| LiveColumn { name, sql_type, nullable: n == "YES" })
                    .collect())
            }
            #[cfg(feature = "mysql")]
            Backend::MySql => {
                let mut session = self.session::<sqlx::MySql>().await?;
                let rows: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), CAST(is_nullable AS CHAR) \
                     FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? \
                     ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(&mut *session)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(name, sql_type, n)| LiveColumn { name, sql_type, nullable: n == "YES" })
                    .collect())
            }
            // `Nullable(T)` is how ClickHouse says nullable; `LowCardinality(Nullable(T))` for a
            // nullable low-cardinality column. The model declares the type without it.
            #[cfg(feature = "clickhouse")]
            Backend::ClickHouse => {
                let session = self.clickhouse()?;
                let rows: Vec<(String, String)> = session
                    .query("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = ?")
                    .bind(table)
                    .fetch_all()
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(name, sql_type)| {
                        let (sql_type, nullable) = clickhouse_not_null(&sql_type);
                        LiveColumn { name, sql_type, nullable }
                    })
                    .collect())
            }
            backend => {
                let _ = table;
                Err(Error::BackendNotEnabled { backend })
            }
        }
    }
}

/// A ClickHouse column type without its `Nullable`, and whether it had one.
#[cfg_attr(not(feature = "clickhouse"), allow(dead_code))]
fn clickhouse_not_null(sql_type: &str) -> (String, bool) {
    if let Some(inner) = sql_type.strip_prefix("Nullable(").and_then(|t| t.strip_suffix(')')) {
        return (inner.to_owned(), true);
    }
    if let Some(inner) = sql_type.strip_prefix("LowCardinality(Nullable(").and_then(|t| t.strip_suffix("))")) {
        return (format!("LowCardinality({inner})"), true);
    }
    (sql_type.to_owned(), false)
}

fn compare(backend: Backend, table: &str, model: &[Column], live: &[LiveColumn]) -> SchemaDiff {
    let mut differences = Vec::new();
    if live.is_empty() {
        differences.push(SchemaDifference::MissingTable);
        return SchemaDiff { table: table.to_owned(), differences };
    }
    let same_name = |a: &str, b: &str| match backend {
        // Column names are case-insensitive on MySQL and SQLite.
        Backend::Postgres | Backend::ClickHouse => a == b,
        _ => a.eq_ignore_ascii_case(b),
    };
    for column in model {
        let Some(found) = live.iter().find(|l| same_name(&l.name, column.name)) else {
            differences.push(SchemaDifference::MissingColumn {
                column: column.name.to_owned(),
                expected_type: column.sql_type.to_owned(),
            });
            continue;
        };
        if !column.sql_type.is_empty() && canonical(backend, column.sql_type) != canonical(backend, &found.sql_type) {
            differences.push(SchemaDifference::TypeMismatch {
                column: column.name.to_owned(),
                expected: column.sql_type.to_owned(),
                actual: found.sql_type.clone(),
            });
        }
        if column.nullable != found.nullable {
            differences.push(SchemaDifference::NullabilityMismatch {
                column: column.name.to_owned(),
                model_nullable: column.nullable,
                column_nullable: found.nullable,
            });
        }
    }
    for found in live {
        if !model.iter().any(|c| same_name(&found.name, c.name)) {
            differences.push(SchemaDifference::ExtraColumn {
                column: found.name.clone(),
                actual_type: found.sql_type.clone(),
                nullable: found.nullable,
            });
        }
    }
    SchemaDiff { table: table.to_owned(), differences }
}

/// A column type as the backend understands it, so that spellings of one type compare equal.
fn canonical(backend: Backend, sql_type: &str) -> String {
    // ClickHouse's types are case-sensitive and their arguments matter (`Enum8('a' = 1)`,
    // `LowCardinality(String)`, `FixedString(16)`): equal but for spaces.
    if backend == Backend::ClickHouse {
        return sql_type.split_whitespace().collect();
    }
    let lower = sql_type.to_ascii_lowercase();
    // Drop `(length)`/`(precision, scale)`: `VARCHAR(255)` is text, `DATETIME(6)` a datetime.
    let mut bare = String::with_capacity(lower.len());
    let mut depth = 0;
    for c in lower.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if depth == 0 => bare.push(c),
            _ => {}
        }
    }
    let bare = bare.split_whitespace().collect::<Vec<_>>().join(" ");
    match backend {
        Backend::Sqlite => {
            // SQLite's type affinity rules (https://sqlite.org/datatype3.html, 3.1).
            if bare.contains("int") {
                "integer"
            } else if bare.contains("char") || bare.contains("clob") || bare.contains("text") {
                "text"
            } else if bare.contains("blob") || bare.is_empty() {
                "blob"
            } else if bare.contains("real") || bare.contains("floa") || bare.contains("doub") {
                "real"
            } else {
                "numeric"
            }
            .to_owned()
        }
        Backend::Postgres => match bare.as_str() {
            "int8" | "bigint" => "bigint",
            "int4" | "integer" | "int" => "integer",
            "int2" | "smallint" => "smallint",
            "float8" | "double precision" => "double precision",
            "float4" | "real" => "real",
            "bool" | "boolean" => "boolean",
            "varchar" | "character varying" | "text" | "bpchar" | "character" | "char" => "text",
            "timestamptz" | "timestamp with time zone" => "timestamptz",
            "timestamp" | "timestamp without time zone" => "timestamp",
            "time" | "time without time zone" => "time",
            "timetz" | "time with time zone" => "timetz",
            "numeric" | "decimal" => "numeric",
            other => other,
        }
        .to_owned(),
        Backend::MySql => {
            let unsigned = bare.contains("unsigned");
            let base = bare.split_whitespace().next().unwrap_or_default();
            let base = match base {
                "bool" | "boolean" => "tinyint",
                "integer" => "int",
                // MariaDB's JSON is LONGTEXT with a check.
                "varchar" | "char" | "text" | "tinytext" | "mediumtext" | "longtext" | "json" => "text",
                "varbinary" | "binary" | "blob" | "tinyblob" | "mediumblob" | "longblob" => "bytes",
                "double" | "real" => "double",
                "numeric" | "decimal" => "decimal",
                other => other,
            };
            if unsigned { format!("{base} unsigned") } else { base.to_owned() }
        }
        _ => bare,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_type_compare_equal() {
        assert_eq!(canonical(Backend::Postgres, "BIGINT"), canonical(Backend::Postgres, "int8"));
        assert_eq!(canonical(Backend::Postgres, "TIMESTAMPTZ"), canonical(Backend::Postgres, "timestamptz"));
        assert_ne!(canonical(Backend::Postgres, "BIGINT"), canonical(Backend::Postgres, "int4"));
        assert_eq!(canonical(Backend::MySql, "VARCHAR(255)"), canonical(Backend::MySql, "longtext"));
        assert_eq!(canonical(Backend::MySql, "BOOLEAN"), canonical(Backend::MySql, "tinyint(1)"));
        assert_eq!(canonical(Backend::MySql, "INT UNSIGNED"), canonical(Backend::MySql, "int(10) unsigned"));
        assert_ne!(canonical(Backend::MySql, "BIGINT"), canonical(Backend::MySql, "int(11)"));
        assert_eq!(canonical(Backend::Sqlite, "BOOLEAN"), canonical(Backend::Sqlite, "NUMERIC"));
        assert_eq!(
            canonical(Backend::ClickHouse, "Enum8('a'=1, 'b' = 2)"),
            canonical(Backend::ClickHouse, "Enum8('a' = 1, 'b' = 2)")
        );
        assert_ne!(canonical(Backend::ClickHouse, "LowCardinality(String)"), canonical(Backend::ClickHouse, "String"));
    }

    #[test]
    fn clickhouse_nullable_is_taken_off_the_type() {
        assert_eq!(clickhouse_not_null("Nullable(Float64)"), ("Float64".to_owned(), true));
        assert_eq!(
            clickhouse_not_null("LowCardinality(Nullable(String))"),
            ("LowCardinality(String)".to_owned(), true)
        );
        assert_eq!(clickhouse_not_null("LowCardinality(String)"), ("LowCardinality(String)".to_owned(), false));
    }
}
