//! Maps each backend's errors to an [`ErrorCategory`], by structured code first and by message
//! only as a fallback.

use crate::{Error, ErrorCategory};

pub(crate) fn category(error: &Error) -> ErrorCategory {
    match error {
        Error::Config(_) | Error::BackendNotEnabled { .. } | Error::UnknownDatabase { .. } => ErrorCategory::Permanent,
        Error::AlreadyRegistered { .. } | Error::NotConnected { .. } | Error::BackendMismatch { .. } => {
            ErrorCategory::Permanent
        }
        Error::Decode { .. } => ErrorCategory::Permanent,
        Error::Connect { source, .. } => match source.category() {
            ErrorCategory::Permanent => ErrorCategory::Permanent,
            ErrorCategory::Timeout => ErrorCategory::Timeout,
            _ => ErrorCategory::Connection,
        },
        Error::ConnectAll { errors } => {
            errors.first().map_or(ErrorCategory::Unknown, Error::category)
        }
        Error::Unavailable { .. } => ErrorCategory::Connection,
        Error::Timeout { .. } => ErrorCategory::Timeout,
        #[cfg(feature = "_sql")]
        Error::Sqlx(e) => sqlx_category(e),
        #[cfg(feature = "clickhouse")]
        Error::ClickHouse(_) => ErrorCategory::Unknown,
        #[cfg(feature = "oracle")]
        Error::Oracle(_) => ErrorCategory::Unknown,
        #[cfg(feature = "redis")]
        Error::Redis(_) => ErrorCategory::Unknown,
    }
}

#[cfg(feature = "_sql")]
fn sqlx_category(error: &sqlx::Error) -> ErrorCategory {
    use sqlx::error::ErrorKind;
    match error {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation
            | ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation => ErrorCategory::Integrity,
            _ if is_sqlite(db.as_ref()) => sqlite_code_category(db.code().as_deref()),
            _ => database_code_category(db.code().as_deref()),
        },
        sqlx::Error::PoolTimedOut => ErrorCategory::Timeout,
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            ErrorCategory::Connection
        }
        sqlx::Error::Protocol(_) => ErrorCategory::Connection,
        sqlx::Error::Configuration(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::Encode(_) => ErrorCategory::Permanent,
        sqlx::Error::RowNotFound => ErrorCategory::Permanent,
        _ => ErrorCategory::Unknown,
    }
}

/// A first mapping of the most common codes; see the classifier issue for the full tables.
#[cfg(feature = "_sql")]
fn database_code_category(code: Option<&str>) -> ErrorCategory {
    let Some(code) = code else { return ErrorCategory::Unknown };
    match code {
        // PostgreSQL SQLSTATE.
        "40001" | "40P01" | "57P03" => ErrorCategory::Transient,
        "57014" => ErrorCategory::Timeout,
        "57P01" | "57P02" => ErrorCategory::Connection,
        c if c.starts_with("08") => ErrorCategory::Connection,
        c if c.starts_with("53") => ErrorCategory::Transient,
        c if c.starts_with("23") => ErrorCategory::Integrity,
        c if c.starts_with("42") || c.starts_with("22") => ErrorCategory::Permanent,
        // MySQL / MariaDB error numbers.
        "1213" => ErrorCategory::Transient,
        "1205" => ErrorCategory::Timeout,
        "1040" | "2006" | "2013" => ErrorCategory::Connection,
        "1062" | "1452" | "1451" | "1048" | "3819" => ErrorCategory::Integrity,
        "1064" | "1146" | "1054" | "1045" | "1044" => ErrorCategory::Permanent,
        _ => ErrorCategory::Unknown,
    }
}

#[cfg(feature = "_sql")]
fn is_sqlite(_db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    #[cfg(feature = "sqlite")]
    return _db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
    #[cfg(not(feature = "sqlite"))]
    false
}

/// SQLite reports its extended result code; the low byte is the primary code.
#[cfg(feature = "_sql")]
fn sqlite_code_category(code: Option<&str>) -> ErrorCategory {
    match code.and_then(|c| c.parse::<i32>().ok()).map(|n| n & 0xff) {
        Some(5 | 6) => ErrorCategory::Transient, // SQLITE_BUSY, SQLITE_LOCKED
        Some(19) => ErrorCategory::Integrity,    // SQLITE_CONSTRAINT
        Some(1) => ErrorCategory::Permanent,     // SQLITE_ERROR (bad SQL, missing table)
        _ => ErrorCategory::Unknown,
    }
}
