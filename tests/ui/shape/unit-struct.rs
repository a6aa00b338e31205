use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct Marker;

fn main() {}
