//! Generated repositories inside the caller's transaction (`repo.in_transaction(tx)`), the same
//! code on SQLite, PostgreSQL and MariaDB: several repositories commit or roll back together, a
//! failed write inside rolls back only its own savepoint, 2 000 concurrent transfers through two
//! repositories conserve the total with `get_for_update` (and a control without it loses
//! updates), and 64 concurrent sign-ups of one username leave exactly one row.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dbkit::prelude::*;
use dbkit::retry::RetryPolicy;
use dbkit::{Backend, DatabaseTransaction};

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "uow_accounts")]
pub struct Account {
    #[key]
    pub id: i64,
    pub balance: i64,
}

#[dbkit::queries]
impl AccountRepository {
    #[query("UPDATE uow_accounts SET balance = balance + :amount WHERE id = :id")]
    async fn deposit(&self, id: i64, amount: i64) -> dbkit::Result<u64>;
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "uow_ledger")]
pub struct Entry {
    #[key(auto)]
    pub id: i64,
    pub from_account: i64,
    pub to_account: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "uow_members")]
pub struct Member {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
}

const ACCOUNTS: i64 = 10;
const OPENING: i64 = 1_000;
const TASKS: u64 = 32;
const TRANSFERS: u64 = 2_000;

async fn fresh(db: &Database) {
    db.drop_table::<Account>().await.unwrap();
    db.drop_table::<Entry>().await.unwrap();
    db.drop_table::<Member>().await.unwrap();
    db.create_table::<Account>().await.unwrap();
    db.create_table::<Entry>().await.unwrap();
    db.create_table::<Member>().await.unwrap();
    let rows: Vec<NewAccount> = (1..=ACCOUNTS).map(|id| NewAccount { id, balance: OPENING }).collect();
    AccountRepository::new(db).create_many(&rows).await.unwrap();
}

/// How a transfer reads the two balances.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    /// `get_for_update`: the rows stay locked until the transaction ends.
    Locking,
    /// `get`: a plain read, the lost update the locking read exists to prevent.
    Plain,
    /// `get` under PostgreSQL's SERIALIZABLE, where the server aborts one of two conflicting
    /// transactions and `transaction_with` reruns it.
    Serializable,
}

/// Moves `amount` from `from` to `to` and writes a ledger entry, in one transaction.
async fn transfer(
    tx: &mut DatabaseTransaction,
    accounts: &AccountRepository,
    ledger: &EntryRepository,
    (from, to, amount): (i64, i64, i64),
    read: Read,
) -> dbkit::Result<()> {
    if read == Read::Serializable {
        sqlx_serializable(tx).await?;
    }
    // Locks in key order, so two transfers between the same accounts do not deadlock.
    let (first, second) = (from.min(to), from.max(to));
    let mut balances = Vec::new();
    for id in [first, second] {
        let account = match read {
            Read::Locking => accounts.in_transaction(tx).get_for_update(id).await?,
            Read::Plain | Read::Serializable => accounts.in_transaction(tx).get(id).await?,
        };
        balances.push(account.expect("every account exists").balance);
    }
    // Widens the window between read and write, so a plain read reliably loses updates.
    tokio::time::sleep(Duration::from_millis(1)).await;
    let balance = |id: i64| if id == first { balances[0] } else { balances[1] };
    let debit = AccountPatch { balance: Some(balance(from) - amount) };
    let credit = AccountPatch { balance: Some(balance(to) + amount) };
    // Written in key order too, so plain reads do not deadlock either.
    let (first_patch, second_patch) = if from == first { (&debit, &credit) } else { (&credit, &debit) };
    accounts.in_transaction(tx).update(first, first_patch).await?;
    accounts.in_transaction(tx).update(second, second_patch).await?;
    ledger.in_transaction(tx).create(&NewEntry { from_account: from, to_account: to, amount }).await?;
    Ok(())
}

async fn sqlx_serializable(tx: &mut DatabaseTransaction) -> dbkit::Result<()> {
    dbkit::sqlx::query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .execute(tx.sqlx::<dbkit::sqlx::Postgres>()?)
        .await?;
    Ok(())
}

/// What a run of concurrent transfers left: the sum of the balances, whether each balance is its
/// opening plus what the ledger says came in and went out, the ledger's length, and how many
/// times a transaction was run again.
struct Outcome {
    total: i64,
    consistent: bool,
    entries: u64,
    reruns: u64,
}

