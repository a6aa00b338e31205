//! A call of a generated method as the runtime sees it: what it does ([`Operation`], [`OpKind`])
//! and how one of its attempts failed ([`Failure`]).
//!
//! The leaf both the call path ([`exec`](crate::exec)) and [`retry`](crate::retry) build on, and
//! the only part of the call path a backend's row code names.

use crate::{Error, ErrorCategory};

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

/// The error a failed attempt ends the call with: a write sent and then cut off becomes
/// [`Error::OutcomeUnknown`].
///
/// [`Error::Unavailable`] is dbkit's own refusal, made before anything reaches the server (a new
/// session during a drain) or instead of a `COMMIT` (which rolls the transaction back); a force
/// drain that cuts off a write mid-statement reports `OutcomeUnknown` itself
/// ([`Call::attempt`](crate::exec::Call::attempt)). So it is never wrapped.
pub(crate) fn final_error(kind: OpKind, sent: bool, error: Error) -> Error {
    let cut_off = matches!(error.category(), ErrorCategory::Connection | ErrorCategory::Timeout)
        && !matches!(error, Error::Unavailable { .. });
    if kind == OpKind::Write && sent && cut_off && !error.is_rolled_back() && !error.is_outcome_unknown() {
        Error::OutcomeUnknown { source: Box::new(error) }
    } else {
        error
    }
}
