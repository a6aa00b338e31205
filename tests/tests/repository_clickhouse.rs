//! A `#[database(clickhouse)]` repository against a real server (Debian's 18.16 in CI): the DDL
//! is idempotent, `create_many` streams large batches as `RowBinary` in several `INSERT`s, `list`
//! pages in key order, `get` and `get_by_<unique>` find rows by values sent as escaped literals,
//! and every supported type, `Nullable` included, round-trips, with unicode and injection-looking
//! text stored literally.
//!
//! Each test has its own table, so they run in parallel.

use chrono::{DateTime, NaiveDate, Utc};
use dbkit::prelude::*;
use dbkit::{Backend, ErrorCategory, Model};
use dbkit_tests::connect;
use uuid::Uuid;

/// Every type of the ClickHouse type table, nullable and not.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "rc_every_type")]
pub struct EveryType {
    #[key]
    pub id: u64,
    #[unique]
    pub name: String,
    pub i8: i8,
    pub i16: i16,
    pub i32: i32,
    pub i64: i64,
    pub u8: u8,
    pub u16: u16,
    pub u32: u32,
    pub f32: f32,
    pub f64: f64,
    pub flag: bool,
    pub bytes: Vec<u8>,
    pub day: NaiveDate,
    pub at: DateTime<Utc>,
    pub uuid: Uuid,
    pub doc: serde_json::Value,
    pub maybe_text: Option<String>,
    pub maybe_int: Option<i32>,
    pub maybe_day: Option<NaiveDate>,
    pub maybe_at: Option<DateTime<Utc>>,
    pub maybe_uuid: Option<Uuid>,
    pub maybe_doc: Option<serde_json::Value>,
    #[column(name = "order")]
    pub r#type: String,
}

/// A log of events keyed by a caller-supplied id, with a database default.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "rc_events")]
pub struct Event {
    #[key]
    pub id: u64,
    #[unique]
    pub code: String,
    pub value: f64,
    #[column(default = "now()")]
    pub received_at: DateTime<Utc>,
}

/// For the DDL test alone.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "rc_ddl")]
pub struct Ddl {
    #[key]
    pub id: u64,
    pub note: Option<String>,
}

/// A column filled by the database.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "rc_stamped")]
pub struct Stamped {
    #[key]
    pub id: i32,
    #[column(default = "CURRENT_TIMESTAMP")]
    pub received_at: DateTime<Utc>,
    pub note: String,
}

/// Keys and unique values of the types that need a conversion in the lookup.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "rc_lookups")]
pub struct Lookup {
    #[key]
    pub id: Uuid,
    #[unique]
    pub tag: Vec<u8>,
    #[unique]
    pub day: NaiveDate,
    #[unique]
    pub at: DateTime<Utc>,
    #[unique]
    pub active: bool,
}

/// Rows for the bulk test, in a table of their own.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(table = "rc_bulk")]
pub struct Bulk {
    #[key]
    pub id: u64,
    pub label: String,
    pub amount: i64,
}

async fn fresh<M: Model>(db: &Database) {
    db.drop_table::<M>().await.unwrap();
    db.create_table::<M>().await.unwrap();
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

fn every_type(id: u64, name: &str) -> NewEveryType {
    NewEveryType {
        id,
        name: name.to_owned(),
        i8: i8::MIN,
        i16: i16::MIN,
        i32: i32::MIN,
        i64: i64::MIN,
        u8: u8::MAX,
        u16: u16::MAX,
        u32: u32::MAX,
        f32: 1.5,
        f64: -2.25e300,
        flag: true,
        bytes: vec![0, 1, 0xfe, 0xff, b'\'', b'\\'],
        day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
        at: at(1_700_000_000),
        uuid: Uuid::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210),
        doc: serde_json::json!({"k": [1, "two", null], "ü": true}),
        maybe_text: Some("Ünïcödé 🦀 — 日本語".to_owned()),
        maybe_int: Some(-7),
        maybe_day: Some(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()),
        maybe_at: Some(at(0)),
        maybe_uuid: Some(Uuid::nil()),
        maybe_doc: Some(serde_json::json!([])),
        r#type: "reserved".to_owned(),
    }
}

