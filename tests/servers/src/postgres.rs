//! PostgreSQL 15, through its own tools: `initdb`, `pg_ctl`, `pg_isready`, `psql`; and its
//! streaming standby, made with `pg_basebackup` from the running primary.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{self, elapsed, say};
use crate::{Error, HOST, Kind, Result, Server, Servers};

const BIN: &str = "/usr/lib/postgresql/15/bin";
pub(crate) const INITDB: &str = "/usr/lib/postgresql/15/bin/initdb";

/// The primary (`Postgres { standby: false }`) or its streaming standby.
pub(crate) struct Postgres {
    pub(crate) standby: bool,
}

pub(crate) const PRIMARY: Postgres = Postgres { standby: false };
pub(crate) const STANDBY: Postgres = Postgres { standby: true };

impl Postgres {
    /// `postgres/` or `postgres-standby/`: the server's logs, and its unix socket.
    fn dir(&self, servers: &Servers) -> PathBuf {
        servers.run_dir.join(if self.standby { "postgres-standby" } else { "postgres" })
    }

    /// `postgres/data` (`DBKIT_TEST_PGDATA`), or the standby's.
    fn data_dir(&self, servers: &Servers) -> PathBuf {
        self.dir(servers).join("data")
    }

    fn port(&self, servers: &Servers) -> u16 {
        if self.standby { servers.ports.postgres_standby } else { servers.ports.postgres }
    }

    /// A PostgreSQL tool, run as the `postgres` user when we are root (`initdb` and `pg_ctl` refuse
    /// root) from a directory that user may read.
    fn tool(&self, servers: &Servers, name: &str) -> Command {
        let mut command = process::as_user(servers.root, "postgres", &format!("{BIN}/{name}"));
        command.current_dir(self.dir(servers));
        command
    }

    /// `kill postgres` leaves `postmaster.pid` and the socket's lock file behind. When the dead
    /// postmaster is an unreaped zombie (PID 1 of some containers does not reap orphans),
    /// PostgreSQL's `kill(pid, 0)` check thinks it still runs and refuses to start, so lock files
    /// whose process is dead (or a zombie) are removed here.
    fn clear_stale_locks(&self, servers: &Servers) {
        let dir = self.dir(servers);
        let port = self.port(servers);
        let lock = dir.join(format!(".s.PGSQL.{port}.lock"));
        for file in [self.data_dir(servers).join("postmaster.pid"), lock.clone()] {
            if process::read_pid(&file).is_some_and(|pid| !process::alive(pid)) {
                process::remove(&file);
                if file == lock {
                    process::remove(&dir.join(format!(".s.PGSQL.{port}")));
                }
            }
        }
    }

    /// The standby's data: a base backup of the running primary (`-R`: `standby.signal` and the
    /// primary's address in `postgresql.auto.conf`), then its own port and socket.
    fn init_standby(&self, servers: &Servers) -> Result<()> {
        let (dir, data) = (self.dir(servers), self.data_dir(servers));
        process::create_dirs("postgres-standby", std::slice::from_ref(&dir))?;
        if servers.root {
            process::chown("postgres", "postgres", &dir, false)?;
        }
        process::set_mode(&dir, 0o700);
        let log = dir.join("basebackup.log");
        let mut backup = self.tool(servers, "pg_basebackup");
        backup.env("PGPASSWORD", "dbkit");
        backup.args(["-h", HOST, "-p", &servers.ports.postgres.to_string(), "-U", "dbkit", "-D"]).arg(&data);
        backup.args(["-R", "-X", "stream", "--checkpoint=fast", "--no-sync"]);
        if !process::run_logged(&mut backup, &log) {
            return Err(Error::with_logs("postgres-standby: pg_basebackup failed", &[log]));
        }
        let config = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&config)
            .map_err(|e| Error::new(format!("postgres-standby: reading {}: {e}", config.display())))?;
        // The primary's settings came with the backup; the last setting of a name wins.
        text += &format!(
            "
# ---- dbkit test standby (scripts/servers) ----
port = {port}
unix_socket_directories = '{dir}'
hot_standby = on
# Ask for WAL again soon after the primary restarts.
wal_retrieve_retry_interval = 200ms
",
            port = servers.ports.postgres_standby,
            dir = dir.display(),
        );
        process::write("postgres-standby", &config, &text)?;
        // Written here rather than trusted to `-R`, with the password, and last in the file read
        // last, so it is the one that counts.
        let auto = data.join("postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&auto).unwrap_or_default();
        text += &format!(
            "primary_conninfo = 'host={HOST} port={port} user=dbkit password=dbkit application_name=dbkit_standby'\n",
            port = servers.ports.postgres
        );
        process::write("postgres-standby", &auto, &text)?;
        if servers.root {
            process::chown("postgres", "postgres", &dir, true)?;
        }
        Ok(())
    }
}

impl Kind for Postgres {
    fn pid(&self, servers: &Servers) -> Option<u32> {
        process::read_pid(&self.data_dir(servers).join("postmaster.pid"))
    }

    fn ready(&self, servers: &Servers) -> bool {
        let port = self.port(servers).to_string();
        process::succeeds(
            Command::new("/usr/bin/pg_isready").args(["-q", "-h", HOST, "-p", &port, "-d", "postgres", "-t", "1"]),
        )
    }

    fn initialised(&self, servers: &Servers) -> bool {
        self.data_dir(servers).join("PG_VERSION").is_file()
    }

