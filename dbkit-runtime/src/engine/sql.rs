//! What the sqlx backends (SQLite, PostgreSQL, MySQL) share: statement logging, and the row code
//! generated repositories call to bind arguments and decode columns. Their pool is
//! [`super::pool`].

use crate::{DatabaseConfig, Error, Result};

/// Applies statement logging: every statement at INFO when `echo` is on; otherwise sqlx's defaults
/// (DEBUG, and WARN for statements slower than a second).
pub(crate) fn log_options<O: sqlx::ConnectOptions>(options: O, config: &DatabaseConfig) -> O {
    if config.get_echo() { options.log_statements(log::LevelFilter::Info) } else { options }
}

/// Binds `value` as the next argument and appends its placeholder to `sql`: `?`, or `$n` on
/// PostgreSQL, numbered by the driver so the text and the arguments cannot drift apart.
pub fn push_bind<'t, DB, T>(sql: &mut String, arguments: &mut DB::Arguments, value: T) -> Result<()>
where
    DB: sqlx::Database,
    T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    use sqlx::Arguments;

    arguments.add(value).map_err(|e| Error::Sqlx(sqlx::Error::Encode(e)))?;
    // Writing to a `String` cannot fail.
    let _ = arguments.format_placeholder(sql);
    Ok(())
}

/// Decodes column `index` of `row`, naming `column` in the error.
pub fn decode<'r, R, T>(row: &'r R, index: usize, column: &'static str) -> Result<T>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.try_get(index).map_err(|e| match e {
        sqlx::Error::ColumnDecode { source, .. } => {
            Error::Decode { column: column.to_owned(), message: source.to_string() }
        }
        e => Error::Sqlx(e),
    })
}

/// Runs `query` for at most one row and decodes it with `decode`: the body of a generated lookup.
pub async fn fetch_optional<'q, DB, A, T>(
    query: sqlx::query::Query<'q, DB, A>,
    conn: &mut DB::Connection,
    decode: fn(&DB::Row) -> Result<T>,
) -> Result<Option<T>>
where
    DB: sqlx::Database,
    A: Send + sqlx::IntoArguments<DB> + 'q,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    match query.fetch_optional(&mut *conn).await? {
        Some(row) => Ok(Some(decode(&row)?)),
        None => Ok(None),
    }
}

/// Runs `query` and decodes every row with `decode`: the body of a generated `list`.
pub async fn fetch_all<'q, DB, A, T>(
    query: sqlx::query::Query<'q, DB, A>,
    conn: &mut DB::Connection,
    decode: fn(&DB::Row) -> Result<T>,
) -> Result<Vec<T>>
where
    DB: sqlx::Database,
    A: Send + sqlx::IntoArguments<DB> + 'q,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    query.fetch_all(&mut *conn).await?.iter().map(decode).collect()
}

/// Runs `query` for exactly one row and decodes it with `decode`: the body of a generated `create`.
pub async fn fetch_one<'q, DB, A, T>(
    query: sqlx::query::Query<'q, DB, A>,
    conn: &mut DB::Connection,
    decode: fn(&DB::Row) -> Result<T>,
) -> Result<T>
where
    DB: sqlx::Database,
    A: Send + sqlx::IntoArguments<DB> + 'q,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    decode(&query.fetch_one(&mut *conn).await?)
}

/// One field of a generated `update`: when the patch sets it (`value` is `Some`), appends `, `
/// after an earlier field, then `assignment` (`"column" = `) and the value's placeholder, and binds
/// the value.
pub fn push_set<'t, DB, T>(
    sql: &mut String,
    arguments: &mut DB::Arguments,
    assignment: &str,
    value: Option<T>,
) -> Result<()>
where
    DB: sqlx::Database,
    T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    use sqlx::Arguments;

    let Some(value) = value else { return Ok(()) };
    if arguments.len() > 0 {
        sql.push_str(", ");
    }
    sql.push_str(assignment);
    push_bind::<DB, T>(sql, arguments, value)
}
