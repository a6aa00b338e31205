//! The real database servers dbkit's tests run against — PostgreSQL 15, MariaDB 10.11, Redis 7,
//! ClickHouse (18.16 on Debian 12) and a current ClickHouse engine (chDB 26.x behind
//! `scripts/chdb_server.py`) — on 127.0.0.1, on non-default ports, with throwaway data under one
//! run directory.
//!
//! [`Servers::from_env`] reads where they run from the `DBKIT_*` variables below;
//! [`Servers::start_all`] starts all seven from empty data directories and waits until each answers;
//! a single [`Server`] can then be stopped, killed (a crash), started again on its data and
//! restarted, which is how the fault tests break them under load:
//!
//! ```no_run
//! use dbkit_test_servers::{Server, Servers};
//!
//! let servers = Servers::from_env()?;
//! servers.start_all()?;
//! Server::MariaDb.kill(&servers)?;
//! Server::MariaDb.start(&servers)?;
//! println!("{}", Server::MariaDb.url(&servers));
//! servers.stop_all()?;
//! # Ok::<(), dbkit_test_servers::Error>(())
//! ```
//!
//! | server | port (variable, default) | accounts |
//! |---|---|---|
//! | PostgreSQL 15 | `DBKIT_PG_PORT`, 55432 | role dbkit/dbkit (superuser), database dbkit |
//! | MariaDB 10.11 | `DBKIT_MARIADB_PORT`, 53306 | user dbkit/dbkit (`@'%'`, `@localhost`, `@127.0.0.1`, all privileges), database dbkit |
//! | Redis 7 | `DBKIT_REDIS_PORT`, 56379 | no persistence |
//! | ClickHouse | `DBKIT_CLICKHOUSE_HTTP_PORT`, 58123 (HTTP); `DBKIT_CLICKHOUSE_TCP_PORT`, 59000 (native) | user default, database dbkit; no interserver port |
//! | current ClickHouse (chDB) | `DBKIT_CLICKHOUSE_CURRENT_PORT`, 58124 (HTTP only) | user default, database dbkit |
//! | PostgreSQL standby | `DBKIT_PG_STANDBY_PORT`, 55433 | a `pg_basebackup` of the primary, streaming from it (hot standby) |
//! | MariaDB replica | `DBKIT_MARIADB_REPLICA_PORT`, 53307 | a GTID replica of the primary, from its first binary log |
//!
//! The data lives in `DBKIT_RUN_DIR` (default `/tmp/dbkit-test-servers`), one folder per server;
//! `DBKIT_SERVER_TIMEOUT` (seconds, default 60) is how long each server may take to answer. The
//! ports are variables so that two checkouts can run their tests at once. chDB's Python
//! environment is `DBKIT_CHDB_VENV` (default `$HOME/.cache/dbkit/chdb-<version>`), where
//! `scripts/servers install` puts it.
//!
//! Everything here works as root, on a fresh Debian 12 machine where `scripts/servers install` has
//! just installed the packages (the servers that refuse root run as their own users), and as an
//! ordinary user. Progress goes to stderr, prefixed `servers:`. The `dbkit-servers` binary is the
//! command line (`scripts/servers` runs it); this crate uses the standard library only, so that it
//! builds in seconds and works in a checkout whose other crates do not compile.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod chdb;
mod clickhouse;
mod mariadb;
mod postgres;
mod process;
mod redis;

use process::{elapsed, say};

/// The address every server listens on, and the only one.
const HOST: &str = "127.0.0.1";

/// Marks a run directory that [`Servers::start_all`] and [`Servers::stop_all`] may remove.
const MARKER: &str = ".dbkit-test-servers";

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a server could not be started, stopped or configured. The message names the server; when
/// its logs say more, their last lines (read when the error happened) follow it.
#[derive(Debug)]
pub struct Error {
    message: String,
    logs: String,
}

impl Error {
    fn new(message: impl Into<String>) -> Self {
        Error { message: message.into(), logs: String::new() }
    }

