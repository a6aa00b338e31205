//! A service that receives SIGTERM drains its databases, lets the work in flight commit,
//! disconnects and exits 0, printing its drain report. The service is `src/bin/drain-on-sigterm.rs`,
//! run as a child process against SQLite, PostgreSQL and MariaDB.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dbkit::Backend;
use dbkit_tests::{server_url, unique_name};

const SERVICE: &str = env!("CARGO_BIN_EXE_drain-on-sigterm");

/// Waits up to `limit` for the child to exit.
fn wait_with_limit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the service did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigterm_drains_and_exits_0(backend: Backend) {
    let url = match backend {
        Backend::Sqlite => {
            format!("sqlite:{}", std::env::temp_dir().join(format!("{}.db", unique_name("dbkit_sigterm"))).display())
        }
        _ => match server_url(backend) {
            Some(url) => url,
            None => return,
        },
    };
    let mut child = Command::new(SERVICE)
        .args([&url, "1500"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the service");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());

    // Wait for "ready" (the work is in flight by then), bounded.
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while stdout.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            let _ = lines_tx.send(std::mem::take(&mut line));
        }
    });
    let first = lines.recv_timeout(Duration::from_secs(60)).expect("the service printed nothing");
    assert_eq!(first.trim(), "ready");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -TERM failed");
    let exit = wait_with_limit(&mut child, Duration::from_secs(30));
    // Everything the child printed: the reader thread ends, and the channel with it, at its EOF.
    let output: String = lines.iter().collect();

    assert!(exit.success(), "exit status {exit:?}; output:\n{output}");
    assert!(output.starts_with("signal received\n"), "{output}");
    // The report: one database, graceful, the transaction in flight at the start and none at the
    // end, every connection closed, within the timeout; and the work was let commit.
    assert!(
        output.contains("graceful drain of 1 database(s): sessions in flight 1 -> 0, connections open "),
        "{output}"
    );
    let connections = output.split("connections open ").nth(1).and_then(|rest| rest.split(',').next());
    assert!(connections.is_some_and(|c| c.ends_with("-> 0")), "{output}");
    assert!(output.contains("main: graceful drain, sessions in flight 1 -> 0"), "{output}");
    assert!(output.contains("finished within the timeout"), "{output}");
    assert!(!output.contains("then force"), "{output}");
    assert!(output.contains("work: committed"), "{output}");
}

#[test]
fn sqlite() {
    sigterm_drains_and_exits_0(Backend::Sqlite);
}

#[test]
fn postgres() {
    sigterm_drains_and_exits_0(Backend::Postgres);
}

#[test]
fn mariadb() {
    sigterm_drains_and_exits_0(Backend::MySql);
}
