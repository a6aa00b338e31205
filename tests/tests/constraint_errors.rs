//! Which constraint failed: on SQLite, PostgreSQL and MariaDB, a generated write that breaks a
//! unique key, a foreign key, a `NOT NULL` or a `CHECK` says which kind
//! (`Error::constraint_kind`), and a unique clash names the model field
//! (`Error::unique_violation`) — each of two `#[unique]` fields, one of them on a renamed column,
//! on `create`, `create_many`, `update`, a `#[dbkit::queries]` write and inside a transaction —
//! while the category stays `Integrity` and nothing is retried.
//!
//! The controls: a clash on one unique field never reports the other; the same clash written as
//! raw SQL, outside any generated method, has the kind but only the column the server names
//! (`mail`, not the field `email`; nothing on MariaDB, which names keys, not columns); and a unique
//! index dbkit does not know (on two columns) gives the kind and no field.

use dbkit::prelude::*;
use dbkit::sqlx::{self, AssertSqlSafe};
use dbkit::{Backend, ConstraintKind};

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "cv_teams")]
pub struct Team {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
#[repository(table = "cv_members")]
pub struct Member {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub username: String,
    /// On a renamed column, so that the field, not the column, is what a clash names.
    #[unique]
    #[column(name = "mail")]
    pub email: String,
    /// `NOT NULL` in the table, `Option` in the model: a generated write can send the NULL.
    pub nickname: Option<String>,
    /// `CHECK (age >= 0)`.
    pub age: i64,
    /// `REFERENCES cv_teams (id)`.
    pub team_id: i64,
}

#[dbkit::queries]
impl MemberRepository {
    #[query("UPDATE cv_members SET mail = :email WHERE id = :id")]
    async fn change_email(&self, id: i64, email: &str) -> dbkit::Result<u64>;
}

/// Runs one statement outside any generated method.
async fn raw(db: &Database, sql: String) -> dbkit::Result<()> {
    let sql = AssertSqlSafe(sql);
    match db.backend() {
        Backend::Sqlite => sqlx::query(sql).execute(&mut *db.session::<sqlx::Sqlite>().await?).await.map(|_| ())?,
        Backend::Postgres => sqlx::query(sql).execute(&mut *db.session::<sqlx::Postgres>().await?).await.map(|_| ())?,
        Backend::MySql => sqlx::query(sql).execute(&mut *db.session::<sqlx::MySql>().await?).await.map(|_| ())?,
        other => unreachable!("{other} is not tested here"),
    }
    Ok(())
}

/// Fresh tables: `cv_teams` from the model, `cv_members` from the model with the `NOT NULL`, the
/// `CHECK` and the foreign key its DDL does not write (on SQLite, which cannot add constraints to a
/// table, written whole).
async fn fresh(db: &Database) {
    raw(db, "DROP TABLE IF EXISTS cv_members".to_owned()).await.unwrap();
    raw(db, "DROP TABLE IF EXISTS cv_teams".to_owned()).await.unwrap();
    db.create_table::<Team>().await.unwrap();
    let constraints = "ADD CONSTRAINT cv_members_age_check CHECK (age >= 0), \
                       ADD CONSTRAINT cv_members_team_fk FOREIGN KEY (team_id) REFERENCES cv_teams (id)";
    match db.backend() {
        Backend::Sqlite => raw(
            db,
            "CREATE TABLE cv_members (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, \
             mail TEXT NOT NULL UNIQUE, nickname TEXT NOT NULL, age INTEGER NOT NULL CHECK (age >= 0), \
             team_id INTEGER NOT NULL REFERENCES cv_teams (id))"
                .to_owned(),
        )
        .await
        .unwrap(),
        Backend::Postgres => {
            db.create_table::<Member>().await.unwrap();
            raw(db, format!("ALTER TABLE cv_members ALTER COLUMN nickname SET NOT NULL, {constraints}")).await.unwrap();
        }
        Backend::MySql => {
            db.create_table::<Member>().await.unwrap();
            raw(db, format!("ALTER TABLE cv_members MODIFY nickname LONGTEXT NOT NULL, {constraints}")).await.unwrap();
        }
        other => unreachable!("{other} is not tested here"),
    }
}

fn member(username: &str, email: &str, team_id: i64) -> NewMember {
    NewMember {
        username: username.to_owned(),
        email: email.to_owned(),
        nickname: Some("nick".to_owned()),
        age: 30,
        team_id,
    }
}

/// `error` broke a constraint of `kind`, naming `field` for a unique clash, and is classified as
/// any integrity error is: `Integrity`, not retryable, not rolled back.
#[track_caller]
fn assert_broke(error: &dbkit::Error, kind: ConstraintKind, field: Option<&str>) {
    assert_eq!(error.constraint_kind(), Some(kind), "{error}");
    assert_eq!(error.unique_violation(), field, "{error}");
    assert_eq!(error.category(), ErrorCategory::Integrity, "{error}");
    assert!(!error.is_retryable(), "{error}");
    assert!(!error.is_rolled_back(), "{error}");
    if let Some(field) = field {
        assert!(error.to_string().contains(&format!("unique constraint on `{field}` failed")), "{error}");
    }
}

async fn every_kind_names_its_field(db: &Database) {
    fresh(db).await;
    let backend = db.backend();
    let teams = TeamRepository::new(db);
    let members = MemberRepository::new(db);
    let team = teams.create(&NewTeam { name: "core".to_owned() }).await.unwrap().id;
    let ada = members.create(&member("ada", "ada@example.com", team)).await.unwrap();
    let bob = members.create(&member("bob", "bob@example.com", team)).await.unwrap();

    // Unique, on create: each of the two fields, and never the other.
    let error = members.create(&member("ada", "new@example.com", team)).await.unwrap_err();
    assert_broke(&error, ConstraintKind::Unique, Some("username"));
    let error = members.create(&member("new", "ada@example.com", team)).await.unwrap_err();
    assert_broke(&error, ConstraintKind::Unique, Some("email"));

    // Unique, on update, a `#[dbkit::queries]` write and `create_many`.
    let patch = MemberPatch { username: Some("ada".to_owned()), ..MemberPatch::default() };
    assert_broke(&members.update(bob.id, &patch).await.unwrap_err(), ConstraintKind::Unique, Some("username"));
    let patch = MemberPatch { email: Some("ada@example.com".to_owned()), ..MemberPatch::default() };
    assert_broke(&members.update(bob.id, &patch).await.unwrap_err(), ConstraintKind::Unique, Some("email"));
    let error = members.change_email(bob.id, "ada@example.com").await.unwrap_err();
    assert_broke(&error, ConstraintKind::Unique, Some("email"));
    let batch = [member("carol", "carol@example.com", team), member("dave", "carol@example.com", team)];
    assert_broke(&members.create_many(&batch).await.unwrap_err(), ConstraintKind::Unique, Some("email"));
    assert_eq!(members.count().await.unwrap(), 2, "{backend}: create_many is all or nothing");

    // Unique, inside the caller's transaction and out of it. One failure per transaction: after
    // one, PostgreSQL refuses every statement until the rollback.
    let error = db
        .transaction::<()>(async |tx| {
            let error = members.in_transaction(tx).create(&member("ada", "x@example.com", team)).await.unwrap_err();
            assert_broke(&error, ConstraintKind::Unique, Some("username"));
            Err(error)
        })
        .await
        .unwrap_err();
    assert_broke(&error, ConstraintKind::Unique, Some("username"));
    let error = db
        .transaction::<()>(async |tx| {
            let patch = MemberPatch { email: Some("ada@example.com".to_owned()), ..MemberPatch::default() };
            let error = members.in_transaction(tx).update(bob.id, &patch).await.unwrap_err();
            assert_broke(&error, ConstraintKind::Unique, Some("email"));
            Err(error)
        })
        .await
        .unwrap_err();
    assert_broke(&error, ConstraintKind::Unique, Some("email"));
    let error = db
        .transaction::<()>(async |tx| {
            let error = members.in_transaction(tx).change_email(bob.id, "ada@example.com").await.unwrap_err();
            assert_broke(&error, ConstraintKind::Unique, Some("email"));
            Err(error)
        })
        .await
        .unwrap_err();
    assert_broke(&error, ConstraintKind::Unique, Some("email"));

    // Foreign key: a member of no team on create and update, a team still referenced on delete.
    let error = members.create(&member("erin", "erin@example.com", team + 100)).await.unwrap_err();
    assert_broke(&error, ConstraintKind::ForeignKey, None);
    let patch = MemberPatch { team_id: Some(team + 100), ..MemberPatch::default() };
    assert_broke(&members.update(bob.id, &patch).await.unwrap_err(), ConstraintKind::ForeignKey, None);
    assert_broke(&teams.delete(team).await.unwrap_err(), ConstraintKind::ForeignKey, None);

    // NOT NULL, on create and update.
    let error = members.create(&NewMember { nickname: None, ..member("erin", "erin@example.com", team) }).await;
    assert_broke(&error.unwrap_err(), ConstraintKind::NotNull, None);
    let patch = MemberPatch { nickname: Some(None), ..MemberPatch::default() };
    assert_broke(&members.update(bob.id, &patch).await.unwrap_err(), ConstraintKind::NotNull, None);

    // CHECK, on create and update.
    let error = members.create(&NewMember { age: -1, ..member("erin", "erin@example.com", team) }).await;
    assert_broke(&error.unwrap_err(), ConstraintKind::Check, None);
    let patch = MemberPatch { age: Some(-1), ..MemberPatch::default() };
    assert_broke(&members.update(bob.id, &patch).await.unwrap_err(), ConstraintKind::Check, None);

    // Nothing above changed a row.
    assert_eq!(members.get(ada.id).await.unwrap().as_ref(), Some(&ada), "{backend}");
    assert_eq!(members.get(bob.id).await.unwrap().as_ref(), Some(&bob), "{backend}");

    // Control: the same clash as raw SQL has the kind but no model, so at most the column the
    // server names — `mail`, not the field `email` — and on MariaDB, which names only the key,
    // nothing.
    let insert = |username: &str, mail: &str| {
        format!(
            "INSERT INTO cv_members (username, mail, nickname, age, team_id) VALUES ('{username}', '{mail}', 'n', 1, {team})"
        )
    };
    let error = raw(db, insert("new", "ada@example.com")).await.unwrap_err();
    let column = (backend != Backend::MySql).then_some("mail");
    assert_eq!(error.constraint_kind(), Some(ConstraintKind::Unique), "{error}");
    assert_eq!(error.unique_violation(), column, "{backend}: {error}");
    assert_eq!(error.category(), ErrorCategory::Integrity, "{error}");

    // Control: a unique index the model does not declare, on two columns: the kind, no field.
    members.update(bob.id, &MemberPatch { age: Some(31), ..MemberPatch::default() }).await.unwrap();
    raw(db, "CREATE UNIQUE INDEX cv_members_age_team ON cv_members (age, team_id)".to_owned()).await.unwrap();
    let error = members.create(&member("erin", "erin@example.com", team)).await.unwrap_err();
    assert_broke(&error, ConstraintKind::Unique, None);

    // Reads never carry a constraint.
    assert_eq!(members.get_by_username("ada").await.unwrap().map(|m| m.id), Some(ada.id));

    raw(db, "DROP TABLE cv_members".to_owned()).await.unwrap();
    db.drop_table::<Team>().await.unwrap();
}

#[tokio::test]
async fn sqlite_names_each_constraint() {
    let Some(db) = dbkit_tests::connect(Backend::Sqlite).await else { return };
    every_kind_names_its_field(&db).await;
}

#[tokio::test]
async fn postgres_names_each_constraint() {
    let Some(db) = dbkit_tests::connect(Backend::Postgres).await else { return };
    every_kind_names_its_field(&db).await;
}

#[tokio::test]
async fn mariadb_names_each_constraint() {
    let Some(db) = dbkit_tests::connect(Backend::MySql).await else { return };
    every_kind_names_its_field(&db).await;
}
