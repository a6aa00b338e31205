use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
pub struct Event {
    #[key]
    pub id: u64,
    pub kind: String,
}

async fn record(db: &Database, events: &EventRepository) -> dbkit::Result<()> {
    db.transaction(async |tx| {
        events.in_transaction(tx);
        Ok(())
    })
    .await
}

fn main() {}
