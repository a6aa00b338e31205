// `#[dbkit::queries]` with every result shape, a join partner, a list argument, a `::` cast, a
// quoted reserved-word column, `RETURNING`, and a plain method kept as written.
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres)]
#[repository(table = "users")]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub email: String,
    pub bio: Option<String>,
    #[column(name = "order")]
    pub position: i32,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres)]
pub struct Post {
    #[key(auto)]
    pub id: i64,
    pub author_id: i64,
    pub title: String,
}

#[dbkit::queries(join = [Post])]
impl UserRepository {
    /// A plain method next to the queries is kept as it is.
    pub fn describe(&self) -> &'static str {
        "users"
    }

    #[query("SELECT * FROM users WHERE email = :email")]
    pub async fn by_email(&self, email: &str) -> dbkit::Result<Option<User>>;

    #[query(r#"SELECT u.* FROM users u WHERE u."order" BETWEEN :low AND :high AND u.id IN (:ids)"#)]
    pub async fn ranked(&self, low: i32, high: i32, ids: &[i64]) -> dbkit::Result<Vec<User>>;

    #[query("SELECT u.email, COUNT(p.id) AS n FROM users u LEFT JOIN post p ON p.author_id = u.id GROUP BY u.email")]
    pub async fn post_counts(&self) -> dbkit::Result<Vec<(String, i64)>>;

    #[query("SELECT COUNT(*) FROM users WHERE email::text = :pattern OR bio ILIKE :pattern")]
    pub async fn count_matching(&self, pattern: &str) -> dbkit::Result<u64>;

    #[query("SELECT id FROM users WHERE email = :email")]
    pub async fn id_of(&self, email: String) -> dbkit::Result<i64>;

    #[query("INSERT INTO users (email, bio, \"order\") VALUES (:email, :bio, 0)")]
    pub async fn add(&self, email: &str, bio: Option<&str>) -> dbkit::Result<u64>;

    #[query("DELETE FROM users WHERE id = :id RETURNING *")]
    pub async fn take(&self, id: i64) -> dbkit::Result<Option<User>>;
}

fn main() {}
