//! Oracle through the `oracle` crate (ODPI-C; needs Oracle Instant Client at run time).
//!
//! The URL `oracle://user:password@host:1521/SERVICE` becomes the Easy Connect string
//! `//host:1521/SERVICE`. The crate's API blocks, so every call runs on tokio's blocking pool.
//! The pool is ODPI-C's session pool: max = `pool_size + max_overflow`, min = `pool_size`, a
//! `pool_timeout` wait for a free session, `pool_recycle` as the sessions' maximum lifetime, and a
//! ping of sessions idle for more than 60 s when `pool_pre_ping` is on.

pub mod row;

use std::sync::Arc;
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

/// An Oracle connection in use, from [`Database::oracle`]: counted as in flight until dropped.
///
/// The driver blocks, so work runs through [`OracleSession::run`] on tokio's blocking pool.
///
/// *Feature `oracle`.*
#[derive(Debug)]
pub struct OracleSession {
    conn: Arc<oracle::Connection>,
    /// Shared with every running [`OracleSession::run`]: a blocking call keeps the session counted
    /// until it returns, even if the task awaiting it was cancelled (the thread cannot be).
    in_flight: Arc<InFlight>,
}

impl OracleSession {
    /// Runs `f` with the connection on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&oracle::Connection) -> oracle::Result<T> + Send + 'static,
    {
        let (conn, in_flight) = (Arc::clone(&self.conn), Arc::clone(&self.in_flight));
        blocking(move || {
            let _in_flight = in_flight;
            Ok(f(&conn)?)
        })
        .await
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
        let in_flight = self.tracker().enter(self.name())?;
        let pool = pool.clone();
        let conn = blocking(move || Ok(pool.get()?)).await?;
        Ok(OracleSession { conn: Arc::new(conn), in_flight: Arc::new(in_flight) })
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
