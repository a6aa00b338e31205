//! Redis 7, in the foreground of its own session, without persistence.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process;
use crate::{HOST, Kind, Result, Servers};

pub(crate) const REDIS_SERVER: &str = "/usr/bin/redis-server";

pub(crate) struct Redis;

fn dir(servers: &Servers) -> PathBuf {
    servers.run_dir.join("redis")
}

impl Kind for Redis {
    fn pid(&self, servers: &Servers) -> Option<u32> {
        let dir = dir(servers);
        process::read_pid(&dir.join("redis.pid")).or_else(|| process::read_pid(&dir.join("launch.pid")))
    }

    fn ready(&self, servers: &Servers) -> bool {
        let port = servers.ports.redis.to_string();
        process::output(Command::new("redis-cli").args(["-h", HOST, "-p", &port, "ping"]))
            .is_some_and(|reply| reply == "PONG")
    }

    fn initialised(&self, servers: &Servers) -> bool {
        dir(servers).is_dir()
    }

    fn init(&self, servers: &Servers) -> Result<()> {
        process::create_dirs("redis", &[dir(servers)])
    }

    fn launch(&self, servers: &Servers) -> Result<()> {
        let dir = dir(servers);
        // Stale after a kill.
        process::remove(&dir.join("redis.pid"));
        process::remove(&dir.join("launch.pid"));
        let (port, d) = (servers.ports.redis.to_string(), dir.display().to_string());
        let (pid_file, log) = (format!("{d}/redis.pid"), format!("{d}/redis.log"));
        // Not --daemonize: the pid is ours from the start, so an early death is noticed at once.
        let args = [
            "--bind",
            HOST,
            "--port",
            &port,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            &d,
            "--pidfile",
            &pid_file,
            "--logfile",
            &log,
            "--daemonize",
            "no",
        ];
        process::launch("redis", REDIS_SERVER, &args, &dir, &dir.join("redis.out"), &dir.join("launch.pid"))
    }

    fn setup(&self, _: &Servers) -> Result<()> {
        Ok(())
    }

    fn stop(&self, servers: &Servers) -> Result<()> {
        match self.pid(servers).filter(|&pid| process::alive(pid)) {
            Some(pid) => process::terminate("redis", pid, Duration::from_secs(10)),
            None => Ok(()),
        }
    }

    fn logs(&self, servers: &Servers) -> Vec<PathBuf> {
        let dir = dir(servers);
        vec![dir.join("redis.log"), dir.join("redis.out")]
    }
}
