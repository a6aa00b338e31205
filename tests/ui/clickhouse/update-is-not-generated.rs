//! ClickHouse has no `update`: a mutation is an asynchronous `ALTER TABLE … UPDATE`.
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
pub struct Event {
    #[key]
    pub id: u64,
    pub name: String,
}

async fn rename(events: &EventRepository) -> dbkit::Result<()> {
    events.update(1, &()).await?;
    Ok(())
}

fn main() {
    let _ = rename;
}
