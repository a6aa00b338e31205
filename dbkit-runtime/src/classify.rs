//! Maps each backend's errors to an [`ErrorCategory`], by structured code first and by message
//! only as a fallback.
//!
//! | source | looked up by | table |
//! |---|---|---|
//! | PostgreSQL | SQLSTATE: the exact code, then its two-character class | [`POSTGRES_SQLSTATES`] |
//! | MySQL, MariaDB | error number, then the SQLSTATE as for PostgreSQL | [`MYSQL_ERRORS`] |
//! | SQLite | extended result code, then its primary code (low byte) | [`SQLITE_CODES`] |
//! | Oracle | ORA- number ([`ORACLE_ERRORS`]) or DPI- number ([`ORACLE_DPI_ERRORS`]) | |
//! | ClickHouse | exception code, parsed from `Code: N, e.displayText() = …` or `Code: N. DB::Exception: …` | [`CLICKHOUSE_CODES`] |
//! | Redis | `ErrorKind`, after I/O timeouts and dropped or refused connections | `REDIS_KINDS` (feature `redis`) |
//! | I/O (any driver) | [`std::io::ErrorKind`] | [`IO_KINDS`] |
//! | anything else with text | lower-cased message, first match wins | [`MESSAGE_PATTERNS`] |
//!
//! A code the tables do not list falls through to the message patterns; what matches nothing is
//! [`ErrorCategory::Unknown`]. Driver errors without a server code map by kind: a pool that timed
//! out is `Timeout`, a closed pool, a TLS or protocol failure is `Connection`, bad configuration,
//! encoding and decoding are `Permanent`.
//!
//! Each table's page lists its rows. The tables are also what the unit tests iterate, so the docs
//! and the behaviour cannot drift apart.
//!
//! # Rolled back or not
//!
//! [`Error::is_rolled_back`] says whether the server reported that the failed statement (or its
//! whole transaction) was undone, so that running it again cannot apply it twice. Only the codes in
//! [`POSTGRES_ROLLED_BACK`], [`MYSQL_ROLLED_BACK`], [`SQLITE_ROLLED_BACK`] and
//! [`ORACLE_ROLLED_BACK`] count; see [`crate::retry`] for how the retry path uses this.
//!
//! ```
//! use dbkit_runtime::ErrorCategory;
//! use dbkit_runtime::classify::{clickhouse_code, mysql_category, postgres_category};
//!
//! assert_eq!(postgres_category("40P01"), ErrorCategory::Transient); // deadlock
//! assert_eq!(postgres_category("08006"), ErrorCategory::Connection); // class 08
//! assert_eq!(mysql_category(1062, Some("23000")), ErrorCategory::Integrity);
//! assert_eq!(clickhouse_code("Code: 60. DB::Exception: Table dbkit.t does not exist. (UNKNOWN_TABLE)"), Some(60));
//! ```

use std::io;

use crate::{Error, ErrorCategory};
use ErrorCategory::{Connection, Integrity, Permanent, Timeout, Transient, Unknown};

