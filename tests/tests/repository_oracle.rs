//! A `#[database(oracle)]` repository against a real Oracle (12c or later) where `ORACLE_URL` is
//! set; skipped where it is not (no Oracle server can be started here, nor under CI): the DDL is
//! idempotent, `create` returns the generated key and the defaults, every method round-trips,
//! `create_many` is all or nothing, and a unique clash is an `Integrity` error.
//!
//! Each test has its own table, so they run in parallel.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use dbkit::prelude::*;
use dbkit::{Backend, ErrorCategory};
use dbkit_tests::connect;
use uuid::Uuid;

/// Every type of the Oracle column of the type table, nullable and not.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(oracle)]
#[repository(table = "ro_accounts")]
pub struct Account {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub login: String,
    pub small: i16,
    pub medium: i32,
    pub ratio: f32,
    pub balance: f64,
    pub active: bool,
    pub bio: Option<String>,
    pub avatar: Option<Vec<u8>>,
    pub born: NaiveDate,
    pub seen: Option<NaiveDateTime>,
    pub external: Uuid,
    pub settings: serde_json::Value,
    #[column(name = "order")]
    pub r#type: String,
    #[column(default = "CURRENT_TIMESTAMP")]
    pub created_at: DateTime<Utc>,
}

/// A key the caller supplies.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(oracle)]
#[repository(table = "ro_devices")]
pub struct Device {
    #[key]
    pub id: Uuid,
    #[unique]
    pub serial: String,
    pub owner: i64,
}

fn account(login: &str) -> NewAccount {
    NewAccount {
        login: login.into(),
        small: -7,
        medium: 1 << 20,
        ratio: 0.5,
        balance: 1234.25,
        active: true,
        bio: Some("héllo ' -- ; DROP TABLE x".into()),
        avatar: Some(vec![0, 1, 255]),
        born: NaiveDate::from_ymd_opt(1815, 12, 10).unwrap(),
        seen: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap().and_hms_micro_opt(23, 59, 58, 123_456),
        external: Uuid::new_v4(),
        settings: serde_json::json!({ "theme": "dark", "n": [1, 2] }),
        r#type: "admin".into(),
    }
}

async fn fresh(db: &Database) -> dbkit::Result<()> {
    db.drop_table::<Account>().await?;
    db.drop_table::<Account>().await?; // idempotent
    db.create_table::<Account>().await?;
    db.create_table::<Account>().await // idempotent
}

#[tokio::test]
async fn every_method_round_trips() -> dbkit::Result<()> {
    let Some(db) = connect(Backend::Oracle).await else { return Ok(()) };
    fresh(&db).await?;
    let accounts = AccountRepository::new(&db);

    let new = account("ada");
    let ada = accounts.create(&new).await?;
    assert!(ada.id > 0);
    assert_eq!((ada.login.as_str(), ada.small, ada.medium, ada.active), ("ada", -7, 1 << 20, true));
    assert_eq!((ada.ratio, ada.balance), (0.5, 1234.25));
    assert_eq!((&ada.bio, &ada.avatar, ada.born, ada.seen), (&new.bio, &new.avatar, new.born, new.seen));
    assert_eq!((ada.external, &ada.settings, ada.r#type.as_str()), (new.external, &new.settings, "admin"));
    assert!((Utc::now() - ada.created_at).num_minutes().abs() < 10, "the default was filled in");

    assert_eq!(accounts.get(ada.id).await?, Some(ada.clone()));
    assert_eq!(accounts.get_by_login("ada").await?, Some(ada.clone()));
    assert_eq!(accounts.get(ada.id + 1000).await?, None);
    assert_eq!(accounts.get_by_login("nobody").await?, None);

    let patch = AccountPatch { bio: Some(None), active: Some(false), medium: Some(3), ..Default::default() };
    let updated = accounts.update(ada.id, &patch).await?.expect("the row exists");
    assert_eq!((updated.bio, updated.active, updated.medium, updated.small), (None, false, 3, -7));
    assert_eq!(accounts.update(ada.id + 1000, &patch).await?, None);
    assert_eq!(accounts.update(ada.id, &AccountPatch::default()).await?.map(|a| a.medium), Some(3));

    let many: Vec<NewAccount> = (0..2500).map(|i| account(&format!("user{i:04}"))).collect();
    assert_eq!(accounts.create_many(&many).await?, 2500);
    assert_eq!(accounts.count().await?, 2501);
    let page = accounts.list(Page::new(1, 3)).await?;
    assert_eq!(page.iter().map(|a| a.login.as_str()).collect::<Vec<_>>(), ["user0000", "user0001", "user0002"]);
    let ids: Vec<i64> = accounts.list(Page::new(0, 5000)).await?.iter().map(|a| a.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by key");

    assert!(accounts.delete(ada.id).await?);
    assert!(!accounts.delete(ada.id).await?);
    assert_eq!(accounts.count().await?, 2500);
    db.drop_table::<Account>().await
}

#[tokio::test]
async fn create_many_is_all_or_nothing_and_a_clash_is_integrity() -> dbkit::Result<()> {
    let Some(db) = connect(Backend::Oracle).await else { return Ok(()) };
    db.drop_table::<Device>().await?;
    db.create_table::<Device>().await?;
    let devices = DeviceRepository::new(&db);

    let first = NewDevice { id: Uuid::new_v4(), serial: "s-1".into(), owner: 1 };
    let created = devices.create(&first).await?;
    assert_eq!((created.id, created.serial.as_str(), created.owner), (first.id, "s-1", 1));
    assert_eq!(devices.get(first.id).await?, Some(created.clone()));

    let clash = NewDevice { id: Uuid::new_v4(), ..first.clone() };
    let error = devices.create(&clash).await.expect_err("a unique serial");
    assert_eq!(error.category(), ErrorCategory::Integrity, "{error}");

    // The 1500th row clashes: none of the batch is kept, including the first full round trip.
    let mut batch: Vec<NewDevice> =
        (0..2000).map(|i| NewDevice { id: Uuid::new_v4(), serial: format!("b-{i}"), owner: i }).collect();
    batch[1500].serial = "s-1".into();
    let error = devices.create_many(&batch).await.expect_err("a clash in the batch");
    assert_eq!(error.category(), ErrorCategory::Integrity, "{error}");
    assert_eq!(devices.count().await?, 1);

    batch[1500].serial = "b-1500".into();
    assert_eq!(devices.create_many(&batch).await?, 2000);
    assert_eq!(devices.count().await?, 2001);
    assert!(devices.delete(first.id).await?);
    db.drop_table::<Device>().await
}
