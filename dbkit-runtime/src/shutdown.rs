//! Shutting down on SIGTERM or SIGINT: wait for the signal, let the HTTP server stop, then drain
//! every database and disconnect.
//!
//! # The order, and why
//!
//! 1. **The signal arrives** ([`signal`] completes). Handed to axum as
//!    `with_graceful_shutdown(shutdown.signal())`, it makes the server stop accepting connections;
//!    its readiness endpoint stops answering with it, so the pod is taken out of the Service.
//! 2. **The HTTP server finishes the requests it has** (`axum::serve(..).await` returns). They
//!    still get database sessions: a request that is half-way through must not fail because the
//!    database refused its second query.
//! 3. **The databases drain** ([`Shutdown::drain`]): every database is marked draining at once
//!    (so a readiness probe served elsewhere, for example on an admin port, fails from this
//!    moment), new sessions are refused, and what is still in flight — background jobs, work
//!    spawned by requests that have already answered — is waited for up to the timeout. If that
//!    is not enough, a [`Force`](DrainMode::Force) drain cancels the rest, so its transactions roll
//!    back instead of being cut off half-way by the process exit.
//! 4. **Disconnect**, and the process exits 0.
//!
//! Draining before the server stops would be the wrong way round: Kubernetes sends SIGTERM at the
//! same time as it starts removing the pod from the Service's endpoints, so requests keep arriving
//! for a moment, and with the database already draining every one of them (and every request in
//! progress) would fail with [`Error::Unavailable`](crate::Error::Unavailable) instead of being
//! served. To cover that moment, give the pod a `preStop` hook that sleeps a few seconds (the
//! endpoints update while it sleeps, and the signal comes after it), and keep the HTTP drain plus
//! [`Shutdown::timeout`] plus the force step well inside `terminationGracePeriodSeconds` (30 s by
//! default), after which Kubernetes sends SIGKILL.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use dbkit_runtime::DatabaseManager;
//! use dbkit_runtime::shutdown::Shutdown;
//!
//! # async fn serve_http(_stop: impl std::future::Future<Output = ()>) {}
//! #[tokio::main]
//! async fn main() -> dbkit_runtime::Result<()> {
//!     let manager = Arc::new(DatabaseManager::from_env()?);
//!     manager.connect_all().await?;
//!     let shutdown = Shutdown::new(Arc::clone(&manager)).timeout(Duration::from_secs(15));
//!
//!     // With axum:
//!     // axum::serve(listener, app).with_graceful_shutdown(shutdown.signal()).await?;
//!     serve_http(shutdown.signal()).await;
//!
//!     let report = shutdown.drain().await; // drain every database, then disconnect
//!     println!("{report}");
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::{DatabaseManager, DrainMode, DrainReport};

/// Completes when the process receives SIGTERM or SIGINT (Ctrl-C); elsewhere than Unix, Ctrl-C.
///
/// The handlers are installed when `signal` is *called*, not when the future is first polled: call
/// it before telling anyone the process is ready, so a signal that comes early is not lost. Once
/// installed they stay for the life of the process (tokio does not restore the default action), so
/// a second signal during the drain does not kill the process; Kubernetes' SIGKILL still does.
///
/// ```no_run
/// # #[tokio::main] async fn main() {
/// let stop = dbkit_runtime::shutdown::signal();
/// println!("ready");
/// stop.await;
/// println!("shutting down");
/// # }
/// ```
pub fn signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind: SignalKind, name: &'static str| match signal(kind) {
            Ok(stream) => Some(stream),
            Err(error) => {
                tracing::error!(%error, signal = name, "cannot listen for the signal");
                None
            }
        };
        let mut term = install(SignalKind::terminate(), "SIGTERM");
        let mut int = install(SignalKind::interrupt(), "SIGINT");
        async move {
            let received = tokio::select! {
                Some(()) = async { term.as_mut()?.recv().await } => "SIGTERM",
                Some(()) = async { int.as_mut()?.recv().await } => "SIGINT",
                else => std::future::pending().await,
            };
            tracing::info!(signal = received, "shutdown signal received");
        }
    }
    #[cfg(not(unix))]
    {
        async {
            match tokio::signal::ctrl_c().await {
                Ok(()) => tracing::info!(signal = "ctrl-c", "shutdown signal received"),
                Err(error) => {
                    tracing::error!(%error, "cannot listen for Ctrl-C");
                    std::future::pending::<()>().await
                }
            }
        }
    }
}

/// How long [`Shutdown::drain`] gives the force step that follows a drain that timed out, and the
/// disconnect that follows the drain: the work left has been cancelled or given up on, so this is
/// only for connections to close.
const FORCE_TIMEOUT: Duration = Duration::from_secs(2);

