//! A model that lists several backends: its repository runs on whichever of them its database is,
//! custom queries included; on a database of a backend it does not list, every call fails before
//! anything is sent, with an error naming both; and `from_manager` finds its database among the
//! registered ones, refusing to guess between two.

use dbkit::prelude::*;
use dbkit::{Backend, Model};

/// On SQLite and PostgreSQL: the control, on the same table as `ServerNote`.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "several_notes")]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
    pub body: Option<String>,
}

#[dbkit::queries]
impl NoteRepository {
    #[query("SELECT * FROM several_notes WHERE title LIKE :pattern ORDER BY id")]
    async fn titled_like(&self, pattern: &str) -> dbkit::Result<Vec<Note>>;

    #[query("SELECT COUNT(*) FROM several_notes WHERE id IN (:ids)")]
    async fn count_of(&self, ids: &[i64]) -> dbkit::Result<u64>;

    #[query("UPDATE several_notes SET body = :body WHERE title = :title")]
    async fn set_body(&self, title: &str, body: &str) -> dbkit::Result<u64>;
}

/// The same table, on backends that are not SQLite.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres, mysql)]
#[repository(table = "several_notes")]
pub struct ServerNote {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
    pub body: Option<String>,
}

#[dbkit::queries]
impl ServerNoteRepository {
    #[query("SELECT COUNT(*) FROM several_notes")]
    async fn count_all(&self) -> dbkit::Result<u64>;
}

/// Resolved by name from a manager.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres, mysql, name = "main")]
#[repository(table = "several_notes")]
pub struct MainNote {
    #[key(auto)]
    pub id: i64,
    pub title: String,
}

/// The control of `MainNote`: the same name, on a list that includes SQLite.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(mysql, sqlite, name = "main")]
#[repository(table = "several_notes")]
pub struct MainLocalNote {
    #[key(auto)]
    pub id: i64,
    pub title: String,
}

fn is_mismatch(error: &Error, what: &str, expected: &[Backend], actual: Backend) -> bool {
    matches!(error, Error::BackendMismatch { what: w, expected: e, actual: a, .. }
        if *w == what && e.as_slice() == expected && *a == actual)
}

