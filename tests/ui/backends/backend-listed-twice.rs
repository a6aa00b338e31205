use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite, postgres, sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
