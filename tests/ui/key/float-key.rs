use dbkit::prelude::*;

#[derive(Repository)]
#[database(sqlite)]
pub struct Reading {
    #[key]
    pub value: f64,
    pub sensor: String,
}

fn main() {}
