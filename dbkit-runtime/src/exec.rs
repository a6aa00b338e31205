//! The one path every generated repository call takes: acquire a session, run the statement,
//! decide what a failure means. Retry, draining, metrics and tracing hook in here, so generated
//! code never changes when they do.
//!
//! Generated code drives a [`Call`] in a loop (no closures, so the future stays `Send` and borrows
//! nothing it does not need):
//!
//! ```ignore
//! let mut call = Call::new(&self.db, &self.options, &OPERATION);
//! loop {
//!     let outcome = async {
//!         let mut s = call.session::<sqlx::Sqlite>().await?;          // Failure::NotSent on error
//!         let row = sqlx::query(SQL).bind(id).fetch_optional(&mut *s).await
//!             .map_err(Failure::sent)?;                               // sent: outcome may be unknown
//!         Ok(row.map(decode).transpose().map_err(Failure::sent)?)
//!     }.await;
//!     if let Some(result) = call.finish(outcome).await { break result; }
//! }
//! ```

use std::time::Instant;

use crate::{Database, Error, Result};
#[cfg(feature = "_sql")]
use crate::{Session, SqlDriver, Transaction};

/// Whether an operation only reads or may write: a write is retried only when it certainly did
/// not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Reads only: safe to run again.
    Read,
    /// Writes: run again only when the first attempt certainly did not apply.
    Write,
}

/// A generated method, as the runtime sees it: for logs, metrics and the retry decision.
#[derive(Debug)]
pub struct Operation {
    /// The repository, for example `UserRepository`.
    pub repository: &'static str,
    /// The method, for example `get_by_username`.
    pub method: &'static str,
    /// Read or write.
    pub kind: OpKind,
}

/// Per-repository settings of the call path. `Default` is what `XRepository::new` uses.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {}

/// Why one attempt failed, and whether the statement had reached the server.
#[derive(Debug)]
pub enum Failure {
    /// The attempt failed before any statement was sent (no session, draining, bad backend):
    /// nothing was applied.
    NotSent(Error),
    /// The statement was sent; for a write, whether it applied depends on the error.
    Sent(Error),
}

impl Failure {
    /// A failure after the statement was sent.
    pub fn sent(error: impl Into<Error>) -> Failure {
        Failure::Sent(error.into())
    }

    fn into_error(self) -> Error {
        match self {
            Failure::NotSent(e) | Failure::Sent(e) => e,
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::NotSent(error)
    }
}

/// One call of a generated method, across its attempts.
#[derive(Debug)]
pub struct Call<'a> {
    db: &'a Database,
    #[allow(dead_code)] // read by the retry policy
    options: &'a CallOptions,
    operation: &'static Operation,
    attempt: u32,
    started: Instant,
}

impl<'a> Call<'a> {
    /// Starts a call of `operation` on `db`.
    pub fn new(db: &'a Database, options: &'a CallOptions, operation: &'static Operation) -> Self {
        Call { db, options, operation, attempt: 0, started: Instant::now() }
    }

    /// The database the call runs on.
    pub fn database(&self) -> &'a Database {
        self.db
    }

    /// A session for this attempt.
    #[cfg(feature = "_sql")]
    pub async fn session<DB: SqlDriver>(&mut self) -> Result<Session<DB>, Failure> {
        self.attempt += 1;
        self.db.session::<DB>().await.map_err(Failure::NotSent)
    }

    /// A transaction for this attempt.
    #[cfg(feature = "_sql")]
    pub async fn begin<DB: SqlDriver>(&mut self) -> Result<Transaction<DB>, Failure> {
        self.attempt += 1;
        self.db.begin::<DB>().await.map_err(Failure::NotSent)
    }

    /// Ends an attempt: `Some(result)` is the call's result; `None` means try again (after any
    /// back-off, already waited).
    pub async fn finish<T>(&mut self, outcome: Result<T, Failure>) -> Option<Result<T>> {
        match outcome {
            Ok(value) => Some(Ok(value)),
            Err(failure) => {
                let error = failure.into_error();
                tracing::debug!(
                    database = %self.db.name(),
                    repository = self.operation.repository,
                    method = self.operation.method,
                    attempt = self.attempt,
                    elapsed_ms = self.started.elapsed().as_millis() as u64,
                    category = %error.category(),
                    error = %error,
                    "call failed"
                );
                Some(Err(error))
            }
        }
    }
}
