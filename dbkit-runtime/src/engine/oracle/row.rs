//! What the code of a `#[database(oracle)]` repository calls: how each Rust type dbkit maps is
//! bound and read through the `oracle` crate ([`OracleColumn`]), and the few steps every
//! generated method shares (a query for one row, for all rows, a transaction that commits or
//! rolls back). Not public API: generated code names it through `dbkit::__private`.
//!
//! *Feature `oracle`.*

use oracle::sql_type::{FromSql, ToSql, ToSqlNull};
use oracle::{Connection, ErrorKind, Row};

use super::OracleSession;
use crate::operation::Failure;

/// A Rust type dbkit stores in an Oracle column: the value the `oracle` crate binds and reads for
/// it. Most types are their own [`OracleColumn::Sql`]; `bool` travels as `NUMBER(1)` (0 or 1: the
/// crate's `bool` is the PL/SQL `BOOLEAN`, which a table column has only from 23ai), a `Uuid` as
/// its 16 bytes, and a `serde_json::Value` as its JSON text.
pub trait OracleColumn: Sized {
    /// The type the `oracle` crate binds and reads.
    type Sql: ToSql + ToSqlNull + FromSql + 'static;
    /// The value to bind.
    fn to_sql_value(&self) -> Self::Sql;
    /// The value read back.
    fn from_sql_value(value: Self::Sql) -> oracle::Result<Self>;
}

macro_rules! same {
    ($($ty:ty),*) => {$(
        impl OracleColumn for $ty {
            type Sql = $ty;
            fn to_sql_value(&self) -> $ty {
                ::core::clone::Clone::clone(self)
            }
            fn from_sql_value(value: $ty) -> oracle::Result<$ty> {
                Ok(value)
            }
        }
    )*};
}

same!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, String, Vec<u8>);
same!(chrono::NaiveDate, chrono::NaiveDateTime, chrono::DateTime<chrono::Utc>);

impl OracleColumn for bool {
    type Sql = i32;
    fn to_sql_value(&self) -> i32 {
        i32::from(*self)
    }
    fn from_sql_value(value: i32) -> oracle::Result<bool> {
        Ok(value != 0)
    }
}

impl OracleColumn for uuid::Uuid {
    type Sql = Vec<u8>;
    fn to_sql_value(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn from_sql_value(value: Vec<u8>) -> oracle::Result<uuid::Uuid> {
        uuid::Uuid::from_slice(&value).map_err(|e| oracle::Error::with_source(ErrorKind::ParseError, e))
    }
}

impl OracleColumn for serde_json::Value {
    type Sql = String;
    fn to_sql_value(&self) -> String {
        self.to_string()
    }
    fn from_sql_value(value: String) -> oracle::Result<serde_json::Value> {
        serde_json::from_str(&value).map_err(|e| oracle::Error::with_source(ErrorKind::ParseError, e))
    }
}

/// Binds a value of a nullable column: `None` is NULL.
pub fn bind_option<T: OracleColumn>(value: &Option<T>) -> Box<dyn ToSql> {
    Box::new(value.as_ref().map(T::to_sql_value))
}

/// Binds a value.
pub fn bind<T: OracleColumn>(value: &T) -> Box<dyn ToSql> {
    Box::new(value.to_sql_value())
}

/// Reads column `index` (0-based) of a non-nullable column.
pub fn get<T: OracleColumn>(row: &Row, index: usize) -> oracle::Result<T> {
    T::from_sql_value(row.get::<usize, T::Sql>(index)?)
}

/// Reads column `index` (0-based) of a nullable column.
pub fn get_option<T: OracleColumn>(row: &Row, index: usize) -> oracle::Result<Option<T>> {
    row.get::<usize, Option<T::Sql>>(index)?.map(T::from_sql_value).transpose()
}

fn params(values: &[Box<dyn ToSql>]) -> Vec<&dyn ToSql> {
    values.iter().map(|v| &**v).collect()
}

/// Runs a query and decodes its first row, if any.
pub fn query_optional<T>(
    conn: &Connection,
    sql: &str,
    values: &[Box<dyn ToSql>],
    decode: fn(&Row) -> oracle::Result<T>,
) -> oracle::Result<Option<T>> {
    let mut rows = conn.query(sql, &params(values))?;
    rows.next().map(|row| decode(&row?)).transpose()
}

/// Runs a query and decodes every row.
pub fn query_all<T>(
    conn: &Connection,
    sql: &str,
    values: &[Box<dyn ToSql>],
    decode: fn(&Row) -> oracle::Result<T>,
) -> oracle::Result<Vec<T>> {
    conn.query(sql, &params(values))?.map(|row| decode(&row?)).collect()
}

/// `SELECT COUNT(*)`.
pub fn count(conn: &Connection, sql: &str) -> oracle::Result<u64> {
    Ok(conn.query_row_as::<i64>(sql, &[])?.unsigned_abs())
}

/// Runs a statement; the rows it affected.
pub fn execute(conn: &Connection, sql: &str, values: &[Box<dyn ToSql>]) -> oracle::Result<u64> {
    conn.execute(sql, &params(values))?.row_count()
}

/// `INSERT … RETURNING "key" INTO :n`, with `values` bound to `:1 … :n-1` and an out bind of
/// `NUMBER` at `:n`; the generated key.
pub fn insert_returning_key<K: FromSql>(conn: &Connection, sql: &str, values: &[Box<dyn ToSql>]) -> oracle::Result<K> {
    let mut stmt = conn.statement(sql).build()?;
    let mut all = params(values);
    all.push(&oracle::sql_type::OracleType::Int64);
    stmt.execute(&all)?;
    let out = all.len();
    stmt.returned_values::<usize, K>(out)?
        .into_iter()
        .next()
        .ok_or_else(|| oracle::Error::new(ErrorKind::NoDataFound, "INSERT … RETURNING returned no key"))
}

/// Inserts the rows `rows` gives, in batches of at most `batch_size` (`executemany`); the rows
/// written.
pub fn insert_batch(
    conn: &Connection,
    sql: &str,
    batch_size: usize,
    rows: impl ExactSizeIterator<Item = Vec<Box<dyn ToSql>>>,
) -> oracle::Result<u64> {
    let total = rows.len();
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let mut batch = conn.batch(sql, batch_size.min(total).max(1)).build()?;
        for row in rows.by_ref().take(batch_size) {
            batch.append_row(&params(&row))?;
        }
        batch.execute()?;
    }
    Ok(total as u64)
}

