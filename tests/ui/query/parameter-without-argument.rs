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
    #[query("SELECT * FROM users WHERE email = :email AND id > :after")]
    async fn page(&self, email: &str) -> dbkit::Result<Vec<User>>;
}

fn main() {}
