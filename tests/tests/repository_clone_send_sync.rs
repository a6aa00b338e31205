//! A generated repository is `Clone + Send + Sync` on every kind of backend, so an application
//! keeps one in its state (`axum::extract::State`, an `Arc`-free struct) and clones it into each
//! task. The test is that this file compiles; the one `#[test]` only makes it a test target.

use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
pub struct SqliteNote {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres)]
pub struct PostgresNote {
    #[key(auto)]
    pub id: i64,
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(mysql)]
pub struct MySqlNote {
    #[key]
    pub id: uuid::Uuid,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
pub struct SharedNote {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
pub struct PageView {
    #[key]
    pub id: uuid::Uuid,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(oracle)]
pub struct LedgerEntry {
    #[key(auto)]
    pub id: i64,
    pub amount: i64,
}

const fn assert_clone_send_sync<T: Clone + Send + Sync + 'static>() {}

const _: () = {
    assert_clone_send_sync::<SqliteNoteRepository>();
    assert_clone_send_sync::<PostgresNoteRepository>();
    assert_clone_send_sync::<MySqlNoteRepository>();
    assert_clone_send_sync::<SharedNoteRepository>();
    assert_clone_send_sync::<PageViewRepository>();
    assert_clone_send_sync::<LedgerEntryRepository>();
};

#[test]
fn repositories_are_clone_send_sync() {
    // Checked at compile time above; a clone shares the database handle.
    assert_clone_send_sync::<dbkit::Database>();
}
