use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
pub struct Counter {
    #[key(auto)]
    pub id: i64,
    pub hits: u64,
}

fn main() {}
