use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User {
    #[key(auto)]
    pub id: i64,
    pub bio: Option<String>,
}

fn main() {
    // `Some(None)` writes NULL, so the patch field is `Option<Option<String>>`.
    let _ = UserPatch { bio: Some("hello".to_owned()) };
}
