use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    pub id: i64,
    pub name: String,
}

fn main() {}
