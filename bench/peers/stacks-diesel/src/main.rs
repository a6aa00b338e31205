//! Diesel 2 (synchronous) for the peer benchmark: one connection (`SqliteConnection`,
//! `PgConnection`, `MysqlConnection`, no pool), Diesel's query builder for every workload, its
//! prepared-statement cache on, the join as one `inner_join` query (Diesel's "medium complex"
//! case, by user id). Where the backend has `RETURNING` (SQLite, PostgreSQL) inserts and updates
//! return the row with it; Diesel's MySQL backend has none, so there the write and a read-back run
//! in one transaction, as dbkit does on MySQL. See `../README.md`.

#[path = "../../common/harness.rs"]
mod harness;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use harness::{Args, BATCH, Backend, PAGE, Workload};

mod schema {
    diesel::table! {
        peer_users (id) {
            id -> BigInt,
            username -> Text,
            email -> Text,
            bio -> Nullable<Text>,
        }
    }

    diesel::table! {
        peer_posts (id) {
            id -> BigInt,
            user_id -> BigInt,
            title -> Text,
            body -> Text,
        }
    }

    diesel::joinable!(peer_posts -> peer_users (user_id));
    diesel::allow_tables_to_appear_in_same_query!(peer_users, peer_posts);
}

use schema::{peer_posts, peer_users};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = peer_users)]
struct User {
    id: i64,
    username: String,
    email: String,
    bio: Option<String>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = peer_posts)]
struct Post {
    id: i64,
    #[allow(dead_code)] // selected, as every stack selects the whole row, but not summed
    user_id: i64,
    title: String,
    body: String,
}

/// A new user. `treat_none_as_default_value = false`: a `None` bio is written as NULL, which also
/// lets SQLite take a batch of them in one multi-row `INSERT` (it has no `DEFAULT` in `VALUES`).
#[derive(Insertable)]
#[diesel(table_name = peer_users)]
#[diesel(treat_none_as_default_value = false)]
struct NewUser {
    username: String,
    email: String,
    bio: Option<String>,
}

impl From<(String, String, Option<String>)> for NewUser {
    fn from((username, email, bio): (String, String, Option<String>)) -> NewUser {
        NewUser { username, email, bio }
    }
}

diesel::define_sql_function! {
    /// MySQL's id of the last row this connection inserted.
    fn last_insert_id() -> BigInt;
}

fn sum(u: &User) -> u64 {
    harness::user_sum(u.id, &u.username, &u.email, u.bio.as_deref())
}

/// The workloads Diesel writes the same way on every backend; `$insert_1` and `$update` are the two
/// that differ (`RETURNING` or a read-back). A macro: Diesel's bounds for "any connection that can
/// run this query" are long, and each backend is a concrete type anyway.
macro_rules! run_on {
    ($args:expr, $conn:expr, $engine:expr, $insert_1:expr, $update:expr) => {{
        let args: &Args = $args;
        let conn = $conn;
        let engine: &str = $engine;
        let total = args.total();
        match args.workload {
            Workload::GetByKey => harness::run_sync(args, engine, |i| {
                let user =
                    peer_users::table.find(harness::key(i)).select(User::as_select()).first(conn).optional().unwrap();
                sum(&user.expect("seeded"))
            }),
            Workload::GetByUnique => {
                let names: Vec<String> = (0..total).map(|i| harness::username(harness::key(i))).collect();
                harness::run_sync(args, engine, |i| {
                    let user = peer_users::table
                        .filter(peer_users::username.eq(&names[i]))
                        .select(User::as_select())
                        .first(conn)
                        .optional()
                        .unwrap();
                    sum(&user.expect("seeded"))
                })
            }
            Workload::Page100 => harness::run_sync(args, engine, |i| {
                let page: Vec<User> = peer_users::table
                    .order(peer_users::id)
                    .limit(PAGE)
                    .offset(harness::page_offset(i))
                    .select(User::as_select())
                    .load(conn)
                    .unwrap();
                page.iter().map(sum).sum()
            }),
            Workload::Join => harness::run_sync(args, engine, |i| {
                let rows: Vec<(User, Post)> = peer_users::table
                    .inner_join(peer_posts::table)
                    .filter(peer_users::id.eq(harness::key(i)))
                    .order(peer_posts::id)
                    .select((User::as_select(), Post::as_select()))
                    .load(conn)
                    .unwrap();
                sum(&rows[0].0) + rows.iter().map(|(_, p)| harness::post_sum(p.id, &p.title, &p.body)).sum::<u64>()
            }),
            Workload::Insert1 => {
                let rows: Vec<NewUser> = (0..total).map(|i| harness::new_user(i).into()).collect();
                let insert_1 = $insert_1;
                harness::run_sync(args, engine, |i| {
                    let u: User = insert_1(&mut *conn, &rows[i]);
                    harness::inserted_sum(u.id, &u.username, &u.email, u.bio.as_deref())
                })
            }
            Workload::Insert100 => {
                let batches: Vec<Vec<NewUser>> =
                    (0..total).map(|i| (0..BATCH).map(|j| harness::batch_user(i, j).into()).collect()).collect();
                harness::run_sync(args, engine, |i| {
                    let written = conn
                        .transaction(|c| diesel::insert_into(peer_users::table).values(&batches[i]).execute(c))
                        .unwrap();
                    written as u64
                })
            }
            Workload::Update => {
                let bios: Vec<String> = (0..total).map(harness::updated_bio).collect();
                let update = $update;
                harness::run_sync(args, engine, |i| {
                    let u: User = update(&mut *conn, harness::key(i), &bios[i]).expect("seeded");
                    sum(&u)
                })
            }
            Workload::Delete => harness::run_sync(args, engine, |i| {
                diesel::delete(peer_users::table.find(harness::delete_key(i))).execute(conn).unwrap() as u64
            }),
        }
    }};
}

