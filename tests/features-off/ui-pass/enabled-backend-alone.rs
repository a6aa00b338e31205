use dbkit::prelude::*;

// The control: the same model on the one backend this build enables compiles, queries included.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
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
