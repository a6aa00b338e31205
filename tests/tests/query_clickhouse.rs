//! `#[dbkit::queries]` on ClickHouse models against a real server (Debian's 18.16 in CI): the
//! seed's analytics query — activity per user per day over a range — on 100 000 events checked
//! against a count done in Rust; results decoded from `RowBinary` as models, tuples and scalars,
//! aggregates included; and hostile values, bound with the crate's escaping on 18.16 and as
//! server-side parameters where the server has them, stored and compared literally.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use dbkit::prelude::*;
use dbkit::{Backend, Model};
use dbkit_tests::{connect, connect_configured};

/// The seed's `user_events`: who did what, when, with a JSON payload.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "chq_user_events")]
pub struct UserEvent {
    #[key]
    pub id: u64,
    pub user_id: i64,
    pub event_type: String,
    pub event_data: serde_json::Value,
    pub event_time: DateTime<Utc>,
}

#[dbkit::queries]
impl UserEventRepository {
    /// The seed's `AnalyticsRepository.get_user_activity`, without its f-string.
    #[query(
        "SELECT user_id, toDate(event_time) AS day, count() AS activity_count
         FROM chq_user_events
         WHERE event_time BETWEEN :start AND :end
         GROUP BY user_id, toDate(event_time)
         ORDER BY day DESC, user_id"
    )]
    pub async fn get_user_activity(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> dbkit::Result<Vec<(i64, NaiveDate, u64)>>;

    /// ClickHouse's common aggregates, each decoded by its own type.
    #[query(
        "SELECT count(), uniq(event_type), sum(user_id), avg(user_id), quantile(0.5)(user_id),
                min(event_time), toStartOfHour(max(event_time)), max(event_type)
         FROM chq_user_events WHERE user_id = :user_id"
    )]
    pub async fn summary(
        &self,
        user_id: i64,
    ) -> dbkit::Result<(u64, u64, i64, f64, f64, DateTime<Utc>, DateTime<Utc>, String)>;

    #[query("SELECT count() FROM chq_user_events WHERE toDate(event_time) = :day")]
    pub async fn count_on(&self, day: NaiveDate) -> dbkit::Result<u64>;
}

/// Where hostile values go: one row per value, found again by it.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "chq_tagged")]
pub struct Tagged {
    #[key]
    pub id: u64,
    pub tag: String,
    pub day: NaiveDate,
    pub payload: serde_json::Value,
    pub note: Option<String>,
}

#[dbkit::queries]
impl TaggedRepository {
    #[query("SELECT * FROM chq_tagged WHERE tag = :tag ORDER BY id")]
    pub async fn by_tag(&self, tag: &str) -> dbkit::Result<Vec<Tagged>>;

    #[query("SELECT id, tag FROM chq_tagged WHERE payload = :payload ORDER BY id LIMIT 1")]
    pub async fn first_with_payload(&self, payload: &serde_json::Value) -> dbkit::Result<Option<(u64, String)>>;

    #[query("SELECT count() FROM chq_tagged WHERE day >= :since AND note = :note")]
    pub async fn count_since(&self, since: NaiveDate, note: Option<&str>) -> dbkit::Result<u64>;

    #[query("SELECT count() FROM chq_tagged WHERE tag LIKE :pattern OR tag = '?'")]
    pub async fn count_like(&self, pattern: String) -> dbkit::Result<u64>;
}

async fn fresh<M: Model>(db: &Database) {
    db.drop_table::<M>().await.unwrap();
    db.create_table::<M>().await.unwrap();
}

/// A small deterministic generator: the test needs spread, not randomness.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[tokio::test]
async fn activity_per_user_per_day_matches_a_count_in_rust() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    fresh::<UserEvent>(&db).await;
    let repo = UserEventRepository::new(&db);

    // 100 000 events of 200 users over 30 days of January 2024.
    let origin = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let mut lcg = Lcg(7);
    let kinds = ["login", "view", "click", "purchase"];
    let events: Vec<NewUserEvent> = (0..100_000u64)
        .map(|id| NewUserEvent {
            id,
            user_id: lcg.next(200) as i64 + 1,
            event_type: kinds[lcg.next(4) as usize].to_owned(),
            event_data: serde_json::json!({ "page": lcg.next(50), "ok": true }),
            event_time: origin + Duration::seconds(lcg.next(30 * 86_400) as i64),
        })
        .collect();
    let started = Instant::now();
    assert_eq!(repo.create_many(&events).await.unwrap(), 100_000);
    eprintln!("create_many: 100000 events in {:?}", started.elapsed());

    // A range that starts and ends inside a day: both ends inclusive, as `BETWEEN` is.
    let start = Utc.with_ymd_and_hms(2024, 1, 5, 12, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2024, 1, 20, 6, 30, 0).unwrap();
    let started = Instant::now();
    let activity = repo.get_user_activity(start, end).await.unwrap();
    eprintln!("get_user_activity: {} rows in {:?}", activity.len(), started.elapsed());

    let mut expected: BTreeMap<(std::cmp::Reverse<NaiveDate>, i64), u64> = BTreeMap::new();
    for event in events.iter().filter(|e| e.event_time >= start && e.event_time <= end) {
        *expected.entry((std::cmp::Reverse(event.event_time.date_naive()), event.user_id)).or_default() += 1;
    }
    let expected: Vec<(i64, NaiveDate, u64)> =
        expected.into_iter().map(|((std::cmp::Reverse(day), user), n)| (user, day, n)).collect();
    assert_eq!(activity.len(), expected.len());
    assert_eq!(activity, expected, "ordered by day descending, then user");
    assert!(activity.iter().map(|(_, _, n)| n).sum::<u64>() > 40_000);

    // An empty range is no rows, not an error.
    assert!(repo.get_user_activity(end, start).await.unwrap().is_empty());

    let day = NaiveDate::from_ymd_opt(2024, 1, 9).unwrap();
    let on_day = events.iter().filter(|e| e.event_time.date_naive() == day).count() as u64;
    assert_eq!(repo.count_on(day).await.unwrap(), on_day);

    // ClickHouse's common aggregates, each decoded by its own type, on a user of three events.
    let at = |h: u32, m: u32| Utc.with_ymd_and_hms(2030, 6, 1, h, m, 7).unwrap();
    let user_id = 1_000_000;
    let rows = [(1_000_001u64, "a", at(9, 5)), (1_000_002, "b", at(10, 59)), (1_000_003, "b", at(10, 1))];
    let events: Vec<NewUserEvent> = rows
        .iter()
        .map(|&(id, kind, event_time)| NewUserEvent {
            id,
            user_id,
            event_type: kind.to_owned(),
            event_data: serde_json::json!({}),
            event_time,
        })
        .collect();
    repo.create_many(&events).await.unwrap();
    let (count, kinds, sum, avg, median, first, last_hour, max_kind) = repo.summary(user_id).await.unwrap();
    assert_eq!((count, kinds, sum), (3, 2, 3 * user_id));
    assert_eq!(avg, user_id as f64);
    assert_eq!(median, user_id as f64);
    assert_eq!(first, at(9, 5));
    assert_eq!(last_hour, Utc.with_ymd_and_hms(2030, 6, 1, 10, 0, 0).unwrap());
    assert_eq!(max_kind, "b");
}

