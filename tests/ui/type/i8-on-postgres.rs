use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
pub struct Level {
    #[key(auto)]
    pub id: i64,
    pub value: i8,
}

fn main() {}
