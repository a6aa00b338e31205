//! `dbkit-servers`: the test servers from the command line. `scripts/servers` runs it for every
//! verb but `install`; see the `dbkit_test_servers` docs for the servers, ports and variables.

use std::process::ExitCode;
use std::time::Instant;

use dbkit_test_servers::{Error, Result, Server, Servers};

const USAGE: &str = "\
usage: dbkit-servers VERB            (usually through scripts/servers)

  start            wipe the run dir, start all five servers, wait until ready
  stop             stop all servers (fast shutdown), remove the run dir
  env              print `export` lines for the test suite (eval them)
  status           show which servers are up (exit 1 when one is not)
  start-one NAME   start one server; reuses its data dir if it exists
  stop-one NAME    graceful (fast) stop of one server, data dir kept
  kill NAME        SIGKILL one server (crash simulation), data dir kept
  restart NAME     postgres: `pg_ctl restart -m fast`; others: stop-one + start-one

NAME is one of: postgres mariadb redis clickhouse clickhouse-current (aliases: pg, postgresql,
mysql, ch, chdb).
Tunables: DBKIT_RUN_DIR, DBKIT_SERVER_TIMEOUT, DBKIT_PG_PORT, DBKIT_MARIADB_PORT, DBKIT_REDIS_PORT,
DBKIT_CLICKHOUSE_HTTP_PORT, DBKIT_CLICKHOUSE_TCP_PORT, DBKIT_CLICKHOUSE_CURRENT_PORT, DBKIT_CHDB_VENV.";

/// What the command line asked for.
enum Verb {
    Start,
    Stop,
    Env,
    Status,
    StartOne(Server),
    StopOne(Server),
    Kill(Server),
    Restart(Server),
}

/// The verb in `args`; `None` when they are not a verb (usage).
fn parse(args: &[String]) -> Result<Option<Verb>> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Ok(Some(match args[..] {
        ["start"] => Verb::Start,
        ["stop"] => Verb::Stop,
        ["env"] => Verb::Env,
        ["status"] => Verb::Status,
        ["start-one", name] => Verb::StartOne(name.parse()?),
        ["stop-one", name] => Verb::StopOne(name.parse()?),
        ["kill", name] => Verb::Kill(name.parse()?),
        ["restart", name] => Verb::Restart(name.parse()?),
        _ => return Ok(None),
    }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verb = match parse(&args) {
        Ok(Some(verb)) => verb,
        Ok(None) => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        Err(e) => return fail(e),
    };
    match run(verb) {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

fn run(verb: Verb) -> Result<ExitCode> {
    let servers = Servers::from_env()?;
    match verb {
        Verb::Start => servers.start_all()?,
        Verb::Stop => servers.stop_all()?,
        Verb::Env => {
            for (name, value) in servers.env() {
                println!("export {name}='{}'", value.replace('\'', r"'\''"));
            }
        }
        Verb::Status => {
            let mut all_up = true;
            for (server, pid) in servers.status() {
                match pid {
                    Some(pid) => {
                        eprintln!("servers: {server}: running (pid {pid}) on 127.0.0.1:{}", server.port(&servers))
                    }
                    None => {
                        eprintln!("servers: {server}: stopped");
                        all_up = false;
                    }
                }
            }
            return Ok(if all_up { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        Verb::StartOne(server) => server.start(&servers)?,
        Verb::StopOne(server) => {
            let started = Instant::now();
            server.stop(&servers)?;
            let time = started.elapsed();
            eprintln!("servers: {server} stopped ({}.{}s)", time.as_secs(), time.subsec_millis() / 100);
        }
        Verb::Kill(server) => server.kill(&servers)?,
        Verb::Restart(server) => server.restart(&servers)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn fail(error: Error) -> ExitCode {
    eprintln!("servers: error: {error}");
    ExitCode::FAILURE
}
