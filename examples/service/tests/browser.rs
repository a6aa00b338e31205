//! The API page in a real browser: the service's Swagger UI at `/docs/`, opened in headless
//! Debian `chromium`, must render its operations and run one request through its UI — expand
//! `GET /users/{id}`, "Try it out", type the id, "Execute" — and show the response: 200 and the
//! user created beforehand. The screenshot is kept as `target/test-artefacts/service-docs.png`
//! (`service-docs-failure.png` when a step times out).
//!
//! The browser is driven over the Chrome DevTools Protocol: `--remote-debugging-port=0`, the port
//! read from `DevToolsActivePort` in the profile directory, and the minimal WebSocket client
//! (RFC 6455) at the end of this file. Outside CI the test is skipped with a message when
//! `chromium` is not installed; under `CI=true` it fails (`scripts/servers install` installs it).
//!
//! The service runs on SQLite (`app.db` in a scratch directory): every database variable is removed
//! from its environment.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// How long the service, the browser and each step of the page may take to be ready. Generous:
/// only a failing run waits this long.
const READY: Duration = Duration::from_secs(30);

#[test]
fn swagger_ui_renders_and_runs_a_request_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        if dbkit_tests::is_ci() {
            panic!("`chromium` is not installed under CI=true: run `scripts/servers install` (or scripts/test)");
        }
        eprintln!("skipped: `chromium` is not installed (`scripts/servers install` installs it)");
        return;
    };
    // No artefact of an earlier run survives to be mistaken for this one's.
    for name in ["service-docs.png", "service-docs-failure.png"] {
        let _ = fs::remove_file(artefact_path(name));
    }
    let scratch = Scratch::new();
    let service = Service::start(scratch.path());

    // The user the page will fetch, created over HTTP.
    let username = format!("swagger_{}", std::process::id());
    let (status, body) = http(
        service.addr,
        "POST",
        "/users",
        &json!({"username": username, "email": "swagger@example.com", "full_name": "Swagger Browser"}),
    );
    assert_eq!(status, 201, "POST /users: {body}");
    let user: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("POST /users: {e}: {body}"));
    let id = user["id"].as_i64().unwrap_or_else(|| panic!("POST /users: no id in {body}"));

    let mut browser = Browser::launch(&chromium, &scratch.path().join("chromium-profile"));
    let mut page = browser.new_page();
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
    );
    // `window.__op()` in the page to come, whenever it is evaluated.
    page.call("Page.enable", json!({}));
    page.call("Page.addScriptToEvaluateOnNewDocument", json!({ "source": OPERATION_JS }));
    let url = format!("http://{}/docs/", service.addr);
    let navigated = page.call("Page.navigate", json!({ "url": url }));
    assert!(navigated.get("errorText").is_none(), "{url}: {navigated}");

    // Rendered: the document's title and every operation, among them GET /users/{id}.
    let rendered = page.wait_for(
        "Swagger UI to render the operations, GET /users/{id} among them",
        "(() => { const title = document.querySelector('.swagger-ui .info .title');
                  const count = document.querySelectorAll('.swagger-ui .opblock').length;
                  return title && window.__op() ? { title: title.textContent, operations: count } : null; })()",
    );
    assert!(rendered["title"].as_str().is_some_and(|t| t.contains("dbkit example service")), "title: {rendered}");
    assert!(rendered["operations"].as_u64() >= Some(9), "operations: {rendered}");

    // Expand the operation, "Try it out", type the id.
    page.eval("(window.__op().querySelector('.opblock-summary-control') || window.__op().querySelector('.opblock-summary')).click()");
    page.wait_for(
        "the operation to expand (its \"Try it out\" button)",
        "(() => { const b = window.__op().querySelector('.try-out__btn'); return b ? (b.click(), true) : null; })()",
    );
    page.wait_for(
        "the id field to be editable",
        "(() => { const i = window.__op().querySelector('tr[data-param-name=\"id\"] input'); return i && !i.disabled ? (i.focus(), true) : null; })()",
    );
    // Typed as keyboard input, so that Swagger UI's (React) state sees it.
    page.call("Input.insertText", json!({ "text": id.to_string() }));
    page.wait_for(
        "the id field to hold the id",
        &format!("window.__op().querySelector('tr[data-param-name=\"id\"] input').value === '{id}' || null"),
    );

    // Execute, and read the response Swagger UI renders. The field's value reaches Swagger UI's
    // state after a debounce: an Execute that came too early marks the field invalid and sends
    // nothing, so Execute is clicked again until a response shows.
    let response = page.wait_for(
        "the response of Execute to show",
        "(() => { const op = window.__op();
                  const live = op.querySelector('.live-responses-table');
                  if (live) {
                    const status = live.querySelector('tbody .response-col_status');
                    const body = live.querySelector('tbody .response-col_description .highlight-code')
                              || live.querySelector('tbody .response-col_description');
                    const url = op.querySelector('.request-url');
                    if (status && body) return { status: status.textContent.trim(), body: body.textContent,
                                                 requestUrl: url ? url.textContent.trim() : '' };
                  }
                  if (!op.querySelector('.loading-container')) {
                    const execute = op.querySelector('button.execute');
                    if (execute) execute.click();
                  }
                  return null; })()",
    );
    assert_eq!(response["status"], "200", "the response Swagger UI shows: {response}");
    let shown = response["body"].as_str().unwrap_or_default();
    assert!(
        shown.contains(&format!("\"username\": \"{username}\"")),
        "no username {username} in the response shown: {response}"
    );
    assert!(shown.contains(&format!("\"id\": {id}")), "no id {id} in the response shown: {response}");
    assert!(
        response["requestUrl"].as_str().is_some_and(|u| u.ends_with(&format!("/users/{id}"))),
        "request URL: {response}"
    );

    // The artefact: the page with the response, as a PNG.
    page.eval("window.__op().scrollIntoView()");
    let png = page.screenshot();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "the screenshot is not a PNG");
    assert!(png.len() > 10_000, "the screenshot is only {} bytes", png.len());
    let artefact = artefact_path("service-docs.png");
    fs::write(&artefact, &png).unwrap_or_else(|e| panic!("{}: {e}", artefact.display()));
    println!("screenshot: {} ({} bytes)", artefact.display(), png.len());

    browser.close(page);
}

