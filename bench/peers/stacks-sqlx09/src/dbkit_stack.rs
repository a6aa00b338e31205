//! dbkit: one model for all three backends, its generated repository, and the join as a checked
//! `#[dbkit::queries]` method. Pool of one connection, as the hand-written sqlx stack gets, and
//! dbkit's default pre-ping: its pool pings only a connection idle for half a second or more, so
//! the setting costs nothing here, while sqlx's ping before use is turned off (its best case).

use dbkit::prelude::*;

use crate::harness::{self, Args, BATCH, PAGE, Workload};

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "peer_users")]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    pub email: String,
    pub bio: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "peer_posts")]
pub struct Post {
    #[key(auto)]
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub body: String,
}

#[dbkit::queries(join = [Post])]
impl UserRepository {
    /// The join workload: a user and their posts, by the user's id.
    #[query(
        "SELECT u.id, u.username, u.email, u.bio, p.id AS post_id, p.title, p.body \
         FROM peer_users u JOIN peer_posts p ON p.user_id = u.id WHERE u.id = :id ORDER BY p.id"
    )]
    #[allow(clippy::type_complexity)] // a user and one of their posts, per row
    pub async fn with_posts(
        &self,
        id: i64,
    ) -> dbkit::Result<Vec<(i64, String, String, Option<String>, i64, String, String)>>;
}

fn sum(u: &User) -> u64 {
    harness::user_sum(u.id, &u.username, &u.email, u.bio.as_deref())
}

/// Connects as the benchmark does: one connection, dbkit's default pre-ping.
pub async fn connect(url: &str) -> Database {
    let config = DatabaseConfig::from_url(url).expect("a valid URL").pool_size(1).max_overflow(0);
    Database::connect_with(config).await.expect("dbkit connects")
}

pub async fn run(args: &Args) {
    let db = connect(&args.url).await;
    // What the stack runs on: the SQLite library it links (the servers' versions are reported
    // once, by the setup).
    let engine = match args.backend {
        harness::Backend::Sqlite => format!("sqlite-{}", db.server_version()),
        _ => "-".to_owned(),
    };
    let users = UserRepository::new(&db);
    let total = args.total();
    match args.workload {
        Workload::GetByKey => {
            harness::run_async(args, &engine, async |i| {
                sum(&users.get(harness::key(i)).await.unwrap().expect("seeded"))
            })
            .await
        }
        Workload::GetByUnique => {
            let names: Vec<String> = (0..total).map(|i| harness::username(harness::key(i))).collect();
            harness::run_async(args, &engine, async |i| {
                sum(&users.get_by_username(&names[i]).await.unwrap().expect("seeded"))
            })
            .await
        }
        Workload::Page100 => {
            harness::run_async(args, &engine, async |i| {
                let page = Page::new(harness::page_offset(i) as u64, PAGE as u64);
                users.list(page).await.unwrap().iter().map(sum).sum()
            })
            .await
        }
        Workload::Join => {
            harness::run_async(args, &engine, async |i| {
                let rows = users.with_posts(harness::key(i)).await.unwrap();
                let (id, username, email, bio, ..) = &rows[0];
                let user = harness::user_sum(*id, username, email, bio.as_deref());
                user + rows
                    .iter()
                    .map(|(.., post_id, title, body)| harness::post_sum(*post_id, title, body))
                    .sum::<u64>()
            })
            .await
        }
        Workload::Insert1 => {
            let rows: Vec<NewUser> = (0..total)
                .map(|i| {
                    let (username, email, bio) = harness::new_user(i);
                    NewUser { username, email, bio }
                })
                .collect();
            harness::run_async(args, &engine, async |i| {
                let u = users.create(&rows[i]).await.unwrap();
                harness::inserted_sum(u.id, &u.username, &u.email, u.bio.as_deref())
            })
            .await
        }
        Workload::Insert100 => {
            let batches: Vec<Vec<NewUser>> = (0..total)
                .map(|i| {
                    (0..BATCH)
                        .map(|j| {
                            let (username, email, bio) = harness::batch_user(i, j);
                            NewUser { username, email, bio }
                        })
                        .collect()
                })
                .collect();
            harness::run_async(args, &engine, async |i| users.create_many(&batches[i]).await.unwrap()).await
        }
        Workload::Update => {
            let patches: Vec<UserPatch> = (0..total)
                .map(|i| UserPatch { bio: Some(Some(harness::updated_bio(i))), ..Default::default() })
                .collect();
            harness::run_async(args, &engine, async |i| {
                sum(&users.update(harness::key(i), &patches[i]).await.unwrap().expect("seeded"))
            })
            .await
        }
        Workload::Delete => {
            harness::run_async(args, &engine, async |i| u64::from(users.delete(harness::delete_key(i)).await.unwrap()))
                .await
        }
    }
    db.close().await;
}
