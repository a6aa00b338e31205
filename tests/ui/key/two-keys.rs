use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[key]
    pub email: String,
    pub name: String,
}

fn main() {}
