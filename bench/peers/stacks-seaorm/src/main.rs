//! SeaORM 2 for the peer benchmark: entities in SeaORM's compact form, each workload written the
//! way SeaORM's documentation shows it (`find_by_id`, `filter(..).one`, `ActiveModel::insert`
//! returning the model, `insert_many` in a transaction, `ActiveModel::update`, `delete_by_id`,
//! and `find_with_related` for a user and their posts). One pooled connection, no ping before use,
//! SQLite with the same pragmas as every other stack. See `../README.md`.

#[path = "../../common/harness.rs"]
mod harness;

use std::time::Duration;

use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::{NotSet, Set, Unchanged},
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, QueryOrder, QuerySelect, TransactionTrait,
};

use harness::{Args, BATCH, Backend, PAGE, Workload};

mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "peer_users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub username: String,
        pub email: String,
        pub bio: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::post::Entity")]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod post {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "peer_posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub title: String,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(belongs_to = "super::user::Entity", from = "Column::UserId", to = "super::user::Column::Id")]
        User,
    }

    impl Related<super::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

fn sum(u: &user::Model) -> u64 {
    harness::user_sum(u.id, &u.username, &u.email, u.bio.as_deref())
}

async fn connect(args: &Args) -> DatabaseConnection {
    let url = match args.backend {
        // `mode=rwc` is sqlx's "create if missing"; the file exists (the setup made it).
        Backend::Sqlite => format!("sqlite://{}?mode=rw", args.sqlite_path()),
        _ => args.url.clone(),
    };
    let mut options = ConnectOptions::new(url);
    options.max_connections(1).min_connections(1).test_before_acquire(false).sqlx_logging(false);
    options.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
    });
    Database::connect(options).await.expect("SeaORM connects")
}

/// Untimed: runs plain SQL (the restore, the delete workload's rows) through SeaORM's connection.
async fn exec(db: &DatabaseConnection, statements: &[String]) {
    for sql in statements {
        db.execute_unprepared(sql).await.unwrap_or_else(|e| harness::fail(&format!("{e}")));
    }
}

async fn run(args: &Args) {
    let db = connect(args).await;
    if args.workload.writes() {
        let mut statements = harness::restore_sql(args.backend);
        if args.workload == Workload::Delete {
            statements.extend(harness::delete_rows_sql(args.total()));
        }
        exec(&db, &statements).await;
    }
    let engine = match args.backend {
        Backend::Sqlite => {
            let row =
                db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT sqlite_version()"));
            let version: String = row.await.unwrap().expect("a row").try_get_by_index(0).unwrap();
            format!("sqlite-{version}")
        }
        _ => "-".to_owned(),
    };
    let total = args.total();
    match args.workload {
        Workload::GetByKey => {
            harness::run_async(args, &engine, async |i| {
                sum(&user::Entity::find_by_id(harness::key(i)).one(&db).await.unwrap().expect("seeded"))
            })
            .await
        }
        Workload::GetByUnique => {
            let names: Vec<String> = (0..total).map(|i| harness::username(harness::key(i))).collect();
            harness::run_async(args, &engine, async |i| {
                let found = user::Entity::find().filter(user::Column::Username.eq(&names[i])).one(&db).await.unwrap();
                sum(&found.expect("seeded"))
            })
            .await
        }
        Workload::Page100 => {
            harness::run_async(args, &engine, async |i| {
                let page = user::Entity::find()
                    .order_by_asc(user::Column::Id)
                    .limit(PAGE as u64)
                    .offset(harness::page_offset(i) as u64)
                    .all(&db)
                    .await
                    .unwrap();
                page.iter().map(sum).sum()
            })
            .await
        }
        Workload::Join => {
            harness::run_async(args, &engine, async |i| {
                let found =
                    user::Entity::find_by_id(harness::key(i)).find_with_related(post::Entity).all(&db).await.unwrap();
                let (user, posts) = &found[0];
                sum(user) + posts.iter().map(|p| harness::post_sum(p.id, &p.title, &p.body)).sum::<u64>()
            })
            .await
        }
        Workload::Insert1 => {
            let mut rows: Vec<user::ActiveModel> = (0..total)
                .map(|i| {
                    let (username, email, bio) = harness::new_user(i);
                    user::ActiveModel { id: NotSet, username: Set(username), email: Set(email), bio: Set(bio) }
                })
                .collect();
            harness::run_async(args, &engine, async |i| {
                // `insert` takes the model by value: moved out of the prepared inputs, not cloned.
                let u = std::mem::take(&mut rows[i]).insert(&db).await.unwrap();
                harness::inserted_sum(u.id, &u.username, &u.email, u.bio.as_deref())
            })
            .await
        }
        Workload::Insert100 => {
            let mut batches: Vec<Vec<user::ActiveModel>> = (0..total)
                .map(|i| {
                    (0..BATCH)
                        .map(|j| {
                            let (username, email, bio) = harness::batch_user(i, j);
                            user::ActiveModel { id: NotSet, username: Set(username), email: Set(email), bio: Set(bio) }
                        })
                        .collect()
                })
                .collect();
            harness::run_async(args, &engine, async |i| {
                let tx = db.begin().await.unwrap();
                // Without returning: the rows written, as every stack reports (not their ids).
                let written = user::Entity::insert_many(std::mem::take(&mut batches[i]))
                    .exec_without_returning(&tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                written
            })
            .await
        }
        Workload::Update => {
            let mut patches: Vec<user::ActiveModel> = (0..total)
                .map(|i| user::ActiveModel {
                    id: Unchanged(harness::key(i)),
                    bio: Set(Some(harness::updated_bio(i))),
                    ..Default::default()
                })
                .collect();
            harness::run_async(args, &engine, async |i| {
                sum(&std::mem::take(&mut patches[i]).update(&db).await.unwrap())
            })
            .await
        }
        Workload::Delete => {
            harness::run_async(args, &engine, async |i| {
                user::Entity::delete_by_id(harness::delete_key(i)).exec(&db).await.unwrap().rows_affected
            })
            .await
        }
    }
    if args.workload.writes() {
        exec(&db, &harness::restore_sql(args.backend)).await;
    }
    db.close().await.expect("closes");
}

fn main() {
    let args = Args::parse();
    if args.setup {
        harness::fail("the setup runs through peer-sqlx09");
    }
    if args.stack != "seaorm" {
        harness::fail(&format!("unknown stack `{}` in this binary", args.stack));
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    rt.block_on(run(&args));
}