/// A row the same transaction just wrote, read back: its absence is a bug, reported as an error.
pub fn written<T>(row: Option<T>) -> oracle::Result<T> {
    row.ok_or_else(|| oracle::Error::new(ErrorKind::NoDataFound, "the row just written was not found"))
}

/// Appends `", "` unless first, `fragment`, and the placeholder of `value`, bound as the next
/// parameter: the text and the values cannot drift apart.
pub fn push_set(sql: &mut String, values: &mut Vec<Box<dyn ToSql>>, fragment: &str, value: Box<dyn ToSql>) {
    if !values.is_empty() {
        sql.push_str(", ");
    }
    sql.push_str(fragment);
    push_bind(sql, values, value);
}

/// Appends the next placeholder, `:n`, and binds `value` to it.
pub fn push_bind(sql: &mut String, values: &mut Vec<Box<dyn ToSql>>, value: Box<dyn ToSql>) {
    values.push(value);
    sql.push(':');
    sql.push_str(&values.len().to_string());
}

/// Runs `f` in the connection's transaction (Oracle is always in one; the connection does not
/// autocommit), then commits, or rolls back when `f` fails. The outer error is the `COMMIT`'s,
/// after which the outcome is unknown; the inner one is `f`'s, after which nothing was applied.
pub fn transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> oracle::Result<T>,
) -> oracle::Result<Result<T, oracle::Error>> {
    match f(conn) {
        Ok(value) => {
            conn.commit()?;
            Ok(Ok(value))
        }
        Err(e) => {
            // A failed rollback means a lost connection, which the server rolls back itself.
            let _ = conn.rollback();
            Ok(Err(e))
        }
    }
}

/// A generated write: `f` on `session`'s connection, all or nothing. On a session of its own it
/// runs in a [`transaction`], committed when it returns `Ok`; in a unit of work's transaction it
/// runs in a savepoint that is rolled back to when it fails, and nothing is committed.
pub async fn write<T, F>(session: &OracleSession, f: F) -> crate::Result<Result<T, oracle::Error>>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> oracle::Result<T> + Send + 'static,
{
    if !session.in_transaction() {
        return session.run(move |conn| transaction(conn, f)).await;
    }
    session
        .run(move |conn| {
            conn.execute("SAVEPOINT dbkit_write", &[])?;
            match f(conn) {
                Ok(value) => Ok(Ok(value)),
                Err(e) => {
                    conn.execute("ROLLBACK TO SAVEPOINT dbkit_write", &[])?;
                    Ok(Err(e))
                }
            }
        })
        .await
}

/// The [`Failure`] of what [`transaction`] or [`write`] returned through `OracleSession::run`.
pub fn transaction_outcome<T>(outcome: crate::Result<Result<T, oracle::Error>>) -> Result<T, Failure> {
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Failure::not_applied(e)),
        Err(e) => Err(Failure::sent(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: OracleColumn + PartialEq + std::fmt::Debug>(value: T) {
        assert_eq!(T::from_sql_value(value.to_sql_value()).unwrap(), value);
    }

    #[test]
    fn values_round_trip_through_their_sql_form() {
        assert_eq!(true.to_sql_value(), 1);
        assert_eq!(false.to_sql_value(), 0);
        assert!(bool::from_sql_value(-1).unwrap());
        round_trip(true);
        round_trip(-7_i16);
        round_trip(u64::MAX);
        round_trip(String::from("héllo"));
        let id = uuid::Uuid::new_v4();
        assert_eq!(id.to_sql_value(), id.as_bytes().to_vec());
        round_trip(id);
        round_trip(serde_json::json!({ "a": [1, null] }));
    }

    #[test]
    fn bad_stored_values_are_errors() {
        assert!(uuid::Uuid::from_sql_value(vec![1, 2, 3]).is_err());
        assert!(serde_json::Value::from_sql_value("{not json".to_owned()).is_err());
    }

    #[test]
    fn placeholders_follow_the_bound_values() {
        let (mut sql, mut values) = (String::from("UPDATE t SET "), Vec::new());
        push_set(&mut sql, &mut values, "\"a\" = ", bind(&1_i64));
        push_set(&mut sql, &mut values, "\"b\" = ", bind_option(&None::<String>));
        sql.push_str(" WHERE \"id\" = ");
        push_bind(&mut sql, &mut values, bind(&9_i64));
        assert_eq!(sql, "UPDATE t SET \"a\" = :1, \"b\" = :2 WHERE \"id\" = :3");
        assert_eq!(values.len(), 3);
    }
}
