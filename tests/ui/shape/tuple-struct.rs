use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct User(i64, String);

fn main() {}
