//! `#[dbkit::queries]`: custom SQL on a repository, checked at compile time against the model,
//! without a database.
//!
//! The steps, on `proc_macro2` types: `callback` hands the models' definitions from the derive to
//! this macro (the impl block must therefore come after the struct, in the same module or a child
//! module declared after it); `signature` reads the method; `text` finds the `:name` parameters;
//! `analyze` parses the SQL with sqlparser in the model's dialect and resolves tables and columns;
//! `arguments` matches parameters with arguments and their types; `shape` checks the result type
//! against the select list; `generate` writes the method. Every mistake is reported through the
//! same [`Ctxt`] as the derive's, each spanned on the query string or the argument.

mod analyze;
mod arguments;
mod callback;
mod generate;
pub(crate) mod schema;
mod shape;
mod signature;
mod text;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use self::callback::model_of_repository;
pub(crate) use self::callback::{expand, model_macro, queries};
use self::generate::{generate, stub};
use self::schema::Schema;
use self::shape::{Row, check_columns, model_layout, shape};
use self::signature::{BodilessFn, QueryMethod, is_query_attr, split_query_attr};
use crate::model::Ctxt;

fn expand_impl(mut item_impl: syn::ItemImpl, mut schemas: Vec<Schema>) -> TokenStream {
    let model_ident = model_of_repository(&item_impl.self_ty).expect("checked by `queries`");
    let Some(main) = schemas.iter().position(|s| s.ident.unraw() == model_ident.unraw()) else {
        return syn::Error::new_spanned(&item_impl.self_ty, "dbkit internal: the model's definition did not arrive")
            .to_compile_error();
    };
    // The model first: its table is the one `*` and the model's row type refer to.
    let model = schemas.remove(main);
    schemas.insert(0, model);
    let repository = item_impl.self_ty.clone();
    let repository_name = quote!(#repository).to_string().replace(' ', "");

    let cx = Ctxt::new();
    let mut generated = Vec::new();
    let items = std::mem::take(&mut item_impl.items);
    for item in items {
        let method = match item {
            syn::ImplItem::Verbatim(tokens) => match syn::parse2::<BodilessFn>(tokens.clone()) {
                Ok(f) if f.attrs.iter().any(is_query_attr) => {
                    let (attrs, sql) = split_query_attr(f.attrs, &cx);
                    sql.map(|sql| QueryMethod { attrs, vis: f.vis, sig: f.sig, sql })
                }
                _ => {
                    item_impl.items.push(syn::ImplItem::Verbatim(tokens));
                    None
                }
            },
            syn::ImplItem::Fn(f) if f.attrs.iter().any(is_query_attr) => {
                cx.error_spanned_by(
                    &f.block,
                    "a `#[query]` method has no body: dbkit writes it; end the signature with `;`",
                );
                // Its `#[query]` was reported with the body.
                let ignored = Ctxt::new();
                let (attrs, _) = split_query_attr(f.attrs.clone(), &ignored);
                let _ = ignored.check();
                item_impl.items.push(syn::ImplItem::Fn(syn::ImplItemFn { attrs, ..f }));
                None
            }
            other => {
                item_impl.items.push(other);
                None
            }
        };
        if let Some(method) = method {
            generated.push(expand_method(&cx, &method, &schemas, &repository_name));
        }
    }
    let errors = cx.check().err().map(|e| e.to_compile_error());
    let p = &schemas[0].private;
    let require =
        schemas[0].dialect.filter(|_| schemas[0].valid).map(|d| format_ident!("require_{}", d.backend().name()));
    let body = quote! {
        #[automatically_derived]
        #item_impl
        #[automatically_derived]
        #[allow(dead_code, clippy::all)]
        impl #repository {
            #(#generated)*
        }
    };
    match require {
        Some(require) => quote! {
            #p::#require! { #body }
            #errors
        },
        None => quote! { #body #errors },
    }
}

/// Checks one query method against the models and generates it; a method with a mistake gets a
/// stub body, its mistakes reported to `cx`.
fn expand_method(cx: &Ctxt, method: &QueryMethod, models: &[Schema], repository: &str) -> TokenStream {
    let before = cx.errors_reported();
    let model = &models[0];
    let sql_lit = &method.sql;
    let err = |message: String| cx.syn_error(syn::Error::new(sql_lit.span(), message));
    if !models.iter().all(|m| m.valid) {
        // The derive reported what is wrong with the model.
        return stub(method);
    }
    let Some(dialect) = model.dialect else {
        // A valid ClickHouse or Oracle model: not silently an `unimplemented!()` body.
        err(format!(
            "custom queries are generated for SQLite, PostgreSQL and MySQL models; `{}` is a ClickHouse or Oracle model: run the statement through `Database::clickhouse()` or `Database::oracle()`",
            model.ident
        ));
        return stub(method);
    };
    for partner in &models[1..] {
        if partner.dialect != Some(dialect) {
            cx.syn_error(syn::Error::new(
                sql_lit.span(),
                format!(
                    "`{}` lives on another backend than `{}`: a query joins tables of one database",
                    partner.ident, model.ident
                ),
            ));
        }
    }

    // The signature: `async fn name(&self, arg: T, …) -> dbkit::Result<R>;`
    let sig = &method.sig;
    let (args, inner) = signature::check(cx, sig);

    // The SQL.
    let scanned = match text::scan(&sql_lit.value(), dialect) {
        Ok(scanned) => scanned,
        Err(message) => {
            err(message);
            return stub(method);
        }
    };
    let analysis = match analyze::analyze(&scanned, dialect, models) {
        Ok(analysis) => Some(analysis),
        Err(messages) => {
            for message in messages {
                err(message);
            }
            None
        }
    };

    arguments::check_names(cx, sql_lit, &sig.ident, &scanned, &args);
    let (Some(analysis), Some(inner)) = (analysis, inner) else { return stub(method) };
    let lists = arguments::lists_and_types(cx, &scanned, &args, &analysis, models);

    // The result shape against the select list.
    let shape = shape(&inner, &model.ident, analysis.write);
    let mut text = analysis.text.clone();
    let mut layout = None;
    match (&analysis.projection, shape.row()) {
        (None, None) => {}
        (None, Some(_)) => err(
            "this statement returns no rows, only how many it changed: write `-> dbkit::Result<u64>`, or add `RETURNING` to get rows back (not on MySQL)".to_owned(),
        ),
        (Some(_), None) => {}
        (Some(projection), Some(Row::Model)) => match model_layout(projection, models, &mut text) {
            Ok(order) => layout = Some(order),
            Err(message) => err(message),
        },
        (Some(projection), Some(Row::Tuple(types))) => check_columns(projection, types, models, cx, sql_lit),
        (Some(projection), Some(Row::Scalar(ty))) => check_columns(projection, std::slice::from_ref(ty), models, cx, sql_lit),
    }
    if cx.errors_reported() > before {
        return stub(method);
    }
    generate(
        method,
        &args,
        &scanned.occurrences,
        &lists,
        &text,
        dialect,
        &shape,
        layout.as_deref(),
        model,
        repository,
        analysis.write,
    )
}

#[cfg(test)]
mod tests;
