use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
pub struct Tick {
    #[key(auto)]
    pub id: i64,
    #[column(default = "CURRENT_TIMESTAMP")]
    pub at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
