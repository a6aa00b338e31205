use dbkit::prelude::*;

// SQLite and MySQL store a `u32`; PostgreSQL has no unsigned integers.
#[derive(Repository)]
#[database(sqlite, postgres, mysql)]
pub struct Counter {
    #[key(auto)]
    pub id: i64,
    pub hits: u32,
}

fn main() {}
