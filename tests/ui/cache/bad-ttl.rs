use dbkit::prelude::*;

#[derive(Debug, Clone, Repository, serde::Serialize, serde::Deserialize)]
#[database(mysql)]
#[repository(cache(ttl = "5 minutes"))]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

fn main() {}
