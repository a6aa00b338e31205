use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
pub struct User {
    #[key(auto)]
    pub id: u32,
    pub name: String,
}

fn main() {}
