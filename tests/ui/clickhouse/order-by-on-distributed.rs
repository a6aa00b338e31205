use dbkit::prelude::*;

#[derive(Repository)]
#[database(clickhouse)]
#[repository(
    table = "user_events",
    engine = "Distributed(analytics, default, user_events_local, rand())",
    order_by = "(user_id, id)"
)]
pub struct UserEvent {
    #[key]
    pub id: u64,
    pub user_id: u64,
}

fn main() {}