    /// The error, with the last lines of each of `logs` that is not empty.
    fn with_logs(message: impl Into<String>, logs: &[PathBuf]) -> Self {
        Error { message: message.into(), logs: process::tails(logs) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.logs.is_empty() {
            write!(f, "\n{}", self.logs.trim_end())?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// One of the test servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Server {
    /// PostgreSQL 15, run with `pg_ctl` as the `postgres` user.
    Postgres,
    /// MariaDB 10.11 (`mariadbd`, which drops to the `mysql` user itself).
    MariaDb,
    /// Redis 7, without persistence.
    Redis,
    /// ClickHouse, on its HTTP and native ports.
    ClickHouse,
    /// A current ClickHouse engine: chDB behind `scripts/chdb_server.py`, HTTP only.
    ClickHouseCurrent,
    /// PostgreSQL's streaming standby, a `pg_basebackup` of [`Server::Postgres`], read-only.
    PostgresStandby,
    /// MariaDB's GTID replica of [`Server::MariaDb`].
    MariaDbReplica,
}

impl Server {
    /// Every server, in the order they are listed and started: the replicas last, once their
    /// primaries run.
    pub const ALL: [Server; 7] = [
        Server::Postgres,
        Server::MariaDb,
        Server::Redis,
        Server::ClickHouse,
        Server::ClickHouseCurrent,
        Server::PostgresStandby,
        Server::MariaDbReplica,
    ];

    /// The server this one replicates, for a replica.
    pub fn primary(self) -> Option<Server> {
        match self {
            Server::PostgresStandby => Some(Server::Postgres),
            Server::MariaDbReplica => Some(Server::MariaDb),
            _ => None,
        }
    }

    /// The name the command line uses: `postgres`, `mariadb`, `redis`, `clickhouse`,
    /// `clickhouse-current`, `postgres-standby`, `mariadb-replica`.
    pub fn name(self) -> &'static str {
        match self {
            Server::Postgres => "postgres",
            Server::MariaDb => "mariadb",
            Server::Redis => "redis",
            Server::ClickHouse => "clickhouse",
            Server::ClickHouseCurrent => "clickhouse-current",
            Server::PostgresStandby => "postgres-standby",
            Server::MariaDbReplica => "mariadb-replica",
        }
    }

    /// The port clients connect to (ClickHouse: HTTP, the one its URL names).
    pub fn port(self, servers: &Servers) -> u16 {
        let ports = &servers.ports;
        match self {
            Server::Postgres => ports.postgres,
            Server::MariaDb => ports.mariadb,
            Server::Redis => ports.redis,
            Server::ClickHouse => ports.clickhouse_http,
            Server::ClickHouseCurrent => ports.clickhouse_current,
            Server::PostgresStandby => ports.postgres_standby,
            Server::MariaDbReplica => ports.mariadb_replica,
        }
    }

    /// The URL the tests connect to, as `scripts/servers env` exports it.
    pub fn url(self, servers: &Servers) -> String {
        let port = self.port(servers);
        match self {
            Server::Postgres | Server::PostgresStandby => format!("postgres://dbkit:dbkit@{HOST}:{port}/dbkit"),
            Server::MariaDb | Server::MariaDbReplica => format!("mysql://dbkit:dbkit@{HOST}:{port}/dbkit"),
            Server::Redis => format!("redis://{HOST}:{port}/0"),
            // The `clickhouse` crate reads `database` from the query string in
            // `Client::with_url()`; scripts/CLICKHOUSE-NOTES.md says what else an 18.16 server needs.
            Server::ClickHouse | Server::ClickHouseCurrent => format!("http://{HOST}:{port}/?database=dbkit"),
        }
    }

    /// The server's process id while it runs.
    pub fn pid(self, servers: &Servers) -> Option<u32> {
        self.kind().pid(servers).filter(|&pid| process::alive(pid))
    }

    /// Starts the server and waits until it answers; a server that is already running is left
    /// alone. The first start initialises its data directory and creates the `dbkit` accounts and
    /// database; later starts (after [`stop`](Self::stop) or [`kill`](Self::kill)) reuse the data.
    pub fn start(self, servers: &Servers) -> Result<()> {
        let started = Instant::now();
        if let Some(pid) = self.pid(servers) {
            say(format_args!("{self} already running (pid {pid})"));
            return Ok(());
        }
        servers.ensure_run_dir()?;
        for port in self.ports(servers) {
            servers.check_port_free(self, port)?;
        }
        let kind = self.kind();
        let fresh = !kind.initialised(servers);
        if fresh {
            kind.init(servers)?;
        }
        kind.launch(servers)?;
        self.wait_ready(servers)?;
        if fresh {
            kind.setup(servers)?;
        }
        let native = match self {
            Server::ClickHouse => format!(" (native {HOST}:{})", servers.ports.clickhouse_tcp),
            _ => String::new(),
        };
        say(format_args!("{self} ready on {HOST}:{}{native} ({})", self.port(servers), elapsed(started)));
        Ok(())
    }

    /// Stops the server the way its own tools do (PostgreSQL: a fast shutdown; the others:
    /// SIGTERM), with SIGKILL when it does not stop in time. The data directory is kept.
    pub fn stop(self, servers: &Servers) -> Result<()> {
        self.kind().stop(servers)
    }

    /// Kills the server and its direct children (PostgreSQL's backends) with SIGKILL at once, as a
    /// crash would, and waits until they are gone. The data directory is kept.
    pub fn kill(self, servers: &Servers) -> Result<()> {
        let Some(pid) = self.pid(servers) else {
            say(format_args!("{self}: not running"));
            return Ok(());
        };
        let mut pids = vec![pid];
        pids.extend(process::children(pid));
        process::signal("KILL", &pids);
        for &each in &pids {
            process::wait_gone(each, Duration::from_secs(10));
        }
        if process::alive(pid) {
            return Err(Error::new(format!("{self}: pid {pid} still running after SIGKILL")));
        }
        say(format_args!("{self} killed (SIGKILL, pid {pid})"));
        Ok(())
    }

    /// Restarts the server on its data: PostgreSQL with `pg_ctl restart -m fast`, the others with
    /// [`stop`](Self::stop) then [`start`](Self::start).
    pub fn restart(self, servers: &Servers) -> Result<()> {
        match self {
            Server::Postgres => postgres::restart(servers),
            _ => {
                self.stop(servers)?;
                self.start(servers)
            }
        }
    }

    fn kind(self) -> &'static dyn Kind {
        match self {
            Server::Postgres => &postgres::PRIMARY,
            Server::PostgresStandby => &postgres::STANDBY,
            Server::MariaDb => &mariadb::PRIMARY,
            Server::MariaDbReplica => &mariadb::REPLICA,
            Server::Redis => &redis::Redis,
            Server::ClickHouse => &clickhouse::ClickHouse,
            Server::ClickHouseCurrent => &chdb::ChDb,
        }
    }

    /// Every port the server listens on.
    fn ports(self, servers: &Servers) -> Vec<u16> {
        match self {
            Server::ClickHouse => vec![servers.ports.clickhouse_http, servers.ports.clickhouse_tcp],
            _ => vec![self.port(servers)],
        }
    }

    /// Checks every 100 ms until the server answers. Fails when the deadline passes or when its
    /// process (once its pid is known) dies, with the end of its logs.
    fn wait_ready(self, servers: &Servers) -> Result<()> {
        let kind = self.kind();
        let deadline = Instant::now() + servers.timeout;
        let mut seen = false;
        while !kind.ready(servers) {
            if let Some(pid) = kind.pid(servers) {
                seen = true;
                if !process::alive(pid) {
                    let message = format!("{self}: server process {pid} exited during startup");
                    return Err(Error::with_logs(message, &kind.logs(servers)));
                }
            }
            if Instant::now() > deadline {
                let mut message = format!("{self}: not ready after {}s", servers.timeout.as_secs());
                if !seen {
                    message.push_str(" (no server pid seen)");
                }
                return Err(Error::with_logs(message, &kind.logs(servers)));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Server {
    type Err = Error;

    /// A name as the command line takes it, with the aliases `pg`, `postgresql`, `mysql`, `my`, `ch`
    /// and `chdb`.
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "postgres" | "pg" | "postgresql" => Ok(Server::Postgres),
            "mariadb" | "mysql" | "my" => Ok(Server::MariaDb),
            "redis" => Ok(Server::Redis),
            "clickhouse" | "ch" => Ok(Server::ClickHouse),
            "clickhouse-current" | "chdb" => Ok(Server::ClickHouseCurrent),
            "postgres-standby" | "pg-standby" => Ok(Server::PostgresStandby),
            "mariadb-replica" | "mysql-replica" => Ok(Server::MariaDbReplica),
            _ => Err(Error::new(format!(
                "unknown server '{name}' (expected one of: postgres mariadb redis clickhouse clickhouse-current \
                 postgres-standby mariadb-replica)"
            ))),
        }
    }
}

/// What differs between the servers; everything else (ports, readiness, killing) is shared.
trait Kind: Sync {
    /// The server's pid from its pid file, or the pid it was launched with before it wrote one.
    fn pid(&self, servers: &Servers) -> Option<u32>;
    /// Whether the server answers a client.
    fn ready(&self, servers: &Servers) -> bool;
    /// Whether the data directory and configuration are in place already.
    fn initialised(&self, servers: &Servers) -> bool;
    /// Creates the data directory and configuration.
    fn init(&self, servers: &Servers) -> Result<()>;
    /// Starts the server process, detached from us; does not wait for it to answer.
    fn launch(&self, servers: &Servers) -> Result<()>;
    /// Creates the `dbkit` accounts and database, once, after the first start.
    fn setup(&self, servers: &Servers) -> Result<()>;
    /// Stops the server (see [`Server::stop`]).
    fn stop(&self, servers: &Servers) -> Result<()>;
    /// The logs worth reading when the server fails to start.
    fn logs(&self, servers: &Servers) -> Vec<PathBuf>;
}

/// Where the test servers run: the run directory, the ports and the readiness deadline, read
/// from the `DBKIT_*` variables (see the [crate] docs).
#[derive(Debug, Clone)]
pub struct Servers {
    run_dir: PathBuf,
    ports: Ports,
    timeout: Duration,
    /// Whether we run as root: then PostgreSQL and MariaDB run as their own users.
    root: bool,
}

#[derive(Debug, Clone, Copy)]
struct Ports {
    postgres: u16,
    mariadb: u16,
    redis: u16,
    clickhouse_http: u16,
    clickhouse_tcp: u16,
    clickhouse_current: u16,
    postgres_standby: u16,
    mariadb_replica: u16,
}

impl Servers {
    /// Reads `DBKIT_RUN_DIR`, `DBKIT_SERVER_TIMEOUT` and the port variables; an unset or empty
    /// variable takes its default. A relative run directory is taken from the current one.
    pub fn from_env() -> Result<Self> {
        let run_dir = var("DBKIT_RUN_DIR").unwrap_or_else(|| "/tmp/dbkit-test-servers".to_owned());
        let mut run_dir = PathBuf::from(run_dir.trim_end_matches('/'));
        if run_dir.is_relative() {
            let current = std::env::current_dir().map_err(|e| Error::new(format!("current directory: {e}")))?;
            run_dir = current.join(run_dir);
        }
        let timeout = match var("DBKIT_SERVER_TIMEOUT") {
            None => 60,
            Some(seconds) => seconds
                .parse()
                .map_err(|_| Error::new(format!("DBKIT_SERVER_TIMEOUT={seconds} is not a number of seconds")))?,
        };
        Ok(Servers {
            run_dir,
            ports: Ports {
                postgres: port("DBKIT_PG_PORT", 55432)?,
                mariadb: port("DBKIT_MARIADB_PORT", 53306)?,
                redis: port("DBKIT_REDIS_PORT", 56379)?,
                clickhouse_http: port("DBKIT_CLICKHOUSE_HTTP_PORT", 58123)?,
                clickhouse_tcp: port("DBKIT_CLICKHOUSE_TCP_PORT", 59000)?,
                clickhouse_current: port("DBKIT_CLICKHOUSE_CURRENT_PORT", 58124)?,
                postgres_standby: port("DBKIT_PG_STANDBY_PORT", 55433)?,
                mariadb_replica: port("DBKIT_MARIADB_REPLICA_PORT", 53307)?,
            },
            timeout: Duration::from_secs(timeout),
            root: process::is_root(),
        })
    }

    /// The run directory: one folder per server.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// Stops whatever runs from the run directory, removes it, and starts all seven servers on
    /// fresh data at once. Fails before starting anything when a port is taken; when a server
    /// fails, stops the ones that came up and keeps the logs.
    pub fn start_all(&self) -> Result<()> {
        let started = Instant::now();
        let chdb_python = chdb::python();
        let missing: Vec<&Path> =
            [postgres::INITDB, mariadb::MARIADBD, redis::REDIS_SERVER, clickhouse::CLICKHOUSE_SERVER]
                .into_iter()
                .map(Path::new)
                .chain([chdb_python.as_path()])
                .filter(|program| !process::executable(program))
                .collect();
        if !missing.is_empty() {
            return Err(Error::new(format!(
                "servers not installed ({} missing); run: {} install",
                missing.iter().map(|program| program.display().to_string()).collect::<Vec<_>>().join(", "),
                script().display()
            )));
        }
        self.stop_each()?;
        self.wipe_run_dir()?;
        // Fail fast, before starting anything.
        for server in Server::ALL {
            for port in server.ports(self) {
                self.check_port_free(server, port)?;
            }
        }
        self.ensure_run_dir()?;
        // The primaries (and the rest) first, then the replicas, which copy a running primary.
        let mut failures: Vec<Error> = self
            .each(|server| if server.primary().is_none() { server.start(self) } else { Ok(()) })
            .into_iter()
            .filter_map(Result::err)
            .collect();
        if failures.is_empty() {
            failures = self
                .each(|server| if server.primary().is_some() { server.start(self) } else { Ok(()) })
                .into_iter()
                .filter_map(Result::err)
                .collect();
        }
        if !failures.is_empty() {
            let mut message: String = failures.iter().map(|e| format!("{e}\n")).collect();
            message += "start failed; stopped the servers that did come up (logs kept in ";
            message += &format!("{})", self.run_dir.display());
            let _ = self.stop_each();
            return Err(Error::new(message));
        }
        say(format_args!("all servers ready ({}); run dir {}", elapsed(started), self.run_dir.display()));
        Ok(())
    }

    /// Stops every server and removes the run directory.
    pub fn stop_all(&self) -> Result<()> {
        let started = Instant::now();
        self.stop_each()?;
        self.wipe_run_dir()?;
        say(format_args!("stopped ({})", elapsed(started)));
        Ok(())
    }

    /// The variables the test suite reads, as `scripts/servers env` exports them: the servers'
    /// URLs, PostgreSQL's data directory, `scripts/servers` itself, and this configuration.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let ports = &self.ports;
        vec![
            ("DBKIT_TEST_POSTGRES_URL", Server::Postgres.url(self)),
            ("DBKIT_TEST_MYSQL_URL", Server::MariaDb.url(self)),
            ("DBKIT_TEST_REDIS_URL", Server::Redis.url(self)),
            ("DBKIT_TEST_CLICKHOUSE_URL", Server::ClickHouse.url(self)),
            ("DBKIT_TEST_CLICKHOUSE_CURRENT_URL", Server::ClickHouseCurrent.url(self)),
            ("DBKIT_TEST_POSTGRES_REPLICA_URL", Server::PostgresStandby.url(self)),
            ("DBKIT_TEST_MYSQL_REPLICA_URL", Server::MariaDbReplica.url(self)),
            ("DBKIT_TEST_PGDATA", postgres::data_dir(self).display().to_string()),
            ("DBKIT_TEST_SERVERS", script().display().to_string()),
            ("DBKIT_RUN_DIR", self.run_dir.display().to_string()),
            ("DBKIT_PG_PORT", ports.postgres.to_string()),
            ("DBKIT_MARIADB_PORT", ports.mariadb.to_string()),
            ("DBKIT_REDIS_PORT", ports.redis.to_string()),
            ("DBKIT_CLICKHOUSE_HTTP_PORT", ports.clickhouse_http.to_string()),
            ("DBKIT_CLICKHOUSE_TCP_PORT", ports.clickhouse_tcp.to_string()),
            ("DBKIT_CLICKHOUSE_CURRENT_PORT", ports.clickhouse_current.to_string()),
            ("DBKIT_PG_STANDBY_PORT", ports.postgres_standby.to_string()),
            ("DBKIT_MARIADB_REPLICA_PORT", ports.mariadb_replica.to_string()),
            ("DBKIT_CHDB_VENV", chdb::venv().display().to_string()),
        ]
    }

    /// Each server with its pid while it runs.
    pub fn status(&self) -> Vec<(Server, Option<u32>)> {
        Server::ALL.into_iter().map(|server| (server, server.pid(self))).collect()
    }

    /// Runs `f` for every server at once, and returns the results in [`Server::ALL`]'s order.
    fn each<T: Send>(&self, f: impl Fn(Server) -> T + Sync) -> Vec<T> {
        std::thread::scope(|scope| {
            let f = &f;
            let running: Vec<_> = Server::ALL.map(|server| scope.spawn(move || f(server))).into_iter().collect();
            running
                .into_iter()
                .map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        })
    }

    /// Stops every server at once; the first failure, after all have been tried.
    fn stop_each(&self) -> Result<()> {
        self.each(|server| server.stop(self)).into_iter().collect()
    }

    fn check_port_free(&self, server: Server, port: u16) -> Result<()> {
        if process::port_busy(port) {
            return Err(Error::new(format!(
                "{server}: port {HOST}:{port} is already in use (stale servers? try: {} stop)",
                script().display()
            )));
        }
        Ok(())
    }

    fn ensure_run_dir(&self) -> Result<()> {
        let dir = &self.run_dir;
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("creating {}: {e}", dir.display())))?;
            std::fs::write(dir.join(MARKER), "").map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
        }
        // The servers that run as their own users must get through it.
        process::set_mode(dir, 0o755);
        Ok(())
    }

    /// Removes the run directory, refusing anything that is not ours.
    fn wipe_run_dir(&self) -> Result<()> {
        let dir = &self.run_dir;
        if std::fs::symlink_metadata(dir).is_err() {
            return Ok(());
        }
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let precious = ["/", "/tmp", "/var", "/var/tmp", "/root", "/home"];
        if precious.iter().any(|p| dir == Path::new(p)) || home.is_some_and(|home| *dir == home) {
            return Err(Error::new(format!("refusing to remove {}", dir.display())));
        }
        let empty = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none());
        if !dir.join(MARKER).is_file() && !empty {
            return Err(Error::new(format!(
                "refusing to remove {}: it was not created by scripts/servers (no {MARKER} file)",
                dir.display()
            )));
        }
        std::fs::remove_dir_all(dir).map_err(|e| Error::new(format!("removing {}: {e}", dir.display())))
    }
}

/// `scripts/servers` in the checkout this crate was built from (`DBKIT_TEST_SERVERS`).
fn script() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/servers");
    path.canonicalize().unwrap_or(path)
}

/// A variable's value; unset and empty are the same (as `${VAR:-default}` in shell).
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn port(name: &str, default: u16) -> Result<u16> {
    match var(name) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|_| Error::new(format!("{name}={value} is not a port number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_parse() {
        for server in Server::ALL {
            assert_eq!(server.name().parse::<Server>().unwrap(), server);
        }
        for (alias, server) in [("pg", Server::Postgres), ("postgresql", Server::Postgres), ("mysql", Server::MariaDb)]
        {
            assert_eq!(alias.parse::<Server>().unwrap(), server);
        }
        assert_eq!("my".parse::<Server>().unwrap(), Server::MariaDb);
        assert_eq!("ch".parse::<Server>().unwrap(), Server::ClickHouse);
        assert_eq!("chdb".parse::<Server>().unwrap(), Server::ClickHouseCurrent);
        let error = "oracle".parse::<Server>().unwrap_err().to_string();
        assert!(
            error.contains("expected one of: postgres mariadb redis clickhouse clickhouse-current postgres-standby"),
            "{error}"
        );
    }
}
