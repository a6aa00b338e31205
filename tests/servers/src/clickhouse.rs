//! ClickHouse; Debian 12 ships 18.16.1.
//!
//! The configuration uses only keys 18.16 understands (checked against the packaged
//! `/etc/clickhouse-server/config.xml` and the running server): listen_host, http_port, tcp_port,
//! path, tmp_path, user_files_path, format_schema_path, users_config, default_profile,
//! default_database, timezone, mark_cache_size, uncompressed_cache_size, logger/*.
//! interserver_http_port, https_port and tcp_port_secure are left out, so those listeners are never
//! opened; 18.16 has no mysql_port or postgresql_port.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process;
use crate::{Error, HOST, Kind, Result, Servers};

pub(crate) const CLICKHOUSE_SERVER: &str = "/usr/sbin/clickhouse-server";

pub(crate) struct ClickHouse;

fn dir(servers: &Servers) -> PathBuf {
    servers.run_dir.join("clickhouse")
}

impl Kind for ClickHouse {
    fn pid(&self, servers: &Servers) -> Option<u32> {
        let dir = dir(servers);
        process::read_pid(&dir.join("clickhouse.pid")).or_else(|| process::read_pid(&dir.join("launch.pid")))
    }

    fn ready(&self, servers: &Servers) -> bool {
        let url = format!("http://{HOST}:{}/ping", servers.ports.clickhouse_http);
        process::output(Command::new("curl").args(["-fsS", "--max-time", "1", &url]))
            .is_some_and(|reply| reply.starts_with("Ok."))
    }

    fn initialised(&self, servers: &Servers) -> bool {
        dir(servers).join("config.xml").is_file()
    }

    fn init(&self, servers: &Servers) -> Result<()> {
        let dir = dir(servers);
        let folders = ["data", "tmp", "user_files", "format_schemas", "log"].map(|folder| dir.join(folder));
        process::create_dirs("clickhouse", &folders)?;
        let (d, http, tcp) = (dir.display(), servers.ports.clickhouse_http, servers.ports.clickhouse_tcp);
        let config = format!(
            r#"<?xml version="1.0"?>
<!-- dbkit test server (scripts/servers) -->
<yandex>
    <logger>
        <level>information</level>
        <log>{d}/log/clickhouse-server.log</log>
        <errorlog>{d}/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>1</count>
    </logger>
    <listen_host>{HOST}</listen_host>
    <http_port>{http}</http_port>
    <tcp_port>{tcp}</tcp_port>
    <path>{d}/data/</path>
    <tmp_path>{d}/tmp/</tmp_path>
    <user_files_path>{d}/user_files/</user_files_path>
    <format_schema_path>{d}/format_schemas/</format_schema_path>
    <users_config>{d}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <max_connections>4096</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mlock_executable>false</mlock_executable>
</yandex>
"#
        );
        process::write("clickhouse", &dir.join("config.xml"), &config)?;
        let users = r#"<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default></default>
    </quotas>
</yandex>
"#;
        process::write("clickhouse", &dir.join("users.xml"), users)
    }

    fn launch(&self, servers: &Servers) -> Result<()> {
        let dir = dir(servers);
        // Stale after a kill.
        process::remove(&dir.join("clickhouse.pid"));
        process::remove(&dir.join("launch.pid"));
        // Not --daemon: the pid is ours from the start, and fatal configuration errors land in
        // clickhouse.out rather than nowhere.
        let config = format!("--config-file={}", dir.join("config.xml").display());
        let pid_file = format!("--pid-file={}", dir.join("clickhouse.pid").display());
        let (out, launch_pid) = (dir.join("clickhouse.out"), dir.join("launch.pid"));
        process::launch("clickhouse", CLICKHOUSE_SERVER, &[config.as_str(), pid_file.as_str()], &dir, &out, &launch_pid)
    }

    fn setup(&self, servers: &Servers) -> Result<()> {
        let dir = dir(servers);
        let log = dir.join("setup.log");
        let url = format!("http://{HOST}:{}/", servers.ports.clickhouse_http);
        let mut create = Command::new("curl");
        create.args(["-fsS", "--max-time", "10", &url, "--data-binary", "CREATE DATABASE IF NOT EXISTS dbkit"]);
        if !process::run_logged(&mut create, &log) {
            let logs = [log, dir.join("clickhouse.out"), dir.join("log/clickhouse-server.err.log")];
            return Err(Error::with_logs("clickhouse: CREATE DATABASE dbkit failed", &logs));
        }
        Ok(())
    }

    fn stop(&self, servers: &Servers) -> Result<()> {
        match self.pid(servers).filter(|&pid| process::alive(pid)) {
            Some(pid) => process::terminate("clickhouse", pid, Duration::from_secs(15)),
            None => Ok(()),
        }
    }

    fn logs(&self, servers: &Servers) -> Vec<PathBuf> {
        let dir = dir(servers);
        vec![
            dir.join("clickhouse.out"),
            dir.join("log/clickhouse-server.err.log"),
            dir.join("log/clickhouse-server.log"),
        ]
    }
}
