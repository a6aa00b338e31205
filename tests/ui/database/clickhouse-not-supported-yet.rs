use dbkit::prelude::*;

#[derive(Repository)]
#[database(clickhouse)]
pub struct Event {
    #[key]
    pub id: i64,
    pub name: String,
}

// Only the backend is reported: the stub repository type keeps this line quiet.
fn repository(db: &Database) -> EventRepository {
    EventRepository::new(db)
}

fn main() {
    let _ = repository;
}
