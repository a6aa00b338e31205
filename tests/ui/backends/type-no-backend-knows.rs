use dbkit::prelude::*;

pub struct Money(i64);

#[derive(Repository)]
#[database(sqlite, postgres)]
pub struct Invoice {
    #[key(auto)]
    pub id: i64,
    pub total: Money,
}

fn main() {}
