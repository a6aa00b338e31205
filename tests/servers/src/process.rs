//! Processes, pid files, ports and logs: the plumbing every server shares. Linux only (`/proc`).

use std::fs::{self, File, OpenOptions};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// Progress and diagnostics, on stderr.
pub(crate) fn say(message: std::fmt::Arguments<'_>) {
    eprintln!("servers: {message}");
}

/// `1.2s`.
pub(crate) fn elapsed(since: Instant) -> String {
    let time = since.elapsed();
    format!("{}.{}s", time.as_secs(), time.subsec_millis() / 100)
}

/// Whether we run as root (effective uid 0).
pub(crate) fn is_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .is_some_and(|effective| effective == "0")
}

/// The name of the user we run as.
pub(crate) fn user_name() -> String {
    output(Command::new("id").arg("-un")).or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "root".to_owned())
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub(crate) fn port_busy(port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(1)).is_ok()
}

/// Whether `pid` is a running process: a zombie (killed, not yet reaped by its parent; PID 1 of
/// some containers never reaps orphans) is not. Every thread counts: after SIGKILL the main thread
/// of a multi-threaded server turns zombie while the others are still exiting, and until the last
/// one has, its files and listening sockets are still open.
pub(crate) fn alive(pid: u32) -> bool {
    let running = |stat: &str| {
        // `pid (command) state ...`: the command may hold spaces and parentheses; the state follows the last `)`.
        let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
        state.is_some_and(|state| state != "Z" && state != "X")
    };
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    if running(&stat) {
        return true;
    }
    let Ok(threads) = fs::read_dir(format!("/proc/{pid}/task")) else { return false };
    threads.filter_map(|thread| fs::read_to_string(thread.ok()?.path().join("stat")).ok()).any(|stat| running(&stat))
}

/// The processes whose parent is `pid`.
pub(crate) fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&child| {
            let stat = fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            let parent = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
            parent.and_then(|parent| parent.parse::<u32>().ok()) == Some(pid)
        })
        .collect()
}

/// The pid in the first line of `file`, if there is one.
pub(crate) fn read_pid(file: &Path) -> Option<u32> {
    let text = fs::read_to_string(file).ok()?;
    let digits: String = text.lines().next()?.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Sends `signal` (`TERM`, `KILL`) to `pids`, ignoring those that are gone. Through `kill(1)`:
/// the standard library signals only its own children, and these servers are usually not ours.
pub(crate) fn signal(signal: &str, pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .args(pids.iter().map(u32::to_string))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Waits until `pid` is gone; false when it is still there after `limit`.
pub(crate) fn wait_gone(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// SIGTERM, then SIGKILL if `pid` is still there after `grace`.
pub(crate) fn terminate(name: &str, pid: u32, grace: Duration) -> Result<()> {
    signal("TERM", &[pid]);
    if !wait_gone(pid, grace) {
        signal("KILL", &[pid]);
        if !wait_gone(pid, Duration::from_secs(5)) {
            return Err(Error::new(format!("{name}: pid {pid} still running after SIGKILL")));
        }
    }
    Ok(())
}

/// `program` run as `user` when we are root (for servers that refuse to run as root), as
/// ourselves otherwise.
pub(crate) fn as_user(root: bool, user: &str, program: &str) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", user, "--", program]);
        command
    } else {
        Command::new(program)
    }
}

/// Runs `command` to completion with its output in `log` (truncated first); whether it succeeded.
pub(crate) fn run_logged(command: &mut Command, log: &Path) -> bool {
    let Ok(out) = File::create(log) else { return false };
    let Ok(err) = out.try_clone() else { return false };
    command.stdin(Stdio::null()).stdout(out).stderr(err).status().is_ok_and(|status| status.success())
}

/// Runs `command` to completion, output discarded; whether it succeeded.
pub(crate) fn succeeds(command: &mut Command) -> bool {
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// What `command` prints, trimmed, when it succeeds.
pub(crate) fn output(command: &mut Command) -> Option<String> {
    let output = command.stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Starts a server in a session of its own (`setsid`: no terminal, and Ctrl-C in ours does not
/// reach it), output appended to `log`, and writes its pid to `launch_pid` so that an early death
/// is noticed before the server writes a pid file of its own. A thread reaps it when it exits, so
/// that a server killed from a long-running process (a test) does not linger as a zombie.
pub(crate) fn launch(
    name: &str,
    program: &str,
    args: &[&str],
    dir: &Path,
    log: &Path,
    launch_pid: &Path,
) -> Result<()> {
    let fail = |e: std::io::Error| Error::new(format!("{name}: starting {program}: {e}"));
    let out = OpenOptions::new().create(true).append(true).open(log).map_err(fail)?;
    let err = out.try_clone().map_err(fail)?;
    let mut child = Command::new("setsid")
        .arg(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(fail)?;
    fs::write(launch_pid, format!("{}\n", child.id())).map_err(fail)?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Removes `file`; a file that is not there is fine.
pub(crate) fn remove(file: &Path) {
    let _ = fs::remove_file(file);
}

/// Creates `dir` and its parents.
pub(crate) fn create_dirs(name: &str, dirs: &[PathBuf]) -> Result<()> {
    for dir in dirs {
        fs::create_dir_all(dir).map_err(|e| Error::new(format!("{name}: creating {}: {e}", dir.display())))?;
    }
    Ok(())
}

/// Writes `text` to `file`.
pub(crate) fn write(name: &str, file: &Path, text: &str) -> Result<()> {
    fs::write(file, text).map_err(|e| Error::new(format!("{name}: writing {}: {e}", file.display())))
}

/// `chmod`; best effort, as a directory we do not own may refuse it harmlessly.
pub(crate) fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
}

/// `chown -R user:user path`, by name (the standard library takes numeric ids only).
pub(crate) fn chown(name: &str, user: &str, path: &Path, recursive: bool) -> Result<()> {
    let mut command = Command::new("chown");
    if recursive {
        command.arg("-R");
    }
    if succeeds(command.arg(format!("{user}:{user}")).arg(path)) {
        Ok(())
    } else {
        Err(Error::new(format!("{name}: chown {user}:{user} {} failed", path.display())))
    }
}

/// Whether `path` is an executable file.
pub(crate) fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The last 30 lines of each of `logs` that is not empty, each under a heading.
pub(crate) fn tails(logs: &[PathBuf]) -> String {
    let mut text = String::new();
    for log in logs {
        let Ok(bytes) = fs::read(log) else { continue };
        if bytes.is_empty() {
            continue;
        }
        let content = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = content.lines().collect();
        text += &format!("---- last 30 lines of {} ----\n", log.display());
        for line in &lines[lines.len().saturating_sub(30)..] {
            text += line;
            text.push('\n');
        }
    }
    text
}
