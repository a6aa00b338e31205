use dbkit::prelude::*;

pub struct Money(pub i64);

#[derive(Repository)]
#[database(postgres)]
pub struct Invoice {
    #[key(auto)]
    pub id: i64,
    pub total: Money,
}

fn main() {}