/// Declares a `(code, category, meaning)` table and renders its rows into its own docs.
macro_rules! code_table {
    ($(#[$meta:meta])* $name:ident: $ty:ty, $head:literal { $($code:expr => $cat:ident, $what:literal;)* }) => {
        $(#[$meta])*
        ///
        #[doc = concat!("| ", $head, " | category | meaning |")]
        /// |---|---|---|
        $(#[doc = concat!("| `", stringify!($code), "` | ", stringify!($cat), " | ", $what, " |")])*
        pub const $name: &[($ty, ErrorCategory, &str)] = &[$(($code, $cat, $what),)*];
    };
}

/// Declares a `(code, why)` table of codes that mean "rolled back", rendered into its docs.
macro_rules! rolled_back_table {
    ($(#[$meta:meta])* $name:ident: $ty:ty, $head:literal { $($code:expr => $why:literal;)* }) => {
        $(#[$meta])*
        ///
        #[doc = concat!("| ", $head, " | why running it again is safe |")]
        /// |---|---|
        $(#[doc = concat!("| `", stringify!($code), "` | ", $why, " |")])*
        pub const $name: &[($ty, &str)] = &[$(($code, $why),)*];
    };
}

code_table! {
    /// PostgreSQL SQLSTATE codes. A five-character entry matches that code; a two-character entry
    /// matches its whole class. Exact codes win over classes.
    POSTGRES_SQLSTATES: &str, "SQLSTATE" {
        "40001" => Transient, "serialization_failure: a concurrent transaction won; run it again";
        "40P01" => Transient, "deadlock_detected: this transaction was chosen as the victim";
        "40002" => Integrity, "transaction_integrity_constraint_violation: a deferred constraint failed at commit";
        "40003" => Unknown, "statement_completion_unknown";
        "55P03" => Timeout, "lock_not_available: `lock_timeout` ran out, or `NOWAIT` found the row locked";
        "55006" => Transient, "object_in_use";
        "57014" => Timeout, "query_canceled: `statement_timeout` ran out, or a cancel request";
        "57P01" => Connection, "admin_shutdown: the server is shutting down (`pg_ctl stop/restart -m fast`)";
        "57P02" => Connection, "crash_shutdown: another server process crashed";
        "57P03" => Transient, "cannot_connect_now: the server is starting up or shutting down";
        "57P04" => Permanent, "database_dropped";
        "57P05" => Connection, "idle_session_timeout";
        "25P03" => Connection, "idle_in_transaction_session_timeout: the server closed the connection";
        "53300" => Connection, "too_many_connections: the server refused a new connection";
        "08" => Connection, "connection_exception: the connection could not be made or was lost";
        "53" => Transient, "insufficient_resources: out of memory, disk or other resources";
        "40" => Transient, "transaction_rollback: the transaction was rolled back";
        "23" => Integrity, "integrity_constraint_violation: unique, foreign key, NOT NULL, CHECK, exclusion";
        "44" => Integrity, "with_check_option_violation";
        "22" => Permanent, "data_exception: a value out of range, malformed or too long";
        "42" => Permanent, "syntax_error_or_access_rule_violation: bad SQL, missing table or column, no privilege";
        "28" => Permanent, "invalid_authorization_specification: wrong user or password";
        "3D" => Permanent, "invalid_catalog_name: no such database";
        "3F" => Permanent, "invalid_schema_name";
        "0A" => Permanent, "feature_not_supported";
        "21" => Permanent, "cardinality_violation";
        "25" => Permanent, "invalid_transaction_state (for example a write in a read-only transaction)";
        "54" => Permanent, "program_limit_exceeded";
    }
}

code_table! {
    /// MySQL and MariaDB error numbers (server errors, and the client's `CR_` numbers). A number not
    /// listed falls back to the error's SQLSTATE, looked up in [`POSTGRES_SQLSTATES`] (the classes
    /// are standard SQL).
    MYSQL_ERRORS: u16, "number" {
        1213 => Transient, "ER_LOCK_DEADLOCK: the transaction was rolled back";
        1020 => Transient, "ER_CHECKREAD: record changed since last read (MariaDB snapshot isolation)";
        1205 => Timeout, "ER_LOCK_WAIT_TIMEOUT: `innodb_lock_wait_timeout` ran out; the statement was rolled back";
        3572 => Timeout, "ER_LOCK_NOWAIT: `NOWAIT` found the row locked";
        1969 => Timeout, "ER_STATEMENT_TIMEOUT: `max_statement_time` ran out (MariaDB)";
        3024 => Timeout, "ER_QUERY_TIMEOUT: `max_execution_time` ran out (MySQL)";
        1317 => Transient, "ER_QUERY_INTERRUPTED: the query was killed";
        1037 => Transient, "ER_OUTOFMEMORY";
        1041 => Transient, "ER_OUT_OF_RESOURCES";
        1135 => Transient, "ER_CANT_CREATE_THREAD";
        1040 => Connection, "ER_CON_COUNT_ERROR: too many connections";
        1203 => Connection, "ER_TOO_MANY_USER_CONNECTIONS";
        1053 => Connection, "ER_SERVER_SHUTDOWN: server shutdown in progress";
        1152 => Connection, "ER_ABORTING_CONNECTION";
        1158 => Connection, "ER_NET_READ_ERROR";
        1159 => Connection, "ER_NET_READ_INTERRUPTED";
        1160 => Connection, "ER_NET_ERROR_ON_WRITE";
        1161 => Connection, "ER_NET_WRITE_INTERRUPTED";
        1927 => Connection, "ER_CONNECTION_KILLED (MariaDB)";
        4031 => Connection, "ER_CLIENT_INTERACTION_TIMEOUT: the server closed an idle connection (MySQL)";
        2002 => Connection, "CR_CONNECTION_ERROR";
        2003 => Connection, "CR_CONN_HOST_ERROR";
        2006 => Connection, "CR_SERVER_GONE_ERROR: MySQL server has gone away";
        2013 => Connection, "CR_SERVER_LOST: lost connection during query";
        2055 => Connection, "CR_SERVER_LOST_EXTENDED";
        1062 => Integrity, "ER_DUP_ENTRY: duplicate key";
        1022 => Integrity, "ER_DUP_KEY";
        1169 => Integrity, "ER_DUP_UNIQUE";
        1586 => Integrity, "ER_DUP_ENTRY_WITH_KEY_NAME";
        1452 => Integrity, "ER_NO_REFERENCED_ROW_2: foreign key without a parent";
        1216 => Integrity, "ER_NO_REFERENCED_ROW";
        1451 => Integrity, "ER_ROW_IS_REFERENCED_2: parent row still referenced";
        1217 => Integrity, "ER_ROW_IS_REFERENCED";
        1048 => Integrity, "ER_BAD_NULL_ERROR: NOT NULL column left empty";
        1364 => Integrity, "ER_NO_DEFAULT_FOR_FIELD";
        3819 => Integrity, "ER_CHECK_CONSTRAINT_VIOLATED (MySQL)";
        4025 => Integrity, "ER_CONSTRAINT_FAILED: CHECK failed (MariaDB)";
        1064 => Permanent, "ER_PARSE_ERROR: SQL syntax";
        1146 => Permanent, "ER_NO_SUCH_TABLE";
        1054 => Permanent, "ER_BAD_FIELD_ERROR: unknown column";
        1049 => Permanent, "ER_BAD_DB_ERROR: unknown database";
        1050 => Permanent, "ER_TABLE_EXISTS_ERROR";
        1051 => Permanent, "ER_BAD_TABLE_ERROR";
        1045 => Permanent, "ER_ACCESS_DENIED_ERROR: wrong user or password";
        1044 => Permanent, "ER_DBACCESS_DENIED_ERROR";
        1142 => Permanent, "ER_TABLEACCESS_DENIED_ERROR";
        1290 => Permanent, "ER_OPTION_PREVENTS_STATEMENT (for example `--read-only`)";
        1792 => Permanent, "ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION";
        1153 => Permanent, "ER_NET_PACKET_TOO_LARGE: raise `max_allowed_packet`";
        1406 => Permanent, "ER_DATA_TOO_LONG";
        1264 => Permanent, "ER_WARN_DATA_OUT_OF_RANGE";
        1366 => Permanent, "ER_TRUNCATED_WRONG_VALUE_FOR_FIELD";
    }
}

code_table! {
    /// SQLite result codes. Extended codes are matched first, then the primary code (the low
    /// byte), so an extended code that is not listed takes its primary code's category.
    SQLITE_CODES: i32, "code" {
        5 => Transient, "SQLITE_BUSY: another connection holds the lock";
        261 => Transient, "SQLITE_BUSY_RECOVERY";
        517 => Transient, "SQLITE_BUSY_SNAPSHOT: a WAL read snapshot went stale; restart the transaction";
        773 => Transient, "SQLITE_BUSY_TIMEOUT";
        6 => Transient, "SQLITE_LOCKED: a conflict inside the same connection or shared cache";
        262 => Transient, "SQLITE_LOCKED_SHAREDCACHE";
        7 => Transient, "SQLITE_NOMEM";
        13 => Transient, "SQLITE_FULL: the disk is full";
        15 => Transient, "SQLITE_PROTOCOL: a WAL lock race";
        17 => Transient, "SQLITE_SCHEMA: the schema changed; prepare again";
        19 => Integrity, "SQLITE_CONSTRAINT";
        275 => Integrity, "SQLITE_CONSTRAINT_CHECK";
        787 => Integrity, "SQLITE_CONSTRAINT_FOREIGNKEY";
        1299 => Integrity, "SQLITE_CONSTRAINT_NOTNULL";
        1555 => Integrity, "SQLITE_CONSTRAINT_PRIMARYKEY";
        1811 => Integrity, "SQLITE_CONSTRAINT_TRIGGER: a trigger's RAISE(ABORT)";
        2067 => Integrity, "SQLITE_CONSTRAINT_UNIQUE";
        2579 => Integrity, "SQLITE_CONSTRAINT_ROWID";
        3091 => Integrity, "SQLITE_CONSTRAINT_DATATYPE: a STRICT table got the wrong type";
        1 => Permanent, "SQLITE_ERROR: bad SQL, missing table or column";
        3 => Permanent, "SQLITE_PERM";
        8 => Permanent, "SQLITE_READONLY";
        11 => Permanent, "SQLITE_CORRUPT";
        14 => Permanent, "SQLITE_CANTOPEN";
        18 => Permanent, "SQLITE_TOOBIG";
        20 => Permanent, "SQLITE_MISMATCH";
        21 => Permanent, "SQLITE_MISUSE";
        23 => Permanent, "SQLITE_AUTH";
        25 => Permanent, "SQLITE_RANGE: bind index out of range";
        26 => Permanent, "SQLITE_NOTADB";
    }
}

code_table! {
    /// Oracle `ORA-` error numbers (`ORA-00060` is `60`).
    ORACLE_ERRORS: i32, "ORA-" {
        60 => Transient, "deadlock detected while waiting for resource; the statement was rolled back";
        8177 => Transient, "can't serialize access for this transaction";
        1555 => Transient, "snapshot too old";
        4068 => Transient, "existing state of packages has been discarded";
        54 => Timeout, "resource busy and acquire with NOWAIT specified";
        30006 => Timeout, "resource busy; acquire with WAIT timeout expired";
        51 => Timeout, "timeout occurred while waiting for a resource";
        4021 => Timeout, "timeout occurred while waiting to lock object";
        1013 => Timeout, "user requested cancel of current operation (also a call timeout)";
        24457 => Timeout, "OCISessionGet() could not find a free session in the specified timeout period: the pool's wait (`pool_timeout`) ran out";
        3113 => Connection, "end-of-file on communication channel";
        3114 => Connection, "not connected to ORACLE";
        3135 => Connection, "connection lost contact";
        3136 => Connection, "inbound connection timed out";
        12170 => Connection, "TNS:Connect timeout occurred";
        12541 => Connection, "TNS:no listener";
        12514 => Connection, "TNS:listener does not currently know of service requested";
        12528 => Connection, "TNS:listener: all appropriate instances are blocking new connections";
        12537 => Connection, "TNS:connection closed";
        12545 => Connection, "connect failed because target host or object does not exist";
        12571 => Connection, "TNS:packet writer failure";
        28547 => Connection, "connection to server failed, probable Oracle Net admin error";
        1033 => Connection, "ORACLE initialization or shutdown in progress";
        1034 => Connection, "ORACLE not available";
        1089 => Connection, "immediate shutdown or close in progress";
        1092 => Connection, "ORACLE instance terminated. Disconnection forced";
        18 => Connection, "maximum number of sessions exceeded";
        20 => Connection, "maximum number of processes exceeded";
        12516 => Connection, "TNS:listener could not find available handler with matching protocol stack";
        12519 => Connection, "TNS:no appropriate service handler found";
        12520 => Connection, "TNS:listener could not find available handler for requested type of server";
        1 => Integrity, "unique constraint violated";
        2291 => Integrity, "integrity constraint violated - parent key not found";
        2292 => Integrity, "integrity constraint violated - child record found";
        1400 => Integrity, "cannot insert NULL";
        1407 => Integrity, "cannot update to NULL";
        2290 => Integrity, "check constraint violated";
        942 => Permanent, "table or view does not exist";
        904 => Permanent, "invalid identifier";
        900 => Permanent, "invalid SQL statement";
        933 => Permanent, "SQL command not properly ended";
        936 => Permanent, "missing expression";
        955 => Permanent, "name is already used by an existing object";
        1031 => Permanent, "insufficient privileges";
        1017 => Permanent, "invalid username/password; logon denied";
        28000 => Permanent, "the account is locked";
        1722 => Permanent, "invalid number";
        12899 => Permanent, "value too large for column";
    }
}

code_table! {
    /// ODPI-C `DPI-` error numbers, raised by the Oracle client library itself.
    ORACLE_DPI_ERRORS: i32, "DPI-" {
        1010 => Connection, "not connected";
        1080 => Connection, "connection was closed by ORA-N";
        1067 => Timeout, "call timeout exceeded";
        1047 => Permanent, "cannot locate an Oracle Client library: install Oracle Instant Client";
        1072 => Permanent, "the Oracle Client library version is not supported";
    }
}

code_table! {
    /// ClickHouse server exception codes.
    CLICKHOUSE_CODES: i32, "code" {
        159 => Timeout, "TIMEOUT_EXCEEDED";
        160 => Timeout, "TOO_SLOW";
        209 => Timeout, "SOCKET_TIMEOUT";
        210 => Connection, "NETWORK_ERROR";
        203 => Connection, "NO_FREE_CONNECTION";
        279 => Connection, "ALL_CONNECTION_TRIES_FAILED";
        202 => Transient, "TOO_MANY_SIMULTANEOUS_QUERIES";
        252 => Transient, "TOO_MANY_PARTS: inserts outpace merges; slow down";
        241 => Transient, "MEMORY_LIMIT_EXCEEDED";
        394 => Transient, "QUERY_WAS_CANCELLED";
        236 => Transient, "ABORTED";
        285 => Transient, "TOO_FEW_LIVE_REPLICAS";
        473 => Transient, "DEADLOCK_AVOIDED";
        999 => Transient, "KEEPER_EXCEPTION: ZooKeeper/Keeper trouble";
        319 => Unknown, "UNKNOWN_STATUS_OF_INSERT: the insert may or may not have applied";
        469 => Integrity, "VIOLATED_CONSTRAINT: a CHECK constraint failed";
        60 => Permanent, "UNKNOWN_TABLE";
        62 => Permanent, "SYNTAX_ERROR";
        47 => Permanent, "UNKNOWN_IDENTIFIER";
        16 => Permanent, "NO_SUCH_COLUMN_IN_TABLE";
        46 => Permanent, "UNKNOWN_FUNCTION";
        81 => Permanent, "UNKNOWN_DATABASE";
        57 => Permanent, "TABLE_ALREADY_EXISTS";
        53 => Permanent, "TYPE_MISMATCH";
        6 => Permanent, "CANNOT_PARSE_TEXT";
        27 => Permanent, "CANNOT_PARSE_INPUT_ASSERTION_FAILED";
        36 => Permanent, "BAD_ARGUMENTS";
        42 => Permanent, "NUMBER_OF_ARGUMENTS_DOESNT_MATCH";
        43 => Permanent, "ILLEGAL_TYPE_OF_ARGUMENT";
        117 => Permanent, "INCORRECT_DATA";
        164 => Permanent, "READONLY";
        497 => Permanent, "ACCESS_DENIED";
        516 => Permanent, "AUTHENTICATION_FAILED";
        192 => Permanent, "UNKNOWN_USER";
        194 => Permanent, "REQUIRED_PASSWORD";
    }
}

code_table! {
    /// I/O error kinds, from any driver. An I/O error of another kind while talking to a server is
    /// `Connection`.
    IO_KINDS: io::ErrorKind, "kind" {
        io::ErrorKind::ConnectionRefused => Connection, "nothing listens at the address";
        io::ErrorKind::ConnectionReset => Connection, "the server closed the connection";
        io::ErrorKind::ConnectionAborted => Connection, "the connection was aborted";
        io::ErrorKind::BrokenPipe => Connection, "written to a closed connection";
        io::ErrorKind::UnexpectedEof => Connection, "the server closed the connection mid-message";
        io::ErrorKind::NotConnected => Connection, "not connected";
        io::ErrorKind::AddrNotAvailable => Connection, "no local address available";
        io::ErrorKind::HostUnreachable => Connection, "no route to host";
        io::ErrorKind::NetworkUnreachable => Connection, "network unreachable";
        io::ErrorKind::NetworkDown => Connection, "network down";
        io::ErrorKind::TimedOut => Timeout, "the operation timed out";
        io::ErrorKind::WouldBlock => Timeout, "a socket timeout expired";
        io::ErrorKind::Interrupted => Transient, "interrupted by a signal";
        io::ErrorKind::PermissionDenied => Permanent, "no permission (a socket or database file)";
    }
}

#[cfg(feature = "redis")]
code_table! {
    /// Redis error kinds (feature `redis`). I/O timeouts, refused and dropped connections are
    /// recognised first (`is_timeout`, `is_connection_refusal`, `is_connection_dropped`).
    REDIS_KINDS: redis::ErrorKind, "kind" {
        redis::ErrorKind::Io => Connection, "I/O error talking to the server";
        redis::ErrorKind::Parse => Connection, "the server's reply could not be parsed: the connection is unusable";
        redis::ErrorKind::ClusterConnectionNotFound => Connection, "no connection to a cluster node";
        redis::ErrorKind::Server(redis::ServerErrorKind::TryAgain) => Transient, "TRYAGAIN";
        redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading) => Transient, "LOADING: the server is loading its dataset";
        redis::ErrorKind::Server(redis::ServerErrorKind::MasterDown) => Transient, "MASTERDOWN";
        redis::ErrorKind::Server(redis::ServerErrorKind::ClusterDown) => Transient, "CLUSTERDOWN";
        redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly) => Transient, "READONLY: a failover demoted the node";
        redis::ErrorKind::Server(redis::ServerErrorKind::Moved) => Transient, "MOVED";
        redis::ErrorKind::Server(redis::ServerErrorKind::Ask) => Transient, "ASK";
        redis::ErrorKind::MasterNameNotFoundBySentinel => Transient, "sentinel does not know the master yet";
        redis::ErrorKind::NoValidReplicasFoundBySentinel => Transient, "sentinel found no valid replica";
        redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) => Permanent, "ERR: wrong command or arguments";
        redis::ErrorKind::Server(redis::ServerErrorKind::ExecAbort) => Permanent, "EXECABORT";
        redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => Permanent, "NOSCRIPT";
        redis::ErrorKind::Server(redis::ServerErrorKind::CrossSlot) => Permanent, "CROSSSLOT";
        redis::ErrorKind::Server(redis::ServerErrorKind::NoPerm) => Permanent, "NOPERM: ACL forbids the command";
        redis::ErrorKind::AuthenticationFailed => Permanent, "wrong password";
        redis::ErrorKind::UnexpectedReturnType => Permanent, "the reply has another type than asked for";
        redis::ErrorKind::InvalidClientConfig => Permanent, "bad client configuration";
        redis::ErrorKind::Client => Permanent, "rejected by the client before sending";
        redis::ErrorKind::EmptySentinelList => Permanent, "no sentinel configured";
        redis::ErrorKind::RESP3NotSupported => Permanent, "the server predates RESP3";
    }
}

code_table! {
    /// Message fragments, matched against the lower-cased message when no code decided; the first
    /// that occurs wins.
    MESSAGE_PATTERNS: &str, "fragment" {
        "deadlock" => Transient, "a deadlock";
        "could not serialize" => Transient, "a serialization failure (PostgreSQL wording)";
        "can't serialize" => Transient, "a serialization failure (Oracle wording)";
        "database is locked" => Transient, "SQLITE_BUSY";
        "try restarting transaction" => Transient, "MySQL's advice on a rolled-back transaction";
        "lock wait timeout" => Timeout, "a lock wait ran out";
        "timed out" => Timeout, "a timeout";
        "timeout" => Timeout, "a timeout";
        "too many connections" => Connection, "the server refused a connection";
        "connection refused" => Connection, "nothing listens at the address";
        "connection reset" => Connection, "the server closed the connection";
        "broken pipe" => Connection, "written to a closed connection";
        "server has gone away" => Connection, "MySQL's lost connection";
        "lost connection" => Connection, "a lost connection";
        "connection closed" => Connection, "a closed connection";
        "terminating connection" => Connection, "PostgreSQL closing a session";
        "not connected" => Connection, "not connected";
        "end-of-file on communication channel" => Connection, "Oracle's lost connection";
        "unexpected eof" => Connection, "the server closed the connection mid-message";
        "duplicate key" => Integrity, "a unique key clash";
        "duplicate entry" => Integrity, "a unique key clash (MySQL wording)";
        "unique constraint" => Integrity, "a unique key clash";
        "foreign key" => Integrity, "a foreign key without a parent, or a referenced parent";
        "violates" => Integrity, "a violated constraint";
        "constraint failed" => Integrity, "a failed constraint (SQLite wording)";
        "cannot be null" => Integrity, "a NOT NULL column left empty";
        "syntax error" => Permanent, "bad SQL";
        "does not exist" => Permanent, "a missing table, column or database";
        "doesn't exist" => Permanent, "a missing table, column or database";
        "no such table" => Permanent, "a missing table (SQLite wording)";
        "permission denied" => Permanent, "no privilege";
        "access denied" => Permanent, "no privilege or wrong password";
        "authentication failed" => Permanent, "wrong password";
    }
}

rolled_back_table! {
    /// PostgreSQL SQLSTATEs after which the failed statement certainly did not apply. Each aborts
    /// the statement, and PostgreSQL aborts the whole transaction on any error, so in autocommit
    /// nothing of the statement remains and inside a transaction nothing will be committed.
    POSTGRES_ROLLED_BACK: &str, "SQLSTATE" {
        "40001" => "serialization failure: the server rolled the transaction back";
        "40P01" => "deadlock: the server rolled the victim's transaction back";
        "55P03" => "lock not available: the statement never got its lock, so it wrote nothing";
        "57014" => "query cancelled (statement timeout): the statement was aborted before it finished";
    }
}

rolled_back_table! {
    /// MySQL/MariaDB error numbers after which the failed statement certainly did not apply.
    /// A lock wait timeout rolls back only the statement (unless `innodb_rollback_on_timeout`),
    /// which in autocommit is all there is; inside a transaction, the retry path reruns the whole
    /// transaction after rolling it back.
    MYSQL_ROLLED_BACK: u16, "number" {
        1213 => "deadlock: InnoDB rolled the victim's transaction back";
        1205 => "lock wait timeout: InnoDB rolled the statement back";
        1020 => "record changed since last read: the statement was refused";
        3572 => "NOWAIT lock not available: the statement never got its lock";
        1969 => "statement timeout (MariaDB): the statement was aborted and rolled back";
        3024 => "execution time exceeded (MySQL, SELECT only): nothing was written";
    }
}

rolled_back_table! {
    /// SQLite extended result codes after which the failed statement certainly did not apply.
    /// SQLite's own advice: on `SQLITE_BUSY` outside an explicit transaction, or on `COMMIT`, the
    /// statement can be run again; inside a transaction, roll it back and run it all again (which
    /// the transaction retry does).
    SQLITE_ROLLED_BACK: i32, "code" {
        5 => "SQLITE_BUSY: the lock was not obtained, so nothing was written";
        261 => "SQLITE_BUSY_RECOVERY";
        517 => "SQLITE_BUSY_SNAPSHOT: the write could not start on a stale snapshot";
        773 => "SQLITE_BUSY_TIMEOUT";
        6 => "SQLITE_LOCKED: the lock was not obtained";
        262 => "SQLITE_LOCKED_SHAREDCACHE";
    }
}

rolled_back_table! {
    /// Oracle `ORA-` numbers after which the failed statement certainly did not apply. Oracle rolls
    /// back the failed statement (statement-level atomicity); the transaction stays open for the
    /// caller to roll back.
    ORACLE_ROLLED_BACK: i32, "ORA-" {
        60 => "deadlock: Oracle rolled the statement back";
        8177 => "serialization failure: the statement was refused";
        54 => "NOWAIT lock not available: the statement never got its lock";
        30006 => "WAIT timeout on a lock: the statement never got its lock";
    }
}

fn lookup<K: PartialEq + Copy>(table: &[(K, ErrorCategory, &str)], key: K) -> Option<ErrorCategory> {
    table.iter().find(|(code, _, _)| *code == key).map(|&(_, category, _)| category)
}

/// The category of a PostgreSQL (or standard) SQLSTATE: the exact code from
/// [`POSTGRES_SQLSTATES`], else its class, else [`ErrorCategory::Unknown`].
pub fn postgres_category(sqlstate: &str) -> ErrorCategory {
    lookup(POSTGRES_SQLSTATES, sqlstate)
        .or_else(|| sqlstate.get(..2).and_then(|class| lookup(POSTGRES_SQLSTATES, class)))
        .unwrap_or(ErrorCategory::Unknown)
}

/// The category of a MySQL/MariaDB error: its number from [`MYSQL_ERRORS`], else its SQLSTATE as
/// [`postgres_category`] reads it, else [`ErrorCategory::Unknown`].
pub fn mysql_category(number: u16, sqlstate: Option<&str>) -> ErrorCategory {
    lookup(MYSQL_ERRORS, number).unwrap_or_else(|| sqlstate.map_or(ErrorCategory::Unknown, postgres_category))
}

/// The category of an SQLite extended result code: the code from [`SQLITE_CODES`], else its
/// primary code (low byte), else [`ErrorCategory::Unknown`].
pub fn sqlite_category(extended_code: i32) -> ErrorCategory {
    lookup(SQLITE_CODES, extended_code)
        .or_else(|| lookup(SQLITE_CODES, extended_code & 0xff))
        .unwrap_or(ErrorCategory::Unknown)
}

/// The category of an `ORA-` number ([`ORACLE_ERRORS`]), or [`ErrorCategory::Unknown`].
pub fn oracle_category(ora: i32) -> ErrorCategory {
    lookup(ORACLE_ERRORS, ora).unwrap_or(ErrorCategory::Unknown)
}

/// The category of a ClickHouse exception code ([`CLICKHOUSE_CODES`]), or
/// [`ErrorCategory::Unknown`].
pub fn clickhouse_category(code: i32) -> ErrorCategory {
    lookup(CLICKHOUSE_CODES, code).unwrap_or(ErrorCategory::Unknown)
}

/// The exception code in a ClickHouse error text: `Code: 60, e.displayText() = DB::Exception: …`
/// (before 21.x), `Code: 60. DB::Exception: …` (current), or a bare `60` (the
/// `X-ClickHouse-Exception-Code` header, which the client reports when the body is empty).
pub fn clickhouse_code(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(code) = text.parse() {
        return Some(code);
    }
    let rest = &text[text.find("Code:")? + "Code:".len()..];
    let rest = rest.trim_start();
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The category of an I/O error kind ([`IO_KINDS`]), or [`ErrorCategory::Unknown`].
pub fn io_category(kind: io::ErrorKind) -> ErrorCategory {
    lookup(IO_KINDS, kind).unwrap_or(ErrorCategory::Unknown)
}

/// The category a message suggests ([`MESSAGE_PATTERNS`], case-insensitive), or
/// [`ErrorCategory::Unknown`]. Only a fallback: codes decide first.
pub fn message_category(message: &str) -> ErrorCategory {
    let message = message.to_lowercase();
    MESSAGE_PATTERNS
        .iter()
        .find(|(fragment, _, _)| message.contains(fragment))
        .map_or(ErrorCategory::Unknown, |&(_, category, _)| category)
}

/// `category`, unless it is unknown, in which case the message decides.
#[cfg(any(feature = "_sql", feature = "clickhouse"))]
fn or_message(category: ErrorCategory, message: impl FnOnce() -> String) -> ErrorCategory {
    match category {
        ErrorCategory::Unknown => message_category(&message()),
        known => known,
    }
}

pub(crate) fn category(error: &Error) -> ErrorCategory {
    match error {
        Error::Config(_)
        | Error::BackendNotEnabled { .. }
        | Error::UnknownDatabase { .. }
        | Error::UnknownCache { .. } => Permanent,
        Error::AlreadyRegistered { .. }
        | Error::NotConnected { .. }
        | Error::BackendMismatch { .. }
        | Error::AmbiguousDatabase { .. }
        | Error::TransactionsUnsupported { .. } => Permanent,
        #[cfg(feature = "sqlite")]
        Error::SqliteUnitIsNative { .. } => Permanent,
        Error::Decode { .. } => Permanent,
        Error::Connect { source, .. } => match source.category() {
            Permanent => Permanent,
            Timeout => Timeout,
            _ => Connection,
        },
        Error::ConnectAll { errors } => errors.first().map_or(ErrorCategory::Unknown, Error::category),
        Error::Unavailable { .. } => Connection,
        Error::Timeout { .. } => Timeout,
        Error::OutcomeUnknown { source } | Error::Constraint { source, .. } => source.category(),
        #[cfg(feature = "_sql")]
        Error::Sqlx(e) => sqlx_category(e),
        #[cfg(feature = "sqlite")]
        Error::Sqlite(e) => rusqlite_category(e),
        #[cfg(feature = "clickhouse")]
        Error::ClickHouse(e) => clickhouse_error_category(e),
        #[cfg(feature = "oracle")]
        Error::Oracle(e) => oracle_error_category(e),
        #[cfg(feature = "redis")]
        Error::Redis(e) => redis_error_category(e),
    }
}

pub(crate) fn is_rolled_back(error: &Error) -> bool {
    match error {
        Error::Constraint { source, .. } => source.is_rolled_back(),
        #[cfg(feature = "_sql")]
        Error::Sqlx(sqlx::Error::Database(db)) => sql_rolled_back(db.as_ref()),
        #[cfg(feature = "sqlite")]
        Error::Sqlite(e) => {
            e.sqlite_error().is_some_and(|e| SQLITE_ROLLED_BACK.iter().any(|&(c, _)| c == e.extended_code))
        }
        #[cfg(feature = "oracle")]
        Error::Oracle(e) => oracle_code(e).is_some_and(|ora| ORACLE_ROLLED_BACK.iter().any(|&(c, _)| c == ora)),
        _ => false,
    }
}

/// What a sqlx database error's code says, per driver.
#[cfg(feature = "_sql")]
pub(crate) enum SqlCode<'a> {
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres(&'a str),
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    MySql(u16, Option<&'a str>),
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite(i32),
    /// Another driver: its code, if any, is taken for a SQLSTATE.
    Other,
}

#[cfg(feature = "_sql")]
pub(crate) fn sql_code<'a>(db: &'a (dyn sqlx::error::DatabaseError + 'static)) -> SqlCode<'a> {
    #[cfg(feature = "postgres")]
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return SqlCode::Postgres(pg.code());
    }
    #[cfg(feature = "mysql")]
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return SqlCode::MySql(my.number(), my.code());
    }
    #[cfg(feature = "sqlite")]
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // sqlx reports SQLite's extended result code as the code.
        if let Some(code) = db.code().and_then(|c| c.parse().ok()) {
            return SqlCode::Sqlite(code);
        }
    }
    SqlCode::Other
}

#[cfg(feature = "_sql")]
fn sql_rolled_back(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    match sql_code(db) {
        SqlCode::Postgres(state) => POSTGRES_ROLLED_BACK.iter().any(|&(c, _)| c == state),
        SqlCode::MySql(number, _) => MYSQL_ROLLED_BACK.iter().any(|&(c, _)| c == number),
        SqlCode::Sqlite(code) => SQLITE_ROLLED_BACK.iter().any(|&(c, _)| c == code),
        SqlCode::Other => false,
    }
}

#[cfg(feature = "_sql")]
fn sqlx_category(error: &sqlx::Error) -> ErrorCategory {
    match error {
        sqlx::Error::Database(db) => {
            let by_code = match sql_code(db.as_ref()) {
                SqlCode::Postgres(state) => postgres_category(state),
                SqlCode::MySql(number, state) => mysql_category(number, state),
                SqlCode::Sqlite(code) => sqlite_category(code),
                SqlCode::Other => match db.code() {
                    Some(code) => postgres_category(&code),
                    None => ErrorCategory::Unknown,
                },
            };
            let by_kind = || {
                use sqlx::error::ErrorKind;
                match db.kind() {
                    ErrorKind::UniqueViolation
                    | ErrorKind::ForeignKeyViolation
                    | ErrorKind::NotNullViolation
                    | ErrorKind::CheckViolation
                    | ErrorKind::ExclusionViolation => Integrity,
                    _ => ErrorCategory::Unknown,
                }
            };
            or_message(or_unknown(by_code, by_kind), || db.message().to_owned())
        }
        sqlx::Error::Io(e) => or_unknown(io_category(e.kind()), || Connection),
        sqlx::Error::PoolTimedOut => Timeout,
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            Connection
        }
        sqlx::Error::Configuration(_)
        | sqlx::Error::InvalidArgument(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::Encode(_)
        | sqlx::Error::InvalidSavePointStatement
        | sqlx::Error::RowNotFound => Permanent,
        other => message_category(&other.to_string()),
    }
}

/// The native SQLite engine's errors: SQLite's extended result code where there is one, as for
/// sqlx's; the rest are rusqlite's own mistakes of type or shape, which no retry mends.
#[cfg(feature = "sqlite")]
fn rusqlite_category(error: &rusqlite::Error) -> ErrorCategory {
    match error {
        rusqlite::Error::SqliteFailure(e, message) => {
            or_message(sqlite_category(e.extended_code), || message.clone().unwrap_or_else(|| e.to_string()))
        }
        rusqlite::Error::InvalidPath(_) => Connection,
        _ => Permanent,
    }
}

#[cfg(any(feature = "_sql", feature = "clickhouse", feature = "oracle"))]
fn or_unknown(category: ErrorCategory, otherwise: impl FnOnce() -> ErrorCategory) -> ErrorCategory {
    match category {
        ErrorCategory::Unknown => otherwise(),
        known => known,
    }
}

/// The io::Error somewhere in `error`'s source chain, if any.
#[cfg(any(feature = "clickhouse", feature = "oracle"))]
fn find_io<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a io::Error> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io);
        }
        next = e.source();
    }
    None
}

