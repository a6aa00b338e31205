use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key]
    #[unique]
    pub email: String,
    pub name: String,
}

fn main() {}
