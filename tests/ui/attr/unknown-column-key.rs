use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[column(rename = "login")]
    pub username: String,
}

fn main() {}
