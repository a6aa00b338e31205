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

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "posts")]
pub struct Post {
    #[key(auto)]
    pub id: i64,
    pub author_id: i64,
    pub title: String,
}

#[dbkit::queries(join = [Post])]
impl UserRepository {
    #[query("SELECT p.body FROM users u JOIN posts p ON p.author_id = u.id")]
    async fn bodies(&self) -> dbkit::Result<Vec<String>>;
}

fn main() {}
