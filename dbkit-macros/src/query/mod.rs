//! `#[dbkit::queries]`: custom SQL on a repository, checked at compile time against the model,
//! without a database.
//!
//! The steps, on `proc_macro2` types: `callback` hands the models' definitions from the derive to
//! this macro (the impl block must therefore come after the struct, in the same module or a child
//! module declared after it); `signature` reads the method; `text` finds the `:name` parameters;
//! `analyze` parses the SQL with sqlparser in the model's dialect (in each, for a model of several
//! backends), refuses what that dialect's server cannot run (`portable`), and resolves tables and
//! columns; `arguments` matches parameters with arguments and their types; `shape` checks the
//! result type against the select list; `generate` writes the method. Every mistake is reported through the
//! same [`Ctxt`] as the derive's, each spanned on the query string or the argument.

mod analyze;
mod arguments;
mod callback;
mod clickhouse;
mod dialect;
mod generate;
mod portable;
pub(crate) mod schema;
mod shape;
mod signature;
mod sqlite;
mod text;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use self::callback::model_of_repository;
pub(crate) use self::callback::{expand, model_macro, queries};
use self::dialect::QueryDialect;
use self::generate::stub;
use self::schema::Schema;
use self::shape::{check_columns, model_layout};
use self::signature::{BodilessFn, QueryMethod, is_query_attr, split_query_attr};
use self::signature::{Row, shape};
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
    let mut views = Vec::new();
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
            let (method, view) = expand_method(&cx, &method, &schemas, &repository_name);
            generated.push(method);
            views.push(view);
        }
    }
    let errors = cx.check().err().map(|e| e.to_compile_error());
    let p = &schemas[0].private;
    // The same methods on the repository's view on the caller's transaction, for the models
    // whose transactions `Database::transaction` runs (the SQL backends).
    let view = (schemas[0].valid && transactional(&schemas[0])).then(|| {
        let view = in_transaction_type(&repository);
        quote! {
            #[automatically_derived]
            #[allow(dead_code, clippy::all)]
            impl #view<'_> {
                #(#views)*
            }
        }
    });
    let mut body = quote! {
        #[automatically_derived]
        #item_impl
        #[automatically_derived]
        #[allow(dead_code, clippy::all)]
        impl #repository {
            #(#generated)*
        }
        #view
    };
    // Dropped silently when a backend's feature is off: the derive reports that, once.
    if schemas[0].valid {
        for dialect in schemas[0].dialects.iter().rev() {
            let require = format_ident!("require_{}", dialect.backend().name());
            body = quote!(#p::#require! { @quiet #body });
        }
    }
    quote! { #body #errors }
}

/// Whether the model's repository has a view on the caller's transaction: it lists SQL backends
/// only (ClickHouse has no transactions).
fn transactional(model: &Schema) -> bool {
    !model.dialects.is_empty() && model.dialects.iter().all(|d| d.sql().is_some())
}

/// The repository's view on the caller's transaction, named as the impl block names the
/// repository: `UserRepository` → `UserRepositoryInTransaction`, `super::UserRepository` →
/// `super::UserRepositoryInTransaction`.
fn in_transaction_type(repository: &syn::Type) -> syn::Type {
    let mut view = repository.clone();
    if let syn::Type::Path(path) = &mut view
        && let Some(last) = path.path.segments.last_mut()
    {
        last.ident = format_ident!("{}InTransaction", last.ident.unraw());
    }
    view
}

/// Checks one query method against the models, in the dialect of each backend the model lists,
/// and generates it, with the same method on the repository's view on the caller's transaction;
/// a method with a mistake gets a stub body (and no view), its mistakes reported to `cx`.
fn expand_method(cx: &Ctxt, method: &QueryMethod, models: &[Schema], repository: &str) -> (TokenStream, TokenStream) {
    let model = &models[0];
    let sql_lit = &method.sql;
    let err = |message: String| cx.syn_error(syn::Error::new(sql_lit.span(), message));
    if !models.iter().all(|m| m.valid) {
        // The derive reported what is wrong with the model.
        return (stub(method), TokenStream::new());
    }
    if model.dialects.is_empty() {
        // A valid Oracle model: not silently an `unimplemented!()` body.
        err(format!(
            "custom queries are generated for SQLite, PostgreSQL, MySQL and ClickHouse models; `{}` is an Oracle model: run the statement through `Database::oracle()`",
            model.ident
        ));
        return (stub(method), TokenStream::new());
    }
    let before = cx.errors_reported();
    for partner in &models[1..] {
        for dialect in model.dialects.iter().filter(|d| !partner.dialects.contains(d)) {
            err(format!(
                "`{}` does not list {}, which `{}` runs on: a query joins tables of one database, so the models it names list the same backends",
                partner.ident,
                dialect.product(),
                model.ident
            ));
        }
    }

    // The signature: `async fn name(&self, arg: T, …) -> dbkit::Result<R>;`
    let (args, inner) = signature::check(cx, &method.sig);

    // The SQL, in each dialect: a mistake found in every one of them is reported once as it is;
    // one found in only some names them.
    let mut attempts = Vec::new();
    let mut write = false;
    let mut found: Vec<(syn::Error, Vec<QueryDialect>)> = Vec::new();
    for &dialect in &model.dialects {
        let dcx = Ctxt::new();
        if let Some((attempt, writes)) = check_dialect(&dcx, method, &args, inner.as_ref(), dialect, models) {
            attempts.push((dialect.backend(), attempt));
            write |= writes;
        }
        for error in dcx.into_errors() {
            match found.iter_mut().find(|(e, _)| e.to_string() == error.to_string()) {
                Some((_, dialects)) => dialects.push(dialect),
                None => found.push((error, vec![dialect])),
            }
        }
    }
    for (error, dialects) in found {
        let message = error.to_string();
        let named = dialects.iter().any(|d| message.contains(d.product()));
        if dialects.len() == model.dialects.len() || named {
            cx.syn_error(error);
        } else {
            let products: Vec<&str> = dialects.iter().map(|d| d.product()).collect();
            cx.syn_error(syn::Error::new(error.span(), format!("{message} (on {})", products.join(" and "))));
        }
    }
    if cx.errors_reported() > before || attempts.len() < model.dialects.len() {
        return (stub(method), TokenStream::new());
    }
    let p = &model.private;
    let attempt = crate::repository::call::dispatch(p, attempts);
    generate::method(method, &args, p, repository, write, transactional(model), attempt)
}

/// Checks the query in `dialect`: its text, its tables and columns, its arguments and its result
/// shape. Returns the attempt's body and whether the statement writes, or `None` with the mistakes
/// reported to `cx`.
fn check_dialect(
    cx: &Ctxt,
    method: &QueryMethod,
    args: &[signature::Arg],
    inner: Option<&syn::Type>,
    dialect: QueryDialect,
    models: &[Schema],
) -> Option<(TokenStream, bool)> {
    let model = &models[0];
    let sql_lit = &method.sql;
    let err = |message: String| cx.syn_error(syn::Error::new(sql_lit.span(), message));
    let scanned = match text::scan(&sql_lit.value(), dialect) {
        Ok(scanned) => scanned,
        Err(message) => {
            err(message);
            return None;
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

    arguments::check_names(cx, sql_lit, &method.sig.ident, &scanned, args);
    let (Some(analysis), Some(inner)) = (analysis, inner) else { return None };
    let lists = arguments::lists_and_types(cx, &scanned, args, &analysis, models);
    let bindings = match dialect {
        QueryDialect::ClickHouse => clickhouse::bindings(cx, args, &scanned.occurrences),
        QueryDialect::Sql(_) => None,
    };

    // The result shape against the select list.
    let shape = shape(inner, &model.ident, analysis.write);
    let mut text = analysis.text.clone();
    let mut layout = None;
    match (&analysis.projection, shape.row()) {
        (None, None) => {}
        (None, Some(_)) => err(
            "this statement returns no rows, only how many it changed: write `-> dbkit::Result<u64>`, or add `RETURNING` to get rows back (not on MySQL)".to_owned(),
        ),
        (Some(_), None) => {}
        (Some(projection), Some(Row::Model)) => match model_layout(projection, models, dialect, &mut text) {
            Ok(order) => layout = Some(order),
            Err(message) => err(message),
        },
        (Some(projection), Some(Row::Tuple(types))) => check_columns(projection, types, models, dialect, cx, sql_lit),
        (Some(projection), Some(Row::Scalar(ty))) => {
            check_columns(projection, std::slice::from_ref(ty), models, dialect, cx, sql_lit)
        }
    }
    if cx.errors_reported() > 0 {
        return None;
    }
    let attempt = match (dialect, bindings) {
        // SQLite's queries run on dbkit's native engine.
        (QueryDialect::Sql(crate::backend::sql::Dialect::Sqlite), _) => {
            sqlite::attempt(args, &scanned.occurrences, &lists, &text, &shape, layout.as_deref(), model, analysis.write)
        }
        (QueryDialect::Sql(dialect), _) => {
            generate::attempt(args, &scanned.occurrences, &lists, &text, dialect, &shape, layout.as_deref(), model)
        }
        (QueryDialect::ClickHouse, Some(bindings)) => {
            clickhouse::attempt(&text, &bindings, &shape, layout.as_deref(), model)
        }
        (QueryDialect::ClickHouse, None) => return None,
    };
    Some((attempt, analysis.write))
}

#[cfg(test)]
mod tests;
