use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct Item {
    #[key(auto)]
    pub id: i64,
    pub r#type: String,
    #[column(name = "type")]
    pub kind: String,
}

fn main() {}
