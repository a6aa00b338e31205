use dbkit::prelude::*;

#[derive(Repository)]
#[database(clickhouse)]
pub struct UserEvent {
    #[key]
    pub id: u64,
    #[column(sql_type = "Enum8('web' = 1, 'app' = 2)")]
    pub source: String,
}

fn main() {}