#[cfg(feature = "clickhouse")]
fn clickhouse_error_category(error: &clickhouse::error::Error) -> ErrorCategory {
    use clickhouse::error::Error as Ch;
    match error {
        Ch::BadResponse(text) => {
            or_message(clickhouse_code(text).map_or(ErrorCategory::Unknown, clickhouse_category), || text.clone())
        }
        Ch::TimedOut => Timeout,
        Ch::Network(source) => {
            find_io(source.as_ref()).map_or(Connection, |io| or_unknown(io_category(io.kind()), || Connection))
        }
        Ch::Other(source) => match find_io(source.as_ref()) {
            Some(io) => or_unknown(io_category(io.kind()), || Connection),
            None => message_category(&source.to_string()),
        },
        Ch::InvalidParams(_)
        | Ch::Compression(_)
        | Ch::DataFormat(_)
        | Ch::RowNotFound
        | Ch::SequenceMustHaveLength
        | Ch::DeserializeAnyNotSupported
        | Ch::NotEnoughData
        | Ch::InvalidUtf8Encoding(_)
        | Ch::InvalidTagEncoding(_)
        | Ch::VariantDiscriminatorIsOutOfBound(_)
        | Ch::Custom(_)
        | Ch::InvalidColumnsHeader(_)
        | Ch::SchemaMismatch(_)
        | Ch::Unsupported(_) => Permanent,
        other => message_category(&other.to_string()),
    }
}