/// Values that would break out of a quoted literal, or of a server-side parameter, if spliced.
const HOSTILE: [&str; 8] = [
    "2024-01-01' OR 1=1 --",
    "x' OR '1'='1",
    r"back\slash\' OR 1=1 --",
    "trailing backslash \\",
    "a?b ?? ?fields",
    "{p0:String} `tick` \"dq\"",
    "tab\tnew\nline\r\0nul",
    "ünïcödé ✓ '); DROP TABLE chq_tagged; --",
];

async fn hostile_values_are_literal(db: &Database) {
    let repo = TaggedRepository::new(db);
    let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    // Ids from the process, so two connections' runs do not meet.
    let base = u64::from(std::process::id()) * 100 + if db.clickhouse_query_parameters() { 50 } else { 0 };
    let rows: Vec<NewTagged> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, text)| NewTagged {
            id: base + i as u64,
            tag: format!("{base}:{text}"),
            day,
            payload: serde_json::json!({ "text": text, "n": i }),
            note: Some((*text).to_owned()),
        })
        .collect();
    repo.create_many(&rows).await.unwrap();

    for (i, text) in HOSTILE.iter().enumerate() {
        let tag = format!("{base}:{text}");
        let found = repo.by_tag(&tag).await.unwrap();
        assert_eq!(found.len(), 1, "{text:?}: exactly its own row, not every row");
        assert_eq!(found[0].tag, tag);
        assert_eq!(found[0].note.as_deref(), Some(*text));
        let payload = serde_json::json!({ "text": text, "n": i });
        assert_eq!(repo.first_with_payload(&payload).await.unwrap(), Some((base + i as u64, tag.clone())));
        // The hostile text alone matches no tag (each is prefixed), and as a date-like value too.
        assert!(repo.by_tag(text).await.unwrap().is_empty(), "{text:?}");
        assert!(repo.count_since(day, Some(text)).await.unwrap() >= 1, "{text:?}");
    }
    assert_eq!(repo.count_since(day, None).await.unwrap(), 0, "`= NULL` matches nothing");
    // `LIKE` patterns are values too: `%` matches, the hostile text does not widen it.
    assert_eq!(repo.count_like(format!("{base}:%")).await.unwrap(), HOSTILE.len() as u64);
    // Literally: the two tags that end in `' OR 1=1 --`, not every row.
    assert_eq!(repo.count_like(format!("{base}:%' OR 1=1 --")).await.unwrap(), 2);
}

#[tokio::test]
async fn hostile_values_are_bound_not_spliced() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    fresh::<Tagged>(&db).await;
    eprintln!(
        "server {}: {}",
        db.server_version(),
        if db.clickhouse_query_parameters() { "server-side parameters" } else { "the crate's escaping" }
    );
    // The way this server binds, then the crate's escaping forced (the same on 18.16).
    hostile_values_are_literal(&db).await;
    let escaped = connect_configured(Backend::ClickHouse, |c| c.clickhouse_query_parameters(false)).await.unwrap();
    if db.clickhouse_query_parameters() {
        hostile_values_are_literal(&escaped).await;
    }

    // The control: server-side parameters forced onto a server without them fail, so the
    // version check is what makes the queries above work on 18.16.
    if !db.clickhouse_query_parameters() {
        let forced = connect_configured(Backend::ClickHouse, |c| c.clickhouse_query_parameters(true)).await.unwrap();
        let error = TaggedRepository::new(&forced).by_tag("x").await.unwrap_err();
        eprintln!("server-side parameters on {}: {error}", db.server_version());
        assert!(error.to_string().contains("param_p0"), "{error}");
    }
}
