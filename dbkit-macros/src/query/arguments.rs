//! The query's `:parameters` against the method's arguments: each parameter has an argument and
//! each argument is used, list arguments (`IN (:ids)`) are found, and each argument's type is
//! checked against the column it is compared with.

use std::collections::BTreeSet;

use syn::ext::IdentExt;

use super::analyze::Analysis;
use super::schema::{Family, Schema, list_element, value_family};
use super::signature::Arg;
use super::text::Scanned;
use crate::model::Ctxt;
use crate::model::ast::type_name;

/// Reports every parameter without an argument and every argument not used.
pub(super) fn check_names(cx: &Ctxt, sql_lit: &syn::LitStr, method: &syn::Ident, scanned: &Scanned, args: &[Arg]) {
    // Parameters and arguments: each parameter has an argument and each argument is used.
    let names: BTreeSet<&str> = scanned.occurrences.iter().map(String::as_str).collect();
    for name in &names {
        if !args.iter().any(|a| a.ident.unraw() == name) {
            cx.syn_error(syn::Error::new(
                sql_lit.span(),
                format!("`:{name}` has no argument: add `{name}: T` to the parameters of `{}`", method),
            ));
        }
    }
    for arg in args {
        if !names.contains(arg.ident.unraw().to_string().as_str()) {
            cx.syn_error(syn::Error::new_spanned(
                &arg.ident,
                format!(
                    "argument `{}` is not used by the query: refer to it as `:{}`, or remove it",
                    arg.ident,
                    arg.ident.unraw()
                ),
            ));
        }
    }
}

/// The occurrences bound as lists, one placeholder per element; reports each argument whose type
/// is not the family of the column it is compared with.
pub(super) fn lists_and_types(
    cx: &Ctxt,
    scanned: &Scanned,
    args: &[Arg],
    analysis: &Analysis,
    models: &[Schema],
) -> BTreeSet<usize> {
    let arg_of = |occurrence: usize| args.iter().find(|a| a.ident.unraw() == scanned.occurrences[occurrence]);

    // List arguments, bound one placeholder per element, and parameter types against columns.
    let mut lists = BTreeSet::new();
    for (occurrence, _) in scanned.occurrences.iter().enumerate() {
        if let Some(arg) = arg_of(occurrence)
            && analysis.in_lists.contains(&occurrence)
            && list_element(&arg.ty).is_some()
        {
            lists.insert(occurrence);
        }
    }
    for (&occurrence, &(m, c)) in &analysis.compared {
        let Some(arg) = arg_of(occurrence) else { continue };
        let ty = if lists.contains(&occurrence) { list_element(&arg.ty).expect("a list") } else { &arg.ty };
        let column = &models[m].columns[c];
        let (Some(expected), (Some(actual), _)) = (Family::of(column.sql_type), value_family(ty)) else { continue };
        if expected != actual {
            cx.syn_error(syn::Error::new_spanned(
                &arg.ty,
                format!(
                    "`:{}` is {} (`{}`) but is compared with `{}.{}`, {} (`{}::{}` is `{}`): pass a `{}`",
                    scanned.occurrences[occurrence],
                    actual.name(),
                    type_name(ty),
                    models[m].table,
                    column.name,
                    expected.name(),
                    models[m].ident,
                    column.field,
                    type_name(&column.ty),
                    type_name(crate::model::ast::option_inner(&column.ty).unwrap_or(&column.ty)),
                ),
            ));
        }
    }

    lists
}
