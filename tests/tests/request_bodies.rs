//! `#[repository(serde)]`: `NewX` and `XPatch` as the request bodies of an API, read from JSON
//! and written to SQLite, PostgreSQL and MariaDB. A patch tells apart a field left out (not set),
//! `null` (set to NULL, or an error naming a NOT NULL field) and a value, for every column kind;
//! a body that does not fit is an error naming the field. And `#[column(on_update = ...)]`: the
//! database sets the column on every update that writes something, never on an empty patch.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use dbkit::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

/// A column of each kind, NOT NULL and nullable. `Serialize` on the model itself is the test's,
/// to compare a stored row with the body that wrote it.
#[derive(Debug, Clone, PartialEq, Repository, serde::Serialize)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "body_profiles", serde)]
pub struct Profile {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub handle: String,
    pub age: i32,
    pub level: i16,
    pub score: f64,
    pub active: bool,
    pub avatar: Vec<u8>,
    pub day: NaiveDate,
    pub clock: NaiveTime,
    pub moment: DateTime<Utc>,
    pub uid: Uuid,
    pub doc: serde_json::Value,
    pub nickname: Option<String>,
    pub visits: Option<i64>,
    pub ratio: Option<f64>,
    pub verified: Option<bool>,
    pub photo: Option<Vec<u8>>,
    pub birthday: Option<NaiveDate>,
    pub seen_at: Option<DateTime<Utc>>,
    pub token: Option<Uuid>,
    pub settings: Option<serde_json::Value>,
    #[column(default = "CURRENT_TIMESTAMP", on_update = "CURRENT_TIMESTAMP")]
    pub updated_at: DateTime<Utc>,
}

#[dbkit::queries]
impl ProfileRepository {
    /// Sets `updated_at` far back, so that a change is seen whatever the clock's resolution
    /// (SQLite's `CURRENT_TIMESTAMP` has whole seconds).
    #[query("UPDATE body_profiles SET updated_at = :at WHERE id = :id")]
    async fn backdate(&self, id: i64, at: DateTime<Utc>) -> dbkit::Result<u64>;
}

/// The control of `on_update`: the same table, `updated_at` a plain column.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "body_profiles")]
pub struct PlainProfile {
    #[key(auto)]
    pub id: i64,
    pub nickname: Option<String>,
    pub updated_at: DateTime<Utc>,
}

const NOT_NULL: [&str; 11] =
    ["handle", "age", "level", "score", "active", "avatar", "day", "clock", "moment", "uid", "doc"];
const NULLABLE: [&str; 9] =
    ["nickname", "visits", "ratio", "verified", "photo", "birthday", "seen_at", "token", "settings"];

/// A create body: every column but the key and `updated_at`, which the database fills.
fn new_body(handle: &str) -> Value {
    json!({
        "handle": handle, "age": 41, "level": -3, "score": 2.5, "active": true, "avatar": [0, 1, 255],
        "day": "2024-02-29", "clock": "23:59:58", "moment": "2024-03-01T12:00:00Z",
        "uid": "6f0c8a36-5b0e-4c8e-9a57-3a1f3a9d2e10", "doc": {"theme": "dark", "tags": ["a", "b"]},
        "nickname": "Ada", "visits": 7, "ratio": 0.25, "verified": false, "photo": [9, 8],
        "birthday": "1990-12-10", "seen_at": "2024-01-01T00:00:01Z",
        "token": "0b7e4b0c-2c44-4a6e-8f0e-6a6f0d1c2b3a", "settings": {"n": 1}
    })
}

/// A patch body setting every column to a new value.
fn full_patch() -> Value {
    json!({
        "handle": "renamed", "age": 42, "level": 7, "score": -1.5, "active": false, "avatar": [7],
        "day": "2025-01-31", "clock": "00:00:01", "moment": "2025-06-30T08:30:00Z",
        "uid": "a3bb189e-8bf9-3888-9912-ace4e6543002", "doc": [1, 2, 3],
        "nickname": "Grace", "visits": 8, "ratio": 0.5, "verified": true, "photo": [],
        "birthday": "1906-12-09", "seen_at": "2025-02-03T04:05:06Z",
        "token": "4c8a1f2e-9d3b-4e5f-a6b7-c8d9e0f1a2b3", "settings": {"n": 2, "o": null}
    })
}

fn patch(body: Value) -> ProfilePatch {
    serde_json::from_value(body).expect("the patch body reads")
}

fn patch_error(body: Value) -> String {
    serde_json::from_value::<ProfilePatch>(body).expect_err("the patch body is refused").to_string()
}

/// What the stored row says about `keys`, as JSON: the same encoding the body used.
fn stored(row: &Profile, keys: impl IntoIterator<Item = &'static str>) -> Value {
    let row = serde_json::to_value(row).unwrap();
    keys.into_iter().map(|k| (k.to_owned(), row[k].clone())).collect::<serde_json::Map<_, _>>().into()
}

