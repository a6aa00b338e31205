//! An Oracle model with every supported type, and the full CRUD set it gets; every method's future
//! is `Send`.
#![deny(warnings)]

use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(oracle, name = "ledger")]
#[repository(table = "accounts")]
pub struct Account {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub login: String,
    #[unique]
    pub token: Vec<u8>,
    pub r#type: i16,
    pub medium: i32,
    pub large: Option<i64>,
    pub ratio: f32,
    pub balance: f64,
    pub active: bool,
    pub bio: Option<String>,
    pub avatar: Option<Vec<u8>>,
    pub born: chrono::NaiveDate,
    pub seen: Option<chrono::NaiveDateTime>,
    pub external: uuid::Uuid,
    pub settings: serde_json::Value,
    #[column(sql_type = "NVARCHAR2(100)")]
    pub nickname: String,
    #[column(name = "created", default = "CURRENT_TIMESTAMP")]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(oracle)]
pub struct Device {
    #[key]
    pub id: uuid::Uuid,
    #[unique]
    pub serial: String,
    pub owner: i64,
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

fn new_account() -> NewAccount {
    NewAccount {
        login: "ada".into(),
        token: vec![1],
        r#type: 0,
        medium: 0,
        large: None,
        ratio: 0.0,
        balance: 0.0,
        active: true,
        bio: None,
        avatar: None,
        born: chrono::NaiveDate::MIN,
        seen: None,
        external: uuid::Uuid::nil(),
        settings: serde_json::Value::Null,
        nickname: "a".into(),
    }
}

async fn calls(db: &Database, manager: &DatabaseManager) -> dbkit::Result<()> {
    let accounts = AccountRepository::new(db);
    let _: AccountRepository = AccountRepository::from_manager(manager)?;
    let _: &Database = accounts.database();
    let _: Option<Account> = assert_send(accounts.get(1)).await?;
    let _: Option<Account> = assert_send(accounts.get_by_login("ada")).await?;
    let _: Option<Account> = assert_send(accounts.get_by_token(&[1, 2])).await?;
    let _: Vec<Account> = assert_send(accounts.list(Page::default())).await?;
    let _: u64 = assert_send(accounts.count()).await?;
    let created: Account = assert_send(accounts.create(&new_account())).await?;
    let _: u64 = assert_send(accounts.create_many(&[new_account(), new_account()])).await?;
    let patch = AccountPatch { bio: Some(None), large: Some(Some(7)), active: Some(false), ..Default::default() };
    let _: Option<Account> = assert_send(accounts.update(created.id, &patch)).await?;
    let _: bool = assert_send(accounts.delete(created.id)).await?;

    let devices = DeviceRepository::new(db);
    let device = NewDevice { id: uuid::Uuid::nil(), serial: "s".into(), owner: 1 };
    let _: Device = assert_send(devices.create(&device)).await?;
    let _: Option<Device> = assert_send(devices.get(uuid::Uuid::nil())).await?;
    let _: Option<Device> = assert_send(devices.get_by_serial("s")).await?;
    let _: Option<Device> = assert_send(devices.update(uuid::Uuid::nil(), &DevicePatch::default())).await?;
    db.create_table::<Account>().await?;
    db.drop_table::<Device>().await?;
    Ok(())
}

fn main() {
    let _ = calls;
}