    fn init(&self, servers: &Servers) -> Result<()> {
        if self.standby {
            return self.init_standby(servers);
        }
        let (dir, data) = (self.dir(servers), self.data_dir(servers));
        process::create_dirs("postgres", std::slice::from_ref(&dir))?;
        if servers.root {
            process::chown("postgres", "postgres", &dir, false)?;
        }
        process::set_mode(&dir, 0o700);
        let log = dir.join("initdb.log");
        let mut initdb = self.tool(servers, "initdb");
        initdb.arg("-D").arg(&data);
        initdb.args([
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]);
        initdb.arg("-N"); // no fsync: throwaway data
        if !process::run_logged(&mut initdb, &log) {
            return Err(Error::with_logs("postgres: initdb failed", &[log]));
        }
        let config = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&config)
            .map_err(|e| Error::new(format!("postgres: reading {}: {e}", config.display())))?;
        text += &format!(
            "
# ---- dbkit test server (scripts/servers) ----
listen_addresses = '{HOST}'
port = {port}
unix_socket_directories = '{dir}'
max_connections = 200
timezone = 'UTC'
log_timezone = 'UTC'
# throwaway data: an OS crash may lose it, a server crash (SIGKILL) does not
fsync = off
full_page_writes = off
",
            port = servers.ports.postgres,
            dir = dir.display(),
        );
        process::write("postgres", &config, &text)
    }

    fn launch(&self, servers: &Servers) -> Result<()> {
        self.clear_stale_locks(servers);
        let dir = self.dir(servers);
        let (server_log, log) = (dir.join("postgres.log"), dir.join("pg_ctl.log"));
        // pg_ctl waits for the postmaster (-w); our own readiness check has the final word.
        let mut start = self.tool(servers, "pg_ctl");
        start.arg("-D").arg(self.data_dir(servers)).arg("-l").arg(&server_log);
        start.args(["-w", "-t", &servers.timeout.as_secs().to_string(), "-s", "start"]);
        if !process::run_logged(&mut start, &log) {
            return Err(Error::with_logs("postgres: pg_ctl start failed", &[log, server_log]));
        }
        Ok(())
    }

    fn setup(&self, servers: &Servers) -> Result<()> {
        if self.standby {
            // The role and the database came with the base backup.
            return Ok(());
        }
        let dir = self.dir(servers);
        let log = dir.join("setup.log");
        let port = servers.ports.postgres.to_string();
        let mut psql = Command::new("psql");
        psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"]).arg(&dir);
        psql.args(["-p", &port, "-U", "postgres", "-d", "postgres"]);
        psql.args(["-c", "CREATE ROLE dbkit LOGIN SUPERUSER PASSWORD 'dbkit'"]);
        psql.args(["-c", "CREATE DATABASE dbkit OWNER dbkit"]);
        if !process::run_logged(&mut psql, &log) {
            return Err(Error::with_logs("postgres: creating role/database failed", &[log]));
        }
        Ok(())
    }

    /// A fast shutdown (`pg_ctl stop -m fast`), SIGKILL when that fails.
    fn stop(&self, servers: &Servers) -> Result<()> {
        let Some(pid) = self.pid(servers).filter(|&pid| process::alive(pid)) else { return Ok(()) };
        let mut stop = self.tool(servers, "pg_ctl");
        stop.arg("-D").arg(self.data_dir(servers)).args(["-m", "fast", "-w", "-t", "30", "-s", "stop"]);
        if !process::succeeds(&mut stop) {
            process::signal("KILL", &[pid]);
        }
        if !process::wait_gone(pid, Duration::from_secs(30)) {
            return Err(Error::new(format!("postgres: pid {pid} still running after pg_ctl stop and SIGKILL")));
        }
        Ok(())
    }

    fn logs(&self, servers: &Servers) -> Vec<PathBuf> {
        vec![self.dir(servers).join("postgres.log")]
    }
}

/// `pg_ctl restart -m fast`: the server goes down and comes back on its data in one step, as an
/// operator's restart would.
pub(crate) fn restart(servers: &Servers) -> Result<()> {
    let started = Instant::now();
    let data = PRIMARY.data_dir(servers);
    if !data.join("postgresql.conf").is_file() {
        return Err(Error::new(format!("postgres: no data dir at {} (run start first)", data.display())));
    }
    PRIMARY.clear_stale_locks(servers);
    let dir = PRIMARY.dir(servers);
    let (server_log, log) = (dir.join("postgres.log"), dir.join("pg_ctl.log"));
    let mut restart = PRIMARY.tool(servers, "pg_ctl");
    restart.arg("-D").arg(&data).arg("-l").arg(&server_log);
    restart.args(["-m", "fast", "-w", "-t", &servers.timeout.as_secs().to_string(), "-s", "restart"]);
    if !process::run_logged(&mut restart, &log) {
        return Err(Error::with_logs("postgres: pg_ctl restart failed", &[log, server_log]));
    }
    Server::Postgres.wait_ready(servers)?;
    say(format_args!("postgres restarted on {HOST}:{} ({})", servers.ports.postgres, elapsed(started)));
    Ok(())
}

/// `postgres/data`, `DBKIT_TEST_PGDATA`.
pub(crate) fn data_dir(servers: &Servers) -> PathBuf {
    PRIMARY.data_dir(servers)
}
