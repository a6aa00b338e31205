//! A `#[database(oracle)]` repository against a real Oracle (12c or later) where `ORACLE_URL` is
//! set; skipped where it is not (no Oracle server can be started here, nor under CI): the DDL is
//! idempotent, `create` returns the generated key and the defaults, every method round-trips,
//! `create_many` is all or nothing, a unique clash is an `Integrity` error naming its field, and
//! repositories run inside the caller's transaction (`in_transaction`): committed together, rolled
//! back together, a failed write or savepoint undoing only its own part, `get_for_update` locking
//! the row.
//!
//! Each test has its own table, so they run in parallel.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use dbkit::prelude::*;
use dbkit::{Backend, ConstraintKind, ErrorCategory};
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

/// For the unit of work: two of them change in one transaction.
#[derive(Debug, Clone, PartialEq, Repository)]
#[database(oracle)]
#[repository(table = "ro_wallets")]
pub struct Wallet {
    #[key]
    pub id: i64,
    #[unique]
    pub owner: String,
    pub balance: i64,
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
    // The constraint dbkit's DDL named (`ro_devices_serial_key`), mapped back to its field.
    assert_eq!(error.constraint_kind(), Some(ConstraintKind::Unique), "{error}");
    assert_eq!(error.unique_violation(), Some("serial"), "{error}");
    let clash = NewDevice { serial: "s-2".into(), ..first.clone() };
    let error = devices.create(&clash).await.expect_err("a supplied key twice");
    assert_eq!(error.unique_violation(), Some("id"), "{error}");
    assert!(!error.is_retryable(), "{error}");

    // The 1500th row clashes: none of the batch is kept, including the first full round trip.
    let mut batch: Vec<NewDevice> =
        (0..2000).map(|i| NewDevice { id: Uuid::new_v4(), serial: format!("b-{i}"), owner: i }).collect();
    batch[1500].serial = "s-1".into();
    let error = devices.create_many(&batch).await.expect_err("a clash in the batch");
    assert_eq!(error.category(), ErrorCategory::Integrity, "{error}");
    assert_eq!(error.unique_violation(), Some("serial"), "{error}");
    assert_eq!(devices.count().await?, 1);

    batch[1500].serial = "b-1500".into();
    assert_eq!(devices.create_many(&batch).await?, 2000);
    assert_eq!(devices.count().await?, 2001);
    assert!(devices.delete(first.id).await?);
    db.drop_table::<Device>().await
}

#[tokio::test]
async fn repositories_run_inside_the_callers_transaction() -> dbkit::Result<()> {
    let Some(db) = connect(Backend::Oracle).await else { return Ok(()) };
    db.drop_table::<Wallet>().await?;
    db.create_table::<Wallet>().await?;
    let wallets = WalletRepository::new(&db);
    let wallet = |id: i64, owner: &str, balance: i64| NewWallet { id, owner: owner.into(), balance };
    wallets.create_many(&[wallet(1, "a", 100), wallet(2, "b", 0)]).await?;
    let balance = async |id| wallets.get(id).await.map(|w| w.expect("exists").balance);

    // A transfer: locked reads, two updates, one COMMIT.
    db.transaction(async |tx| {
        let a = wallets.in_transaction(tx).get_for_update(1).await?.expect("exists");
        let b = wallets.in_transaction(tx).get_for_update(2).await?.expect("exists");
        wallets
            .in_transaction(tx)
            .update(1, &WalletPatch { balance: Some(a.balance - 30), ..Default::default() })
            .await?;
        wallets
            .in_transaction(tx)
            .update(2, &WalletPatch { balance: Some(b.balance + 30), ..Default::default() })
            .await?;
        Ok(())
    })
    .await?;
    assert_eq!((balance(1).await?, balance(2).await?), (70, 30));

    // A lock held by the transaction: a second transaction's locking read waits for its COMMIT.
    let (locked, release) = (tokio::sync::oneshot::channel::<()>(), tokio::sync::oneshot::channel::<()>());
    let (locked_tx, locked_rx) = locked;
    let (release_tx, release_rx) = release;
    let holder = {
        let db = db.clone();
        tokio::spawn(async move {
            let wallets = WalletRepository::new(&db);
            db.transaction(async move |tx| {
                wallets.in_transaction(tx).get_for_update(1).await?;
                locked_tx.send(()).unwrap();
                release_rx.await.unwrap();
                wallets.in_transaction(tx).update(1, &WalletPatch { balance: Some(0), ..Default::default() }).await?;
                Ok(())
            })
            .await
        })
    };
    locked_rx.await.unwrap();
    let waiter = {
        let db = db.clone();
        tokio::spawn(async move {
            let wallets = WalletRepository::new(&db);
            db.transaction(async move |tx| {
                Ok(wallets.in_transaction(tx).get_for_update(1).await?.expect("exists").balance)
            })
            .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!waiter.is_finished(), "the locking read did not wait for the lock");
    release_tx.send(()).unwrap();
    holder.await.unwrap()?;
    assert_eq!(waiter.await.unwrap()?, 0, "the locking read saw the holder's committed write");

    // An error from the closure undoes every write of the unit.
    let error = db
        .transaction(async |tx| {
            wallets.in_transaction(tx).create(&wallet(3, "c", 5)).await?;
            wallets.in_transaction(tx).update(2, &WalletPatch { balance: Some(999), ..Default::default() }).await?;
            wallets.in_transaction(tx).create(&wallet(4, "a", 0)).await?; // "a" is taken
            Ok(())
        })
        .await
        .expect_err("a unique clash");
    assert_eq!(error.category(), ErrorCategory::Integrity, "{error}");
    assert_eq!((wallets.count().await?, balance(2).await?), (2, 30));

    // A failed write, or a failed savepoint, undoes only its own part; the unit goes on.
    db.transaction(async |tx| {
        wallets.in_transaction(tx).create(&wallet(5, "e", 1)).await?;
        let clash = wallets.in_transaction(tx).create_many(&[wallet(6, "f", 1), wallet(7, "e", 1)]).await;
        assert_eq!(clash.expect_err("a unique clash").category(), ErrorCategory::Integrity);
        let failed = tx
            .savepoint(async |sp| {
                wallets.in_transaction(sp).create(&wallet(8, "h", 1)).await?;
                wallets.in_transaction(sp).create(&wallet(9, "e", 1)).await?; // "e" is taken
                Ok(())
            })
            .await;
        assert!(failed.is_err());
        wallets.in_transaction(tx).create(&wallet(10, "j", 1)).await?;
        Ok(())
    })
    .await?;
    for (id, kept) in [(5, true), (6, false), (7, false), (8, false), (9, false), (10, true)] {
        assert_eq!(wallets.get(id).await?.is_some(), kept, "wallet {id}");
    }
    db.drop_table::<Wallet>().await
}
