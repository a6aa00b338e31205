//! The smallest dbkit application: connect, create a table, write and read back a row.
//!
//! ```text
//! cargo run -p quickstart                      # in-memory SQLite
//! DB_URL=sqlite:notes.db cargo run -p quickstart
//! ```

use dbkit::prelude::*;
use dbkit::sqlx;

#[tokio::main]
async fn main() -> dbkit::Result<()> {
    let url = std::env::var("DB_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    let db = Database::connect(&url).await?;
    println!("connected: {db:?}");

    db.transaction::<sqlx::Sqlite, _>(async |tx| {
        sqlx::query("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO notes (body) VALUES (?)").bind("hello from dbkit").execute(&mut **tx).await?;
        Ok(())
    })
    .await?;

    let mut session = db.session::<sqlx::Sqlite>().await?;
    let (id, body): (i64, String) =
        sqlx::query_as("SELECT id, body FROM notes ORDER BY id DESC LIMIT 1").fetch_one(&mut *session).await?;
    println!("read back note {id}: {body}");
    drop(session);

    let info = db.info().await?;
    println!("{} {} — pool {}/{} in use", info.backend, info.server_version, info.pool_in_use, info.pool_max);
    db.close().await;
    Ok(())
}
