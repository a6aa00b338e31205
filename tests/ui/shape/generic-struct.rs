use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
pub struct Tagged<T> {
    #[key(auto)]
    pub id: i64,
    pub value: T,
}

fn main() {}
