//! How keys and unique values are passed, per type; a custom type named with `sql_type`.
#![deny(warnings)]

use dbkit::prelude::*;
use dbkit::rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// A type of the application's own in a SQLite column: rusqlite's `ToSql` and `FromSql` (SQLite
/// runs on dbkit's native engine).
#[derive(Debug, Clone, PartialEq)]
pub struct Extra(serde_json::Value);

impl ToSql for Extra {
    fn to_sql(&self) -> dbkit::rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.to_string()))
    }
}

impl FromSql for Extra {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        serde_json::from_str(value.as_str()?).map(Extra).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
pub struct Country {
    #[key]
    pub code: String,
    #[unique]
    pub flag: Vec<u8>,
    #[column(sql_type = "TEXT")]
    pub extra: Extra,
    #[column(sql_type = "VARCHAR(64)")]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(mysql, name = "ledger")]
pub struct Entry {
    #[key]
    pub id: uuid::Uuid,
    #[unique]
    pub sequence: u64,
    #[unique]
    pub day: chrono::NaiveDate,
    pub at: chrono::NaiveDateTime,
    pub clock: chrono::NaiveTime,
    pub amount: f64,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres)]
pub struct Small {
    #[key(auto)]
    pub id: i32,
    pub level: i16,
    pub ratio: f32,
}

async fn calls(db: &Database) -> dbkit::Result<()> {
    let countries = CountryRepository::new(db);
    let _: Option<Country> = countries.get("fr").await?;
    let _: Option<Country> = countries.get_by_flag(&[1, 2, 3]).await?;
    let _: bool = countries.delete("fr").await?;

    let entries = EntryRepository::new(db);
    let _: Option<Entry> = entries.get(uuid::Uuid::nil()).await?;
    let _: Option<Entry> = entries.get_by_sequence(7).await?;
    let _: Option<Entry> = entries.get_by_day(chrono::NaiveDate::MIN).await?;

    let smalls = SmallRepository::new(db);
    let small: Small = smalls.create(&NewSmall { level: 1, ratio: 0.5 }).await?;
    let _: Option<Small> = smalls.update(small.id, &SmallPatch { level: Some(2), ..Default::default() }).await?;
    Ok(())
}

fn main() {
    assert_eq!(<Country as dbkit::Model>::TABLE, "country");
    assert_eq!(<Entry as dbkit::Model>::TABLES[0].backend, dbkit::Backend::MySql);
    let _ = calls;
}
