use dbkit::prelude::*;

// Three unrelated mistakes: all three are reported in one build.
#[derive(Repository)]
#[database(postgres)]
#[repository(tabel = "users")]
pub struct User {
    #[key(auto)]
    pub id: i64,
    #[column(nmae = "login")]
    pub username: String,
    pub visits: u64,
}

fn main() {}
