use dbkit::prelude::*;

#[derive(Debug, Clone, Repository, serde::Serialize, serde::Deserialize)]
#[database(postgres)]
#[repository(cache(ttl = "-1"))]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
