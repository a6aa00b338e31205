//! A load generator for the example service: `CONCURRENCY` clients, each on its own keep-alive
//! connection, send one kind of request back to back for `SECONDS`; prints requests per second
//! and the 50th and 99th percentile latency of the successful ones (and counts the others).
//!
//! ```text
//! cargo run --release -p loadgen -- http://127.0.0.1:8000 get-user 32 10
//! cargo run --release -p loadgen -- http://127.0.0.1:8000 post-event 32 10
//! ```
//!
//! `get-user` creates one user first and reads it (`GET /users/{id}`); `post-event` sends
//! `POST /events` for a few users. Written here rather than packaged (`oha`, `wrk`) so the README's
//! figures can be reproduced with what the repository builds.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

#[derive(Clone, Copy)]
enum Kind {
    GetUser,
    PostEvent,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: loadgen BASE_URL get-user|post-event CONCURRENCY SECONDS";
    let [base, kind, concurrency, seconds] = args.as_slice() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let kind = match kind.as_str() {
        "get-user" => Kind::GetUser,
        "post-event" => Kind::PostEvent,
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let concurrency: usize = concurrency.parse().expect("CONCURRENCY is a number");
    let seconds: u64 = seconds.parse().expect("SECONDS is a number");
    // One thread: the generator should not take the service's core.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(run(base.trim_end_matches('/').to_owned(), kind, concurrency, Duration::from_secs(seconds)));
}

async fn send(client: &HttpClient, method: Method, url: &str, body: Option<String>) -> (StatusCode, Bytes) {
    let mut request = Request::builder().method(method).uri(url);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request.body(Full::new(Bytes::from(body.unwrap_or_default()))).expect("a request");
    let response = client.request(request).await.expect("the service answers");
    let status = response.status();
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    (status, body)
}

async fn run(base: String, kind: Kind, concurrency: usize, duration: Duration) {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let user_id = match kind {
        Kind::GetUser => {
            let name = format!("load{}", std::process::id());
            let body = format!(r#"{{"username":"{name}","email":"{name}@example.com"}}"#);
            let (status, body) = send(&client, Method::POST, &format!("{base}/users"), Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
            let text = String::from_utf8_lossy(&body);
            let id = text.split(r#""id":"#).nth(1).and_then(|rest| rest.split([',', '}']).next()).expect("an id");
            id.parse::<i64>().expect("a numeric id")
        }
        Kind::PostEvent => 0,
    };
    let deadline = Instant::now() + duration;
    let mut clients = Vec::new();
    for client_index in 0..concurrency {
        let (client, base) = (client.clone(), base.clone());
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            let mut n = 0u64;
            while Instant::now() < deadline {
                let started = Instant::now();
                let (status, _) = match kind {
                    Kind::GetUser => send(&client, Method::GET, &format!("{base}/users/{user_id}"), None).await,
                    Kind::PostEvent => {
                        let body = format!(
                            r#"{{"user_id":{},"event_type":"view","event_data":{{"n":{n}}}}}"#,
                            client_index % 16
                        );
                        send(&client, Method::POST, &format!("{base}/events"), Some(body)).await
                    }
                };
                n += 1;
                if status.is_success() {
                    latencies.push(started.elapsed());
                } else {
                    failed += 1;
                }
            }
            (latencies, failed)
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut failed = 0;
    for client in clients {
        let (mine, my_failed) = client.await.expect("a client task");
        latencies.extend(mine);
        failed += my_failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let percentile =
        |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)));
    let micros = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e6);
    println!(
        "{} x{concurrency}: {:.0} requests/s, p50 {:.0} µs, p99 {:.0} µs ({} ok, {failed} failed, {elapsed:.1} s)",
        match kind {
            Kind::GetUser => "GET /users/{id}",
            Kind::PostEvent => "POST /events",
        },
        latencies.len() as f64 / elapsed,
        micros(percentile(0.50)),
        micros(percentile(0.99)),
        latencies.len(),
    );
}
