use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
}

async fn find(repo: &UserRepository) -> dbkit::Result<Option<User>> {
    repo.get_by_email("ada@example.com").await
}

fn main() {
    let _ = find;
}
