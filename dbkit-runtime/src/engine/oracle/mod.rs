//! Oracle through the `oracle` crate (ODPI-C; needs Oracle Instant Client at run time).
//!
//! The URL `oracle://user:password@host:1521/SERVICE` becomes the Easy Connect string
//! `//host:1521/SERVICE`. The crate's API blocks, so every call runs on tokio's blocking pool.
//! The pool is ODPI-C's session pool: max = `pool_size + max_overflow`, min = `pool_size`, a
//! `pool_timeout` wait for a free session, `pool_recycle` as the sessions' maximum lifetime, and a
//! ping of sessions idle for more than 60 s when `pool_pre_ping` is on.

pub mod row;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use oracle::pool::{CloseMode, GetMode, Pool, PoolBuilder};

use super::{Engine, ServerInfo};
use crate::config::Target;
use crate::drain::tracker::InFlight;
use crate::{ConfigError, Database, DatabaseConfig, Error, Result};

/// The Easy Connect string for a server URL: `//host:port/service`.
pub(crate) fn connect_string(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or("localhost");
    let port = url.port().unwrap_or(1521);
    let service = url.path().trim_matches('/');
    if service.is_empty() { format!("//{host}:{port}") } else { format!("//{host}:{port}/{service}") }
}

pub(crate) async fn connect(config: &DatabaseConfig) -> Result<(Engine, ServerInfo)> {
    let Target::Server(url) = config.target() else {
        unreachable!("an Oracle configuration always has a server target")
    };
    if url.username().is_empty() {
        return Err(ConfigError::new("an Oracle URL needs a user: `oracle://user:password@host:1521/SERVICE`").into());
    }
    let user = url.username().to_owned();
    let password = config.password_secret().unwrap_or_default().to_owned();
    let connect_string = connect_string(url);
    let (min, max) = (config.get_pool_size().min(config.max_connections()), config.max_connections());
    let wait = config.get_pool_timeout();
    let recycle = config.get_pool_recycle();
    let pre_ping = config.get_pool_pre_ping();
    blocking(move || {
        let mut builder = PoolBuilder::new(user, password, connect_string);
        builder.min_connections(min).max_connections(max).get_mode(GetMode::TimedWait(wait));
        builder.ping_interval(pre_ping.then_some(Duration::from_secs(60)))?;
        if let Some(recycle) = recycle {
            builder.max_lifetime_connection(recycle)?;
        }
        let pool = builder.build()?;
        let conn = pool.get()?;
        let (version, _) = conn.server_version()?;
        conn.close()?;
        Ok((Engine::Oracle(pool), ServerInfo::plain(version.to_string())))
    })
    .await
}

/// Runs blocking driver code off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
}

pub(crate) async fn ping(pool: &Pool) -> Result<()> {
    let pool = pool.clone();
    blocking(move || Ok(pool.get()?.ping()?)).await
}

pub(crate) async fn server_version(pool: &Pool) -> Result<String> {
    let pool = pool.clone();
    blocking(move || Ok(pool.get()?.server_version()?.0.to_string())).await
}

pub(crate) fn pool_counts(pool: &Pool) -> (u32, u32) {
    let open = pool.open_count().unwrap_or(0);
    let busy = pool.busy_count().unwrap_or(0);
    (open, open.saturating_sub(busy))
}

pub(crate) async fn close(pool: &Pool) {
    let pool = pool.clone();
    if let Err(e) = blocking(move || Ok(pool.close(&CloseMode::Default)?)).await {
        tracing::warn!(error = %e, "closing the Oracle pool failed");
    }
}

/// An Oracle connection in use, from [`Database::oracle`] (or, inside a unit of work,
/// `DatabaseTransaction::oracle`): counted as in flight until dropped.
///
/// The driver blocks, so work runs through [`OracleSession::run`] on tokio's blocking pool.
///
/// *Feature `oracle`.*
#[derive(Debug, Clone)]
pub struct OracleSession {
    conn: Arc<oracle::Connection>,
    /// Shared with every running [`OracleSession::run`]: a blocking call keeps the session counted
    /// until it returns, even if the task awaiting it was cancelled (the thread cannot be).
    in_flight: Arc<InFlight>,
    /// In a transaction: the rollbacks to savepoints whose work was abandoned (its future dropped),
    /// sent before the transaction's next statement. `None` for a session of its own.
    queued: Option<Arc<Mutex<Vec<String>>>>,
}

impl OracleSession {
    /// Runs `f` with the connection on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&oracle::Connection) -> oracle::Result<T> + Send + 'static,
    {
        let (conn, in_flight, queued) = (Arc::clone(&self.conn), Arc::clone(&self.in_flight), self.queued.clone());
        blocking(move || {
            let _in_flight = in_flight;
            if let Some(queued) = queued {
                let statements = std::mem::take(&mut *queued.lock().expect("queue poisoned"));
                for sql in statements {
                    conn.execute(&sql, &[])?;
                }
            }
            Ok(f(&conn)?)
        })
        .await
    }

    /// Whether the session is a unit of work's transaction (whose writes it must not commit).
    pub(crate) fn in_transaction(&self) -> bool {
        self.queued.is_some()
    }
}

/// The Oracle side of a [`DatabaseTransaction`](crate::DatabaseTransaction): a session held for the
/// whole transaction. Oracle begins a transaction with the first statement that changes data, and
/// the connection never autocommits, so nothing is sent to begin; `COMMIT` or `ROLLBACK` ends it.
pub(crate) struct OracleTransaction {
    session: OracleSession,
    /// Savepoints open, named `dbkit_1`, `dbkit_2`, … by depth.
    savepoints: u32,
    /// Whether `COMMIT` or `ROLLBACK` was sent.
    ended: bool,
}

