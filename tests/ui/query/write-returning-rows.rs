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
    #[query("UPDATE users SET bio = :bio WHERE id = :id")]
    async fn set_bio(&self, id: i64, bio: &str) -> dbkit::Result<Vec<User>>;
}

fn main() {}
