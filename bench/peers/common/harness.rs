//! What every stack of the peer benchmark shares: the command line, the schema and its data, the
//! workloads (which keys, which rows), the checksum formula and the timing loop.
//!
//! Each crate of the suite (`stacks-sqlx09`, `stacks-seaorm`, `stacks-diesel`) includes this file
//! with `#[path = "../../common/harness.rs"] mod harness;` rather than depending on a shared crate:
//! the crates are separate workspaces with separate lock files (their `libsqlite3-sys` versions
//! differ), and a file included by path is the one thing they can share without a third graph.
//! Standard library only, for that reason.
//!
//! A run prints one line, `PEER key=value …`, which `bench/peers/run` parses: the median time of
//! one operation and a checksum of what the operations returned. The checksum is the same formula
//! in every stack, so equal checksums across stacks show they read and wrote the same rows.

#![allow(dead_code)] // each crate uses the part its stacks need

use std::fmt;
use std::time::Instant;

/// Seeded users; their ids are 1..=USERS.
pub const USERS: i64 = 10_000;
/// Rows a page workload reads.
pub const PAGE: i64 = 100;
/// Rows one `insert_100` operation writes.
pub const BATCH: usize = 100;
/// Ids the delete workload pre-inserts (untimed) and then deletes, one per operation: far above
/// anything the sequences hand out, so they never clash with rows the insert workloads add.
pub const DELETE_BASE: i64 = 1_000_000_000;
/// Knuth's multiplicative hash constant: odd and not a multiple of 5, so `i * K mod 10 000` visits
/// every key once per 10 000 iterations, scattered over the table rather than walking it in order.
const K: u64 = 2_654_435_761;

pub const USERS_TABLE: &str = "peer_users";
pub const POSTS_TABLE: &str = "peer_posts";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mariadb,
}

impl Backend {
    fn parse(s: &str) -> Backend {
        match s {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            "mariadb" | "mysql" => Backend::Mariadb,
            other => fail(&format!("unknown backend `{other}` (sqlite, postgres, mariadb)")),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mariadb => "mariadb",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// One user by primary key.
    GetByKey,
    /// One user by its unique username.
    GetByUnique,
    /// 100 users, `ORDER BY id LIMIT 100 OFFSET n`.
    Page100,
    /// A user and their posts, one query joining the two tables by the user's id.
    Join,
    /// One user inserted, the stored row (with its generated id) returned.
    Insert1,
    /// 100 users in one transaction (one multi-row insert, or the stack's batch API).
    Insert100,
    /// One column (`bio`) of one user set by key, the row after the write returned.
    Update,
    /// One user deleted by key (rows this run pre-inserted, so the table keeps its size).
    Delete,
}

impl Workload {
    pub const ALL: [Workload; 8] = [
        Workload::GetByKey,
        Workload::GetByUnique,
        Workload::Page100,
        Workload::Join,
        Workload::Insert1,
        Workload::Insert100,
        Workload::Update,
        Workload::Delete,
    ];

    fn parse(s: &str) -> Workload {
        Workload::ALL
            .into_iter()
            .find(|w| w.to_string() == s)
            .unwrap_or_else(|| fail(&format!("unknown workload `{s}`")))
    }

    /// Whether the workload changes the tables (and so restores them before and after).
    pub fn writes(self) -> bool {
        matches!(self, Workload::Insert1 | Workload::Insert100 | Workload::Update | Workload::Delete)
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Workload::GetByKey => "get_by_key",
            Workload::GetByUnique => "get_by_unique",
            Workload::Page100 => "page_100",
            Workload::Join => "join",
            Workload::Insert1 => "insert_1",
            Workload::Insert100 => "insert_100",
            Workload::Update => "update",
            Workload::Delete => "delete",
        })
    }
}

/// The command line: `--stack S --backend B --url U (--setup | --workload W --iterations N [--warmup W])`.
#[derive(Debug, Clone)]
pub struct Args {
    pub stack: String,
    pub backend: Backend,
    pub url: String,
    /// Create and fill the tables, then exit (no workload).
    pub setup: bool,
    pub workload: Workload,
    /// Timed operations.
    pub iterations: usize,
    /// Untimed operations before them (connection warm, statements prepared and cached).
    pub warmup: usize,
}

