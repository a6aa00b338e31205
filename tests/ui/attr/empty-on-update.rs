use chrono::{DateTime, Utc};
use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub name: String,
    #[column(on_update = " ")]
    pub updated_at: DateTime<Utc>,
}

fn main() {}
