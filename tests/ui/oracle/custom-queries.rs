use dbkit::prelude::*;

#[derive(Repository)]
#[database(oracle)]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    pub body: String,
}

#[dbkit::queries]
impl NoteRepository {
    #[query("SELECT * FROM note WHERE body = :body")]
    pub async fn with_body(&self, body: &str) -> dbkit::Result<Vec<Note>>;
}

fn main() {}