/// Untimed: runs plain SQL (the restore, the delete workload's rows) on Diesel's connection.
fn exec(conn: &mut impl SimpleConnection, statements: &[String]) {
    for sql in statements {
        conn.batch_execute(sql).unwrap_or_else(|e| harness::fail(&format!("{e}")));
    }
}

fn statements_before(args: &Args) -> Vec<String> {
    let mut statements = harness::restore_sql(args.backend);
    if args.workload == Workload::Delete {
        statements.extend(harness::delete_rows_sql(args.total()));
    }
    statements
}

fn main() {
    let args = Args::parse();
    if args.setup {
        harness::fail("the setup runs through peer-sqlx09");
    }
    if args.stack != "diesel" {
        harness::fail(&format!("unknown stack `{}` in this binary", args.stack));
    }
    match args.backend {
        Backend::Sqlite => {
            let conn = &mut SqliteConnection::establish(&args.sqlite_path()).expect("Diesel opens the file");
            conn.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA busy_timeout = 5000;",
            )
            .unwrap();
            if args.workload.writes() {
                exec(conn, &statements_before(&args));
            }
            let version: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("sqlite_version()"))
                .get_result(conn)
                .unwrap();
            run_on!(
                &args,
                &mut *conn,
                &format!("sqlite-{version}"),
                |c: &mut SqliteConnection, new: &NewUser| {
                    diesel::insert_into(peer_users::table)
                        .values(new)
                        .returning(User::as_returning())
                        .get_result(c)
                        .unwrap()
                },
                |c: &mut SqliteConnection, key: i64, bio: &str| {
                    diesel::update(peer_users::table.find(key))
                        .set(peer_users::bio.eq(bio))
                        .returning(User::as_returning())
                        .get_result(c)
                        .optional()
                        .unwrap()
                }
            );
            if args.workload.writes() {
                exec(conn, &harness::restore_sql(args.backend));
            }
        }
        Backend::Postgres => {
            let conn = &mut PgConnection::establish(&args.url).expect("Diesel connects to PostgreSQL");
            if args.workload.writes() {
                exec(conn, &statements_before(&args));
            }
            run_on!(
                &args,
                &mut *conn,
                "-",
                |c: &mut PgConnection, new: &NewUser| {
                    diesel::insert_into(peer_users::table)
                        .values(new)
                        .returning(User::as_returning())
                        .get_result(c)
                        .unwrap()
                },
                |c: &mut PgConnection, key: i64, bio: &str| {
                    diesel::update(peer_users::table.find(key))
                        .set(peer_users::bio.eq(bio))
                        .returning(User::as_returning())
                        .get_result(c)
                        .optional()
                        .unwrap()
                }
            );
            if args.workload.writes() {
                exec(conn, &harness::restore_sql(args.backend));
            }
        }
        Backend::Mariadb => {
            let conn = &mut MysqlConnection::establish(&args.url).expect("Diesel connects to MariaDB");
            if args.workload.writes() {
                exec(conn, &statements_before(&args));
            }
            run_on!(
                &args,
                &mut *conn,
                "-",
                // No `RETURNING` in Diesel's MySQL backend: insert, then read the row back by
                // `LAST_INSERT_ID()`, in one transaction.
                |c: &mut MysqlConnection, new: &NewUser| {
                    c.transaction(|c| {
                        diesel::insert_into(peer_users::table).values(new).execute(c)?;
                        peer_users::table.filter(peer_users::id.eq(last_insert_id())).select(User::as_select()).first(c)
                    })
                    .unwrap()
                },
                |c: &mut MysqlConnection, key: i64, bio: &str| {
                    c.transaction(|c| {
                        diesel::update(peer_users::table.find(key)).set(peer_users::bio.eq(bio)).execute(c)?;
                        peer_users::table.find(key).select(User::as_select()).first(c).optional()
                    })
                    .unwrap()
                }
            );
            if args.workload.writes() {
                exec(conn, &harness::restore_sql(args.backend));
            }
        }
    }
}
