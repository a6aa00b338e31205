use dbkit::prelude::*;

#[derive(Repository)]
#[database(oracle)]
pub struct Alarm {
    #[key(auto)]
    pub id: i64,
    pub at: chrono::NaiveTime,
}

fn main() {}