/// The `ORA-` number of an Oracle error: its OCI code, or one named in its message
/// (`DPI-1080: connection was closed by ORA-3113`).
#[cfg(feature = "oracle")]
pub(crate) fn oracle_code(error: &oracle::Error) -> Option<i32> {
    error.oci_code().or_else(|| {
        let message = error.db_error().map_or_else(|| error.to_string(), |db| db.message().to_owned());
        let rest = &message[message.find("ORA-")? + 4..];
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        rest[..end].parse().ok()
    })
}

#[cfg(feature = "oracle")]
fn oracle_error_category(error: &oracle::Error) -> ErrorCategory {
    use oracle::ErrorKind as K;
    if let Some(category) = error.dpi_code().and_then(|dpi| lookup(ORACLE_DPI_ERRORS, dpi)) {
        return category;
    }
    if let Some(category) = oracle_code(error).and_then(|ora| lookup(ORACLE_ERRORS, ora)) {
        return category;
    }
    match error.kind() {
        K::OciError | K::DpiError | K::BatchErrors | K::InternalError | K::Other => {
            let message = error.to_string();
            match std::error::Error::source(error).and_then(find_io) {
                Some(io) => or_unknown(io_category(io.kind()), || message_category(&message)),
                None => message_category(&message),
            }
        }
        _ => Permanent, // conversions, bad binds and columns, NULL into a non-Option, no rows
    }
}

