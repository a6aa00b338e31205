use dbkit::prelude::*;

#[derive(Debug, Clone, Repository, serde::Serialize, serde::Deserialize)]
#[database(postgres)]
#[repository(cache)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
