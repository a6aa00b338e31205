//! Rows per second of batched inserts: dbkit's `XRepository::inserter` (a background task owning
//! the `clickhouse` crate's `Inserter`, fed through a channel) against that crate's `Inserter`
//! written to directly, on the same rows, thresholds and server. Each round inserts `ROWS` rows on
//! each side, back to back, alternating which goes first; the figure is the median per-round
//! ratio of rows per second, dbkit over the crate (goal ≥ 0.95).
//!
//! ```text
//! scripts/servers start && eval "$(scripts/servers env)"
//! taskset -c 1 cargo bench -p dbkit-tests --bench inserter_vs_clickhouse
//! ```

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dbkit::InserterOptions;
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "cht_bench_dbkit", order_by = "(user_id, event_time, id)")]
pub struct Event {
    #[key]
    pub id: u64,
    pub user_id: u64,
    pub event_type: String,
    pub event_data: String,
    pub event_time: DateTime<Utc>,
}

/// The same row, for the crate's inserter.
#[derive(dbkit::clickhouse::Row, serde::Serialize)]
#[clickhouse(crate = "dbkit::clickhouse")]
struct Raw {
    id: u64,
    user_id: u64,
    event_type: String,
    event_data: String,
    #[serde(with = "dbkit::clickhouse::serde::chrono::datetime")]
    event_time: DateTime<Utc>,
}

const ROWS: u64 = 200_000;
const ROUNDS: usize = 30;
const MAX_ROWS: u64 = 100_000;

fn parts(id: u64, at: DateTime<Utc>) -> (u64, String, String, DateTime<Utc>) {
    (id % 1_000, ["click", "view", "buy"][(id % 3) as usize].to_owned(), format!(r#"{{"page":"/p/{id}"}}"#), at)
}

async fn dbkit_round(events: &EventRepository, at: DateTime<Utc>) -> Duration {
    let started = Instant::now();
    let inserter = events.inserter(InserterOptions::new().max_rows(MAX_ROWS).period(None)).unwrap();
    for id in 0..ROWS {
        let (user_id, event_type, event_data, event_time) = parts(id, at);
        inserter.send(NewEvent { id, user_id, event_type, event_data, event_time }).await.unwrap();
    }
    inserter.flush().await.unwrap();
    started.elapsed()
}

async fn crate_round(client: &dbkit::clickhouse::Client, at: DateTime<Utc>) -> Duration {
    let started = Instant::now();
    let mut inserter = client.inserter::<Raw>("cht_bench_raw").with_max_rows(MAX_ROWS).with_period(None);
    for id in 0..ROWS {
        let (user_id, event_type, event_data, event_time) = parts(id, at);
        inserter.write(&Raw { id, user_id, event_type, event_data, event_time }).await.unwrap();
        inserter.commit().await.unwrap();
    }
    inserter.end().await.unwrap();
    started.elapsed()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Ok(url) = std::env::var("DBKIT_TEST_CLICKHOUSE_URL") else {
        eprintln!("skipped: DBKIT_TEST_CLICKHOUSE_URL is not set (eval \"$(scripts/servers env)\")");
        return;
    };
    let db = Database::connect(&url).await.unwrap();
    db.drop_table::<Event>().await.unwrap();
    db.create_table::<Event>().await.unwrap();
    let session = db.clickhouse().unwrap();
    let client = session.client().clone();
    drop(session);
    client.query("DROP TABLE IF EXISTS cht_bench_raw").execute().await.unwrap();
    client.query("CREATE TABLE cht_bench_raw AS cht_bench_dbkit").execute().await.unwrap();
    let events = EventRepository::new(&db);
    let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();

    // Warm-up: connections, allocations.
    dbkit_round(&events, at).await;
    crate_round(&client, at).await;

    let mut ratios = Vec::new();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (d, c) = if round % 2 == 0 {
            let d = dbkit_round(&events, at).await;
            (d, crate_round(&client, at).await)
        } else {
            let c = crate_round(&client, at).await;
            (dbkit_round(&events, at).await, c)
        };
        let rate = |t: Duration| ROWS as f64 / t.as_secs_f64();
        ours.push(rate(d));
        theirs.push(rate(c));
        // Rows per second, dbkit over the crate: time of the crate over time of dbkit.
        ratios.push(c.as_secs_f64() / d.as_secs_f64());
    }
    for values in [&mut ratios, &mut ours, &mut theirs] {
        values.sort_by(f64::total_cmp);
    }
    let n = ROUNDS;
    println!(
        "batched inserts of {ROWS} rows ({MAX_ROWS} per INSERT), {n} rounds: dbkit {:.0} rows/s, clickhouse crate {:.0} rows/s (medians); median ratio dbkit/crate {:.3} (IQR {:.3}–{:.3})",
        ours[n / 2],
        theirs[n / 2],
        ratios[n / 2],
        ratios[n / 4],
        ratios[3 * n / 4],
    );
    db.drop_table::<Event>().await.unwrap();
    client.query("DROP TABLE IF EXISTS cht_bench_raw").execute().await.unwrap();
}
