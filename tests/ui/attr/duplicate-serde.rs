use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
#[repository(serde, table = "users", serde)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
