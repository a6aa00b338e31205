use dbkit::prelude::*;

#[derive(Repository)]
#[database(mysql, name = "orders", name = "billing")]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
