use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
pub struct User {
    #[key]
    #[column(default = "gen_random_uuid()")]
    pub id: uuid::Uuid,
    pub name: String,
}

fn main() {}
