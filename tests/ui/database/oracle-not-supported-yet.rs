use dbkit::prelude::*;

#[derive(Repository)]
#[database(oracle)]
pub struct Event {
    #[key]
    pub id: i64,
    pub name: String,
}

fn main() {}
