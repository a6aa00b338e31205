use dbkit::prelude::*;

#[derive(Repository)]
#[database(clickhouse, sqlite)]
pub struct Event {
    #[key]
    pub id: u64,
    pub kind: String,
}

fn main() {}
