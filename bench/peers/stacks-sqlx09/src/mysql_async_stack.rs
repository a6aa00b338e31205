//! The MariaDB floor: mysql_async on one connection (no pool), every statement prepared once
//! before the timed loop (`COM_STMT_PREPARE`) and executed by its handle in the binary protocol.
//! The same SQL text as the other stacks: `INSERT … RETURNING` (MariaDB 10.5+), and for the
//! update, which has no `RETURNING` on MariaDB, the write and a read-back in one transaction.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Params, TxOpts, Value};

use crate::harness::{self, Args, BATCH, PAGE, Workload};

const COLUMNS: &str = "id, username, email, bio";

type UserRow = (i64, String, String, Option<String>);
/// A user and one of their posts.
type UserPostRow = (i64, String, String, Option<String>, i64, String, String);

fn user((id, username, email, bio): &UserRow) -> u64 {
    harness::user_sum(*id, username, email, bio.as_deref())
}

pub async fn run(args: &Args) {
    let mut conn = Conn::new(Opts::from_url(&args.url).expect("a MySQL URL")).await.expect("mysql_async connects");

    let get = conn.prep(format!("SELECT {COLUMNS} FROM peer_users WHERE id = ?")).await.unwrap();
    let by_username = conn.prep(format!("SELECT {COLUMNS} FROM peer_users WHERE username = ?")).await.unwrap();
    let page = conn.prep(format!("SELECT {COLUMNS} FROM peer_users ORDER BY id LIMIT ? OFFSET ?")).await.unwrap();
    let join = conn
        .prep(
            "SELECT u.id, u.username, u.email, u.bio, p.id AS post_id, p.title, p.body \
             FROM peer_users u JOIN peer_posts p ON p.user_id = u.id WHERE u.id = ? ORDER BY p.id",
        )
        .await
        .unwrap();
    let insert = conn
        .prep(format!("INSERT INTO peer_users (username, email, bio) VALUES (?, ?, ?) RETURNING {COLUMNS}"))
        .await
        .unwrap();
    let insert_many = conn
        .prep(format!("INSERT INTO peer_users (username, email, bio) VALUES {}", vec!["(?, ?, ?)"; BATCH].join(", ")))
        .await
        .unwrap();
    let update = conn.prep("UPDATE peer_users SET bio = ? WHERE id = ?").await.unwrap();
    let delete = conn.prep("DELETE FROM peer_users WHERE id = ?").await.unwrap();

    let engine = "-";
    let total = args.total();
    match args.workload {
        Workload::GetByKey => {
            harness::run_async(args, engine, async |i| {
                let row: Option<UserRow> = conn.exec_first(&get, (harness::key(i),)).await.unwrap();
                user(&row.expect("seeded"))
            })
            .await
        }
        Workload::GetByUnique => {
            let names: Vec<String> = (0..total).map(|i| harness::username(harness::key(i))).collect();
            harness::run_async(args, engine, async |i| {
                let row: Option<UserRow> = conn.exec_first(&by_username, (names[i].as_str(),)).await.unwrap();
                user(&row.expect("seeded"))
            })
            .await
        }
        Workload::Page100 => {
            harness::run_async(args, engine, async |i| {
                let rows: Vec<UserRow> = conn.exec(&page, (PAGE, harness::page_offset(i))).await.unwrap();
                rows.iter().map(user).sum()
            })
            .await
        }
        Workload::Join => {
            harness::run_async(args, engine, async |i| {
                let rows: Vec<UserPostRow> = conn.exec(&join, (harness::key(i),)).await.unwrap();
                let (id, username, email, bio, ..) = &rows[0];
                harness::user_sum(*id, username, email, bio.as_deref())
                    + rows
                        .iter()
                        .map(|(.., post_id, title, body)| harness::post_sum(*post_id, title, body))
                        .sum::<u64>()
            })
            .await
        }
        Workload::Insert1 => {
            let rows: Vec<_> = (0..total).map(harness::new_user).collect();
            harness::run_async(args, engine, async |i| {
                let (username, email, bio) = &rows[i];
                let row: Option<UserRow> =
                    conn.exec_first(&insert, (username.as_str(), email.as_str(), bio.as_deref())).await.unwrap();
                let (id, username, email, bio) = row.expect("inserted");
                harness::inserted_sum(id, &username, &email, bio.as_deref())
            })
            .await
        }
        Workload::Insert100 => {
            let batches: Vec<Vec<_>> =
                (0..total).map(|i| (0..BATCH).map(|j| harness::batch_user(i, j)).collect()).collect();
            harness::run_async(args, engine, async |i| {
                let values: Vec<Value> = batches[i]
                    .iter()
                    .flat_map(|(username, email, bio)| {
                        [Value::from(username.as_str()), Value::from(email.as_str()), Value::from(bio.as_deref())]
                    })
                    .collect();
                let mut tx = conn.start_transaction(TxOpts::default()).await.unwrap();
                tx.exec_drop(&insert_many, Params::Positional(values)).await.unwrap();
                let written = tx.affected_rows();
                tx.commit().await.unwrap();
                written
            })
            .await
        }
        Workload::Update => {
            let bios: Vec<String> = (0..total).map(harness::updated_bio).collect();
            harness::run_async(args, engine, async |i| {
                let key = harness::key(i);
                let mut tx = conn.start_transaction(TxOpts::default()).await.unwrap();
                tx.exec_drop(&update, (bios[i].as_str(), key)).await.unwrap();
                let row: Option<UserRow> = tx.exec_first(&get, (key,)).await.unwrap();
                tx.commit().await.unwrap();
                user(&row.expect("seeded"))
            })
            .await
        }
        Workload::Delete => {
            harness::run_async(args, engine, async |i| {
                conn.exec_drop(&delete, (harness::delete_key(i),)).await.unwrap();
                conn.affected_rows()
            })
            .await
        }
    }
    conn.disconnect().await.expect("disconnects");
}
