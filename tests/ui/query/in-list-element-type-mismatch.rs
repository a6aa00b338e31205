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
    #[query("SELECT * FROM users WHERE id IN (:ids)")]
    async fn with_ids(&self, ids: &[String]) -> dbkit::Result<Vec<User>>;
}

fn main() {}
