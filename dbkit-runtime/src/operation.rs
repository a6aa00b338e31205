//! A call of a generated method as the runtime sees it: what it does ([`Operation`], [`OpKind`])
//! and how one of its attempts failed ([`Failure`]).
//!
//! The leaf both the call path ([`exec`](crate::exec)) and [`retry`](crate::retry) build on, and
//! the only part of the call path a backend's row code names.

use std::sync::OnceLock;

use metrics::Histogram;

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

/// A generated method, as the runtime sees it: for logs, metrics, spans and the retry decision.
/// Generated as a `static` per method (it caches the method's metric handle).
#[derive(Debug)]
pub struct Operation {
    /// The repository, for example `UserRepository`.
    pub repository: &'static str,
    /// The method, for example `get_by_username`.
    pub method: &'static str,
    /// Read or write.
    pub kind: OpKind,
    /// `db.operation.name`: the statement's verb, for example `SELECT`.
    pub name: &'static str,
    /// `db.collection.name`: the table, for example `users`.
    pub collection: &'static str,
    /// The method's `db.client.operation.duration` handle, once registered.
    pub metrics: OperationMetrics,
}

impl Operation {
    /// An operation of `repository`'s `method` (`name` on `collection`), for a `static`.
    pub const fn new(
        repository: &'static str,
        method: &'static str,
        kind: OpKind,
        name: &'static str,
        collection: &'static str,
    ) -> Operation {
        Operation { repository, method, kind, name, collection, metrics: OperationMetrics::new() }
    }
}

/// A generated method's `db.client.operation.duration` handle, cached for the first database it
/// runs on (the usual case: one), so a call builds no labels and takes no lock. Lives in the
/// method's `Operation`, a `static`.
#[derive(Default)]
pub struct OperationMetrics {
    pub(crate) first: OnceLock<(u64, Histogram)>,
}

impl OperationMetrics {
    /// An empty cache, for a `static` `Operation`.
    pub const fn new() -> Self {
        OperationMetrics { first: OnceLock::new() }
    }
}

impl std::fmt::Debug for OperationMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperationMetrics")
    }
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
        Failure::Sent(failed_on_connection(error.into()))
    }

    /// A failure that certainly left nothing applied although a statement was sent: a statement
    /// of a transaction that will not be committed. Treated like [`Failure::NotSent`].
    pub fn not_applied(error: impl Into<Error>) -> Failure {
        Failure::NotSent(failed_on_connection(error.into()))
    }
}

thread_local! {
    /// Set when a generated call's statement has just failed with a connection error; taken by
    /// the next pooled connection dropped on this thread, which is the one the statement ran on:
    /// the `?` that returns the failure drops it, with no await in between. A stray mark (a
    /// failure mapped while its connection stays in use) closes one healthy connection, no worse.
    static LOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A statement's error that says its connection is gone (a connection error, such as MySQL's
/// "connection was killed", which arrives as a well-formed reply before the server hangs up) tells
/// the pool not to take that connection back: see [`crate::engine::pool`].
fn failed_on_connection(error: Error) -> Error {
    if error.category() == ErrorCategory::Connection {
        LOST.with(|lost| lost.set(true));
    }
    error
}

/// Whether the connection being dropped lost its connection to the server (see [`LOST`]); clears
/// the mark.
#[cfg_attr(not(feature = "_sql"), allow(dead_code))]
pub(crate) fn take_lost_connection() -> bool {
    LOST.with(|lost| lost.replace(false))
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
