//! `Database::verify_schema` against live tables altered behind the model's back, on SQLite,
//! PostgreSQL and MariaDB: an added column, a dropped one, a changed type and a changed
//! nullability are each reported; a fresh table matches.

use dbkit::prelude::*;
use dbkit::{SchemaDiff, SchemaDifference};

macro_rules! drift_suite {
    ($module:ident, $backend:ident, $driver:ident, $connect:expr, $retype:expr, $nullable:expr, $not_null:expr) => {
        mod $module {
            use super::*;

            #[derive(Debug, Clone, PartialEq, Repository)]
            #[database($backend)]
            #[repository(table = "drift_items")]
            pub(crate) struct Item {
                #[key(auto)]
                pub(crate) id: i64,
                #[unique]
                pub(crate) code: String,
                pub(crate) quantity: i64,
                pub(crate) note: Option<String>,
            }

            static TABLES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

            async fn run(db: &Database, sql: &str) {
                let mut session = db.session::<dbkit::sqlx::$driver>().await.unwrap();
                dbkit::sqlx::raw_sql(dbkit::sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut *session).await.unwrap();
            }

            async fn fresh() -> Option<(Database, tokio::sync::MutexGuard<'static, ()>)> {
                let guard = TABLES.lock().await;
                let db = $connect.await?;
                db.drop_table::<Item>().await.unwrap();
                db.create_table::<Item>().await.unwrap();
                Some((db, guard))
            }

            fn only(diff: &SchemaDiff) -> &SchemaDifference {
                assert_eq!(diff.differences.len(), 1, "{diff}");
                &diff.differences[0]
            }

            #[tokio::test]
            async fn a_fresh_table_matches() {
                let Some((db, _turn)) = fresh().await else { return };
                let diff = db.verify_schema::<Item>().await.unwrap();
                assert!(diff.is_empty(), "{diff}");
            }

            #[tokio::test]
            async fn a_missing_table_is_reported() {
                let Some((db, _turn)) = fresh().await else { return };
                db.drop_table::<Item>().await.unwrap();
                let diff = db.verify_schema::<Item>().await.unwrap();
                assert_eq!(only(&diff), &SchemaDifference::MissingTable);
            }

            #[tokio::test]
            async fn an_added_column_is_extra() {
                let Some((db, _turn)) = fresh().await else { return };
                run(&db, "ALTER TABLE drift_items ADD COLUMN colour TEXT").await;
                let diff = db.verify_schema::<Item>().await.unwrap();
                assert!(matches!(only(&diff), SchemaDifference::ExtraColumn { column, nullable: true, .. } if column == "colour"), "{diff}");
            }

            #[tokio::test]
            async fn a_dropped_column_is_missing() {
                let Some((db, _turn)) = fresh().await else { return };
                run(&db, "ALTER TABLE drift_items DROP COLUMN note").await;
                let diff = db.verify_schema::<Item>().await.unwrap();
                assert!(matches!(only(&diff), SchemaDifference::MissingColumn { column, .. } if column == "note"), "{diff}");
                assert!(diff.to_string().contains("column `note`"), "{diff}");
            }

            #[tokio::test]
            async fn a_changed_type_is_a_mismatch() {
                let Some((db, _turn)) = fresh().await else { return };
                run(&db, $retype).await;
                let diff = db.verify_schema::<Item>().await.unwrap();
                assert!(matches!(only(&diff), SchemaDifference::TypeMismatch { column, .. } if column == "quantity"), "{diff}");
            }

            #[tokio::test]
            async fn changed_nullability_is_a_mismatch() {
                let Some((db, _turn)) = fresh().await else { return };
                run(&db, $nullable).await;
                let diff = db.verify_schema::<Item>().await.unwrap();
                assert!(
                    matches!(only(&diff), SchemaDifference::NullabilityMismatch { column, model_nullable: false, column_nullable: true } if column == "quantity"),
                    "{diff}"
                );
                run(&db, "DELETE FROM drift_items").await;
                run(&db, $not_null).await;
                let diff = db.verify_schema::<Item>().await.unwrap();
                // `quantity` is NOT NULL again, `note` now is too.
                assert!(
                    matches!(only(&diff), SchemaDifference::NullabilityMismatch { column, model_nullable: true, column_nullable: false } if column == "note"),
                    "{diff}"
                );
            }
        }
    };
}

// SQLite cannot alter a column's type or nullability: the table is rebuilt, as SQLite's docs advise.
drift_suite!(
    sqlite,
    sqlite,
    Sqlite,
    dbkit_tests::connect(dbkit::Backend::Sqlite),
    r#"DROP TABLE drift_items; CREATE TABLE drift_items ("id" INTEGER PRIMARY KEY, "code" TEXT NOT NULL UNIQUE, "quantity" TEXT NOT NULL, "note" TEXT)"#,
    r#"DROP TABLE drift_items; CREATE TABLE drift_items ("id" INTEGER PRIMARY KEY, "code" TEXT NOT NULL UNIQUE, "quantity" INTEGER, "note" TEXT)"#,
    r#"DROP TABLE drift_items; CREATE TABLE drift_items ("id" INTEGER PRIMARY KEY, "code" TEXT NOT NULL UNIQUE, "quantity" INTEGER NOT NULL, "note" TEXT NOT NULL)"#
);
drift_suite!(
    postgres,
    postgres,
    Postgres,
    dbkit_tests::connect(dbkit::Backend::Postgres),
    "ALTER TABLE drift_items ALTER COLUMN quantity TYPE INTEGER",
    "ALTER TABLE drift_items ALTER COLUMN quantity DROP NOT NULL",
    "ALTER TABLE drift_items ALTER COLUMN quantity SET NOT NULL; ALTER TABLE drift_items ALTER COLUMN note SET NOT NULL"
);
drift_suite!(
    mariadb,
    mysql,
    MySql,
    dbkit_tests::connect(dbkit::Backend::MySql),
    "ALTER TABLE drift_items MODIFY quantity INT NOT NULL",
    "ALTER TABLE drift_items MODIFY quantity BIGINT NULL",
    "ALTER TABLE drift_items MODIFY quantity BIGINT NOT NULL, MODIFY note LONGTEXT NOT NULL"
);
