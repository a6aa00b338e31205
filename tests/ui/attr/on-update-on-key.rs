use dbkit::prelude::*;

#[derive(Repository)]
#[database(mysql)]
pub struct User {
    #[key]
    #[column(on_update = "UUID()")]
    pub id: String,
    pub name: String,
}

fn main() {}
