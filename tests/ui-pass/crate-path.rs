//! `#[repository(crate = "...")]`: a crate that re-exports dbkit under its own path names that path,
//! and the generated repository and queries resolve through it. (That no `::dbkit` path is left
//! in the expansion is checked by the macros' unit tests.)
#![deny(warnings)]

mod db {
    pub use ::dbkit::*;
}

#[derive(Debug, Clone, PartialEq, db::Repository)]
#[database(sqlite)]
#[repository(crate = "crate::db", serde)]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
}

#[dbkit::queries]
impl NoteRepository {
    #[query("SELECT * FROM note WHERE title LIKE :pattern ORDER BY id")]
    pub async fn matching(&self, pattern: &str) -> db::Result<Vec<Note>>;
}

async fn use_it(db: &db::Database) -> db::Result<()> {
    let notes = NoteRepository::new(db);
    notes.create(&NewNote { title: "a".into() }).await?;
    let _ = notes.matching("a%").await?;
    Ok(())
}

fn main() {
    let _ = use_it;
}
