use dbkit::prelude::*;

#[derive(Repository)]
#[database(postgres)]
#[repository(table = "events", engine = "ReplacingMergeTree(version)", order_by = "(user_id, id)")]
pub struct Event {
    #[key(auto)]
    pub id: i64,
    pub user_id: i64,
}

fn main() {}
