use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub bio: Option<Option<String>>,
}

fn main() {}