impl OracleTransaction {
    pub(crate) async fn begin(db: &Database) -> Result<Self> {
        let mut session = db.oracle().await?;
        session.queued = Some(Arc::default());
        Ok(OracleTransaction { session, savepoints: 0, ended: false })
    }

    /// The transaction's session, for one statement (or raw work) in it.
    pub(crate) fn session(&self) -> OracleSession {
        self.session.clone()
    }

    /// Commits; after a force drain has started, rolls back instead and returns
    /// [`Error::Unavailable`], as `Transaction::commit` does.
    pub(crate) async fn commit(mut self) -> Result<()> {
        self.ended = true;
        if let Some(refused) = self.session.in_flight.refuse_commit() {
            if let Err(error) = self.session.run(|conn| conn.rollback()).await {
                tracing::debug!(%error, "rollback after a force drain failed");
            }
            return Err(refused);
        }
        self.session.run(|conn| conn.commit()).await
    }

    pub(crate) async fn rollback(mut self) -> Result<()> {
        self.ended = true;
        self.session.run(|conn| conn.rollback()).await
    }

    pub(crate) async fn begin_savepoint(&mut self) -> Result<()> {
        let sql = format!("SAVEPOINT dbkit_{}", self.savepoints + 1);
        self.session.run(move |conn| conn.execute(&sql, &[]).map(drop)).await?;
        self.savepoints += 1;
        Ok(())
    }

    /// Rolls back to the innermost savepoint unless `keep`. Oracle has no `RELEASE SAVEPOINT`: a
    /// kept savepoint's writes are simply part of the transaction, and its name is reused.
    pub(crate) async fn end_savepoint(&mut self, keep: bool) -> Result<()> {
        let depth = self.savepoints;
        self.savepoints -= 1;
        if !keep {
            let sql = format!("ROLLBACK TO SAVEPOINT dbkit_{depth}");
            self.session.run(move |conn| conn.execute(&sql, &[]).map(drop)).await?;
        }
        Ok(())
    }

    /// Queues the rollback to the innermost savepoint, sent before the next statement (or the
    /// `COMMIT`): the savepoint's closure was dropped where it stood.
    pub(crate) fn start_savepoint_rollback(&mut self) {
        let depth = self.savepoints;
        self.savepoints -= 1;
        let queued = self.session.queued.as_ref().expect("a transaction's session");
        queued.lock().expect("queue poisoned").push(format!("ROLLBACK TO SAVEPOINT dbkit_{depth}"));
    }
}

impl Drop for OracleTransaction {
    /// Dropped open (its unit of work cancelled, or a panic): roll back on the blocking pool rather
    /// than leave it to the pool's release of the connection, so the row locks go at once.
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let session = self.session.clone();
            runtime.spawn_blocking(move || {
                let _in_flight = session.in_flight;
                if let Err(error) = session.conn.rollback() {
                    tracing::debug!(%error, "rollback of an abandoned Oracle transaction failed");
                }
            });
        }
    }
}

impl Database {
    /// An Oracle connection from the pool, counted as an in-flight session until dropped.
    ///
    /// *Feature `oracle`.*
    pub async fn oracle(&self) -> Result<OracleSession> {
        #[allow(irrefutable_let_patterns)] // the only variant when no other backend is enabled
        let Engine::Oracle(pool) = self.engine() else {
            return Err(Error::BackendMismatch {
                what: "an Oracle session",
                expected: vec![crate::Backend::Oracle],
                actual: self.backend(),
                database: self.name().to_owned(),
            });
        };
        let mut in_flight = self.tracker().enter(self.name())?;
        let pool = pool.clone();
        let telemetry = self.telemetry();
        let Some(started) = telemetry.acquiring() else {
            // No recorder: nothing to time.
            let conn = blocking(move || Ok(pool.get()?)).await?;
            return Ok(OracleSession { conn: Arc::new(conn), in_flight: Arc::new(in_flight), queued: None });
        };
        // The wait, a timeout (`ORA-24457`: `pool_timeout` ran out) and the checkout go to the
        // pool's metrics; ODPI-C counts the sessions open, asked on the same blocking thread.
        // (ODPI-C opens sessions itself, so there is no `create_time` to take.)
        let (got, open) = blocking(move || {
            let got = pool.get().map_err(Error::from);
            Ok((got, pool.open_count().unwrap_or(0)))
        })
        .await?;
        let timed_out = matches!(&got, Err(e) if e.category() == crate::ErrorCategory::Timeout);
        let at = telemetry.acquired(started, got.is_ok(), timed_out, open);
        let conn = got?;
        in_flight.checked_out(at);
        Ok(OracleSession { conn: Arc::new(conn), in_flight: Arc::new(in_flight), queued: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easy_connect_strings() {
        for (url, expected) in [
            ("oracle://app:pw@db.internal:1522/ORCLPDB1", "//db.internal:1522/ORCLPDB1"),
            ("oracle://app:pw@db.internal/XEPDB1", "//db.internal:1521/XEPDB1"),
            ("oracle://app@10.0.0.9", "//10.0.0.9:1521"),
        ] {
            assert_eq!(connect_string(&url::Url::parse(url).unwrap()), expected);
        }
    }
}
