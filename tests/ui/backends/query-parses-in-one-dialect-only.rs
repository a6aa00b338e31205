use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(mysql, postgres)]
#[repository(table = "notes")]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
}

#[dbkit::queries]
impl NoteRepository {
    // MySQL's `LIMIT offset, count`; PostgreSQL reads only `LIMIT count OFFSET offset`.
    #[query("SELECT * FROM notes ORDER BY id LIMIT 10, 20")]
    async fn third_page(&self) -> dbkit::Result<Vec<Note>>;
}

fn main() {}
