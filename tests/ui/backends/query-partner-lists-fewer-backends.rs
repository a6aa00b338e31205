use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres)]
#[repository(table = "notes")]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    pub author_id: i64,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "authors")]
pub struct Author {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

#[dbkit::queries(join = [Author])]
impl NoteRepository {
    #[query("SELECT n.* FROM notes n JOIN authors a ON a.id = n.author_id WHERE a.name = :name")]
    async fn by_author(&self, name: &str) -> dbkit::Result<Vec<Note>>;
}

fn main() {}
