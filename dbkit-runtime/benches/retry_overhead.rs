//! The success-path cost of the call path's classification and retry.
//!
//! An SQLite in-memory `SELECT` through `exec::Call` with the default retry policy and with retry
//! disabled, through a bare pooled session (no `Call`), and with raw sqlx on one held connection;
//! plus the `Call` bookkeeping alone (`Call::new` + `finish(Ok)`), without any I/O. The pool is
//! built without pre-ping so that the pooled paths measure the call path, not a health check.
//!
//! `cargo bench -p dbkit-runtime --bench retry_overhead -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dbkit_runtime::exec::{Call, CallOptions, Failure, OpKind, Operation};
use dbkit_runtime::retry::RetryPolicy;
use dbkit_runtime::{Database, DatabaseConfig};
use futures_util::FutureExt;

static GET: Operation = Operation::new("BenchRepository", "get", OpKind::Read, "SELECT", "bench");
const SQL: &str = "SELECT ?1 + 1";

/// What generated code does for a `get`.
async fn via_call(db: &Database, options: &CallOptions, n: i64) -> dbkit_runtime::Result<i64> {
    let mut call = Call::new(db, options, &GET);
    loop {
        let outcome = async {
            let mut s = call.session::<sqlx::Sqlite>().await?;
            let v: i64 = sqlx::query_scalar(SQL).bind(n).fetch_one(&mut *s).await.map_err(Failure::sent)?;
            Ok(v)
        }
        .await;
        if let Some(result) = call.finish(outcome).await {
            break result;
        }
    }
}

fn retry_overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _guard = rt.enter(); // sessions dropped at the end return their connection on this runtime
    let config = DatabaseConfig::from_url("sqlite::memory:").unwrap().pool_pre_ping(false);
    let db = rt.block_on(Database::connect_with(config)).unwrap();
    let enabled = CallOptions::new();
    let disabled = CallOptions::new().retry(RetryPolicy::disabled());

    let mut group = c.benchmark_group("sqlite_select");
    group.bench_function("call_retry_enabled", |b| {
        b.iter(|| rt.block_on(via_call(&db, &enabled, black_box(41))).unwrap())
    });
    group.bench_function("call_retry_disabled", |b| {
        b.iter(|| rt.block_on(via_call(&db, &disabled, black_box(41))).unwrap())
    });
    group.bench_function("session_no_call", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut s = db.session::<sqlx::Sqlite>().await.unwrap();
                sqlx::query_scalar::<_, i64>(SQL).bind(black_box(41_i64)).fetch_one(&mut *s).await.unwrap()
            })
        })
    });
    let mut held = rt.block_on(db.session::<sqlx::Sqlite>()).unwrap();
    group.bench_function("raw_sqlx_held_connection", |b| {
        b.iter(|| {
            rt.block_on(async {
                sqlx::query_scalar::<_, i64>(SQL).bind(black_box(41_i64)).fetch_one(&mut *held).await.unwrap()
            })
        })
    });
    group.finish();
    drop(held);

    // The bookkeeping a successful call adds, alone: start the call, end it with a value.
    let mut group = c.benchmark_group("call_bookkeeping");
    for (name, options) in [("retry_enabled", &enabled), ("retry_disabled", &disabled)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut call = Call::new(&db, options, &GET);
                let outcome: Result<i64, Failure> = Ok(black_box(42));
                call.finish(outcome).now_or_never().flatten().unwrap().unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, retry_overhead);
criterion_main!(benches);
