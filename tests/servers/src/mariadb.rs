//! MariaDB 10.11: `mariadb-install-db`, then `mariadbd` itself — not `mysqld_safe`, which would
//! bring it back after a kill; and its GTID replica, which replicates everything the primary's
//! binary log holds from the start (the `dbkit` account and database included).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process;
use crate::{Error, HOST, Kind, Result, Servers};

pub(crate) const MARIADBD: &str = "/usr/sbin/mariadbd";

/// The primary (`MariaDb { replica: false }`) or its replica.
pub(crate) struct MariaDb {
    pub(crate) replica: bool,
}

pub(crate) const PRIMARY: MariaDb = MariaDb { replica: false };
pub(crate) const REPLICA: MariaDb = MariaDb { replica: true };

fn dir_of(servers: &Servers, replica: bool) -> PathBuf {
    servers.run_dir.join(if replica { "mariadb-replica" } else { "mariadb" })
}

/// The account `mariadb-install-db` creates with unix_socket authentication for the OS user.
fn admin_user(servers: &Servers) -> String {
    if servers.root { "root".to_owned() } else { process::user_name() }
}

/// A client tool (`mariadb`, `mariadb-admin`) reading our configuration only, as the admin user.
fn client(servers: &Servers, replica: bool, program: &str) -> Command {
    let mut command = Command::new(program);
    command.arg(format!("--defaults-file={}", dir_of(servers, replica).join("my.cnf").display()));
    command.args(["-u", &admin_user(servers)]);
    command
}

impl MariaDb {
    fn dir(&self, servers: &Servers) -> PathBuf {
        dir_of(servers, self.replica)
    }

    fn client(&self, servers: &Servers, program: &str) -> Command {
        client(servers, self.replica, program)
    }
}

impl Kind for MariaDb {
    fn pid(&self, servers: &Servers) -> Option<u32> {
        let dir = self.dir(servers);
        // launch.pid: before mariadbd has written its own.
        process::read_pid(&dir.join("mysqld.pid")).or_else(|| process::read_pid(&dir.join("launch.pid")))
    }

    fn ready(&self, servers: &Servers) -> bool {
        process::succeeds(self.client(servers, "mariadb-admin").args(["--connect-timeout=1", "ping"]))
    }

    fn initialised(&self, servers: &Servers) -> bool {
        let dir = self.dir(servers);
        dir.join("data/mysql").is_dir() && dir.join("my.cnf").is_file()
    }

    fn init(&self, servers: &Servers) -> Result<()> {
        let dir = self.dir(servers);
        process::create_dirs("mariadb", &[dir.join("tmp")])?;
        // As root, mariadbd drops to the mysql user (`user = mysql`), which must own its files.
        let (user_line, run_user) = if servers.root {
            ("user = mysql".to_owned(), "mysql".to_owned())
        } else {
            (String::new(), process::user_name())
        };
        let d = dir.display();
        let (port, replication) = if self.replica {
            (
                servers.ports.mariadb_replica,
                "server_id = 2\nread_only = 1\nrelay_log = relay\n# A replica of the primary on the port above it.\n",
            )
        } else {
            (servers.ports.mariadb, "server_id = 1\nlog_bin = binlog\nbinlog_format = ROW\n")
        };
        let config = format!(
            "# dbkit test server (scripts/servers); used with --defaults-file, so /etc/mysql is not read.
[client]
socket = {d}/mysqld.sock
port = {port}

[mysqld]
{user_line}
datadir = {d}/data
tmpdir = {d}/tmp
socket = {d}/mysqld.sock
pid-file = {d}/mysqld.pid
log-error = {d}/mariadb.log
port = {port}
bind-address = {HOST}
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
default-time-zone = '+00:00'
max_connections = 200
innodb_buffer_pool_size = 128M
innodb_log_file_size = 16M
# throwaway data: an OS crash may lose it, a server crash (SIGKILL) does not
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
# replication (GTID)
{replication}"
        );
        process::write("mariadb", &dir.join("my.cnf"), &config)?;
        if servers.root {
            process::chown("mariadb", "mysql", &dir, true)?;
        }
        let log = dir.join("install-db.log");
        let mut install = Command::new("mariadb-install-db");
        install.arg(format!("--defaults-file={d}/my.cnf")).arg(format!("--user={run_user}"));
        install.args(["--auth-root-authentication-method=socket", "--skip-test-db", "--skip-name-resolve"]);
        install.current_dir(&dir);
        if !process::run_logged(&mut install, &log) {
            return Err(Error::with_logs("mariadb: mariadb-install-db failed", &[log, dir.join("mariadb.log")]));
        }
        Ok(())
    }

