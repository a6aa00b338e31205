use dbkit::prelude::*;

#[derive(Repository)]
#[database(clickhouse)]
pub struct Shift {
    #[key]
    pub id: u64,
    pub starts: chrono::NaiveTime,
    pub local: chrono::NaiveDateTime,
}

fn main() {}
