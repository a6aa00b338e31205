use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key]
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
