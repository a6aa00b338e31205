use dbkit::prelude::*;

// dbkit is built with `sqlite` alone: `postgres` and `mysql` are both reported, on their names.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
}

#[dbkit::queries]
impl NoteRepository {
    #[query("SELECT COUNT(*) FROM note")]
    async fn count_all(&self) -> dbkit::Result<u64>;
}

fn main() {}
