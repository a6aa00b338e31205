//! With `#[repository(serde)]` too, an unknown field type is one error: serde's derives are left
//! off the stub, so no "`Money` does not implement `Deserialize`" follows.
use dbkit::prelude::*;

pub struct Money(pub i64);

#[derive(Repository)]
#[database(postgres)]
#[repository(serde)]
pub struct Invoice {
    #[key(auto)]
    pub id: i64,
    pub total: Money,
}

fn main() {}
