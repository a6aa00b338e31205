use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct Tag {
    #[key]
    pub name: String,
}

fn main() {}
