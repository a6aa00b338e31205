use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
#[repository(table = "users")]
#[repository(table = "people")]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
