//! A current ClickHouse engine: chDB (PyPI's `chdb-core`, ClickHouse 26.x in-process) behind
//! `scripts/chdb_server.py`, a small front that speaks ClickHouse's HTTP interface.
//!
//! `scripts/servers install` puts the package in a virtual environment of its own, [`venv`]; this
//! runs that environment's Python on the script, with the data in the run directory.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process;
use crate::{Error, HOST, Kind, Result, Servers};

pub(crate) struct ChDb;

/// The chDB release the front runs; `scripts/servers` installs the same one.
pub(crate) const CHDB_VERSION: &str = "26.9.0";

/// The virtual environment `scripts/servers install` creates: `DBKIT_CHDB_VENV`, or
/// `$HOME/.cache/dbkit/chdb-<version>` (kept in step with `scripts/servers`).
pub(crate) fn venv() -> PathBuf {
    if let Some(dir) = crate::var("DBKIT_CHDB_VENV") {
        return PathBuf::from(dir);
    }
    let home = crate::var("HOME").unwrap_or_else(|| "/root".to_owned());
    PathBuf::from(home).join(format!(".cache/dbkit/chdb-{CHDB_VERSION}"))
}

/// The Python that has chDB installed.
pub(crate) fn python() -> PathBuf {
    venv().join("bin/python")
}

fn script() -> PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/chdb_server.py");
    path.canonicalize().unwrap_or(path)
}

fn dir(servers: &Servers) -> PathBuf {
    servers.run_dir.join("clickhouse-current")
}

impl Kind for ChDb {
    fn pid(&self, servers: &Servers) -> Option<u32> {
        let dir = dir(servers);
        process::read_pid(&dir.join("chdb.pid")).or_else(|| process::read_pid(&dir.join("launch.pid")))
    }

    fn ready(&self, servers: &Servers) -> bool {
        let url = format!("http://{HOST}:{}/ping", servers.ports.clickhouse_current);
        process::output(Command::new("curl").args(["-fsS", "--max-time", "1", &url]))
            .is_some_and(|reply| reply.starts_with("Ok."))
    }

    fn initialised(&self, servers: &Servers) -> bool {
        dir(servers).join("data").is_dir()
    }

    fn init(&self, servers: &Servers) -> Result<()> {
        process::create_dirs("clickhouse-current", &[dir(servers).join("data")])
    }

    fn launch(&self, servers: &Servers) -> Result<()> {
        let dir = dir(servers);
        process::remove(&dir.join("chdb.pid"));
        process::remove(&dir.join("launch.pid"));
        let (python, script) = (python().display().to_string(), script().display().to_string());
        let port = servers.ports.clickhouse_current.to_string();
        let (data, pid_file) = (dir.join("data").display().to_string(), dir.join("chdb.pid").display().to_string());
        let args = [script.as_str(), "--port", &port, "--data", &data, "--pid-file", &pid_file];
        process::launch("clickhouse-current", &python, &args, &dir, &dir.join("chdb.out"), &dir.join("launch.pid"))
    }

    fn setup(&self, servers: &Servers) -> Result<()> {
        let dir = dir(servers);
        let log = dir.join("setup.log");
        let url = format!("http://{HOST}:{}/", servers.ports.clickhouse_current);
        let mut create = Command::new("curl");
        create.args(["-fsS", "--max-time", "10", &url, "--data-binary", "CREATE DATABASE IF NOT EXISTS dbkit"]);
        if !process::run_logged(&mut create, &log) {
            return Err(Error::with_logs(
                "clickhouse-current: CREATE DATABASE dbkit failed",
                &[log, dir.join("chdb.out")],
            ));
        }
        Ok(())
    }

    fn stop(&self, servers: &Servers) -> Result<()> {
        match self.pid(servers).filter(|&pid| process::alive(pid)) {
            Some(pid) => process::terminate("clickhouse-current", pid, Duration::from_secs(15)),
            None => Ok(()),
        }
    }

    fn logs(&self, servers: &Servers) -> Vec<PathBuf> {
        vec![dir(servers).join("chdb.out")]
    }
}