impl Args {
    pub fn parse() -> Args {
        let mut stack = None;
        let mut backend = None;
        let mut url = None;
        let mut setup = false;
        let mut workload = None;
        let mut iterations = 1000;
        let mut warmup = None;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().unwrap_or_else(|| fail(&format!("{arg} needs a value")));
            match arg.as_str() {
                "--stack" => stack = Some(value()),
                "--backend" => backend = Some(Backend::parse(&value())),
                "--url" => url = Some(value()),
                "--setup" => setup = true,
                "--workload" => workload = Some(Workload::parse(&value())),
                "--iterations" => iterations = value().parse().unwrap_or_else(|_| fail("--iterations: a number")),
                "--warmup" => warmup = Some(value().parse().unwrap_or_else(|_| fail("--warmup: a number"))),
                other => fail(&format!("unknown argument `{other}`")),
            }
        }
        let backend = backend.unwrap_or_else(|| fail("--backend is required"));
        Args {
            stack: stack.unwrap_or_default(),
            backend,
            url: url.unwrap_or_else(|| fail("--url is required")),
            setup,
            workload: if setup {
                Workload::GetByKey
            } else {
                workload.unwrap_or_else(|| fail("--workload is required"))
            },
            iterations,
            // A tenth, at least 20: enough for the statement caches and the server's plan caches.
            warmup: warmup.unwrap_or((iterations / 10).max(20)),
        }
    }

    /// Every operation index the run performs, warm-up first: the workload's keys and rows are a
    /// function of the index, so every stack given the same counts does the same operations.
    pub fn total(&self) -> usize {
        self.warmup + self.iterations
    }

    /// The SQLite file, from `sqlite://PATH` or `sqlite:PATH`.
    pub fn sqlite_path(&self) -> String {
        let rest = self.url.strip_prefix("sqlite:").unwrap_or(&self.url);
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        rest.split('?').next().unwrap_or(rest).to_owned()
    }
}

pub fn fail(message: &str) -> ! {
    eprintln!("peer: {message}");
    std::process::exit(2)
}

// ----------------------------------------------------------------------------------------------
// The data

/// The user the `i`-th read operation looks up: scattered over 1..=USERS.
pub fn key(i: usize) -> i64 {
    ((i as u64).wrapping_mul(K) % USERS as u64) as i64 + 1
}

/// The unique username of user `id`.
pub fn username(id: i64) -> String {
    format!("user{id}")
}

/// The offset of the `i`-th page: scattered so the pages read are not one cached range.
pub fn page_offset(i: usize) -> i64 {
    ((i as u64).wrapping_mul(K) % (USERS - PAGE) as u64) as i64
}

/// The seeded email of user `id`.
pub fn seed_email(id: i64) -> String {
    format!("user{id}@example.com")
}

/// The seeded bio of user `id`: NULL for a third, two lengths for the rest, so decoding sees both
/// NULL and text. `RESTORE_BIO` is the same function in SQL.
pub fn seed_bio(id: i64) -> Option<String> {
    match id % 3 {
        0 => None,
        1 => Some("Writes Rust.".to_owned()),
        _ => Some("Writes SQL for a living, and Rust on weekends and holidays.".to_owned()),
    }
}

/// The posts of user `id`: 1 to 5 (three on average), with ids assigned in order by the setup.
pub fn posts_of(id: i64) -> i64 {
    1 + id % 5
}

pub fn post_title(user: i64, n: i64) -> String {
    format!("Post {n} by user{user}")
}

/// A post's body: a few hundred bytes, of a length that varies with the post.
pub fn post_body(user: i64, n: i64) -> String {
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(2 + ((user + n) % 5) as usize)
}

/// The user the `i`-th `insert_1` writes. The username is unique within the run; every run deletes
/// the rows it added, before and after, so runs never clash.
pub fn new_user(i: usize) -> (String, String, Option<String>) {
    (
        format!("new-{i}"),
        format!("new-{i}@example.com"),
        if i.is_multiple_of(2) { None } else { Some("Inserted.".to_owned()) },
    )
}

/// Row `j` of the `i`-th `insert_100`.
pub fn batch_user(i: usize, j: usize) -> (String, String, Option<String>) {
    (
        format!("batch-{i}-{j}"),
        format!("batch-{i}-{j}@example.com"),
        if j.is_multiple_of(2) { None } else { Some("Batch.".to_owned()) },
    )
}

/// The bio the `i`-th update writes (to user `key(i)`); `RESTORE_BIO` puts the seeded one back.
pub fn updated_bio(i: usize) -> String {
    format!("updated-{i}")
}

/// The key the `i`-th delete removes: one of the rows `delete_rows_sql` pre-inserted.
pub fn delete_key(i: usize) -> i64 {
    DELETE_BASE + i as i64
}

// ----------------------------------------------------------------------------------------------
// Schema and restore (plain SQL, run through whatever raw-SQL call a crate's driver has)

