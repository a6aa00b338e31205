use dbkit::prelude::*;

#[derive(Debug, Clone, Repository)]
#[database(sqlite)]
#[repository(cache(ttl = "5m"))]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
