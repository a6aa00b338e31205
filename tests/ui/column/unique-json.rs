use dbkit::prelude::*;

#[derive(Repository)]
#[database(mysql)]
pub struct Document {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub body: serde_json::Value,
}

fn main() {}