/// `window.__op()`: the `GET /users/{id}` operation block of the page, or null.
const OPERATION_JS: &str = "window.__op = () => [...document.querySelectorAll('.swagger-ui .opblock')].find(o =>
    o.querySelector('.opblock-summary-method')?.textContent.trim() === 'GET' &&
    o.querySelector('.opblock-summary-path')?.getAttribute('data-path') === '/users/{id}') || null";

/// `chromium` (Debian's) or `chromium-browser` on `PATH`.
fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// `target/test-artefacts/NAME` of the workspace, its directory created.
fn artefact_path(name: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("the workspace root");
    let dir = workspace.join("target/test-artefacts");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir.join(name)
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("dbkit-service-browser-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The service binary, on SQLite in its own directory, on a free port; killed when dropped (its
/// output printed if the test is failing).
struct Service {
    child: Child,
    addr: SocketAddr,
    output: Arc<Mutex<String>>,
}

impl Service {
    fn start(dir: &Path) -> Service {
        const PREFIXES: [&str; 7] = ["MYSQL_", "POSTGRES_", "CLICKHOUSE_", "REDIS_", "DB_", "SQLITE_", "DBKIT_"];
        let mut command = Command::new(env!("CARGO_BIN_EXE_service"));
        for (key, _) in std::env::vars_os() {
            let Some(key) = key.to_str() else { continue };
            if PREFIXES.iter().any(|p| key.starts_with(p))
                || ["APP_ENV", "HOST", "PORT", "SHUTDOWN_TIMEOUT"].contains(&key)
            {
                command.env_remove(key);
            }
        }
        let mut child = command
            .current_dir(dir)
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the service binary");
        let output = Arc::new(Mutex::new(String::new()));
        let (ready, listening) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for (stream, ready) in [(Box::new(stdout) as Box<dyn Read + Send>, Some(ready)), (Box::new(stderr), None)] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let (Some(ready), Some(rest)) = (&ready, line.strip_prefix("service: listening on http://")) {
                        let _ = ready.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                    }
                    output.lock().unwrap_or_else(|e| e.into_inner()).push_str(&format!("{line}\n"));
                }
            });
        }
        let mut service = Service { child, addr: SocketAddr::from(([127, 0, 0, 1], 0)), output };
        match listening.recv_timeout(READY) {
            Ok(addr) => service.addr = addr.parse().unwrap_or_else(|e| panic!("listening address `{addr}`: {e}")),
            Err(e) => panic!("the service did not print its address ({e}); its output:\n{}", service.output()),
        }
        service
    }

    fn output(&self) -> String {
        self.output.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- the service's output:\n{}", self.output());
        }
    }
}

