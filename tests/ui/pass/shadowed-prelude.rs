//! Generated code names `::core`/`::std`/`::dbkit::__private` paths only: a crate that shadows the
//! prelude's names, and never calls the generated methods, still builds without a warning.
#![deny(warnings)]

#[allow(dead_code)]
mod shadow {
    pub struct Option;
    pub struct Some;
    pub struct None;
    pub struct Result;
    pub struct Ok;
    pub struct Err;
    pub struct Vec;
    pub struct Box;
    pub struct Default;
    pub struct String;
    pub trait Iterator {}
    pub trait Into {}
}

#[allow(unused_imports)]
use shadow::*;

mod model {
    use dbkit::Repository;

    #[derive(Debug, Clone, PartialEq, Repository)]
    #[database(postgres)]
    struct Note {
        #[key(auto)]
        id: i64,
        #[unique]
        title: std::string::String,
        body: ::core::option::Option<std::string::String>,
    }
}

fn main() {}
