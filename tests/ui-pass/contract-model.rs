//! The model of CONTRACT.md on each SQL backend, used the way an application uses it.
#![deny(warnings)]

use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "users")]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
    pub bio: Option<String>,
    #[column(name = "signup_source")]
    pub source: String,
    #[column(default = "CURRENT_TIMESTAMP")]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres, name = "main")]
pub struct Account {
    #[key]
    pub id: uuid::Uuid,
    #[unique]
    pub handle: String,
    pub balance: i64,
    pub settings: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(mysql)]
pub struct Order {
    #[key(auto)]
    pub id: i32,
    #[column(name = "order")]
    pub position: u32,
    pub group: Option<i16>,
    pub r#type: String,
    pub paid: bool,
}

async fn use_users(db: &Database) -> dbkit::Result<()> {
    db.create_table::<User>().await?;
    let repo = UserRepository::new(db);
    let new = NewUser { username: "ada".into(), email: "ada@example.com".into(), bio: None, source: "web".into() };
    let user: User = repo.create(&new).await?;
    let written: u64 = repo.create_many(&[new.clone()]).await?;
    let _ = written;
    let _: Option<User> = repo.get(user.id).await?;
    let _: Option<User> = repo.get_by_username("ada").await?;
    let _: Vec<User> = repo.list(Page::new(0, 10)).await?;
    let _: Vec<User> = repo.list(Page::default()).await?;
    let _: u64 = repo.count().await?;
    let patch = UserPatch { bio: Some(None), email: Some("new@example.com".into()), ..Default::default() };
    let _: Option<User> = repo.update(user.id, &patch).await?;
    let _: bool = repo.delete(user.id).await?;
    db.drop_table::<User>().await?;
    Ok(())
}

async fn use_accounts(manager: &DatabaseManager) -> dbkit::Result<()> {
    let repo = AccountRepository::from_manager(manager)?;
    let id = uuid::Uuid::new_v4();
    let _: Option<Account> = repo.get(id).await?;
    let _: Option<Account> = repo.get_by_handle("ada").await?;
    let new = NewAccount { id, handle: "ada".into(), balance: 0, settings: Some(serde_json::json!({})) };
    let _: Account = repo.create(&new).await?;
    let _: Option<Account> = repo.update(id, &AccountPatch { settings: Some(None), ..Default::default() }).await?;
    let _: &Database = repo.database();
    Ok(())
}

async fn use_orders(db: &Database) -> dbkit::Result<()> {
    let repo = OrderRepository::new(db).with_options(dbkit::CallOptions::new());
    let order = repo.create(&NewOrder { position: 1, group: None, r#type: "express".into(), paid: false }).await?;
    let _: Option<Order> = repo.update(order.id, &OrderPatch { paid: Some(true), ..OrderPatch::default() }).await?;
    let _: bool = repo.delete(order.id).await?;
    Ok(())
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    let db: Option<Database> = None;
    if let Some(db) = &db {
        let repo = UserRepository::new(db);
        let new = NewUser { username: String::new(), email: String::new(), bio: None, source: String::new() };
        let patch = UserPatch::default();
        assert_send(repo.get(1));
        assert_send(repo.get_by_username("ada"));
        assert_send(repo.list(Page::default()));
        assert_send(repo.count());
        assert_send(repo.create(&new));
        assert_send(repo.create_many(std::slice::from_ref(&new)));
        assert_send(repo.update(1, &patch));
        assert_send(repo.delete(1));
        assert_send(use_users(db));
        assert_send(use_orders(db));
    }
    let manager = DatabaseManager::new();
    assert_send(use_accounts(&manager));
}