/// One HTTP/1.1 request with a JSON body: the status and the body.
fn http(addr: SocketAddr, method: &str, path: &str, body: &Value) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, READY).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(READY)).expect("read timeout");
    let body = body.to_string();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    (status.unwrap_or_else(|| panic!("{method} {path}: not an HTTP response: {response}")), body.to_owned())
}

/// Headless chromium with the DevTools Protocol on a free port, in its own process group, killed
/// (the whole group) when dropped; its log printed if the test is failing.
struct Browser {
    child: Child,
    log: PathBuf,
    devtools: (u16, String),
    closing: bool,
}

impl Browser {
    fn launch(chromium: &Path, profile: &Path) -> Browser {
        fs::create_dir_all(profile).unwrap_or_else(|e| panic!("{}: {e}", profile.display()));
        let log = profile.with_extension("log");
        let log_file = File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let child = Command::new(chromium)
            .args([
                "--headless=new",
                "--no-sandbox", // needed as root (CI runs as root); harmless otherwise: the page is ours
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-sync",
                "--disable-component-update",
                "--hide-scrollbars",
                "--mute-audio",
                "--window-size=1280,1000",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromium.display()));
        let mut browser = Browser { child, log, devtools: (0, String::new()), closing: false };
        // Chromium writes the port it picked, and the browser's WebSocket path, to this file.
        let active_port = profile.join("DevToolsActivePort");
        let deadline = Instant::now() + READY;
        loop {
            if let Ok(text) = fs::read_to_string(&active_port) {
                let mut lines = text.lines();
                if let (Some(Ok(port)), Some(path)) = (lines.next().map(str::parse::<u16>), lines.next()) {
                    browser.devtools = (port, path.to_owned());
                    break;
                }
            }
            if let Ok(Some(status)) = browser.child.try_wait() {
                panic!("chromium exited ({status}) before opening its DevTools port");
            }
            assert!(Instant::now() < deadline, "chromium did not write {} within {READY:?}", active_port.display());
            std::thread::sleep(Duration::from_millis(100));
        }
        browser
    }

    /// A new tab, attached: the protocol session to drive it.
    fn new_page(&self) -> Page {
        let (port, path) = &self.devtools;
        let mut cdp = WebSocket::connect(*port, path);
        let target = cdp.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("targetId").to_owned();
        let attached = cdp.call(None, "Target.attachToTarget", json!({"targetId": target_id, "flatten": true}));
        let session = attached["sessionId"].as_str().expect("sessionId").to_owned();
        Page { cdp, session }
    }

    /// Asks the browser to quit (`Browser.close`); dropping it then waits for that a little.
    fn close(&mut self, mut page: Page) {
        self.closing = page.cdp.send(&json!({"id": 0, "method": "Browser.close"}).to_string()).is_ok();
    }

    /// Whether the browser process has exited, without reaping it (its process group stays ours).
    fn exited(&self) -> bool {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        stat.rsplit_once(") ").is_none_or(|(_, rest)| rest.starts_with('Z'))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.closing && !self.exited() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the browser and its helpers (zygote, renderers, GPU): they share the
        // process group, whose id stays reserved while the browser is not reaped.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = fs::read_to_string(&self.log).unwrap_or_default();
            // Without a D-Bus (containers, CI) chromium logs an error per attempt to reach it: noise.
            let lines: Vec<&str> = log.lines().filter(|l| !l.contains(":ERROR:dbus/")).collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!("--- chromium's log (last 40 lines, D-Bus errors left out):\n{}", tail.join("\n"));
        }
    }
}

/// One tab, over the browser's DevTools WebSocket.
struct Page {
    cdp: WebSocket,
    session: String,
}

