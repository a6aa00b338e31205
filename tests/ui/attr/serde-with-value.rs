use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
#[repository(serde = true)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