/// Everything generated for `Note`, run on `db`; the same code for every backend.
async fn exercise(db: &Database) {
    db.drop_table::<Note>().await.unwrap();
    db.create_table::<Note>().await.unwrap();
    assert!(db.verify_schema::<Note>().await.unwrap().is_empty(), "the {} DDL matches its columns", db.backend());
    let notes = NoteRepository::new(db);
    let a = notes.create(&NewNote { title: "alpha".into(), body: None }).await.unwrap();
    let written = notes
        .create_many(&[
            NewNote { title: "beta".into(), body: Some("b".into()) },
            NewNote { title: "gamma".into(), body: None },
        ])
        .await
        .unwrap();
    assert_eq!(written, 2);
    assert_eq!(notes.get(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(notes.get_by_title("beta").await.unwrap().unwrap().body.as_deref(), Some("b"));
    assert_eq!(notes.count().await.unwrap(), 3);
    let page = notes.list(Page::new(1, 10)).await.unwrap();
    assert_eq!(page.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["beta", "gamma"]);
    let patch = NotePatch { body: Some(Some("a".into())), ..Default::default() };
    assert_eq!(notes.update(a.id, &patch).await.unwrap().unwrap().body.as_deref(), Some("a"));
    assert_eq!(notes.set_body("gamma", "g").await.unwrap(), 1);
    let like = notes.titled_like("%a").await.unwrap();
    assert_eq!(like.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["alpha", "beta", "gamma"]);
    assert_eq!(notes.count_of(&[a.id, a.id + 1000]).await.unwrap(), 1);
    assert!(notes.delete(a.id).await.unwrap());
    assert_eq!(notes.count().await.unwrap(), 2);
    db.drop_table::<Note>().await.unwrap();
}

#[tokio::test]
async fn one_model_runs_on_sqlite() {
    exercise(&Database::connect("sqlite::memory:").await.unwrap()).await;
}

#[tokio::test]
async fn one_model_runs_on_postgres() {
    let Some(db) = dbkit_tests::connect(Backend::Postgres).await else { return };
    exercise(&db).await;
}

#[tokio::test]
async fn one_model_runs_on_mariadb() {
    let Some(db) = dbkit_tests::connect(Backend::MySql).await else { return };
    exercise(&db).await;
}

#[tokio::test]
async fn a_repository_on_a_backend_its_model_does_not_list_fails_before_sending_anything() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    // The control: a model that lists SQLite runs on it, on the very table `ServerNote` maps.
    db.create_table::<Note>().await.unwrap();
    let note = NoteRepository::new(&db).create(&NewNote { title: "kept".into(), body: None }).await.unwrap();

    let expected = [Backend::Postgres, Backend::MySql];
    let check = |error: Error| {
        assert!(is_mismatch(&error, "ServerNoteRepository", &expected, Backend::Sqlite), "{error:?}");
        assert_eq!(error.to_string(), "ServerNoteRepository is for postgres or mysql, but database `sqlite` is sqlite");
        assert_eq!(error.category(), ErrorCategory::Permanent);
        assert!(!error.is_retryable());
    };
    let server = ServerNoteRepository::new(&db);
    check(server.get(note.id).await.unwrap_err());
    check(server.get_by_title("kept").await.unwrap_err());
    check(server.list(Page::default()).await.unwrap_err());
    check(server.count().await.unwrap_err());
    check(server.count_all().await.unwrap_err());
    check(server.create(&NewServerNote { title: "new".into(), body: None }).await.unwrap_err());
    check(server.create_many(&[NewServerNote { title: "new".into(), body: None }]).await.unwrap_err());
    let patch = ServerNotePatch { title: Some("changed".into()), ..Default::default() };
    check(server.update(note.id, &patch).await.unwrap_err());
    check(server.delete(note.id).await.unwrap_err());
    assert_eq!(db.sessions_in_flight(), 0);

    // Nothing reached the table: the row is as the control wrote it, and alone.
    let notes = NoteRepository::new(&db);
    assert_eq!(notes.get(note.id).await.unwrap(), Some(note));
    assert_eq!(notes.count().await.unwrap(), 1);

    // Table-level calls refuse the same way, naming the call.
    let error = db.create_table::<ServerNote>().await.unwrap_err();
    assert!(is_mismatch(&error, "create_table", &expected, Backend::Sqlite), "{error:?}");
    let error = db.verify_schema::<ServerNote>().await.unwrap_err();
    assert!(is_mismatch(&error, "verify_schema", &expected, Backend::Sqlite), "{error:?}");
    let error = db.drop_table::<ServerNote>().await.unwrap_err();
    assert!(is_mismatch(&error, "drop_table", &expected, Backend::Sqlite), "{error:?}");
    assert_eq!(notes.count().await.unwrap(), 1, "the table is still there");
}

#[test]
fn the_model_carries_a_table_per_backend_in_the_order_listed() {
    assert_eq!(Note::backends(), [Backend::Sqlite, Backend::Postgres, Backend::MySql]);
    assert!(Note::table_on(Backend::Sqlite).unwrap().create_table.contains(r#""several_notes""#));
    assert!(Note::table_on(Backend::MySql).unwrap().create_table.contains("AUTO_INCREMENT"));
    assert!(Note::table_on(Backend::Postgres).unwrap().create_table.contains("GENERATED BY DEFAULT AS IDENTITY"));
    assert!(Note::table_on(Backend::ClickHouse).is_none());
    assert_eq!(ServerNote::backends(), [Backend::Postgres, Backend::MySql]);
}

async fn manager_with(databases: &[(&str, &str)]) -> DatabaseManager {
    let manager = DatabaseManager::new();
    for (name, url) in databases {
        manager.register(name, DatabaseConfig::from_url(url).unwrap()).unwrap();
    }
    manager
}

#[tokio::test]
async fn from_manager_takes_the_one_listed_backend_that_is_registered() {
    let manager = manager_with(&[("sqlite", "sqlite::memory:"), ("orders", "sqlite::memory:")]).await;
    manager.connect_all().await.unwrap();
    let notes = NoteRepository::from_manager(&manager).unwrap();
    assert_eq!(notes.database().name(), "sqlite");

    // None of `ServerNote`'s backends is registered: the error names the first and lists the rest.
    let error = ServerNoteRepository::from_manager(&manager).unwrap_err();
    assert_eq!(error.to_string(), "no database named `postgres` is registered; registered: `orders`, `sqlite`");
    manager.disconnect_all().await;
}

#[tokio::test]
async fn from_manager_refuses_to_choose_between_two_registered_backends() {
    // Registered, not connected: the choice is refused before any connection matters.
    let manager =
        manager_with(&[("sqlite", "sqlite::memory:"), ("postgres", "postgres://app:secret@127.0.0.1:1/app")]).await;
    let error = NoteRepository::from_manager(&manager).unwrap_err();
    assert!(
        matches!(&error, Error::AmbiguousDatabase { what: "NoteRepository", registered, .. }
        if registered == &["sqlite", "postgres"]),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("NoteRepository is for sqlite, postgres or mysql"), "{message}");
    assert!(message.contains("name = "), "says what to write: {message}");
    assert!(!message.contains("secret"), "{message}");
    assert_eq!(error.category(), ErrorCategory::Permanent);
}

#[tokio::test]
async fn from_manager_checks_the_named_database_backend_at_construction() {
    let manager = manager_with(&[("main", "sqlite::memory:")]).await;
    manager.connect_all().await.unwrap();
    // The control: a model whose list includes SQLite gets the database named `main`.
    let local = MainLocalNoteRepository::from_manager(&manager).unwrap();
    assert_eq!(local.database().backend(), Backend::Sqlite);
    // A model that lists only server backends is refused here, not at its first call.
    let error = MainNoteRepository::from_manager(&manager).unwrap_err();
    assert!(
        is_mismatch(&error, "MainNoteRepository", &[Backend::Postgres, Backend::MySql], Backend::Sqlite),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "MainNoteRepository is for postgres or mysql, but database `main` is sqlite");
    manager.disconnect_all().await;
}
