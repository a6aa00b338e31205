//! The PostgreSQL floor: tokio-postgres on one connection (no pool), every statement prepared once
//! before the timed loop and executed by its handle, so each call is one extended-protocol round
//! trip (bind, execute, sync) with no parse. The same SQL text as the other stacks.

use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::harness::{self, Args, BATCH, PAGE, Workload};

const COLUMNS: &str = "id, username, email, bio";

fn user(row: &Row) -> u64 {
    harness::user_sum(row.get(0), row.get::<_, &str>(1), row.get::<_, &str>(2), row.get::<_, Option<&str>>(3))
}

pub async fn run(args: &Args) {
    let (mut client, connection) = tokio_postgres::connect(&args.url, NoTls).await.expect("tokio-postgres connects");
    // The connection object does the socket I/O; on this current-thread runtime it runs whenever
    // the benchmark awaits a reply.
    let io = tokio::spawn(connection);

    let prepare = async |sql: String| client.prepare(&sql).await.expect("prepares");
    let get = prepare(format!("SELECT {COLUMNS} FROM peer_users WHERE id = $1")).await;
    let by_username = prepare(format!("SELECT {COLUMNS} FROM peer_users WHERE username = $1")).await;
    let page = prepare(format!("SELECT {COLUMNS} FROM peer_users ORDER BY id LIMIT $1 OFFSET $2")).await;
    let join = prepare(
        "SELECT u.id, u.username, u.email, u.bio, p.id AS post_id, p.title, p.body \
         FROM peer_users u JOIN peer_posts p ON p.user_id = u.id WHERE u.id = $1 ORDER BY p.id"
            .to_owned(),
    )
    .await;
    let insert =
        prepare(format!("INSERT INTO peer_users (username, email, bio) VALUES ($1, $2, $3) RETURNING {COLUMNS}")).await;
    let values: Vec<String> = (0..BATCH).map(|r| format!("(${}, ${}, ${})", 3 * r + 1, 3 * r + 2, 3 * r + 3)).collect();
    let insert_many =
        prepare(format!("INSERT INTO peer_users (username, email, bio) VALUES {}", values.join(", "))).await;
    let update = prepare(format!("UPDATE peer_users SET bio = $1 WHERE id = $2 RETURNING {COLUMNS}")).await;
    let delete = prepare("DELETE FROM peer_users WHERE id = $1".to_owned()).await;

    let engine = "-";
    let total = args.total();
    match args.workload {
        Workload::GetByKey => {
            harness::run_async(args, engine, async |i| {
                user(&client.query_opt(&get, &[&harness::key(i)]).await.unwrap().expect("seeded"))
            })
            .await
        }
        Workload::GetByUnique => {
            let names: Vec<String> = (0..total).map(|i| harness::username(harness::key(i))).collect();
            harness::run_async(args, engine, async |i| {
                user(&client.query_opt(&by_username, &[&names[i]]).await.unwrap().expect("seeded"))
            })
            .await
        }
        Workload::Page100 => {
            harness::run_async(args, engine, async |i| {
                let rows = client.query(&page, &[&PAGE, &harness::page_offset(i)]).await.unwrap();
                rows.iter().map(user).sum()
            })
            .await
        }
        Workload::Join => {
            harness::run_async(args, engine, async |i| {
                let rows = client.query(&join, &[&harness::key(i)]).await.unwrap();
                user(&rows[0]) + rows.iter().map(|r| harness::post_sum(r.get(4), r.get(5), r.get(6))).sum::<u64>()
            })
            .await
        }
        Workload::Insert1 => {
            let rows: Vec<_> = (0..total).map(harness::new_user).collect();
            harness::run_async(args, engine, async |i| {
                let (username, email, bio) = &rows[i];
                let row = client.query_one(&insert, &[username, email, bio]).await.unwrap();
                harness::inserted_sum(row.get(0), row.get(1), row.get(2), row.get(3))
            })
            .await
        }
        Workload::Insert100 => {
            let batches: Vec<Vec<_>> =
                (0..total).map(|i| (0..BATCH).map(|j| harness::batch_user(i, j)).collect()).collect();
            harness::run_async(args, engine, async |i| {
                let values: Vec<&(dyn ToSql + Sync)> = batches[i]
                    .iter()
                    .flat_map(|(username, email, bio)| {
                        [username as &(dyn ToSql + Sync), email as &(dyn ToSql + Sync), bio as &(dyn ToSql + Sync)]
                    })
                    .collect();
                let tx = client.transaction().await.unwrap();
                let written = tx.execute(&insert_many, &values).await.unwrap();
                tx.commit().await.unwrap();
                written
            })
            .await
        }
        Workload::Update => {
            let bios: Vec<String> = (0..total).map(harness::updated_bio).collect();
            harness::run_async(args, engine, async |i| {
                user(&client.query_opt(&update, &[&bios[i], &harness::key(i)]).await.unwrap().expect("seeded"))
            })
            .await
        }
        Workload::Delete => {
            harness::run_async(args, engine, async |i| {
                client.execute(&delete, &[&harness::delete_key(i)]).await.unwrap()
            })
            .await
        }
    }
    drop(client);
    io.await.expect("connection task").expect("connection closes cleanly");
}
