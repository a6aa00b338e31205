use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub username: String,
}

async fn find(repo: &UserRepository) -> dbkit::Result<Option<User>> {
    repo.get("1").await
}

fn main() {
    let _ = find;
}
