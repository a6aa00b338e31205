use dbkit::prelude::*;

/// A type of the application's own, with no rusqlite `ToSql`/`FromSql`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cents(i64);

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
pub struct Invoice {
    #[key(auto)]
    pub id: i64,
    #[column(sql_type = "INTEGER")]
    pub total: Cents,
}

fn main() {}
