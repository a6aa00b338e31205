//! Generated code names `::core`/`::std`/`::dbkit::__private` paths only: a crate that shadows the
//! prelude's names, and never calls the generated methods, still builds without a warning.
#![deny(warnings)]

#[allow(dead_code, non_camel_case_types)]
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
    pub trait From {}
    pub trait Clone {}
    pub trait Send {}
    pub trait Sync {}
    pub trait Sized {}
    pub trait Fn {}
    pub trait FnOnce {}
    pub trait IntoIterator {}
    pub struct i64;
    pub struct u64;
    pub struct usize;
    pub struct bool;
    pub struct str;
    pub struct drop;
}

#[allow(unused_imports)]
use shadow::*;

mod model {
    #[allow(unused_imports)]
    use super::shadow::*;
    use dbkit::Repository;

    #[derive(Debug, Clone, PartialEq, Repository)]
    #[database(postgres)]
    struct Note {
        #[key(auto)]
        id: ::core::primitive::i64,
        #[unique]
        title: std::string::String,
        body: ::core::option::Option<std::string::String>,
    }
}

fn main() {}
