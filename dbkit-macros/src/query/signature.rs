//! The method as written: `#[query("…")]` on a method without a body, and its signature —
//! `async fn name(&self, arg: T, …) -> dbkit::Result<R>;` — checked; and the [`Shape`] of what it
//! returns.

use syn::parse::{Parse, ParseStream};

use crate::model::Ctxt;

/// A `#[query("…")]` method as written.
pub(super) struct QueryMethod {
    pub(super) attrs: Vec<syn::Attribute>,
    pub(super) vis: syn::Visibility,
    pub(super) sig: syn::Signature,
    pub(super) sql: syn::LitStr,
}

/// `pub async fn f(&self) -> T;`: a method without a body, which syn leaves as verbatim tokens.
pub(super) struct BodilessFn {
    pub(super) attrs: Vec<syn::Attribute>,
    pub(super) vis: syn::Visibility,
    pub(super) sig: syn::Signature,
}

impl Parse for BodilessFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        input.parse::<syn::Token![;]>()?;
        Ok(BodilessFn { attrs, vis, sig })
    }
}

pub(super) fn is_query_attr(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("query")
}

/// The other attributes, and the SQL of `#[query("…")]`.
pub(super) fn split_query_attr(attrs: Vec<syn::Attribute>, cx: &Ctxt) -> (Vec<syn::Attribute>, Option<syn::LitStr>) {
    let mut sql = None;
    let mut rest = Vec::new();
    for attr in attrs {
        if !is_query_attr(&attr) {
            rest.push(attr);
            continue;
        }
        if sql.is_some() {
            cx.syn_error(syn::Error::new_spanned(&attr, "a second `#[query]`: a method runs one query"));
            continue;
        }
        match attr.parse_args::<syn::LitStr>() {
            Ok(lit) => sql = Some(lit),
            Err(_) => cx.syn_error(syn::Error::new_spanned(
                &attr,
                "`#[query]` takes the SQL as a string: `#[query(\"SELECT * FROM users WHERE email = :email\")]`",
            )),
        }
    }
    (rest, sql)
}

/// A method's argument.
pub(super) struct Arg {
    pub(super) ident: syn::Ident,
    pub(super) ty: syn::Type,
}

pub(super) fn single_generic<'t>(ty: &'t syn::Type, name: &str) -> Option<&'t syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.iter().collect::<Vec<_>>()[..] {
        [syn::GenericArgument::Type(t)] => Some(t),
        _ => None,
    }
}

/// Checks the signature: the arguments, and the type inside `dbkit::Result<…>` (`None` when the
/// return type is not a `Result`).
pub(super) fn check(cx: &Ctxt, sig: &syn::Signature) -> (Vec<Arg>, Option<syn::Type>) {
    // The signature: `async fn name(&self, arg: T, …) -> dbkit::Result<R>;`
    if sig.asyncness.is_none() {
        cx.syn_error(syn::Error::new_spanned(sig.fn_token, "a query method is `async`: write `async fn`"));
    }
    if !sig.generics.params.is_empty() {
        cx.syn_error(syn::Error::new_spanned(
            &sig.generics,
            "a query method cannot be generic: name the argument types",
        ));
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(syn::FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        _ => cx.syn_error(syn::Error::new_spanned(
            &sig.ident,
            "a query method takes `&self` first: `async fn name(&self, …)`",
        )),
    }
    let mut args = Vec::new();
    for input in inputs {
        match input {
            syn::FnArg::Typed(pat_type) => match &*pat_type.pat {
                syn::Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    args.push(Arg { ident: pat.ident.clone(), ty: (*pat_type.ty).clone() })
                }
                pat => cx.syn_error(syn::Error::new_spanned(
                    pat,
                    "name the argument: it is bound to the parameter of that name (`:name`)",
                )),
            },
            syn::FnArg::Receiver(r) => cx.syn_error(syn::Error::new_spanned(r, "`self` comes first")),
        }
    }
    let inner = match &sig.output {
        syn::ReturnType::Type(_, ty) => match single_generic(ty, "Result") {
            Some(inner) => Some(inner.clone()),
            None => {
                cx.syn_error(syn::Error::new_spanned(ty, "a query method returns `dbkit::Result<T>`, with `T` one of `Vec<Row>`, `Option<Row>`, `Row` or `u64` (rows affected by a write)"));
                None
            }
        },
        syn::ReturnType::Default => {
            cx.syn_error(syn::Error::new_spanned(&sig.ident, "a query method returns `dbkit::Result<T>`: add `-> dbkit::Result<u64>` for a write, `-> dbkit::Result<Vec<Row>>` for rows"));
            None
        }
    };

    (args, inner)
}

/// What a method returns, inside `dbkit::Result<…>`.
pub(super) enum Shape {
    Many(Row),
    Optional(Row),
    One(Row),
    /// `u64` from a write: the rows it affected.
    Affected,
}

pub(super) enum Row {
    Model,
    Tuple(Vec<syn::Type>),
    Scalar(syn::Type),
}

impl Shape {
    pub(super) fn row(&self) -> Option<&Row> {
        match self {
            Shape::Many(row) | Shape::Optional(row) | Shape::One(row) => Some(row),
            Shape::Affected => None,
        }
    }
}

pub(super) fn is_u64(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && (p.path.is_ident("u64") || p.path.segments.last().is_some_and(|s| s.ident == "u64") && p.path.segments.len() == 3))
}

pub(super) fn shape(inner: &syn::Type, model: &syn::Ident, write: bool) -> Shape {
    let row = |ty: &syn::Type| match ty {
        syn::Type::Tuple(t) if !t.elems.is_empty() => Row::Tuple(t.elems.iter().cloned().collect()),
        syn::Type::Path(p)
            if p.qself.is_none()
                && p.path.segments.last().is_some_and(|s| s.ident == *model && s.arguments.is_none()) =>
        {
            Row::Model
        }
        ty => Row::Scalar(ty.clone()),
    };
    if let Some(element) = single_generic(inner, "Vec") {
        Shape::Many(row(element))
    } else if let Some(element) = crate::model::ast::option_inner(inner) {
        Shape::Optional(row(element))
    } else if write && is_u64(inner) {
        Shape::Affected
    } else {
        Shape::One(row(inner))
    }
}