/// The tables, the same columns on every backend: the DDL an application would write, with the
/// index a join by `user_id` needs (MariaDB creates it with the foreign key).
pub fn create_sql(backend: Backend) -> Vec<String> {
    let (users, posts) = match backend {
        Backend::Sqlite => (
            "CREATE TABLE peer_users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, \
             email TEXT NOT NULL, bio TEXT NULL)",
            "CREATE TABLE peer_posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES peer_users(id), \
             title TEXT NOT NULL, body TEXT NOT NULL)",
        ),
        Backend::Postgres => (
            "CREATE TABLE peer_users (id BIGSERIAL PRIMARY KEY, username TEXT NOT NULL UNIQUE, \
             email TEXT NOT NULL, bio TEXT NULL)",
            "CREATE TABLE peer_posts (id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES peer_users(id), \
             title TEXT NOT NULL, body TEXT NOT NULL)",
        ),
        // A unique or indexed column must have a bounded length on MariaDB: VARCHAR, not TEXT.
        Backend::Mariadb => (
            "CREATE TABLE peer_users (id BIGINT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(255) NOT NULL UNIQUE, \
             email VARCHAR(255) NOT NULL, bio TEXT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            "CREATE TABLE peer_posts (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL, \
             title VARCHAR(255) NOT NULL, body TEXT NOT NULL, \
             FOREIGN KEY (user_id) REFERENCES peer_users(id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        ),
    };
    let mut sql = vec![
        "DROP TABLE IF EXISTS peer_posts".to_owned(),
        "DROP TABLE IF EXISTS peer_users".to_owned(),
        users.to_owned(),
        posts.to_owned(),
    ];
    if backend != Backend::Mariadb {
        sql.push("CREATE INDEX peer_posts_user_id ON peer_posts (user_id)".to_owned());
    }
    sql
}

/// SQL-quotes a literal of the generated data (which holds no quote, but be exact anyway).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn lit_opt(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "NULL".to_owned(), lit)
}

/// The seed, as multi-row `INSERT`s of literals with explicit ids (1..=USERS, posts numbered in
/// order), so every backend holds the same ids whatever its sequences do. Literals rather than
/// binds so that one text serves every driver; this is setup, not a measured path.
pub fn seed_sql(backend: Backend) -> Vec<String> {
    let mut sql = Vec::new();
    for chunk in (1..=USERS).collect::<Vec<_>>().chunks(500) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|&id| format!("({id}, {}, {}, {})", lit(&username(id)), lit(&seed_email(id)), lit_opt(&seed_bio(id))))
            .collect();
        sql.push(format!("INSERT INTO peer_users (id, username, email, bio) VALUES {}", rows.join(", ")));
    }
    let mut posts = Vec::new();
    let mut post_id = 0;
    for user in 1..=USERS {
        for n in 1..=posts_of(user) {
            post_id += 1;
            posts.push(format!("({post_id}, {user}, {}, {})", lit(&post_title(user, n)), lit(&post_body(user, n))));
        }
    }
    for chunk in posts.chunks(500) {
        sql.push(format!("INSERT INTO peer_posts (id, user_id, title, body) VALUES {}", chunk.join(", ")));
    }
    if backend == Backend::Postgres {
        // Explicit ids do not move a PostgreSQL sequence: start the generated ones after them.
        sql.push(
            "SELECT setval(pg_get_serial_sequence('peer_users', 'id'), (SELECT MAX(id) FROM peer_users))".to_owned(),
        );
        sql.push(
            "SELECT setval(pg_get_serial_sequence('peer_posts', 'id'), (SELECT MAX(id) FROM peer_posts))".to_owned(),
        );
    }
    sql.push(match backend {
        Backend::Sqlite => "ANALYZE".to_owned(),
        Backend::Postgres => "ANALYZE peer_users, peer_posts".to_owned(),
        Backend::Mariadb => "ANALYZE TABLE peer_users, peer_posts".to_owned(),
    });
    sql
}

/// Puts the tables back as the setup left them: rows the insert and delete workloads added (every
/// id above the seed's) deleted, bios the update workload wrote reset to the seeded ones (the
/// `CASE` is `seed_bio` in SQL). Each write run does this before it starts (a killed run may have
/// left rows) and after it ends, untimed, so every round finds the same tables.
///
/// On SQLite it also checkpoints the WAL into the database file and truncates it, so the next
/// process (another stack) neither reads through the pages this one wrote nor pays for their
/// checkpoint inside one of its timed commits.
pub fn restore_sql(backend: Backend) -> Vec<String> {
    let mut sql = vec![
        format!("DELETE FROM peer_users WHERE id > {USERS}"),
        "UPDATE peer_users SET bio = CASE WHEN id % 3 = 0 THEN NULL WHEN id % 3 = 1 THEN 'Writes Rust.' \
         ELSE 'Writes SQL for a living, and Rust on weekends and holidays.' END WHERE bio LIKE 'updated-%'"
            .to_owned(),
    ];
    if backend == Backend::Sqlite {
        sql.push("PRAGMA wal_checkpoint(TRUNCATE)".to_owned());
    }
    sql
}

