use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
pub struct User {
    #[key(auto)]
    #[column(sql_type = "SERIAL")]
    pub id: i32,
    pub name: String,
}

fn main() {}
