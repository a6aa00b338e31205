use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
pub struct Event {
    #[key(auto)]
    pub id: i64,
    pub at: chrono::DateTime<chrono::Local>,
}

fn main() {}
