use dbkit::prelude::*;

#[derive(Debug, Clone, Repository, serde::Serialize, serde::Deserialize)]
#[database(clickhouse)]
#[repository(cache(ttl = "5m"))]
pub struct Event {
    #[key]
    pub id: u64,
    pub name: String,
}

fn main() {}
