use dbkit::prelude::*;

#[derive(Repository)]
#[database(clickhouse)]
pub struct Event {
    #[key(auto)]
    pub id: i64,
    pub name: String,
}

// Only the key is reported: the stub repository type keeps this line quiet.
fn repository(db: &Database) -> EventRepository {
    EventRepository::new(db)
}

fn main() {
    let _ = repository;
}
