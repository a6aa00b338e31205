use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub email: Option<String>,
}

fn main() {}
