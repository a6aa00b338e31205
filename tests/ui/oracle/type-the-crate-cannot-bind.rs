use dbkit::prelude::*;

pub struct Money(pub i64);

#[derive(Repository)]
#[database(oracle)]
pub struct Invoice {
    #[key(auto)]
    pub id: i64,
    #[column(sql_type = "NUMBER(12, 2)")]
    pub total: Money,
}

fn main() {}
