use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub enum User {
    Active { id: i64 },
    Banned { id: i64 },
}

// The generated types still exist, so this line adds no second error.
fn repository(db: &Database) -> UserRepository {
    UserRepository::new(db)
}

fn main() {
    let _ = repository;
}
