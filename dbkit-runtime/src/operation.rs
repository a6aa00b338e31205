//! A call of a generated method as the runtime sees it: what it does ([`Operation`], [`OpKind`])
//! and how one of its attempts failed ([`Failure`]).
//!
//! The leaf both the call path ([`exec`](crate::exec)) and [`retry`](crate::retry) build on, and
//! the only part of the call path a backend's row code names.

use crate::Error;

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

    /// A failure that certainly left nothing applied although a statement was sent: a statement
    /// of a transaction that will not be committed. Treated like [`Failure::NotSent`].
    pub fn not_applied(error: impl Into<Error>) -> Failure {
        Failure::NotSent(error.into())
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::NotSent(error)
    }
}
