use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[column(name = "login", name = "user_name")]
    pub username: String,
}

fn main() {}
