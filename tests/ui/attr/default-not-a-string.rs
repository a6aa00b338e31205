use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
    #[column(default = 0)]
    pub visits: i64,
}

fn main() {}
