//! A ClickHouse model with every supported type, and the methods it gets.
#![deny(warnings)]

use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse, name = "analytics")]
#[repository(table = "page_views")]
pub struct PageView {
    #[key]
    pub id: uuid::Uuid,
    #[unique]
    pub request: String,
    #[unique]
    pub fingerprint: Vec<u8>,
    pub user: Option<u64>,
    pub r#type: i8,
    pub small: i16,
    pub medium: i32,
    pub large: i64,
    pub byte: u8,
    pub port: u16,
    pub size: u32,
    pub ratio: f32,
    pub latency: f64,
    pub bot: bool,
    pub day: chrono::NaiveDate,
    pub seen: Option<chrono::DateTime<chrono::Utc>>,
    pub attributes: serde_json::Value,
    #[column(sql_type = "LowCardinality(String)")]
    pub country: String,
    #[column(name = "received", default = "now()")]
    pub received_at: chrono::DateTime<chrono::Utc>,
}

async fn calls(db: &Database, manager: &DatabaseManager) -> dbkit::Result<()> {
    let views = PageViewRepository::new(db);
    let _: PageViewRepository = PageViewRepository::from_manager(manager)?;
    let _: &Database = views.database();
    let _: Option<PageView> = views.get(uuid::Uuid::nil()).await?;
    let _: Option<PageView> = views.get_by_request("/").await?;
    let _: Option<PageView> = views.get_by_fingerprint(&[1, 2]).await?;
    let _: Vec<PageView> = views.list(Page::default()).await?;
    let _: u64 = views.count().await?;
    let new = NewPageView {
        id: uuid::Uuid::nil(),
        request: "/".into(),
        fingerprint: vec![],
        user: None,
        r#type: 0,
        small: 0,
        medium: 0,
        large: 0,
        byte: 0,
        port: 0,
        size: 0,
        ratio: 0.0,
        latency: 0.0,
        bot: false,
        day: chrono::NaiveDate::MIN,
        seen: None,
        attributes: serde_json::Value::Null,
        country: "FR".into(),
    };
    let _: u64 = views.create_many(&[new]).await?;
    db.create_table::<PageView>().await?;
    Ok(())
}

fn main() {
    let _ = calls;
}
