//! `#[repository(serde)]` and `#[column(on_update = ...)]` on each kind of backend: `NewX` and
//! `XPatch` are request bodies, read with serde_json as a handler reads them.
#![deny(warnings)]

use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(serde)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub bio: Option<String>,
    #[column(default = "CURRENT_TIMESTAMP", on_update = "CURRENT_TIMESTAMP")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(oracle)]
#[repository(table = "wallets", serde)]
pub struct Wallet {
    #[key]
    pub id: i64,
    pub owner: String,
    #[column(on_update = "SYSTIMESTAMP")]
    pub touched: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(clickhouse)]
#[repository(serde)]
pub struct Event {
    #[key]
    pub id: u64,
    pub name: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

fn main() {
    let new: NewUser = serde_json::from_str(r#"{"username": "ada", "bio": null}"#).unwrap();
    let _: String = serde_json::to_string(&new).unwrap();
    let patch: UserPatch = serde_json::from_str(r#"{"bio": null}"#).unwrap();
    assert_eq!(patch.bio, Some(None));
    let wallet: WalletPatch = serde_json::from_str(r#"{"owner": "grace"}"#).unwrap();
    assert_eq!(wallet.owner.as_deref(), Some("grace"));
    let _: NewWallet = serde_json::from_str(r#"{"id": 1, "owner": "ada", "touched": "2024-01-01T00:00:00Z"}"#).unwrap();
    let _: NewEvent = serde_json::from_str(r#"{"id": 1, "name": "signup", "at": "2024-01-01T00:00:00Z"}"#).unwrap();
}