#[cfg(feature = "redis")]
fn redis_error_category(error: &redis::RedisError) -> ErrorCategory {
    if error.is_timeout() {
        return Timeout;
    }
    if error.is_connection_refusal() || error.is_connection_dropped() {
        return Connection;
    }
    lookup(REDIS_KINDS, error.kind()).unwrap_or_else(|| message_category(&error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_postgres_sqlstate_maps_to_its_category() {
        for &(code, category, what) in POSTGRES_SQLSTATES {
            assert_eq!(postgres_category(code), category, "{code} ({what})");
            if code.len() == 2 {
                // A class entry covers every code in the class that is not listed itself.
                let member = format!("{code}ZZZ");
                assert_eq!(postgres_category(&member), category, "{member} in class {code}");
            }
        }
    }

    #[test]
    fn exact_postgres_codes_win_over_their_class() {
        assert_eq!(postgres_category("53300"), Connection);
        assert_eq!(postgres_category("53200"), Transient);
        assert_eq!(postgres_category("40P01"), Transient);
        assert_eq!(postgres_category("40002"), Integrity);
        assert_eq!(postgres_category("25P03"), Connection);
        assert_eq!(postgres_category("25006"), Permanent);
        assert_eq!(postgres_category("XX000"), ErrorCategory::Unknown);
        assert_eq!(postgres_category(""), ErrorCategory::Unknown);
    }

    #[test]
    fn the_issue_s_postgres_codes() {
        for (code, category) in [
            ("08000", Connection),
            ("08006", Connection),
            ("08001", Connection),
            ("40001", Transient),
            ("40P01", Transient),
            ("57P01", Connection),
            ("57P02", Connection),
            ("57P03", Transient),
            ("53100", Transient),
            ("23505", Integrity),
            ("23503", Integrity),
            ("23502", Integrity),
            ("23514", Integrity),
            ("23P01", Integrity),
            ("57014", Timeout),
            ("42P01", Permanent),
            ("42601", Permanent),
        ] {
            assert_eq!(postgres_category(code), category, "{code}");
        }
    }

    #[test]
    fn every_mysql_number_maps_to_its_category() {
        for &(number, category, what) in MYSQL_ERRORS {
            assert_eq!(mysql_category(number, Some("HY000")), category, "{number} ({what})");
        }
    }

    #[test]
    fn an_unlisted_mysql_number_falls_back_to_its_sqlstate() {
        assert_eq!(mysql_category(9999, Some("23000")), Integrity);
        assert_eq!(mysql_category(9999, Some("40001")), Transient);
        assert_eq!(mysql_category(9999, Some("08S01")), Connection);
        assert_eq!(mysql_category(9999, Some("42S02")), Permanent);
        assert_eq!(mysql_category(9999, Some("HY000")), ErrorCategory::Unknown);
        assert_eq!(mysql_category(9999, None), ErrorCategory::Unknown);
    }

    #[test]
    fn every_sqlite_code_maps_to_its_category() {
        for &(code, category, what) in SQLITE_CODES {
            assert_eq!(sqlite_category(code), category, "{code} ({what})");
        }
        // An unlisted extended code takes its primary code's category.
        assert_eq!(sqlite_category(19 | (99 << 8)), Integrity);
        assert_eq!(sqlite_category(5 | (99 << 8)), Transient);
        assert_eq!(sqlite_category(10), ErrorCategory::Unknown); // SQLITE_IOERR
    }

    #[test]
    fn every_oracle_code_maps_to_its_category() {
        for &(code, category, what) in ORACLE_ERRORS {
            assert_eq!(oracle_category(code), category, "ORA-{code:05} ({what})");
        }
        assert_eq!(oracle_category(99999), ErrorCategory::Unknown);
    }

    #[test]
    fn every_clickhouse_code_maps_to_its_category_in_both_formats() {
        for &(code, category, what) in CLICKHOUSE_CODES {
            let old = format!("Code: {code}, e.displayText() = DB::Exception: {what} (version 20.8.3.18)");
            let new = format!("Code: {code}. DB::Exception: {what}. ({what}) (version 24.3.1.1 (official build))");
            for text in [old, new, code.to_string()] {
                assert_eq!(clickhouse_code(&text), Some(code), "{text}");
                assert_eq!(clickhouse_category(clickhouse_code(&text).unwrap()), category, "{text}");
            }
        }
        assert_eq!(clickhouse_code("bad response without a code"), None);
        assert_eq!(clickhouse_code("Code: x"), None);
    }

    #[test]
    fn every_io_kind_maps_to_its_category() {
        for &(kind, category, what) in IO_KINDS {
            assert_eq!(io_category(kind), category, "{kind:?} ({what})");
        }
        assert_eq!(io_category(io::ErrorKind::InvalidData), ErrorCategory::Unknown);
    }

    #[test]
    fn every_message_pattern_maps_to_its_category() {
        for &(fragment, category, what) in MESSAGE_PATTERNS {
            let message = format!("ERROR: something {} happened", fragment.to_uppercase());
            // An earlier, more general fragment may catch a later one ("timed out" before
            // "timeout"); the table's order is what decides.
            let first = MESSAGE_PATTERNS.iter().find(|(f, _, _)| message.to_lowercase().contains(f)).unwrap();
            assert_eq!(message_category(&message), first.1, "{fragment} ({what})");
            if first.0 == fragment {
                assert_eq!(message_category(&message), category, "{fragment} ({what})");
            }
        }
        assert_eq!(message_category("nothing to see"), ErrorCategory::Unknown);
    }

    #[test]
    fn rolled_back_codes_are_retryable_in_their_tables() {
        for &(code, why) in POSTGRES_ROLLED_BACK {
            assert!(postgres_category(code).is_retryable(), "{code}: {why}");
        }
        for &(code, why) in MYSQL_ROLLED_BACK {
            assert!(mysql_category(code, None).is_retryable(), "{code}: {why}");
        }
        for &(code, why) in SQLITE_ROLLED_BACK {
            assert!(sqlite_category(code).is_retryable(), "{code}: {why}");
        }
        for &(code, why) in ORACLE_ROLLED_BACK {
            assert!(oracle_category(code).is_retryable(), "ORA-{code:05}: {why}");
        }
    }

    #[cfg(feature = "_sql")]
    #[test]
    fn io_errors_through_sqlx() {
        for (kind, category) in [
            (io::ErrorKind::ConnectionReset, Connection),
            (io::ErrorKind::ConnectionRefused, Connection),
            (io::ErrorKind::ConnectionAborted, Connection),
            (io::ErrorKind::BrokenPipe, Connection),
            (io::ErrorKind::UnexpectedEof, Connection),
            (io::ErrorKind::NotConnected, Connection),
            (io::ErrorKind::TimedOut, Timeout),
            (io::ErrorKind::InvalidData, Connection), // any other I/O trouble with a server
        ] {
            let error = Error::Sqlx(sqlx::Error::Io(io::Error::from(kind)));
            assert_eq!(error.category(), category, "{kind:?}");
            assert!(!error.is_rolled_back());
        }
    }

    #[cfg(feature = "_sql")]
    #[test]
    fn pool_and_driver_errors() {
        assert_eq!(Error::Sqlx(sqlx::Error::PoolTimedOut).category(), Timeout);
        assert_eq!(Error::Sqlx(sqlx::Error::PoolClosed).category(), Connection);
        assert_eq!(Error::Sqlx(sqlx::Error::WorkerCrashed).category(), Connection);
        assert_eq!(Error::Sqlx(sqlx::Error::Protocol("garbled".into())).category(), Connection);
        assert_eq!(Error::Sqlx(sqlx::Error::RowNotFound).category(), Permanent);
        assert_eq!(Error::Sqlx(sqlx::Error::ColumnNotFound("x".into())).category(), Permanent);
        assert_eq!(Error::Sqlx(sqlx::Error::Configuration("bad".into())).category(), Permanent);
    }

    /// A database error from a driver dbkit does not know, to reach the generic path.
    #[cfg(feature = "_sql")]
    #[derive(Debug)]
    struct ForeignDbError {
        code: Option<&'static str>,
        message: &'static str,
    }

    #[cfg(feature = "_sql")]
    impl std::fmt::Display for ForeignDbError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.message)
        }
    }

    #[cfg(feature = "_sql")]
    impl std::error::Error for ForeignDbError {}

    #[cfg(feature = "_sql")]
    impl sqlx::error::DatabaseError for ForeignDbError {
        fn message(&self) -> &str {
            self.message
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            self.code.map(Into::into)
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    #[cfg(feature = "_sql")]
    fn foreign(code: Option<&'static str>, message: &'static str) -> Error {
        Error::Sqlx(sqlx::Error::Database(Box::new(ForeignDbError { code, message })))
    }

    #[cfg(feature = "_sql")]
    #[test]
    fn another_driver_s_code_is_read_as_a_sqlstate_then_the_message_decides() {
        assert_eq!(foreign(Some("40001"), "whatever").category(), Transient);
        assert_eq!(foreign(Some("08006"), "whatever").category(), Connection);
        assert_eq!(foreign(None, "Deadlock found when trying to get lock").category(), Transient);
        assert_eq!(foreign(Some("XX000"), "duplicate key value").category(), Integrity);
        assert_eq!(foreign(None, "something odd").category(), ErrorCategory::Unknown);
        // Another driver's codes are not trusted to mean "rolled back".
        assert!(!foreign(Some("40001"), "whatever").is_rolled_back());
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn real_sqlite_errors() {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INT CHECK (n > 0))")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1, 'a', 1)").execute(&mut conn).await.unwrap();
        // The native engine's driver, on the same schema: its errors classify as sqlx's do.
        let native = rusqlite::Connection::open_in_memory().unwrap();
        native.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INT CHECK (n > 0)); INSERT INTO t VALUES (1, 'a', 1)").unwrap();
        for (sql, category) in [
            ("INSERT INTO t VALUES (1, 'b', 1)", Integrity),
            ("INSERT INTO t VALUES (2, 'a', 1)", Integrity),
            ("INSERT INTO t VALUES (3, NULL, 1)", Integrity),
            ("INSERT INTO t VALUES (4, 'd', 0)", Integrity),
            ("SELECT * FROM missing", Permanent),
            ("SELEC 1", Permanent),
        ] {
            let error = Error::from(sqlx::query(sql).execute(&mut conn).await.unwrap_err());
            assert_eq!(error.category(), category, "{sql}: {error}");
            assert!(!error.is_rolled_back(), "{sql}");
            let error = Error::from(native.execute(sql, []).unwrap_err());
            assert_eq!(error.category(), category, "native: {sql}: {error}");
            assert!(!error.is_rolled_back(), "native: {sql}");
        }
        let wrong_type = Error::from(native.query_row("SELECT name FROM t", [], |r| r.get::<_, i64>(0)).unwrap_err());
        assert_eq!(wrong_type.category(), Permanent, "{wrong_type}");
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn real_sqlite_busy_is_transient_and_rolled_back() {
        use sqlx::Connection;
        use sqlx::sqlite::SqliteConnectOptions;
        let dir = std::env::temp_dir().join(format!("dbkit-busy-{}.db", std::process::id()));
        let options =
            SqliteConnectOptions::new().filename(&dir).create_if_missing(true).busy_timeout(std::time::Duration::ZERO);
        let mut a = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
        let mut b = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("CREATE TABLE t (x INT)").execute(&mut a).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut a).await.unwrap();
        let error = Error::from(sqlx::query("INSERT INTO t VALUES (1)").execute(&mut b).await.unwrap_err());
        assert_eq!(error.category(), Transient, "{error}");
        assert!(error.is_rolled_back(), "{error}");
        let native = rusqlite::Connection::open(&dir).unwrap();
        native.busy_timeout(std::time::Duration::ZERO).unwrap();
        let error = Error::from(native.execute("INSERT INTO t VALUES (1)", []).unwrap_err());
        assert_eq!(error.category(), Transient, "native: {error}");
        assert!(error.is_rolled_back(), "native: {error}");
        sqlx::query("ROLLBACK").execute(&mut a).await.unwrap();
        drop((a, b));
        let _ = std::fs::remove_file(&dir);
    }

    #[cfg(feature = "clickhouse")]
    #[test]
    fn clickhouse_errors() {
        use clickhouse::error::Error as Ch;
        let e = |ch| Error::ClickHouse(ch);
        assert_eq!(e(Ch::BadResponse("Code: 60. DB::Exception: Table x does not exist".into())).category(), Permanent);
        assert_eq!(
            e(Ch::BadResponse("Code: 159, e.displayText() = DB::Exception: Timeout exceeded".into())).category(),
            Timeout
        );
        assert_eq!(e(Ch::BadResponse("209".into())).category(), Timeout);
        assert_eq!(e(Ch::BadResponse("502 Bad Gateway: connection refused".into())).category(), Connection);
        assert_eq!(e(Ch::TimedOut).category(), Timeout);
        assert_eq!(e(Ch::Network(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused)))).category(), Connection);
        assert_eq!(e(Ch::Network("hyper: connection error".into())).category(), Connection);
        assert_eq!(e(Ch::Other(Box::new(io::Error::from(io::ErrorKind::TimedOut)))).category(), Timeout);
        assert_eq!(e(Ch::NotEnoughData).category(), Permanent);
        assert_eq!(e(Ch::SchemaMismatch("x".into())).category(), Permanent);
        assert!(!e(Ch::BadResponse("Code: 159. DB::Exception: x".into())).is_rolled_back());
    }

    #[cfg(feature = "oracle")]
    #[test]
    #[allow(deprecated)] // the enum variants are the only way to build an OCI error from outside
    fn oracle_errors() {
        let oci = |code: i32| {
            Error::Oracle(oracle::Error::OciError(oracle::DbError::new(
                code,
                0,
                format!("ORA-{code:05}: test"),
                "dpiStmt_execute",
                "execute",
            )))
        };
        for &(code, category, what) in ORACLE_ERRORS {
            assert_eq!(oci(code).category(), category, "ORA-{code:05} ({what})");
            assert_eq!(oci(code).is_rolled_back(), ORACLE_ROLLED_BACK.iter().any(|&(c, _)| c == code), "ORA-{code:05}");
        }
        let dpi = |message: &str| {
            Error::Oracle(oracle::Error::DpiError(oracle::DbError::new(0, 0, message, "dpiConn_create", "connect")))
        };
        // A session pool's timed wait that ran out: nothing was sent, and it may be retried.
        assert_eq!(oci(24457).category(), Timeout);
        assert_eq!(dpi("DPI-1010: not connected").category(), Connection);
        assert_eq!(dpi("DPI-1067: call timeout of 1000 ms exceeded with ORA-3156").category(), Timeout);
        assert_eq!(dpi("DPI-1080: connection was closed by ORA-3113").category(), Connection);
        assert_eq!(Error::Oracle(oracle::Error::new(oracle::ErrorKind::NullValue, "null")).category(), Permanent);
    }

    #[cfg(feature = "redis")]
    #[test]
    fn redis_errors() {
        for &(kind, category, what) in REDIS_KINDS {
            let error = Error::Redis(redis::RedisError::from((kind, "test")));
            // A General error of kind Io reads as a dropped connection: Connection either way.
            assert_eq!(error.category(), category, "{kind:?} ({what})");
        }
        let io = |kind| Error::Redis(redis::RedisError::from(io::Error::from(kind)));
        assert_eq!(io(io::ErrorKind::TimedOut).category(), Timeout);
        assert_eq!(io(io::ErrorKind::ConnectionRefused).category(), Connection);
        assert_eq!(io(io::ErrorKind::ConnectionReset).category(), Connection);
        assert_eq!(io(io::ErrorKind::BrokenPipe).category(), Connection);
    }

    #[cfg(feature = "_sql")]
    #[test]
    fn outcome_unknown_keeps_its_cause_s_category_but_is_not_retryable() {
        let error = Error::OutcomeUnknown {
            source: Box::new(Error::Sqlx(sqlx::Error::Io(io::ErrorKind::ConnectionReset.into()))),
        };
        assert_eq!(error.category(), Connection);
        assert!(!error.is_retryable());
        assert!(!error.is_rolled_back());
        assert!(error.to_string().contains("may or may not have been applied"), "{error}");
    }
}
