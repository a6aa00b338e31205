use dbkit::prelude::*;

pub struct Money(i64);

#[derive(Repository)]
#[database(clickhouse)]
pub struct Payment {
    #[key]
    pub id: u64,
    pub amount: Money,
}

fn main() {}
