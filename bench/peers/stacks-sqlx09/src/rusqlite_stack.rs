//! The SQLite floor: rusqlite on one connection, each statement prepared once and reused from
//! rusqlite's statement cache, called on the calling thread. The same SQL text and connection
//! settings (WAL, `synchronous = NORMAL`, `busy_timeout`, `foreign_keys`) as every other stack;
//! the least a Rust program can do to run these statements.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::harness::{self, Args, BATCH, PAGE, Workload};

const COLUMNS: &str = "id, username, email, bio";

fn user(row: &Row<'_>) -> rusqlite::Result<u64> {
    let (username, email, bio): (String, String, Option<String>) = (row.get(1)?, row.get(2)?, row.get(3)?);
    Ok(harness::user_sum(row.get(0)?, &username, &email, bio.as_deref()))
}

pub fn run(args: &Args) {
    let mut conn = Connection::open(args.sqlite_path()).expect("rusqlite opens the file");
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let version: String = conn.query_row("SELECT sqlite_version()", [], |r| r.get(0)).unwrap();
    let engine = format!("sqlite-{version}");

    let get = format!("SELECT {COLUMNS} FROM peer_users WHERE id = ?");
    let by_username = format!("SELECT {COLUMNS} FROM peer_users WHERE username = ?");
    let page = format!("SELECT {COLUMNS} FROM peer_users ORDER BY id LIMIT ? OFFSET ?");
    let join = "SELECT u.id, u.username, u.email, u.bio, p.id AS post_id, p.title, p.body \
                FROM peer_users u JOIN peer_posts p ON p.user_id = u.id WHERE u.id = ? ORDER BY p.id";
    let insert = format!("INSERT INTO peer_users (username, email, bio) VALUES (?, ?, ?) RETURNING {COLUMNS}");
    let insert_many =
        format!("INSERT INTO peer_users (username, email, bio) VALUES {}", vec!["(?, ?, ?)"; BATCH].join(", "));
    let update = format!("UPDATE peer_users SET bio = ? WHERE id = ? RETURNING {COLUMNS}");
    let delete = "DELETE FROM peer_users WHERE id = ?";

    let total = args.total();
    match args.workload {
        Workload::GetByKey => harness::run_sync(args, &engine, |i| {
            let mut stmt = conn.prepare_cached(&get).unwrap();
            stmt.query_row([harness::key(i)], user).optional().unwrap().expect("seeded")
        }),
        Workload::GetByUnique => {
            let names: Vec<String> = (0..total).map(|i| harness::username(harness::key(i))).collect();
            harness::run_sync(args, &engine, |i| {
                let mut stmt = conn.prepare_cached(&by_username).unwrap();
                stmt.query_row([&names[i]], user).optional().unwrap().expect("seeded")
            })
        }
        Workload::Page100 => harness::run_sync(args, &engine, |i| {
            let mut stmt = conn.prepare_cached(&page).unwrap();
            let rows = stmt.query_map(params![PAGE, harness::page_offset(i)], user).unwrap();
            rows.map(Result::unwrap).sum()
        }),
        Workload::Join => harness::run_sync(args, &engine, |i| {
            let mut stmt = conn.prepare_cached(join).unwrap();
            let mut rows = stmt.query([harness::key(i)]).unwrap();
            let mut sum = 0;
            let mut first = true;
            while let Some(row) = rows.next().unwrap() {
                if first {
                    sum += user(row).unwrap();
                    first = false;
                }
                let (title, body): (String, String) = (row.get(5).unwrap(), row.get(6).unwrap());
                sum += harness::post_sum(row.get(4).unwrap(), &title, &body);
            }
            sum
        }),
        Workload::Insert1 => {
            let rows: Vec<_> = (0..total).map(harness::new_user).collect();
            harness::run_sync(args, &engine, |i| {
                let (username, email, bio) = &rows[i];
                let mut stmt = conn.prepare_cached(&insert).unwrap();
                stmt.query_row(params![username, email, bio], |row| {
                    let (username, email, bio): (String, String, Option<String>) =
                        (row.get(1)?, row.get(2)?, row.get(3)?);
                    Ok(harness::inserted_sum(row.get(0)?, &username, &email, bio.as_deref()))
                })
                .unwrap()
            })
        }
        Workload::Insert100 => {
            let batches: Vec<Vec<_>> =
                (0..total).map(|i| (0..BATCH).map(|j| harness::batch_user(i, j)).collect()).collect();
            harness::run_sync(args, &engine, |i| {
                let tx = conn.transaction().unwrap();
                let written = {
                    let mut stmt = tx.prepare_cached(&insert_many).unwrap();
                    let values = batches[i].iter().flat_map(|(username, email, bio)| {
                        [username as &dyn rusqlite::ToSql, email as &dyn rusqlite::ToSql, bio as &dyn rusqlite::ToSql]
                    });
                    stmt.execute(rusqlite::params_from_iter(values)).unwrap()
                };
                tx.commit().unwrap();
                written as u64
            })
        }
        Workload::Update => {
            let bios: Vec<String> = (0..total).map(harness::updated_bio).collect();
            harness::run_sync(args, &engine, |i| {
                let mut stmt = conn.prepare_cached(&update).unwrap();
                stmt.query_row(params![bios[i], harness::key(i)], user).optional().unwrap().expect("seeded")
            })
        }
        Workload::Delete => harness::run_sync(args, &engine, |i| {
            let mut stmt = conn.prepare_cached(delete).unwrap();
            stmt.execute([harness::delete_key(i)]).unwrap() as u64
        }),
    }
}