fn stored(new: &NewEveryType) -> EveryType {
    let n = new.clone();
    EveryType {
        id: n.id,
        name: n.name,
        i8: n.i8,
        i16: n.i16,
        i32: n.i32,
        i64: n.i64,
        u8: n.u8,
        u16: n.u16,
        u32: n.u32,
        f32: n.f32,
        f64: n.f64,
        flag: n.flag,
        bytes: n.bytes,
        day: n.day,
        at: n.at,
        uuid: n.uuid,
        doc: n.doc,
        maybe_text: n.maybe_text,
        maybe_int: n.maybe_int,
        maybe_day: n.maybe_day,
        maybe_at: n.maybe_at,
        maybe_uuid: n.maybe_uuid,
        maybe_doc: n.maybe_doc,
        r#type: n.r#type,
    }
}

#[tokio::test]
async fn create_table_and_drop_table_are_idempotent() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    db.drop_table::<Ddl>().await.unwrap();
    db.drop_table::<Ddl>().await.unwrap();
    db.create_table::<Ddl>().await.unwrap();
    db.create_table::<Ddl>().await.unwrap();
    let repo = DdlRepository::new(&db);
    assert_eq!(repo.count().await.unwrap(), 0);
    repo.create_many(&[NewDdl { id: 1, note: None }]).await.unwrap();
    db.create_table::<Ddl>().await.unwrap();
    assert_eq!(repo.count().await.unwrap(), 1, "an existing table is left as it is");
    db.drop_table::<Ddl>().await.unwrap();
    let err = repo.count().await.unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Permanent, "the table is gone: {err}");
    assert_eq!(db.sessions_in_flight(), 0);
}

#[tokio::test]
async fn every_type_round_trips() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    fresh::<EveryType>(&db).await;
    let repo = EveryTypeRepository::new(&db);

    let full = every_type(1, "full");
    let mut nulls = every_type(2, "nulls");
    nulls.maybe_text = None;
    nulls.maybe_int = None;
    nulls.maybe_day = None;
    nulls.maybe_at = None;
    nulls.maybe_uuid = None;
    nulls.maybe_doc = None;
    let mut extremes = every_type(3, "");
    extremes.i8 = i8::MAX;
    extremes.i64 = i64::MAX;
    extremes.u8 = 0;
    extremes.flag = false;
    extremes.bytes = Vec::new();
    extremes.f64 = f64::MIN_POSITIVE;
    extremes.at = at(i64::from(u32::MAX));
    extremes.maybe_text = Some(String::new());
    extremes.doc = serde_json::Value::Null;

    let rows = [full.clone(), nulls.clone(), extremes.clone()];
    assert_eq!(repo.create_many(&rows).await.unwrap(), 3);
    assert_eq!(repo.count().await.unwrap(), 3);
    let listed = repo.list(Page::default()).await.unwrap();
    assert_eq!(listed, rows.iter().map(stored).collect::<Vec<_>>());
    assert_eq!(repo.get(2).await.unwrap(), Some(stored(&nulls)));
    assert_eq!(repo.get_by_name("").await.unwrap(), Some(stored(&extremes)));
    assert_eq!(repo.get(4).await.unwrap(), None);
    db.drop_table::<EveryType>().await.unwrap();
}

#[tokio::test]
async fn text_is_stored_and_looked_up_literally() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    fresh::<Event>(&db).await;
    let events = EventRepository::new(&db);
    let codes = [
        "'; DROP TABLE rc_events; --",
        "\\' OR 1=1 --",
        "a?b ?? ?fields {x:UInt8}",
        "back`tick\\",
        "tab\tnew\nline\r\0nul",
        "Ünïcödé 🦀 日本語",
        "",
    ];
    let rows: Vec<NewEvent> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| NewEvent { id: i as u64, code: (*code).to_owned(), value: 0.5 })
        .collect();
    assert_eq!(events.create_many(&rows).await.unwrap(), codes.len() as u64);
    for (i, code) in codes.iter().enumerate() {
        let found = events.get_by_code(code).await.unwrap().unwrap_or_else(|| panic!("{code:?} not found"));
        assert_eq!((found.id, found.code.as_str()), (i as u64, *code));
    }
    assert_eq!(events.get_by_code("' OR '1'='1").await.unwrap(), None);
    assert_eq!(events.count().await.unwrap(), codes.len() as u64, "the table is intact");
    db.drop_table::<Event>().await.unwrap();
}