async fn run_transfers(db: &Database, read: Read) -> Outcome {
    fresh(db).await;
    let runs = Arc::new(AtomicU64::new(0));
    // Generous: 32 writers on one SQLite file, or under SERIALIZABLE, conflict often, and every
    // conflict is safe to rerun.
    let policy =
        RetryPolicy::new().max_attempts(500).base_delay(Duration::from_millis(2)).max_delay(Duration::from_millis(50));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (db, runs, policy) = (db.clone(), Arc::clone(&runs), policy.clone());
        tasks.push(tokio::spawn(async move {
            let accounts = AccountRepository::new(&db);
            let ledger = EntryRepository::new(&db);
            for i in 0..TRANSFERS / TASKS + u64::from(task < TRANSFERS % TASKS) {
                let n = (task * 7919 + i * 104_729) as i64;
                let from = n % ACCOUNTS + 1;
                let to = (n / ACCOUNTS + 1) % (ACCOUNTS - 1) + 1;
                let to = if to >= from { to + 1 } else { to };
                let amount = n % 20 + 1;
                let (accounts, ledger, runs) = (accounts.clone(), ledger.clone(), Arc::clone(&runs));
                db.transaction_with(&policy, async move |tx| {
                    runs.fetch_add(1, Ordering::Relaxed);
                    transfer(tx, &accounts, &ledger, (from, to, amount), read).await
                })
                .await
                .unwrap_or_else(|e| panic!("a transfer failed for good ({}): {e}", e.category()));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let accounts = AccountRepository::new(db).list(Page::new(0, 100)).await.unwrap();
    let entries = EntryRepository::new(db).list(Page::new(0, 10_000)).await.unwrap();
    let consistent = accounts.iter().all(|a| {
        let inflow: i64 = entries.iter().filter(|e| e.to_account == a.id).map(|e| e.amount).sum();
        let outflow: i64 = entries.iter().filter(|e| e.from_account == a.id).map(|e| e.amount).sum();
        a.balance == OPENING + inflow - outflow
    });
    Outcome {
        total: accounts.iter().map(|a| a.balance).sum(),
        consistent,
        entries: entries.len() as u64,
        reruns: runs.load(Ordering::Relaxed) - TRANSFERS,
    }
}

fn assert_conserved(outcome: &Outcome, label: &str) {
    assert_eq!(outcome.entries, TRANSFERS, "{label}: every transfer applied exactly once");
    assert_eq!(outcome.total, ACCOUNTS * OPENING, "{label}: the total is conserved");
    assert!(outcome.consistent, "{label}: every balance matches the ledger");
    eprintln!("{label}: {} transfers, {} reruns", outcome.entries, outcome.reruns);
}

macro_rules! unit_of_work_suite {
    ($module:ident, $tables:ident, $connect:expr) => {
        mod $module {
            use super::*;

            async fn db() -> Option<(Database, tokio::sync::MutexGuard<'static, ()>)> {
                let guard = super::$tables.lock().await;
                Some(($connect.await?, guard))
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn several_repositories_commit_together_and_roll_back_together() {
                let Some((db, _turn)) = db().await else { return };
                fresh(&db).await;
                let (accounts, ledger) = (AccountRepository::new(&db), EntryRepository::new(&db));
                let patch = AccountPatch { balance: Some(1) };
                let entry = NewEntry { from_account: 1, to_account: 2, amount: 5 };

                // An error after both repositories wrote: neither write stays.
                let error = db
                    .transaction(async |tx| {
                        accounts.in_transaction(tx).update(1, &patch).await?;
                        ledger.in_transaction(tx).create(&entry).await?;
                        // A custom query, in the same transaction.
                        assert_eq!(accounts.in_transaction(tx).deposit(3, 50).await?, 1);
                        // A key that exists already: an integrity error inside the unit.
                        accounts.in_transaction(tx).create(&NewAccount { id: 2, balance: 0 }).await?;
                        Ok(())
                    })
                    .await
                    .unwrap_err();
                assert_eq!(error.category(), ErrorCategory::Integrity, "{error}");
                assert_eq!(accounts.get(1).await.unwrap().unwrap().balance, OPENING);
                assert_eq!(accounts.get(3).await.unwrap().unwrap().balance, OPENING);
                assert_eq!(ledger.count().await.unwrap(), 0);

                // The control: the same writes without the error are both kept.
                db.transaction(async |tx| {
                    accounts.in_transaction(tx).update(1, &patch).await?;
                    ledger.in_transaction(tx).create(&entry).await?;
                    accounts.in_transaction(tx).deposit(3, 50).await?;
                    Ok(())
                })
                .await
                .unwrap();
                assert_eq!(accounts.get(1).await.unwrap().unwrap().balance, 1);
                assert_eq!(accounts.get(3).await.unwrap().unwrap().balance, OPENING + 50);
                assert_eq!(ledger.count().await.unwrap(), 1);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_failed_write_inside_rolls_back_only_its_own_rows() {
                let Some((db, _turn)) = db().await else { return };
                fresh(&db).await;
                let (accounts, ledger) = (AccountRepository::new(&db), EntryRepository::new(&db));
                db.transaction(async |tx| {
                    ledger.in_transaction(tx).create(&NewEntry { from_account: 1, to_account: 2, amount: 1 }).await?;
                    // Its last row clashes: `create_many` fails as a whole, in its savepoint.
                    let rows = [
                        NewAccount { id: 11, balance: 0 },
                        NewAccount { id: 12, balance: 0 },
                        NewAccount { id: 3, balance: 0 },
                    ];
                    let error = accounts.in_transaction(tx).create_many(&rows).await.unwrap_err();
                    assert_eq!(error.category(), ErrorCategory::Integrity, "{error}");
                    // The transaction goes on: reads and writes after the failure work.
                    assert_eq!(accounts.in_transaction(tx).count().await?, ACCOUNTS as u64);
                    accounts.in_transaction(tx).create(&NewAccount { id: 13, balance: 7 }).await?;
                    Ok(())
                })
                .await
                .unwrap();
                assert_eq!(ledger.count().await.unwrap(), 1, "the write before the failure is kept");
                assert!(accounts.get(11).await.unwrap().is_none(), "the failed create_many left nothing");
                assert_eq!(accounts.get(13).await.unwrap().unwrap().balance, 7, "the write after it is kept");
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn an_error_in_a_savepoint_rolls_back_only_that_part() {
                let Some((db, _turn)) = db().await else { return };
                fresh(&db).await;
                let accounts = AccountRepository::new(&db);
                let open = |id| NewAccount { id, balance: id };
                db.transaction(async |tx| {
                    accounts.in_transaction(tx).create(&open(20)).await?;
                    // Fails after a write: that write is undone, the transaction goes on.
                    let failed = tx
                        .savepoint(async |sp| {
                            accounts.in_transaction(sp).create(&open(21)).await?;
                            accounts.in_transaction(sp).create(&open(1)).await?; // exists: Integrity
                            Ok(())
                        })
                        .await;
                    assert_eq!(failed.unwrap_err().category(), ErrorCategory::Integrity);
                    // The control: a savepoint that succeeds keeps its write.
                    tx.savepoint(async |sp| accounts.in_transaction(sp).create(&open(22)).await).await?;
                    // Nested: the inner one fails, the outer one goes on and is kept.
                    tx.savepoint(async |sp| {
                        accounts.in_transaction(sp).create(&open(23)).await?;
                        let inner = sp
                            .savepoint(async |inner| {
                                accounts.in_transaction(inner).create(&open(24)).await?;
                                accounts.in_transaction(inner).create(&open(2)).await
                            })
                            .await;
                        assert!(inner.is_err());
                        Ok(())
                    })
                    .await?;
                    Ok(())
                })
                .await
                .unwrap();
                for (id, kept) in [(20, true), (21, false), (22, true), (23, true), (24, false)] {
                    assert_eq!(accounts.get(id).await.unwrap().is_some(), kept, "account {id}");
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_transfers_with_locking_reads_conserve_the_total() {
                let Some((db, _turn)) = db().await else { return };
                assert_conserved(&run_transfers(&db, Read::Locking).await, stringify!($module));
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_sign_ups_of_one_username_leave_one_row() {
                let Some((db, _turn)) = db().await else { return };
                fresh(&db).await;
                let mut tasks = Vec::new();
                for _ in 0..64 {
                    let db = db.clone();
                    tasks.push(tokio::spawn(async move {
                        let members = MemberRepository::new(&db);
                        // Seed 000's `create_user`: the check and the insert in one transaction.
                        db.transaction(async |tx| {
                            if members.in_transaction(tx).get_by_username("ada").await?.is_some() {
                                return Ok(false);
                            }
                            members.in_transaction(tx).create(&NewMember { username: "ada".into() }).await?;
                            Ok(true)
                        })
                        .await
                    }));
                }
                let (mut created, mut found, mut clashed) = (0, 0, 0);
                for task in tasks {
                    match task.await.unwrap() {
                        Ok(true) => created += 1,
                        Ok(false) => found += 1,
                        Err(error) if error.category() == ErrorCategory::Integrity => clashed += 1,
                        Err(error) if matches!(db.backend(), Backend::Sqlite) && error.is_retryable() => clashed += 1,
                        Err(error) => panic!("not a clean failure ({}): {error}", error.category()),
                    }
                }
                assert_eq!(created, 1, "exactly one sign-up created the row ({found} found it, {clashed} clashed)");
                assert_eq!(MemberRepository::new(&db).count().await.unwrap(), 1);
            }
        }
    };
}

static SQLITE_TABLES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static POSTGRES_TABLES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static MARIADB_TABLES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A SQLite file (concurrent writers need one; each in-memory test database is private to it),
/// with a busy timeout long enough for 32 writers taking turns.
async fn sqlite_file() -> Option<Database> {
    let path = std::env::temp_dir().join(format!("{}.db", dbkit_tests::unique_name("dbkit-uow")));
    let config = DatabaseConfig::from_url(&format!("sqlite://{}", path.display()))
        .unwrap()
        .sqlite_busy_timeout(Duration::from_secs(30));
    Some(Database::connect_with(config).await.unwrap())
}

unit_of_work_suite!(sqlite, SQLITE_TABLES, sqlite_file());
unit_of_work_suite!(postgres, POSTGRES_TABLES, dbkit_tests::connect(Backend::Postgres));
unit_of_work_suite!(mariadb, MARIADB_TABLES, dbkit_tests::connect(Backend::MySql));

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_serializable_conserves_the_total_by_rerunning_conflicts() {
    let Some(db) = dbkit_tests::connect(Backend::Postgres).await else { return };
    let _turn = POSTGRES_TABLES.lock().await;
    let outcome = run_transfers(&db, Read::Serializable).await;
    assert_conserved(&outcome, "postgres serializable");
    assert!(outcome.reruns > 0, "SERIALIZABLE aborted some conflicting transfers, and they ran again");
}

/// The control: the same transfers with plain reads under READ COMMITTED lose updates, which is
/// what the locking read prevents.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_plain_reads_under_read_committed_lose_updates() {
    let Some(db) = dbkit_tests::connect(Backend::Postgres).await else { return };
    let _turn = POSTGRES_TABLES.lock().await;
    let outcome = run_transfers(&db, Read::Plain).await;
    assert_eq!(outcome.entries, TRANSFERS);
    assert!(!outcome.consistent, "plain reads under READ COMMITTED lost no update: the test could not catch one");
}

/// A repository of a PostgreSQL database given a SQLite database's transaction: its statements
/// are PostgreSQL's, so the call fails before anything is sent, naming both; the transaction is
/// left usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repository_in_a_transaction_of_another_backend_is_refused() {
    let Some(postgres) = dbkit_tests::connect(Backend::Postgres).await else { return };
    let sqlite = Database::connect("sqlite::memory:").await.unwrap();
    sqlite.create_table::<Account>().await.unwrap();
    let on_postgres = AccountRepository::new(&postgres);
    let on_sqlite = AccountRepository::new(&sqlite);
    sqlite
        .transaction(async |tx| {
            let error = on_postgres.in_transaction(tx).get(1).await.unwrap_err();
            assert!(
                matches!(&error, dbkit::Error::BackendMismatch { what: "the repository", expected, actual: Backend::Sqlite, .. }
                    if expected == &[Backend::Postgres]),
                "{error:?}"
            );
            // The control, in the same transaction: the SQLite repository runs.
            on_sqlite.in_transaction(tx).create(&NewAccount { id: 1, balance: 5 }).await?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(on_sqlite.get(1).await.unwrap().unwrap().balance, 5);
}
