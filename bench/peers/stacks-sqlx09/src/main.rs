//! One binary for the stacks that link sqlx 0.9's `libsqlite3-sys`: `dbkit`, `sqlx` (hand-written),
//! and the floors `rusqlite` (SQLite), `tokio-postgres` (PostgreSQL) and `mysql_async` (MariaDB).
//! `bench/peers/run` starts it once per stack, backend and workload; see `../README.md`.
//!
//! ```text
//! peer-sqlx09 --setup --backend sqlite --url sqlite:///tmp/dbkit-peers/peers.sqlite
//! peer-sqlx09 --stack dbkit --backend sqlite --url … --workload get_by_key --iterations 2000
//! ```

#[path = "../../common/harness.rs"]
mod harness;

mod admin;
mod dbkit_stack;
mod mysql_async_stack;
mod rusqlite_stack;
mod sqlx_stack;
mod tokio_postgres_stack;

use harness::{Args, Backend, Workload};

fn main() {
    let args = Args::parse();
    // One thread: the process is pinned to one core, and every async stack gets the same runtime.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    if args.setup {
        rt.block_on(admin::setup(&args));
        return;
    }
    let supported = match args.stack.as_str() {
        "dbkit" | "sqlx" => true,
        "rusqlite" => args.backend == Backend::Sqlite,
        "tokio-postgres" => args.backend == Backend::Postgres,
        "mysql_async" => args.backend == Backend::Mariadb,
        other => harness::fail(&format!("unknown stack `{other}` in this binary")),
    };
    if !supported {
        harness::fail(&format!("{} does not run on {}", args.stack, args.backend));
    }
    prepare(&rt, &args);
    match args.stack.as_str() {
        "dbkit" => rt.block_on(dbkit_stack::run(&args)),
        "sqlx" => rt.block_on(sqlx_stack::run(&args)),
        "rusqlite" => rusqlite_stack::run(&args),
        "tokio-postgres" => rt.block_on(tokio_postgres_stack::run(&args)),
        "mysql_async" => rt.block_on(mysql_async_stack::run(&args)),
        _ => unreachable!("checked above"),
    }
    if args.workload.writes() {
        rt.block_on(admin::exec(&args, &harness::restore_sql(args.backend)));
    }
}

/// Before a write run: the tables as the setup left them, and for the delete workload the rows it
/// will delete. Untimed, and on a connection of its own, closed before the stack connects.
fn prepare(rt: &tokio::runtime::Runtime, args: &Args) {
    if !args.workload.writes() {
        return;
    }
    let mut statements = harness::restore_sql(args.backend);
    if args.workload == Workload::Delete {
        statements.extend(harness::delete_rows_sql(args.total()));
    }
    rt.block_on(admin::exec(args, &statements));
}