#[test]
fn a_create_body_reads_and_writes_as_serde_does() {
    let body = new_body("ada");
    let new: NewProfile = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(new.avatar, [0, 1, 255]);
    assert_eq!(new.birthday, NaiveDate::from_ymd_opt(1990, 12, 10));
    assert_eq!(serde_json::to_value(&new).unwrap(), body, "NewX writes back the body it read");

    // A nullable field may be left out, as with serde's own `Option` fields; a NOT NULL one may not.
    let mut partial = body.clone();
    partial.as_object_mut().unwrap().remove("nickname");
    assert_eq!(serde_json::from_value::<NewProfile>(partial).unwrap().nickname, None);
    for field in NOT_NULL {
        let mut missing = body.clone();
        missing.as_object_mut().unwrap().remove(field);
        let error = serde_json::from_value::<NewProfile>(missing).unwrap_err().to_string();
        assert_eq!(error, format!("missing field `{field}`"));
    }
    // A value of the wrong type names its field; so does an unknown field (a misspelt one is not
    // dropped without a word).
    let mut wrong = body.clone();
    wrong["age"] = json!("forty");
    let error = serde_json::from_value::<NewProfile>(wrong).unwrap_err().to_string();
    assert!(error.starts_with("field `age`: invalid type: string \"forty\", expected i32"), "{error}");
    let mut unknown = body;
    unknown["nick_name"] = json!("x");
    let error = serde_json::from_value::<NewProfile>(unknown).unwrap_err().to_string();
    assert!(error.starts_with("unknown field `nick_name`"), "{error}");
    // `updated_at` is the database's: not a field of the body.
    let error = serde_json::from_str::<NewProfile>(r#"{"updated_at": "2024-01-01T00:00:00Z"}"#).unwrap_err();
    assert!(error.to_string().starts_with("unknown field `updated_at`"), "{error}");
}

#[test]
fn a_patch_body_tells_absent_null_and_value_apart() {
    // Absent: not set.
    let empty = patch(json!({}));
    assert_eq!(serde_json::to_value(&empty).unwrap(), json!({}), "an empty patch sets nothing");
    assert!(empty.age.is_none() && empty.nickname.is_none() && empty.settings.is_none());

    // A value: set, for every column kind.
    let full = patch(full_patch());
    assert_eq!(full.age, Some(42));
    assert_eq!(full.nickname, Some(Some("Grace".to_owned())));
    assert_eq!(full.photo, Some(Some(vec![])));
    assert_eq!(serde_json::to_value(&full).unwrap(), full_patch(), "XPatch writes back the body it read");

    // `null` on a nullable column: set to NULL, which is not "absent"; it writes back as `null`.
    for field in NULLABLE {
        let nulled = serde_json::to_value(patch(json!({ field: null }))).unwrap();
        assert_eq!(nulled, json!({ field: null }), "`{field}: null` is set-to-NULL");
    }
    // `null` on a NOT NULL column: an error naming the field, not a silent "leave it".
    for field in NOT_NULL {
        let error = patch_error(json!({ field: null }));
        assert!(
            error.starts_with(&format!("field `{field}` cannot be null: its column is NOT NULL")),
            "{field}: {error}"
        );
    }
    // The wrong type names the field, nullable or not.
    for (field, value) in [("age", json!(4.5)), ("visits", json!("many")), ("day", json!("yesterday"))] {
        let error = patch_error(json!({ field: value }));
        assert!(error.starts_with(&format!("field `{field}`: ")), "{field}: {error}");
    }
    // From text, serde_json adds where: once.
    let error = serde_json::from_str::<ProfilePatch>(r#"{"age": "x"}"#).err().unwrap().to_string();
    assert_eq!(error, r#"field `age`: invalid type: string "x", expected i32 at line 1 column 11"#);
    let error = serde_json::from_str::<ProfilePatch>(r#"{"age": null}"#).err().unwrap().to_string();
    assert_eq!(
        error,
        "field `age` cannot be null: its column is NOT NULL; leave the field out to keep the stored value at line 1 column 13"
    );
    let error = patch_error(json!({"updated_at": "2024-01-01T00:00:00Z"}));
    assert!(error.starts_with("unknown field `updated_at`"), "the database keeps it: {error}");
    let error = patch_error(json!({"id": 5}));
    assert!(error.starts_with("unknown field `id`"), "the key is not patched: {error}");
}

/// A body read from JSON, written, read back: absent leaves a column, `null` clears it, a value
/// sets it — for every column kind, on `db`.
async fn patch_round_trip(db: &Database) {
    db.drop_table::<Profile>().await.unwrap();
    db.create_table::<Profile>().await.unwrap();
    let profiles = ProfileRepository::new(db);
    let new: NewProfile = serde_json::from_value(new_body("ada")).unwrap();
    let created = profiles.create(&new).await.unwrap();
    let all = NOT_NULL.into_iter().chain(NULLABLE);
    let mut expected = new_body("ada");
    assert_eq!(stored(&created, all.clone()), expected, "{}: the created row is the body", db.backend());

    // Absent: an empty body changes nothing, not even `updated_at`.
    let same = profiles.update(created.id, &patch(json!({}))).await.unwrap().unwrap();
    assert_eq!(same, created, "{}: an empty patch", db.backend());

    // One field of each kind at a time: that column changes, no other.
    let full = full_patch();
    for field in all.clone() {
        let row = profiles.update(created.id, &patch(json!({ field: full[field] }))).await.unwrap().unwrap();
        expected[field] = full[field].clone();
        assert_eq!(stored(&row, all.clone()), expected, "{}: after setting `{field}`", db.backend());
    }
    // `null` on each nullable column clears it, and leaves the rest.
    for field in NULLABLE {
        let row = profiles.update(created.id, &patch(json!({ field: null }))).await.unwrap().unwrap();
        expected[field] = Value::Null;
        assert_eq!(stored(&row, all.clone()), expected, "{}: after clearing `{field}`", db.backend());
    }
    let fetched = profiles.get(created.id).await.unwrap().unwrap();
    assert_eq!(stored(&fetched, all), expected, "{}: read back", db.backend());
    db.drop_table::<Profile>().await.unwrap();
}

/// `updated_at` is set by the database on an update that writes, and left by an empty patch; the
/// control model, without `on_update`, leaves it on both.
async fn on_update_keeps_the_time(db: &Database) {
    db.drop_table::<Profile>().await.unwrap();
    db.create_table::<Profile>().await.unwrap();
    let profiles = ProfileRepository::new(db);
    let new: NewProfile = serde_json::from_value(new_body("grace")).unwrap();
    let id = profiles.create(&new).await.unwrap().id;
    let long_ago = Utc.with_ymd_and_hms(2001, 1, 1, 0, 0, 0).unwrap();
    let before = Utc::now() - chrono::Duration::seconds(5);

    assert_eq!(profiles.backdate(id, long_ago).await.unwrap(), 1);
    let row = profiles.update(id, &ProfilePatch::default()).await.unwrap().unwrap();
    assert_eq!(row.updated_at, long_ago, "{}: an empty patch writes nothing", db.backend());
    let row = profiles.update(id, &patch(json!({"visits": 100}))).await.unwrap().unwrap();
    assert!(row.updated_at >= before, "{}: updated_at advanced to now: {}", db.backend(), row.updated_at);
    assert!(row.updated_at <= Utc::now() + chrono::Duration::seconds(5), "{}: {}", db.backend(), row.updated_at);
    assert_eq!(profiles.get(id).await.unwrap().unwrap().updated_at, row.updated_at);

    // Inside a unit of work, too.
    assert_eq!(profiles.backdate(id, long_ago).await.unwrap(), 1);
    let row = db
        .transaction(async |tx| profiles.in_transaction(tx).update(id, &patch(json!({"visits": 101}))).await)
        .await
        .unwrap()
        .unwrap();
    assert!(row.updated_at >= before, "{}: in a transaction: {}", db.backend(), row.updated_at);

    // The control: without `on_update`, the same kind of update leaves the column as it was.
    assert_eq!(profiles.backdate(id, long_ago).await.unwrap(), 1);
    let plain = PlainProfileRepository::new(db);
    let row = plain.update(id, &PlainProfilePatch { nickname: Some(None), ..Default::default() }).await.unwrap();
    assert_eq!(row.unwrap().updated_at, long_ago, "{}: the control keeps the old time", db.backend());
    db.drop_table::<Profile>().await.unwrap();
}

mod sqlite {
    use super::*;

    async fn db() -> Database {
        Database::connect("sqlite::memory:").await.unwrap()
    }

    #[tokio::test]
    async fn a_patch_body_round_trips_for_every_column_kind() {
        patch_round_trip(&db().await).await;
    }

    #[tokio::test]
    async fn updated_at_advances_on_update_and_not_on_an_empty_patch() {
        on_update_keeps_the_time(&db().await).await;
    }
}

/// PostgreSQL and MariaDB share one table name; each test here runs its two parts in turn.
mod servers {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        let Some(db) = dbkit_tests::connect(dbkit::Backend::Postgres).await else { return };
        patch_round_trip(&db).await;
        on_update_keeps_the_time(&db).await;
    }

    #[tokio::test]
    async fn mariadb() {
        let Some(db) = dbkit_tests::connect(dbkit::Backend::MySql).await else { return };
        patch_round_trip(&db).await;
        on_update_keeps_the_time(&db).await;
    }
}
