//! The model front end: a `#[derive(Repository)]` input parsed into a typed model (`attr`, `ast`)
//! and checked (`check`), every mistake collected in one context (`ctxt`). It knows which backend
//! a model names but none of the backends' type tables or code: those live in `crate::backend`,
//! which builds on this.

pub(crate) mod ast;
pub(crate) mod attr;
mod check;
pub(crate) mod ctxt;

pub(crate) use self::ast::{Container, Field, Int, SqlType};
pub(crate) use self::attr::Backend;
pub(crate) use self::ctxt::Ctxt;

impl<'a> Container<'a> {
    /// Parses and checks the model, as serde_derive's `Container::from_ast` does: every rule that
    /// needs no backend type table is checked here (the types are checked by
    /// `crate::backend::check_types`). `None` when the input is not a struct with named fields.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Container<'a>> {
        let cont = Container::parse(cx, input)?;
        check::check(cx, &cont);
        Some(cont)
    }
}