/// A process's shutdown: which databases, how to drain them, for how long.
///
/// Cheap to clone. See the [module docs](self) for the order of a shutdown and why.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> dbkit_runtime::Result<()> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use dbkit_runtime::{DatabaseConfig, DatabaseManager, DrainMode};
/// use dbkit_runtime::shutdown::Shutdown;
///
/// let manager = Arc::new(DatabaseManager::new());
/// manager.register("main", DatabaseConfig::sqlite_memory())?;
/// manager.connect_all().await?;
///
/// let shutdown = Shutdown::new(Arc::clone(&manager)).mode(DrainMode::Graceful).timeout(Duration::from_secs(5));
/// // … serve until `shutdown.signal()` completes, then:
/// let report = shutdown.drain().await;
/// assert!(report.drain.finished_within_timeout);
/// assert!(report.forced.is_none());
/// assert!(manager.get("main").is_err()); // disconnected
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Shutdown {
    manager: Arc<DatabaseManager>,
    mode: DrainMode,
    timeout: Duration,
    force_after_timeout: bool,
}

impl Shutdown {
    /// A shutdown of every database `manager` holds: [`DrainMode::Graceful`], a 10 s timeout, then
    /// a force drain if that was not enough.
    pub fn new(manager: Arc<DatabaseManager>) -> Self {
        Shutdown {
            manager,
            // Let the work in flight finish: it is what a rolling deploy expects.
            mode: DrainMode::Graceful,
            // Leaves room, inside Kubernetes' default 30 s grace period, for a preStop sleep and
            // the HTTP server's own drain before this, and the force step after it.
            timeout: Duration::from_secs(10),
            // Work still running at the timeout is cancelled (its transactions roll back) rather
            // than cut off wherever it happens to be when the process exits.
            force_after_timeout: true,
        }
    }

    /// How to drain. Default: [`DrainMode::Graceful`].
    pub fn mode(mut self, mode: DrainMode) -> Self {
        self.mode = mode;
        self
    }

    /// How long the drain may wait for the work in flight. Default: 10 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether a drain that did not finish within the timeout is followed by a
    /// [`DrainMode::Force`] drain (of at most 2 s). Default: `true`.
    pub fn force_after_timeout(mut self, yes: bool) -> Self {
        self.force_after_timeout = yes;
        self
    }

    /// [`signal`]: completes on SIGTERM or SIGINT. Pass it to axum's `with_graceful_shutdown`;
    /// the handlers are installed by this call.
    pub fn signal(&self) -> impl Future<Output = ()> + Send + 'static {
        signal()
    }

    /// Drains every database (all at once), force-drains them if that timed out (unless turned
    /// off), then disconnects them. Waits at most the timeout plus a few seconds, whatever the
    /// work in flight does.
    pub async fn drain(&self) -> ShutdownReport {
        let drain = self.manager.drain(self.mode, self.timeout).await;
        let forced = if !drain.finished_within_timeout && self.force_after_timeout && self.mode != DrainMode::Force {
            tracing::warn!(timeout_ms = self.timeout.as_millis() as u64, "drain timed out: cancelling the work left");
            Some(self.manager.drain(DrainMode::Force, FORCE_TIMEOUT).await)
        } else {
            None
        };
        // After a drain every pool is closed; disconnecting only waits for connections still in
        // use, which belong to work the drain has given up on: do not wait for them long.
        if tokio::time::timeout(FORCE_TIMEOUT, self.manager.disconnect_all()).await.is_err() {
            tracing::warn!("disconnect timed out: connections still in use are closed when the process exits");
        }
        let report = ShutdownReport { drain, forced };
        tracing::info!(report = %report, "shutdown complete");
        report
    }

    /// Waits for [`signal`], then [`drain`](Shutdown::drain)s: for a process with no HTTP server
    /// (a worker), or when the server's shutdown is driven separately.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> dbkit_runtime::Result<()> {
    /// use std::sync::Arc;
    /// use dbkit_runtime::DatabaseManager;
    /// use dbkit_runtime::shutdown::Shutdown;
    ///
    /// let manager = Arc::new(DatabaseManager::from_env()?);
    /// manager.connect_all().await?;
    /// let shutdown = tokio::spawn(Shutdown::new(Arc::clone(&manager)).on_signal());
    /// // … run the worker …
    /// let report = shutdown.await.expect("shutdown task");
    /// println!("{report}");
    /// # Ok(()) }
    /// ```
    pub fn on_signal(self) -> impl Future<Output = ShutdownReport> + Send + 'static {
        let signalled = signal();
        async move {
            signalled.await;
            self.drain().await
        }
    }
}

/// What a [`Shutdown`] did: the drain, and the force drain that followed it if it timed out.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// The drain in the configured mode.
    pub drain: DrainReport,
    /// The force drain that followed a drain that timed out.
    pub forced: Option<DrainReport>,
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.drain)?;
        if let Some(forced) = &self.forced {
            write!(f, "\nthen {forced}")?;
        }
        Ok(())
    }
}