    fn launch(&self, servers: &Servers) -> Result<()> {
        let dir = self.dir(servers);
        // Stale after a kill.
        process::remove(&dir.join("mysqld.pid"));
        process::remove(&dir.join("launch.pid"));
        // It drops to the mysql user itself when started as root.
        let defaults = format!("--defaults-file={}", dir.join("my.cnf").display());
        process::launch(
            if self.replica { "mariadb-replica" } else { "mariadb" },
            MARIADBD,
            &[defaults.as_str()],
            &dir,
            &dir.join("mariadbd.out"),
            &dir.join("launch.pid"),
        )
    }

    fn setup(&self, servers: &Servers) -> Result<()> {
        let log = self.dir(servers).join("setup.log");
        if self.replica {
            return setup_replica(servers, &log);
        }
        let mut sql = "CREATE DATABASE dbkit;".to_owned();
        for user in ["'dbkit'@'%'", "'dbkit'@'localhost'", "'dbkit'@'127.0.0.1'"] {
            sql += &format!(
                " CREATE USER {user} IDENTIFIED BY 'dbkit'; GRANT ALL PRIVILEGES ON *.* TO {user} WITH GRANT OPTION;"
            );
        }
        if !process::run_logged(self.client(servers, "mariadb").args(["-e", &sql]), &log) {
            return Err(Error::with_logs("mariadb: creating user/database failed", &[log]));
        }
        Ok(())
    }

    /// SIGTERM is a normal shutdown (innodb_fast_shutdown=1).
    fn stop(&self, servers: &Servers) -> Result<()> {
        match self.pid(servers).filter(|&pid| process::alive(pid)) {
            Some(pid) => process::terminate("mariadb", pid, Duration::from_secs(30)),
            None => Ok(()),
        }
    }

    fn logs(&self, servers: &Servers) -> Vec<PathBuf> {
        let dir = self.dir(servers);
        vec![dir.join("mariadb.log"), dir.join("mariadbd.out")]
    }
}

/// Points the replica at the primary by GTID from the start of the primary's binary log, starts
/// it, and waits until it has replayed everything the primary has now (the `dbkit` account and
/// database among it).
fn setup_replica(servers: &Servers, log: &std::path::Path) -> Result<()> {
    let primary = servers.ports.mariadb;
    let sql = format!(
        "CHANGE MASTER TO MASTER_HOST='{HOST}', MASTER_PORT={primary}, MASTER_USER='dbkit', \
         MASTER_PASSWORD='dbkit', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE;"
    );
    if !process::run_logged(client(servers, true, "mariadb").args(["-e", &sql]), log) {
        return Err(Error::with_logs("mariadb-replica: CHANGE MASTER failed", &[log.to_owned()]));
    }
    let position = Command::new("mariadb")
        .arg(format!("--defaults-file={}", dir_of(servers, false).join("my.cnf").display()))
        .args(["-u", &admin_user(servers), "-N", "-B", "-e", "SELECT @@gtid_binlog_pos"])
        .output()
        .map_err(|e| Error::new(format!("mariadb-replica: asking the primary its position: {e}")))?;
    let position = String::from_utf8_lossy(&position.stdout).trim().to_owned();
    let wait = format!("SELECT MASTER_GTID_WAIT('{position}', {})", servers.timeout.as_secs());
    let waited = client(servers, true, "mariadb")
        .args(["-N", "-B", "-e", &wait])
        .output()
        .map_err(|e| Error::new(format!("mariadb-replica: waiting for replication: {e}")))?;
    if String::from_utf8_lossy(&waited.stdout).trim() != "0" {
        return Err(Error::with_logs(
            format!("mariadb-replica: did not reach the primary's position {position}"),
            &[dir_of(servers, true).join("mariadb.log")],
        ));
    }
    Ok(())
}
