//! What a generated repository does, run by the same test code on the same models (each lists
//! SQLite, PostgreSQL and MySQL) against SQLite, PostgreSQL and MariaDB, and on MariaDB again
//! through the path MySQL takes: round trips of every supported type, NULLs, unicode, 1 MB text,
//! injection-looking strings stored literally, unique lookups, pagination, partial updates,
//! deletes, unique clashes classified as integrity errors, all-or-nothing `create_many` (across
//! bind-limit chunks), and concurrent creates.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use dbkit::prelude::*;
use uuid::Uuid;

/// Every column type dbkit maps, plus a reserved-word column, a raw identifier and a
/// database-filled default.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "kitchen_sink")]
pub struct Sink {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub code: String,
    pub small: i16,
    pub int: i32,
    pub big: i64,
    pub ratio: f64,
    pub real: f32,
    pub flag: bool,
    pub body: String,
    pub blob: Vec<u8>,
    pub maybe: Option<String>,
    pub maybe_int: Option<i64>,
    pub day: NaiveDate,
    pub at: NaiveDateTime,
    pub clock: NaiveTime,
    pub moment: DateTime<Utc>,
    pub uid: Uuid,
    pub doc: serde_json::Value,
    #[column(name = "order")]
    pub position: i32,
    pub r#type: String,
    #[column(default = "CURRENT_TIMESTAMP")]
    pub created_at: DateTime<Utc>,
}

/// A narrow model for volume: pagination, chunked batches, concurrency.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "notes")]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
    pub body: Option<String>,
}

/// A model with a caller-supplied key.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "accounts")]
pub struct Account {
    #[key]
    pub id: Uuid,
    pub owner: String,
    pub balance: i64,
}