/// The rows the delete workload removes, pre-inserted untimed with known ids `delete_key(i)`.
pub fn delete_rows_sql(count: usize) -> Vec<String> {
    (0..count)
        .collect::<Vec<_>>()
        .chunks(500)
        .map(|chunk| {
            let rows: Vec<String> =
                chunk.iter().map(|&i| format!("({}, 'del-{i}', 'del-{i}@example.com', NULL)", delete_key(i))).collect();
            format!("INSERT INTO peer_users (id, username, email, bio) VALUES {}", rows.join(", "))
        })
        .collect()
}

// ----------------------------------------------------------------------------------------------
// Checksums: one formula, applied to what each stack's call returned

/// A user row: its id plus the byte lengths of its text columns.
pub fn user_sum(id: i64, username: &str, email: &str, bio: Option<&str>) -> u64 {
    (id as u64).wrapping_add((username.len() + email.len() + bio.map_or(0, str::len)) as u64)
}

/// A post row: its id plus the byte lengths of its text columns.
pub fn post_sum(id: i64, title: &str, body: &str) -> u64 {
    (id as u64).wrapping_add((title.len() + body.len()) as u64)
}

/// A row an insert returned: its generated id differs from one run to the next, so it counts only
/// as "present and positive"; the text columns count as in `user_sum`.
pub fn inserted_sum(id: i64, username: &str, email: &str, bio: Option<&str>) -> u64 {
    assert!(id > 0, "an insert returned id {id}");
    1 + (username.len() + email.len() + bio.map_or(0, str::len)) as u64
}

// ----------------------------------------------------------------------------------------------
// Timing

/// Per-operation times of one run, and the checksum of what the operations returned.
pub struct Recorder {
    args: Args,
    samples: Vec<u64>,
    checksum: u64,
    started: Instant,
}

impl Recorder {
    pub fn new(args: &Args) -> Recorder {
        Recorder {
            args: args.clone(),
            samples: Vec::with_capacity(args.iterations),
            checksum: 0,
            started: Instant::now(),
        }
    }

    /// Operation `i`'s elapsed time (dropped during warm-up) and its checksum term (always kept:
    /// the checksum covers every operation the run did).
    pub fn record(&mut self, i: usize, started: Instant, sum: u64) {
        let ns = started.elapsed().as_nanos() as u64;
        if i >= self.args.warmup {
            self.samples.push(ns);
        }
        self.checksum = self.checksum.wrapping_add(sum);
    }

    /// Prints the run's one machine-readable line. `engine` is what the stack links or talks to
    /// (the SQLite library version, the server's version), reported with the results.
    pub fn finish(mut self, engine: &str) {
        assert_eq!(self.samples.len(), self.args.iterations, "every timed operation recorded");
        self.samples.sort_unstable();
        let at = |q: f64| self.samples[((self.samples.len() - 1) as f64 * q).round() as usize];
        println!(
            "PEER stack={} backend={} workload={} iterations={} warmup={} median_ns={} p10_ns={} p90_ns={} \
             checksum={} wall_ms={} engine={}",
            self.args.stack,
            self.args.backend,
            self.args.workload,
            self.args.iterations,
            self.args.warmup,
            at(0.5),
            at(0.1),
            at(0.9),
            self.checksum,
            self.started.elapsed().as_millis(),
            engine.replace(char::is_whitespace, "_"),
        );
    }
}

/// Runs a synchronous stack's operation for every index, timing each.
pub fn run_sync(args: &Args, engine: &str, mut op: impl FnMut(usize) -> u64) {
    let mut recorder = Recorder::new(args);
    for i in 0..args.total() {
        let started = Instant::now();
        let sum = op(i);
        recorder.record(i, started, sum);
    }
    recorder.finish(engine);
}

/// Runs an async stack's operation for every index, timing each (on the caller's runtime).
pub async fn run_async(args: &Args, engine: &str, mut op: impl AsyncFnMut(usize) -> u64) {
    let mut recorder = Recorder::new(args);
    for i in 0..args.total() {
        let started = Instant::now();
        let sum = op(i).await;
        recorder.record(i, started, sum);
    }
    recorder.finish(engine);
}
