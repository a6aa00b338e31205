use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub username: String,
    #[column(default = "CURRENT_TIMESTAMP")]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn main() {
    let _ = NewUser { id: 1, username: "ada".into(), created_at: chrono::Utc::now() };
}