// The suite is written once, on the models above, and run on each backend's database: the same
// repositories, chosen among their backends at run time.
macro_rules! behaviour_suite {
    ($module:ident, $tables:ident, $connect:expr) => {
        mod $module {
            use super::*;

            async fn db() -> Option<(Database, tokio::sync::MutexGuard<'static, ()>)> {
                let guard = super::$tables.lock().await;
                Some(($connect.await?, guard))
            }

            async fn fresh<M: dbkit::__private::Model>(db: &Database) {
                db.drop_table::<M>().await.unwrap();
                db.create_table::<M>().await.unwrap();
                // Idempotent.
                db.create_table::<M>().await.unwrap();
            }

            fn sink(code: &str) -> NewSink {
                NewSink {
                    code: code.to_owned(),
                    small: -12_345,
                    int: i32::MIN,
                    big: i64::MAX,
                    ratio: 1.0 / 3.0,
                    real: 2.5,
                    flag: true,
                    body: "plain".to_owned(),
                    blob: vec![0, 1, 2, 254, 255],
                    maybe: Some("present".to_owned()),
                    maybe_int: None,
                    day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
                    at: NaiveDate::from_ymd_opt(1999, 12, 31).unwrap().and_hms_micro_opt(23, 59, 58, 123_456).unwrap(),
                    clock: NaiveTime::from_hms_micro_opt(13, 14, 15, 16).unwrap(),
                    moment: Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap(),
                    uid: Uuid::new_v4(),
                    doc: serde_json::json!({"tags": ["a", "b"], "n": 3, "nested": {"ok": true}}),
                    position: 7,
                    r#type: "raw identifier".to_owned(),
                }
            }

            fn assert_matches(stored: &Sink, new: &NewSink) {
                assert_eq!(stored.code, new.code);
                assert_eq!(stored.small, new.small);
                assert_eq!(stored.int, new.int);
                assert_eq!(stored.big, new.big);
                assert_eq!(stored.ratio, new.ratio);
                assert_eq!(stored.real, new.real);
                assert_eq!(stored.flag, new.flag);
                assert_eq!(stored.body, new.body);
                assert_eq!(stored.blob, new.blob);
                assert_eq!(stored.maybe, new.maybe);
                assert_eq!(stored.maybe_int, new.maybe_int);
                assert_eq!(stored.day, new.day);
                assert_eq!(stored.at, new.at);
                assert_eq!(stored.clock, new.clock);
                assert_eq!(stored.moment, new.moment);
                assert_eq!(stored.uid, new.uid);
                assert_eq!(stored.doc, new.doc);
                assert_eq!(stored.position, new.position);
                assert_eq!(stored.r#type, new.r#type);
            }

            #[tokio::test]
            async fn every_type_round_trips_and_defaults_are_read_back() {
                let Some((db, _turn)) = db().await else { return };
                fresh::<Sink>(&db).await;
                let repo = SinkRepository::new(&db);
                let before = Utc::now() - chrono::Duration::minutes(5);
                let new = sink("every-type");
                let created = repo.create(&new).await.unwrap();
                assert!(created.id > 0);
                assert_matches(&created, &new);
                assert!(created.created_at > before, "default read back: {}", created.created_at);
                let fetched = repo.get(created.id).await.unwrap().unwrap();
                assert_eq!(fetched, created);
                assert_eq!(repo.get_by_code("every-type").await.unwrap(), Some(created.clone()));
                assert_eq!(repo.get_by_code("no-such-code").await.unwrap(), None);
                assert_eq!(repo.get(created.id + 1000).await.unwrap(), None);
            }

            #[tokio::test]
            async fn unicode_large_text_and_injection_looking_strings_are_stored_literally() {
                let Some((db, _turn)) = db().await else { return };
                fresh::<Note>(&db).await;
                let repo = NoteRepository::new(&db);
                let megabyte: String = "ß∂ƒ©˙∆˚¬…æ".chars().cycle().take(1 << 20).collect();
                let cases = [
                    ("unicode: 日本語 🦀 Ünïcødé", Some("emoji 👩‍👩‍👧‍👦 and RTL שלום".to_owned())),
                    ("robert'); DROP TABLE notes;--", Some("' OR '1'='1".to_owned())),
                    ("placeholders $1 ? :name %s {}", Some("\\'; \\\\ \" ` \n\t\0x".replace("\0", ""))),
                    ("one megabyte", Some(megabyte)),
                    ("nothing", None),
                ];
                for (title, body) in &cases {
                    let created = repo.create(&NewNote { title: title.to_string(), body: body.clone() }).await.unwrap();
                    let back = repo.get_by_title(title).await.unwrap().unwrap();
                    assert_eq!(back, created);
                    assert_eq!(&back.body, body, "{title}");
                }
                assert_eq!(repo.count().await.unwrap(), cases.len() as u64, "the table survived");
            }

            #[tokio::test]
            async fn list_pages_in_key_order_and_count_counts() {
                let Some((db, _turn)) = db().await else { return };
                fresh::<Account>(&db).await;
                let repo = AccountRepository::new(&db);
                let mut ids: Vec<Uuid> = (0..25).map(|_| Uuid::new_v4()).collect();
                let rows: Vec<NewAccount> =
                    ids.iter().map(|id| NewAccount { id: *id, owner: format!("owner-{id}"), balance: 0 }).collect();
                assert_eq!(repo.create_many(&rows).await.unwrap(), 25);
                assert_eq!(repo.count().await.unwrap(), 25);
                // Ordered by key: the database's order for the key type; compare against our own sort of
                // what the database returns across pages, and check nothing is lost or repeated.
                let mut seen = Vec::new();
                for offset in (0..30).step_by(10) {
                    let page = repo.list(Page::new(offset, 10)).await.unwrap();
                    assert_eq!(page.len(), if offset < 20 { 10 } else { 5 });
                    seen.extend(page.into_iter().map(|a| a.id));
                }
                let all: Vec<Uuid> = repo.list(Page::default()).await.unwrap().into_iter().map(|a| a.id).collect();
                assert_eq!(seen, all, "pages concatenate to the full list");
                ids.sort();
                let mut sorted = all.clone();
                sorted.sort();
                assert_eq!(sorted, ids);
                assert!(repo.list(Page::new(25, 10)).await.unwrap().is_empty());
            }

            #[tokio::test]
            async fn list_is_ordered_by_an_auto_key() {
                let Some((db, _turn)) = db().await else { return };
                fresh::<Note>(&db).await;
                let repo = NoteRepository::new(&db);
                for i in 0..12 {
                    repo.create(&NewNote { title: format!("n{i}"), body: None }).await.unwrap();
                }
                let listed = repo.list(Page::new(2, 5)).await.unwrap();
                let titles: Vec<&str> = listed.iter().map(|n| n.title.as_str()).collect();
                assert_eq!(titles, ["n2", "n3", "n4", "n5", "n6"]);
                assert!(listed.windows(2).all(|w| w[0].id < w[1].id));
            }

            #[tokio::test]
            async fn partial_update_writes_only_the_set_fields() {
                let Some((db, _turn)) = db().await else { return };
                fresh::<Sink>(&db).await;
                let repo = SinkRepository::new(&db);
                let created = repo.create(&sink("patch-me")).await.unwrap();

                // Empty patch: nothing written, the current row returned.
                let same = repo.update(created.id, &SinkPatch::default()).await.unwrap().unwrap();
                assert_eq!(same, created);

                let patch = SinkPatch { body: Some("changed".to_owned()), maybe: Some(None), maybe_int: Some(Some(42)), ..Default::default() };
                let updated = repo.update(created.id, &patch).await.unwrap().unwrap();
                assert_eq!(updated.body, "changed");
                assert_eq!(updated.maybe, None, "Some(None) writes NULL");
                assert_eq!(updated.maybe_int, Some(42));
                let expected = Sink { body: "changed".to_owned(), maybe: None, maybe_int: Some(42), ..created.clone() };
                assert_eq!(updated, expected, "nothing else changed");
                assert_eq!(repo.get(created.id).await.unwrap().unwrap(), expected);

                // A key that does not exist: None, for empty and non-empty patches.
                assert_eq!(repo.update(created.id + 999, &patch).await.unwrap(), None);
                assert_eq!(repo.update(created.id + 999, &SinkPatch::default()).await.unwrap(), None);
            }

            #[tokio::test]
            async fn delete_reports_whether_a_row_went() {
                let Some((db, _turn)) = db().await else { return };
                fresh::<Account>(&db).await;
                let repo = AccountRepository::new(&db);
                let id = Uuid::new_v4();
                repo.create(&NewAccount { id, owner: "o".to_owned(), balance: 10 }).await.unwrap();
                assert!(repo.delete(id).await.unwrap());
                assert!(!repo.delete(id).await.unwrap());
                assert_eq!(repo.get(id).await.unwrap(), None);
            }

            #[tokio::test]
            async fn a_unique_clash_is_an_integrity_error() {
                let Some((db, _turn)) = db().await else { return };
                fresh::<Note>(&db).await;
                let repo = NoteRepository::new(&db);
                repo.create(&NewNote { title: "taken".to_owned(), body: None }).await.unwrap();
                let err = repo.create(&NewNote { title: "taken".to_owned(), body: None }).await.unwrap_err();
                assert_eq!(err.category(), ErrorCategory::Integrity, "{err}");
                assert!(!err.is_retryable());

                let accounts = AccountRepository::new(&db);
                fresh::<Account>(&db).await;
                let id = Uuid::new_v4();
                accounts.create(&NewAccount { id, owner: "a".to_owned(), balance: 1 }).await.unwrap();
                let err = accounts.create(&NewAccount { id, owner: "b".to_owned(), balance: 2 }).await.unwrap_err();
                assert_eq!(err.category(), ErrorCategory::Integrity, "primary key clash: {err}");
            }

            #[tokio::test]
            async fn create_many_is_all_or_nothing_across_chunks() {
                let Some((db, _turn)) = db().await else { return };
                fresh::<Note>(&db).await;
                let repo = NoteRepository::new(&db);
                // More rows than one statement may bind on every backend (2 columns a row: SQLite allows
                // 16 383 rows a statement, PostgreSQL and MySQL 32 767; dbkit sends at most 1000), so
                // the batch spans many chunks.
                let n = 40_000;
                let mut rows: Vec<NewNote> = (0..n).map(|i| NewNote { title: format!("bulk-{i}"), body: Some(i.to_string()) }).collect();
                assert_eq!(repo.create_many(&rows).await.unwrap(), n as u64);
                assert_eq!(repo.count().await.unwrap(), n as u64);
                assert_eq!(repo.get_by_title("bulk-39999").await.unwrap().unwrap().body.as_deref(), Some("39999"));

                // A clash in the last chunk rolls back the earlier chunks too.
                fresh::<Note>(&db).await;
                rows[n - 1].title = "bulk-0".to_owned();
                let err = repo.create_many(&rows).await.unwrap_err();
                assert_eq!(err.category(), ErrorCategory::Integrity, "{err}");
                assert_eq!(repo.count().await.unwrap(), 0, "nothing from the failed batch is kept");

                assert_eq!(repo.create_many(&[]).await.unwrap(), 0);
            }

            #[tokio::test]
            async fn thirty_two_tasks_create_concurrently() {
                let Some((db, _turn)) = db().await else { return };
                fresh::<Note>(&db).await;
                let repo = NoteRepository::new(&db);
                let tasks: Vec<_> = (0..32)
                    .map(|task| {
                        let repo = repo.clone();
                        tokio::spawn(async move {
                            let mut ids = Vec::new();
                            for i in 0..10 {
                                let note = repo.create(&NewNote { title: format!("t{task}-{i}"), body: None }).await.unwrap();
                                ids.push(note.id);
                            }
                            ids
                        })
                    })
                    .collect();
                let mut ids = Vec::new();
                for task in tasks {
                    ids.extend(task.await.unwrap());
                }
                ids.sort_unstable();
                ids.dedup();
                assert_eq!(ids.len(), 320, "every create got its own key");
                assert_eq!(repo.count().await.unwrap(), 320);
                assert_eq!(db.sessions_in_flight(), 0);
            }

            #[tokio::test]
            async fn from_manager_resolves_the_backend_name() {
                let Some((db, _turn)) = db().await else { return };
                let manager = DatabaseManager::new();
                // With none of its backends registered, the error names the first one listed.
                let err = NoteRepository::from_manager(&manager).unwrap_err();
                assert!(err.to_string().contains("no database named `sqlite`"), "{err}");
                // Registered under its backend's name, the database is found among the three.
                let named = Database::connect_named(db.backend().name(), db.config().clone()).await.unwrap();
                manager.insert(named).unwrap();
                let repo = NoteRepository::from_manager(&manager).unwrap();
                fresh::<Note>(repo.database()).await;
                assert_eq!(repo.count().await.unwrap(), 0);
            }
        }
    };
}

/// The tests on one server share its tables, so they take turns (SQLite's in-memory databases are
/// private to each test, but take turns too, for simplicity).
static SQLITE_TABLES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static POSTGRES_TABLES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static MARIADB_TABLES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

behaviour_suite!(sqlite, SQLITE_TABLES, dbkit_tests::connect(dbkit::Backend::Sqlite));
behaviour_suite!(postgres, POSTGRES_TABLES, dbkit_tests::connect(dbkit::Backend::Postgres));
behaviour_suite!(mariadb, MARIADB_TABLES, dbkit_tests::connect(dbkit::Backend::MySql));
// MySQL has no `INSERT … RETURNING`: run the suite on MariaDB through the path MySQL takes (insert,
// then read back in the same transaction), since no MySQL server can be installed here.
behaviour_suite!(
    mysql_without_returning,
    MARIADB_TABLES,
    dbkit_tests::connect_configured(dbkit::Backend::MySql, |c| c.mysql_insert_returning(false))
);
