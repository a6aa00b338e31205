use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct Counter {
    #[key(auto)]
    pub id: i64,
    pub hits: Option<u64>,
}

fn main() {}
