use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "users")]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub email: String,
    pub bio: Option<String>,
}

#[dbkit::queries]
impl UserRepository {
    #[query("SELECT bio FROM users WHERE id = :id")]
    async fn bio(&self, id: i64) -> dbkit::Result<Option<String>>;
}

fn main() {}
