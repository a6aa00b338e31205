use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key]
    pub id: Option<i64>,
    pub name: String,
}

fn main() {}
