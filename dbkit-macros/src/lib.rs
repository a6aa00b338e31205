//! Procedural macros for dbkit. Use them through the `dbkit` crate, which documents them.
//!
//! The entry points only. Imports flow one way: the model front end (`model`: parse and check)
//! → the backends (`backend`: column types, statements and the bodies that run them, one folder
//! each) → the one renderer of a repository (`repository`) and the custom queries (`query`). All of
//! it works on `proc_macro2` types, so every step is unit-testable without a compiler run.

mod backend;
mod model;
mod query;
mod repository;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Derives a typed repository from a struct: `NewX`, `XPatch`, `XRepository` and the table's DDL.
///
/// The attributes (`#[database]`, `#[repository]`, `#[key]`, `#[unique]`, `#[column]`), the
/// generated API, and the table of Rust types to column types per backend are in the `dbkit`
/// crate docs, under "The repository derive".
#[proc_macro_derive(Repository, attributes(database, repository, key, unique, column))]
pub fn derive_repository(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    let mut output = repository::derive(&input);
    output.extend(query::model_macro(&input));
    output.into()
}

/// Custom SQL on a generated repository, checked at compile time against the model: see
/// "Custom queries" in the `dbkit` crate docs.
#[proc_macro_attribute]
pub fn queries(args: TokenStream, item: TokenStream) -> TokenStream {
    query::queries(args.into(), item.into()).into()
}

/// The second half of `#[dbkit::queries]`, called back with the models' definitions by the macro
/// `#[derive(Repository)]` emits next to each model. Not for direct use.
#[doc(hidden)]
#[proc_macro]
pub fn __queries_expand(input: TokenStream) -> TokenStream {
    query::expand(input.into()).into()
}
