use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres, oracle)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