impl Page {
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.cdp.call(Some(&self.session), method, params)
    }

    /// The value of a JavaScript expression in the page (promises awaited).
    fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call("Runtime.evaluate", json!({"expression": expression, "returnByValue": true, "awaitPromise": true}));
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("JavaScript failed: {exception}\nin: {expression}");
        }
        result["result"].get("value").cloned().unwrap_or(Value::Null)
    }

    /// Evaluates `expression` every 100 ms until it is neither null nor false, for at most
    /// [`READY`]; then fails, keeping a screenshot and quoting the page's text.
    fn wait_for(&mut self, what: &str, expression: &str) -> Value {
        let deadline = Instant::now() + READY;
        loop {
            let value = self.eval(expression);
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return value;
            }
            if Instant::now() >= deadline {
                let artefact = artefact_path("service-docs-failure.png");
                let _ = fs::write(&artefact, self.screenshot());
                let text = self.eval("document.body ? document.body.innerText : ''");
                let text: String = text.as_str().unwrap_or_default().chars().take(3000).collect();
                panic!(
                    "timed out after {READY:?} waiting for {what} (screenshot: {}); the page's text:\n{text}",
                    artefact.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The whole page as a PNG.
    fn screenshot(&mut self) -> Vec<u8> {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let width = size["width"].as_f64().unwrap_or(1280.0);
        let height = size["height"].as_f64().unwrap_or(1000.0).min(8000.0);
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
        );
        base64_decode(shot["data"].as_str().expect("screenshot data"))
    }
}

/// A WebSocket client (RFC 6455) for the DevTools Protocol: text messages, client frames masked,
/// pings answered.
struct WebSocket {
    stream: TcpStream,
    next_id: u64,
}

impl WebSocket {
    fn connect(port: u16, path: &str) -> WebSocket {
        let mut stream =
            TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("DevTools port {port}: {e}"));
        stream.set_read_timeout(Some(READY)).expect("read timeout");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: ZGJraXQtYnJvd3Nlci10ZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("WebSocket handshake");
        // The response head, byte by byte: what follows it is already the frames.
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("WebSocket handshake response");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "WebSocket handshake refused: {head}");
        WebSocket { stream, next_id: 1 }
    }

    /// Sends a command and returns its result, skipping the events that arrive meanwhile.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.send(&message.to_string()).unwrap_or_else(|e| panic!("{method}: {e}"));
        loop {
            let reply: Value = serde_json::from_slice(&self.receive()).expect("a DevTools message is JSON");
            if reply["id"] == id {
                if let Some(error) = reply.get("error") {
                    panic!("{method}: {error}");
                }
                return reply["result"].clone();
            }
        }
    }

    fn send(&mut self, text: &str) -> std::io::Result<()> {
        self.frame(0x1, text.as_bytes())
    }

    fn frame(&mut self, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask =
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0x5a5a_5a5a).to_be_bytes();
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame)
    }

    /// The next data message (fragments joined).
    fn receive(&mut self) -> Vec<u8> {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.read(&mut head);
            let (fin, opcode, masked) = (head[0] & 0x80 != 0, head[0] & 0x0f, head[1] & 0x80 != 0);
            let len = match head[1] & 0x7f {
                126 => {
                    let mut n = [0u8; 2];
                    self.read(&mut n);
                    u64::from(u16::from_be_bytes(n))
                }
                127 => {
                    let mut n = [0u8; 8];
                    self.read(&mut n);
                    u64::from_be_bytes(n)
                }
                n => u64::from(n),
            };
            let mut mask = [0u8; 4];
            if masked {
                self.read(&mut mask);
            }
            let mut payload = vec![0u8; usize::try_from(len).expect("frame length")];
            self.read(&mut payload);
            if masked {
                payload.iter_mut().enumerate().for_each(|(i, b)| *b ^= mask[i % 4]);
            }
            match opcode {
                0x8 => panic!("the DevTools connection was closed: {}", String::from_utf8_lossy(&payload)),
                0x9 => self.frame(0xA, &payload).expect("pong"),
                0xA => {}
                _ => {
                    message.extend_from_slice(&payload);
                    if fin {
                        return message;
                    }
                }
            }
        }
    }

    fn read(&mut self, buf: &mut [u8]) {
        self.stream.read_exact(buf).unwrap_or_else(|e| panic!("reading from DevTools: {e}"));
    }
}

/// Standard base64 (the screenshot's encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {:?}", c as char),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=' && !c.is_ascii_whitespace()).map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let bits = chunk.iter().enumerate().fold(0u32, |acc, (i, &d)| acc | u32::from(d) << (18 - 6 * i));
        out.extend_from_slice(&bits.to_be_bytes()[1..chunk.len()]);
    }
    out
}
