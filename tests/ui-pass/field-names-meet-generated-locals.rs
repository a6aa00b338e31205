//! Fields (and so unique-lookup arguments) named like the locals of the generated bodies: each
//! method still binds the argument, not the local (a unique `session` once shadowed the SQLite
//! body's `__session`).
#![deny(warnings)]

use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
pub struct Clash {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub session: String,
    #[unique]
    pub sql: String,
    #[unique]
    pub call: String,
    pub params: String,
    pub conn: String,
    pub written: i64,
    pub any: bool,
    pub statement: String,
}

async fn calls(db: &Database) -> dbkit::Result<()> {
    let clashes = ClashRepository::new(db);
    let _: Option<Clash> = clashes.get_by_session("s").await?;
    let _: Option<Clash> = clashes.get_by_sql("q").await?;
    let _: Option<Clash> = clashes.get_by_call("c").await?;
    let new = NewClash {
        session: "s".into(),
        sql: "q".into(),
        call: "c".into(),
        params: "p".into(),
        conn: "n".into(),
        written: 1,
        any: true,
        statement: "t".into(),
    };
    let created = clashes.create(&new).await?;
    clashes.create_many(&[new]).await?;
    let patch = ClashPatch { params: Some("p2".into()), ..Default::default() };
    let _: Option<Clash> = clashes.update(created.id, &patch).await?;
    let _: bool = clashes.delete(created.id).await?;
    Ok(())
}

fn main() {
    let _ = calls;
}
