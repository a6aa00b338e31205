//! ClickHouse has no `create`: no `RETURNING` to read the stored row back; `create_many` inserts.
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
pub struct Event {
    #[key]
    pub id: u64,
    pub name: String,
}

async fn add(events: &EventRepository) -> dbkit::Result<Event> {
    events.create(&NewEvent { id: 1, name: "one".into() }).await
}

fn main() {
    let _ = add;
}
