//! The row code generated SQLite repositories call: a column by index, as the field's type.

use std::fmt;

use chrono::{DateTime, Utc};
use rusqlite::Row;
use rusqlite::types::{FromSql, Null, ToSql, ToSqlOutput};

use crate::Error;

/// A value bound as sqlx writes it, for the two types whose stock rusqlite encoding differs, so
/// rows written by generated code and by raw sqlx sessions on the same file compare, sort and
/// clash as one (checked byte for byte against sqlx 0.9):
///
/// - `DateTime<Utc>`: sqlx writes RFC 3339 with a `T` (`2024-01-02T03:04:05.005+00:00`), rusqlite
///   a space; the same instant written by each would be two different keys, and sort apart.
/// - `serde_json::Value`: sqlx writes the JSON text always; rusqlite binds a number as a number
///   (which a `TEXT` column reformats: `0.30000000000000004` reads back `0.3`) and `null` as SQL
///   `NULL`.
///
/// Reading needs no counterpart: rusqlite's `FromSql` reads sqlx's text for both.
#[derive(Debug)]
pub struct Sqlx<'a, T>(pub &'a T);

/// The types [`Sqlx`] binds, each as sqlx writes it, and `Option`s of them (`None` is `NULL`).
pub trait SqlxText {
    /// The value to bind.
    fn sqlx_text(&self) -> rusqlite::Result<ToSqlOutput<'static>>;
}

/// sqlx's `to_rfc3339_opts(SecondsFormat::AutoSi, false)`.
impl SqlxText for DateTime<Utc> {
    fn sqlx_text(&self) -> rusqlite::Result<ToSqlOutput<'static>> {
        Ok(ToSqlOutput::from(self.format("%FT%T%.f%:z").to_string()))
    }
}

impl SqlxText for serde_json::Value {
    fn sqlx_text(&self) -> rusqlite::Result<ToSqlOutput<'static>> {
        serde_json::to_string(self)
            .map(ToSqlOutput::from)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
    }
}

impl<T: SqlxText> SqlxText for Option<T> {
    fn sqlx_text(&self) -> rusqlite::Result<ToSqlOutput<'static>> {
        self.as_ref().map_or_else(|| Ok(ToSqlOutput::from(Null)), SqlxText::sqlx_text)
    }
}

impl<T: SqlxText> Sqlx<'_, T> {
    /// The value to bind, owned: for a list of parameters built at run time.
    pub fn into_output(self) -> rusqlite::Result<ToSqlOutput<'static>> {
        self.0.sqlx_text()
    }
}

impl<T: SqlxText> ToSql for Sqlx<'_, T> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.0.sqlx_text()
    }
}

/// What a SQLite column of a type dbkit does not know (`#[column(sql_type = "...")]`) asks of the
/// field's type: rusqlite's `ToSql` and `FromSql`, which dbkit's native SQLite engine binds and
/// reads it with. Generated code binds and reads such a field through this trait, spanned on the
/// field's type, so a type without them is one error there, saying what to implement.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a SQLite column: it must implement rusqlite's `ToSql` and `FromSql`",
    label = "a `#[column(sql_type = \"...\")]` field on SQLite",
    note = "SQLite runs on dbkit's native engine, on rusqlite: implement `dbkit::rusqlite::ToSql` and `dbkit::rusqlite::types::FromSql` for it"
)]
pub trait SqliteColumn: ToSql + FromSql {}

impl<T: ToSql + FromSql> SqliteColumn for T {}

/// A custom column's value, to bind.
pub fn column<T: SqliteColumn>(value: &T) -> &dyn ToSql {
    value
}

/// Column `index` of `row` as a custom column's type; see [`get`].
pub fn get_column<T: SqliteColumn>(row: &Row<'_>, index: usize, column: &'static str) -> rusqlite::Result<T> {
    get(row, index, column)
}

