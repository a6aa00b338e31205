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
    #[query("SELECT COUNT(*) FROM users")]
    async fn total(&self) -> dbkit::Result<i64> {
        Ok(0)
    }
}

fn main() {}
