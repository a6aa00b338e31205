//! `#[dbkit::queries]` against the real servers, identically on SQLite, PostgreSQL and MariaDB:
//! joins with a declared partner, aggregates with `GROUP BY`, `IN` lists from a slice (also
//! empty), `LIKE` with user input (bound, so quotes and wildcards in it stay data), scalars,
//! optional rows, and writes that return the rows they changed.

use dbkit::prelude::*;

macro_rules! query_suite {
    ($module:ident, $backend:ident, $connect:expr) => {
        mod $module {
            use super::*;

            #[derive(Debug, Clone, PartialEq, Repository)]
            #[database($backend)]
            #[repository(table = "q_authors")]
            pub(crate) struct Author {
                #[key(auto)]
                pub(crate) id: i64,
                #[unique]
                pub(crate) email: String,
                pub(crate) domain: String,
                pub(crate) bio: Option<String>,
            }

            #[derive(Debug, Clone, PartialEq, Repository)]
            #[database($backend)]
            #[repository(table = "q_posts")]
            pub(crate) struct Post {
                #[key(auto)]
                pub(crate) id: i64,
                pub(crate) author_id: i64,
                pub(crate) title: String,
                pub(crate) score: i32,
            }

            #[dbkit::queries(join = [Post])]
            impl AuthorRepository {
                /// Authors by the domain of their address.
                #[query("SELECT * FROM q_authors WHERE domain = :domain ORDER BY id")]
                pub(crate) async fn by_domain(&self, domain: &str) -> dbkit::Result<Vec<Author>>;

                #[query("SELECT a.* FROM q_authors a WHERE a.email = :email")]
                pub(crate) async fn find(&self, email: &str) -> dbkit::Result<Option<Author>>;

                #[query("SELECT * FROM q_authors WHERE id IN (:ids) ORDER BY id")]
                pub(crate) async fn with_ids(&self, ids: &[i64]) -> dbkit::Result<Vec<Author>>;

                #[query("SELECT * FROM q_authors WHERE email LIKE :pattern ORDER BY id")]
                pub(crate) async fn email_like(&self, pattern: &str) -> dbkit::Result<Vec<Author>>;

                #[query("SELECT domain, COUNT(*) AS n FROM q_authors GROUP BY domain ORDER BY domain")]
                pub(crate) async fn count_by_domain(&self) -> dbkit::Result<Vec<(String, i64)>>;

                #[query("SELECT COUNT(*) FROM q_authors WHERE domain = :domain")]
                pub(crate) async fn count_in(&self, domain: &str) -> dbkit::Result<u64>;

                #[query("SELECT bio FROM q_authors WHERE id = :id")]
                pub(crate) async fn bio(&self, id: i64) -> dbkit::Result<Option<Option<String>>>;

                #[query(
                    "SELECT a.email, p.title, p.score FROM q_authors a JOIN q_posts p ON p.author_id = a.id \
                     WHERE p.score >= :min_score ORDER BY p.score DESC"
                )]
                pub(crate) async fn posts_scoring(&self, min_score: i32) -> dbkit::Result<Vec<(String, String, i32)>>;

                #[query(
                    "SELECT a.email, COUNT(p.id) AS posts, MAX(p.score) AS best FROM q_authors a \
                     JOIN q_posts p ON p.author_id = a.id GROUP BY a.email HAVING COUNT(p.id) > :at_least ORDER BY a.email"
                )]
                pub(crate) async fn prolific(&self, at_least: i64) -> dbkit::Result<Vec<(String, i64, Option<i32>)>>;

                #[query("UPDATE q_authors SET bio = :bio WHERE domain = :domain")]
                pub(crate) async fn set_bio(&self, domain: &str, bio: Option<&str>) -> dbkit::Result<u64>;

                #[query("DELETE FROM q_authors WHERE id IN (:ids) AND domain = :domain")]
                pub(crate) async fn delete_some(&self, ids: Vec<i64>, domain: String) -> dbkit::Result<u64>;
            }

            static TABLES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

            async fn setup() -> Option<(Database, AuthorRepository, tokio::sync::MutexGuard<'static, ()>)> {
                let guard = TABLES.lock().await;
                let db = $connect.await?;
                db.drop_table::<Post>().await.unwrap();
                db.drop_table::<Author>().await.unwrap();
                db.create_table::<Author>().await.unwrap();
                db.create_table::<Post>().await.unwrap();
                let authors = AuthorRepository::new(&db);
                let new = |email: &str, domain: &str| NewAuthor { email: email.into(), domain: domain.into(), bio: None };
                for (email, domain) in [
                    ("ada@math.org", "math.org"),
                    ("grace@navy.mil", "navy.mil"),
                    ("emmy@math.org", "math.org"),
                    ("o'brien_100%@x.io", "x.io"),
                ] {
                    authors.create(&new(email, domain)).await.unwrap();
                }
                let posts = PostRepository::new(&db);
                for (author_id, title, score) in [(1, "engines", 10), (1, "notes", 30), (2, "cobol", 20), (3, "rings", 5)] {
                    posts.create(&NewPost { author_id, title: title.into(), score }).await.unwrap();
                }
                Some((db, authors, guard))
            }

            #[tokio::test]
            async fn selects_model_rows_and_optional_rows() {
                let Some((_db, authors, _turn)) = setup().await else { return };
                let math = authors.by_domain("math.org").await.unwrap();
                assert_eq!(math.iter().map(|a| a.email.as_str()).collect::<Vec<_>>(), ["ada@math.org", "emmy@math.org"]);
                assert_eq!(authors.find("grace@navy.mil").await.unwrap().map(|a| a.id), Some(2));
                assert_eq!(authors.find("nobody").await.unwrap(), None);
                assert_eq!(authors.bio(1).await.unwrap(), Some(None));
                assert_eq!(authors.bio(99).await.unwrap(), None);
            }

            #[tokio::test]
            async fn in_lists_bind_every_element() {
                let Some((_db, authors, _turn)) = setup().await else { return };
                let ids: Vec<i64> = authors.with_ids(&[3, 1, 42]).await.unwrap().iter().map(|a| a.id).collect();
                assert_eq!(ids, [1, 3]);
                assert!(authors.with_ids(&[]).await.unwrap().is_empty());
                let many: Vec<i64> = (1..=500).collect();
                assert_eq!(authors.with_ids(&many).await.unwrap().len(), 4);
            }

            #[tokio::test]
            async fn like_takes_user_input_as_data() {
                let Some((_db, authors, _turn)) = setup().await else { return };
                assert_eq!(authors.email_like("%@math.org").await.unwrap().len(), 2);
                let quoted = authors.email_like("o'brien%").await.unwrap();
                assert_eq!(quoted.len(), 1);
                assert!(authors.email_like("' OR '1'='1").await.unwrap().is_empty());
            }

            #[tokio::test]
            async fn aggregates_and_joins() {
                let Some((_db, authors, _turn)) = setup().await else { return };
                assert_eq!(
                    authors.count_by_domain().await.unwrap(),
                    [("math.org".to_owned(), 2), ("navy.mil".to_owned(), 1), ("x.io".to_owned(), 1)]
                );
                assert_eq!(authors.count_in("math.org").await.unwrap(), 2);
                assert_eq!(authors.count_in("none").await.unwrap(), 0);
                let posts = authors.posts_scoring(10).await.unwrap();
                assert_eq!(
                    posts,
                    [
                        ("ada@math.org".to_owned(), "notes".to_owned(), 30),
                        ("grace@navy.mil".to_owned(), "cobol".to_owned(), 20),
                        ("ada@math.org".to_owned(), "engines".to_owned(), 10),
                    ]
                );
                assert_eq!(authors.prolific(1).await.unwrap(), [("ada@math.org".to_owned(), 2, Some(30))]);
            }

            #[tokio::test]
            async fn writes_return_the_rows_they_changed() {
                let Some((_db, authors, _turn)) = setup().await else { return };
                assert_eq!(authors.set_bio("math.org", Some("mathematician")).await.unwrap(), 2);
                assert_eq!(authors.bio(3).await.unwrap(), Some(Some("mathematician".to_owned())));
                assert_eq!(authors.delete_some(vec![1, 2, 3], "math.org".to_owned()).await.unwrap(), 2);
                assert_eq!(authors.count().await.unwrap(), 2);
            }
        }
    };
}

query_suite!(sqlite, sqlite, dbkit_tests::connect(dbkit::Backend::Sqlite));
query_suite!(postgres, postgres, dbkit_tests::connect(dbkit::Backend::Postgres));
query_suite!(mariadb, mysql, dbkit_tests::connect(dbkit::Backend::MySql));
