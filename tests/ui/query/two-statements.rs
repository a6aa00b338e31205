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
    #[query("DELETE FROM users; DELETE FROM users")]
    async fn wipe(&self) -> dbkit::Result<u64>;
}

fn main() {}