/// Column `index` of `row` as `T`. A value that does not fit is an error naming `column` — never
/// the value (rusqlite's own message for an integer out of range quotes it).
pub fn get<T: FromSql>(row: &Row<'_>, index: usize, column: &'static str) -> rusqlite::Result<T> {
    row.get(index).map_err(|error| {
        let message = match error {
            rusqlite::Error::InvalidColumnType(_, _, stored) => {
                format!("a stored {stored} does not convert to the field's type")
            }
            rusqlite::Error::IntegralValueOutOfRange(..) => "the stored integer is out of the field's range".to_owned(),
            rusqlite::Error::FromSqlConversionFailure(_, _, source) => source.to_string(),
            other => return other,
        };
        let undecodable = Undecodable { column, message };
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Null, Box::new(undecodable))
    })
}

/// Column `index` of `row` as a count: SQLite's integers are signed, and a negative one does not
/// fit (`-> dbkit::Result<u64>` of a custom query).
pub fn get_count(row: &Row<'_>, index: usize, column: &'static str) -> rusqlite::Result<u64> {
    let n: i64 = get(row, index, column)?;
    u64::try_from(n).map_err(|_| {
        let message = "the value is negative: return `i64`".to_owned();
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Integer,
            Box::new(Undecodable { column, message }),
        )
    })
}

/// dbkit's error for one of the engine's: [`Error::Decode`] for a column [`get`] could not decode.
pub(crate) fn error(error: rusqlite::Error) -> Error {
    if let rusqlite::Error::FromSqlConversionFailure(_, _, source) = &error
        && let Some(undecodable) = source.downcast_ref::<Undecodable>()
    {
        return Error::Decode { column: undecodable.column.to_owned(), message: undecodable.message.clone() };
    }
    Error::Sqlite(error)
}

#[derive(Debug)]
struct Undecodable {
    column: &'static str,
    message: String,
}

impl fmt::Display for Undecodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode column `{}`: {}", self.column, self.message)
    }
}

impl std::error::Error for Undecodable {}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Sqlx` binds is what sqlx writes: the same text, so the two compare equal in SQL.
    #[tokio::test]
    async fn binds_what_sqlx_writes() {
        use sqlx::Connection;
        let path = std::env::temp_dir().join(format!("dbkit-sqlx-text-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
        let mut theirs = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("CREATE TABLE t (side TEXT, at TEXT, doc TEXT)").execute(&mut theirs).await.unwrap();
        let at = DateTime::parse_from_rfc3339("2024-01-02T03:04:05.005+00:00").unwrap().with_timezone(&Utc);
        let doc = serde_json::json!({"n": 0.30000000000000004, "none": null});
        sqlx::query("INSERT INTO t VALUES ('sqlx', ?, ?)").bind(at).bind(&doc).execute(&mut theirs).await.unwrap();
        let ours = rusqlite::Connection::open(&path).unwrap();
        ours.execute("INSERT INTO t VALUES ('ours', ?1, ?2)", (Sqlx(&at), Sqlx(&doc))).unwrap();
        ours.execute("INSERT INTO t VALUES ('stock', ?1, ?2)", (at, doc.clone())).unwrap();
        let same = |side: &str| -> bool {
            ours.query_row(
                "SELECT a.at = b.at AND a.doc = b.doc FROM t a, t b WHERE a.side = 'sqlx' AND b.side = ?1",
                [side],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert!(same("ours"), "Sqlx binds sqlx's text");
        assert!(!same("stock"), "the control: rusqlite's own encoding differs");
        let read: (DateTime<Utc>, serde_json::Value) =
            ours.query_row("SELECT at, doc FROM t WHERE side = 'sqlx'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!(read, (at, doc), "rusqlite reads sqlx's text");
        drop(theirs);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_value_that_does_not_fit_names_the_column_and_not_the_value() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let big = conn.query_row("SELECT 9876543210", [], |row| get::<i32>(row, 0, "age")).unwrap_err();
        let big = error(big);
        assert!(matches!(&big, Error::Decode { column, .. } if column == "age"), "{big:?}");
        assert!(!big.to_string().contains("9876543210"), "{big}");
        let text = error(conn.query_row("SELECT 'secret'", [], |row| get::<i64>(row, 0, "n")).unwrap_err());
        assert!(matches!(&text, Error::Decode { column, .. } if column == "n"), "{text:?}");
        assert!(!text.to_string().contains("secret"), "{text}");
        // The control: a value that fits decodes.
        assert_eq!(conn.query_row("SELECT 42", [], |row| get::<i32>(row, 0, "age")).unwrap(), 42);
    }
}
