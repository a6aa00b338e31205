use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub email: String,
    #[column(name = "email")]
    pub contact: String,
}

fn main() {}