#[tokio::test]
async fn a_database_default_is_filled_and_read_back() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    fresh::<Stamped>(&db).await;
    let repo = StampedRepository::new(&db);
    let before = Utc::now().timestamp();
    repo.create_many(&[NewStamped { id: 7, note: "seven".into() }]).await.unwrap();
    let after = Utc::now().timestamp();
    let seven = repo.get(7).await.unwrap().unwrap();
    assert_eq!(seven.note, "seven");
    let filled = seven.received_at.timestamp();
    assert!((before - 1..=after + 1).contains(&filled), "{before} <= {filled} <= {after}");
    db.drop_table::<Stamped>().await.unwrap();
}

#[tokio::test]
async fn lookups_by_uuid_bytes_date_time_and_bool() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    fresh::<Lookup>(&db).await;
    let repo = LookupRepository::new(&db);
    let one = NewLookup {
        id: Uuid::new_v4(),
        tag: vec![0x00, 0x27, 0x5c, 0xff],
        day: NaiveDate::from_ymd_opt(2001, 9, 9).unwrap(),
        at: at(1_000_000_000),
        active: true,
    };
    let two = NewLookup {
        id: Uuid::new_v4(),
        tag: b"plain".to_vec(),
        day: NaiveDate::from_ymd_opt(2038, 1, 19).unwrap(),
        at: at(2_147_483_648),
        active: false,
    };
    repo.create_many(&[one.clone(), two.clone()]).await.unwrap();
    let found = repo.get(one.id).await.unwrap().unwrap();
    assert_eq!(found.tag, one.tag);
    assert_eq!(repo.get_by_tag(&one.tag).await.unwrap().map(|l| l.id), Some(one.id));
    assert_eq!(repo.get_by_tag(b"plain").await.unwrap().map(|l| l.id), Some(two.id));
    assert_eq!(repo.get_by_day(two.day).await.unwrap().map(|l| l.id), Some(two.id));
    assert_eq!(repo.get_by_at(one.at).await.unwrap().map(|l| l.id), Some(one.id));
    assert_eq!(repo.get_by_at(two.at).await.unwrap().map(|l| l.day), Some(two.day));
    assert_eq!(repo.get_by_active(false).await.unwrap().map(|l| l.id), Some(two.id));
    assert_eq!(repo.get(Uuid::nil()).await.unwrap(), None);
    assert_eq!(repo.get_by_tag(&[]).await.unwrap(), None);
    db.drop_table::<Lookup>().await.unwrap();
}

#[tokio::test]
async fn create_many_streams_large_batches_and_list_pages_in_key_order() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    fresh::<Bulk>(&db).await;
    let repo = BulkRepository::new(&db);
    assert_eq!(repo.create_many(&[]).await.unwrap(), 0);

    // 250 000 rows: three `INSERT`s of at most 100 000, given in reverse key order.
    let total: u64 = 250_000;
    let rows: Vec<NewBulk> =
        (0..total).rev().map(|id| NewBulk { id, label: format!("row {id}"), amount: id as i64 * -3 }).collect();
    assert_eq!(repo.create_many(&rows).await.unwrap(), total);
    assert_eq!(repo.count().await.unwrap(), total);

    let first = repo.list(Page::new(0, 3)).await.unwrap();
    assert_eq!(first.iter().map(|b| b.id).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(first[2], Bulk { id: 2, label: "row 2".into(), amount: -6 });
    let page = repo.list(Page::new(123_456, 1000)).await.unwrap();
    assert_eq!(page.len(), 1000);
    assert!(page.iter().zip(123_456..).all(|(b, id)| b.id == id && b.label == format!("row {id}")));
    let last = repo.list(Page::new(total - 2, 10)).await.unwrap();
    assert_eq!(last.iter().map(|b| b.id).collect::<Vec<_>>(), [total - 2, total - 1]);
    assert!(repo.list(Page::new(total, 10)).await.unwrap().is_empty());
    assert!(repo.list(Page::new(0, 0)).await.unwrap().is_empty());
    assert_eq!(repo.list(Page::new(u64::MAX, u64::MAX)).await.unwrap(), []);

    assert_eq!(repo.get(199_999).await.unwrap().map(|b| b.amount), Some(-599_997));
    db.drop_table::<Bulk>().await.unwrap();
}

#[tokio::test]
async fn the_repository_resolves_from_the_manager() {
    let Some(db) = connect(Backend::ClickHouse).await else { return };
    let manager = DatabaseManager::new();
    manager.insert(db.clone()).unwrap();
    let repo = LookupRepository::from_manager(&manager).unwrap();
    assert_eq!(repo.database().backend(), Backend::ClickHouse);
}
