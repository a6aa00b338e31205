use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres, sqlite)]
#[repository(table = "notes")]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
}

#[dbkit::queries]
impl NoteRepository {
    // PostgreSQL runs `ILIKE`; SQLite has none.
    #[query("SELECT * FROM notes WHERE title ILIKE :pattern")]
    async fn search(&self, pattern: &str) -> dbkit::Result<Vec<Note>>;
}

fn main() {}
