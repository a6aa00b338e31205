//! `#[dbkit::queries]`: custom SQL on a repository, checked at compile time against the model,
//! without a database.
//!
//! An attribute on `impl UserRepository` cannot see the `User` struct, so the derive hands the
//! struct over: next to `User` it emits a `macro_rules! __dbkit_model_User` that calls
//! [`expand`] with the derive's own input prepended to whatever it is given. `#[dbkit::queries]`
//! only rewrites the impl block into a call of that macro (and of each join partner's, one after
//! the other), so the SQL is checked by [`expand`] with every model's columns in hand, and each
//! mistake is a plain compile error on the query string or the argument. The price is
//! `macro_rules!` scoping: the impl block must come after the struct, in the same module (or a
//! child module declared after it).
//!
//! The steps, on `proc_macro2` types: `text` finds the `:name` parameters, `analyze` parses the
//! SQL with sqlparser in the model's dialect and resolves tables and columns, and this module
//! checks the method signature against it and generates the method.

mod analyze;
pub(crate) mod schema;
mod text;

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};

use self::analyze::Projected;
use self::schema::{Family, Schema, list_element, value_family};
use self::text::Piece;
use crate::dialect::Dialect;

/// The name of the macro the derive emits for `model`.
fn model_macro_name(model: &syn::Ident, span: Span) -> syn::Ident {
    format_ident!("__dbkit_model_{}", model.unraw(), span = span)
}

/// Emitted by `#[derive(Repository)]` next to the model: the callback that hands the model's
/// definition to the query macro.
pub(crate) fn model_macro(input: &syn::DeriveInput) -> TokenStream {
    let name = model_macro_name(&input.ident, Span::call_site());
    // The struct goes in as written, minus the attributes of other derives (a `$` in them would
    // confuse `macro_rules!`): dbkit reads only its own.
    let mut model = input.clone();
    model.attrs.retain(|a| ["database", "repository"].iter().any(|name| a.path().is_ident(name)));
    if let syn::Data::Struct(data) = &mut model.data {
        for field in data.fields.iter_mut() {
            field.attrs.retain(|a| ["key", "unique", "column"].iter().any(|name| a.path().is_ident(name)));
        }
    }
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #name {
            ($($rest:tt)*) => {
                ::dbkit::__private::queries_expand! { { #model } $($rest)* }
            };
        }
    }
}

/// The arguments of `#[dbkit::queries(...)]`.
#[derive(Default)]
struct Args {
    join: Vec<syn::Ident>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen_join = false;
        while !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            if key != "join" {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{key}`: `#[dbkit::queries]` takes `join = [Model, …]`, the models whose tables the queries join"
                    ),
                ));
            }
            if seen_join {
                return Err(syn::Error::new(
                    key.span(),
                    "`join` is given twice: list every model in one `join = [...]`",
                ));
            }
            seen_join = true;
            input.parse::<syn::Token![=]>()?;
            let content;
            syn::bracketed!(content in input);
            let models = content.parse_terminated(syn::Ident::parse, syn::Token![,])?;
            args.join.extend(models);
            if !input.is_empty() {
                input.parse::<syn::Token![,]>()?;
            }
        }
        Ok(args)
    }
}

/// `#[dbkit::queries]` on `impl XRepository { … }`: becomes a call of `__dbkit_model_X!` (which the
/// derive of `X` defined) carrying the join partners still to fetch and the impl block.
pub(crate) fn queries(args: TokenStream, item: TokenStream) -> TokenStream {
    // A mistake in the arguments is reported, and the queries are still checked (without join
    // partners), so the methods exist and nothing else cascades from it.
    let (args, args_error) = match syn::parse2::<Args>(args) {
        Ok(args) => (args, None),
        Err(e) => (Args::default(), Some(e.to_compile_error())),
    };
    let item_impl = match syn::parse2::<syn::ItemImpl>(item.clone()) {
        Ok(item_impl) => item_impl,
        Err(_) => {
            let e = syn::Error::new(
                Span::call_site(),
                "`#[dbkit::queries]` goes on an `impl UserRepository { … }` block of a repository that `#[derive(Repository)]` generated",
            );
            return with_error(item, e);
        }
    };
    let Some(model) = model_of_repository(&item_impl.self_ty) else {
        let e = syn::Error::new_spanned(
            &item_impl.self_ty,
            "`#[dbkit::queries]` goes on the impl block of a generated repository, like `impl UserRepository` for `User`",
        );
        return with_error(item, e);
    };
    let callback = model_macro_name(&model, model.span());
    let pending = &args.join;
    quote! {
        #callback! { [#(#pending),*] #item }
        #args_error
    }
}

/// `UserRepository` → `User`.
fn model_of_repository(ty: &syn::Type) -> Option<syn::Ident> {
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let name = last.ident.unraw().to_string();
    let model = name.strip_suffix("Repository").filter(|m| !m.is_empty())?;
    Some(syn::Ident::new(model, last.ident.span()))
}

fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut out = item;
    out.extend(error.to_compile_error());
    out
}

/// What the callbacks build up: `{ model }… [pending, …] impl …`. Fetches the next pending
/// model's definition, or, with all in hand, checks and generates the queries.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter().peekable();
    let mut models = Vec::new();
    let mut pending = TokenStream::new();
    for token in tokens.by_ref() {
        match token {
            TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => models.push(g.stream()),
            TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Bracket => {
                pending = g.stream();
                break;
            }
            other => {
                return syn::Error::new(other.span(), "dbkit internal: malformed query expansion").to_compile_error();
            }
        }
    }
    let rest: TokenStream = tokens.collect();
    let mut pending: Vec<syn::Ident> = match syn::parse::Parser::parse2(
        syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated,
        pending,
    ) {
        Ok(list) => list.into_iter().collect(),
        Err(e) => return e.to_compile_error(),
    };
    if !pending.is_empty() {
        let next = pending.remove(0);
        let callback = model_macro_name(&next, next.span());
        let models = models.iter().map(|m| quote!({ #m }));
        return quote! {
            #callback! { #(#models)* [#(#pending),*] #rest }
        };
    }
    let schemas: Vec<Schema> = models
        .into_iter()
        .filter_map(|m| syn::parse2::<syn::DeriveInput>(m).ok())
        .filter_map(|input| Schema::from_input(&input))
        .collect();
    let item_impl = match syn::parse2::<syn::ItemImpl>(rest) {
        Ok(item) => item,
        Err(e) => return e.to_compile_error(),
    };
    expand_impl(item_impl, schemas)
}

/// A `#[query("…")]` method as written.
struct QueryMethod {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    sig: syn::Signature,
    sql: syn::LitStr,
}

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

    let mut errors: Vec<syn::Error> = Vec::new();
    let mut generated = Vec::new();
    let items = std::mem::take(&mut item_impl.items);
    for item in items {
        let method = match item {
            syn::ImplItem::Verbatim(tokens) => match syn::parse2::<BodilessFn>(tokens.clone()) {
                Ok(f) if f.attrs.iter().any(is_query_attr) => {
                    let (attrs, sql) = split_query_attr(f.attrs, &mut errors);
                    sql.map(|sql| QueryMethod { attrs, vis: f.vis, sig: f.sig, sql })
                }
                _ => {
                    item_impl.items.push(syn::ImplItem::Verbatim(tokens));
                    None
                }
            },
            syn::ImplItem::Fn(f) if f.attrs.iter().any(is_query_attr) => {
                errors.push(syn::Error::new_spanned(
                    &f.block,
                    "a `#[query]` method has no body: dbkit writes it; end the signature with `;`",
                ));
                let (attrs, _) = split_query_attr(f.attrs.clone(), &mut Vec::new());
                item_impl.items.push(syn::ImplItem::Fn(syn::ImplItemFn { attrs, ..f }));
                None
            }
            other => {
                item_impl.items.push(other);
                None
            }
        };
        if let Some(method) = method {
            generated.push(expand_method(&method, &schemas, &repository_name, &mut errors));
        }
    }
    let errors = errors.into_iter().map(|e| e.to_compile_error());
    let require = schemas[0].dialect.filter(|_| schemas[0].valid).map(|d| format_ident!("require_{}", backend_name(d)));
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
            ::dbkit::__private::#require! { #body }
            #(#errors)*
        },
        None => quote! { #body #(#errors)* },
    }
}

/// `pub async fn f(&self) -> T;`: a method without a body, which syn leaves as verbatim tokens.
struct BodilessFn {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    sig: syn::Signature,
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

fn is_query_attr(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("query")
}

/// The other attributes, and the SQL of `#[query("…")]`.
fn split_query_attr(
    attrs: Vec<syn::Attribute>,
    errors: &mut Vec<syn::Error>,
) -> (Vec<syn::Attribute>, Option<syn::LitStr>) {
    let mut sql = None;
    let mut rest = Vec::new();
    for attr in attrs {
        if !is_query_attr(&attr) {
            rest.push(attr);
            continue;
        }
        if sql.is_some() {
            errors.push(syn::Error::new_spanned(&attr, "a second `#[query]`: a method runs one query"));
            continue;
        }
        match attr.parse_args::<syn::LitStr>() {
            Ok(lit) => sql = Some(lit),
            Err(_) => errors.push(syn::Error::new_spanned(
                &attr,
                "`#[query]` takes the SQL as a string: `#[query(\"SELECT * FROM users WHERE email = :email\")]`",
            )),
        }
    }
    (rest, sql)
}

fn backend_name(dialect: Dialect) -> &'static str {
    #[allow(unreachable_patterns)]
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
        Dialect::MySql => "mysql",
        _ => "sqlite",
    }
}

/// What a method returns, inside `dbkit::Result<…>`.
enum Shape {
    Many(Row),
    Optional(Row),
    One(Row),
    /// `u64` from a write: the rows it affected.
    Affected,
}

enum Row {
    Model,
    Tuple(Vec<syn::Type>),
    Scalar(syn::Type),
}

impl Shape {
    fn row(&self) -> Option<&Row> {
        match self {
            Shape::Many(row) | Shape::Optional(row) | Shape::One(row) => Some(row),
            Shape::Affected => None,
        }
    }
}

/// A method's argument.
struct Arg {
    ident: syn::Ident,
    ty: syn::Type,
}

fn single_generic<'t>(ty: &'t syn::Type, name: &str) -> Option<&'t syn::Type> {
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

fn is_u64(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && (p.path.is_ident("u64") || p.path.segments.last().is_some_and(|s| s.ident == "u64") && p.path.segments.len() == 3))
}

fn shape(inner: &syn::Type, model: &syn::Ident, write: bool) -> Shape {
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
    } else if let Some(element) = crate::ast::option_inner(inner) {
        Shape::Optional(row(element))
    } else if write && is_u64(inner) {
        Shape::Affected
    } else {
        Shape::One(row(inner))
    }
}

fn type_text(ty: &syn::Type) -> String {
    let text = quote!(#ty).to_string();
    let mut text = text;
    for (spaced, tight) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ::", "::"),
        (":: ", "::"),
        ("& ", "&"),
        (" ,", ","),
        ("( ", "("),
        (" )", ")"),
    ] {
        text = text.replace(spaced, tight);
    }
    text
}

fn stub(method: &QueryMethod) -> TokenStream {
    let (attrs, vis, sig) = (&method.attrs, &method.vis, &method.sig);
    quote! {
        #(#attrs)*
        #[allow(unused_variables)]
        #vis #sig {
            ::core::unimplemented!()
        }
    }
}

fn expand_method(
    method: &QueryMethod,
    models: &[Schema],
    repository: &str,
    errors: &mut Vec<syn::Error>,
) -> TokenStream {
    let before = errors.len();
    let model = &models[0];
    let sql_lit = &method.sql;
    let err = |errors: &mut Vec<syn::Error>, message: String| errors.push(syn::Error::new(sql_lit.span(), message));
    if !models.iter().all(|m| m.valid) {
        // The derive reported what is wrong with the model.
        return stub(method);
    }
    let Some(dialect) = model.dialect else {
        // A valid ClickHouse or Oracle model: not silently an `unimplemented!()` body.
        err(
            errors,
            format!(
                "custom queries are generated for SQLite, PostgreSQL and MySQL models; `{}` is a ClickHouse or Oracle model: run the statement through `Database::clickhouse()` or `Database::oracle()`",
                model.ident
            ),
        );
        return stub(method);
    };
    #[allow(unreachable_patterns)]
    let sql_backend = matches!(dialect, Dialect::Sqlite | Dialect::Postgres | Dialect::MySql);
    if !sql_backend {
        err(
            errors,
            format!(
                "custom queries are generated for SQLite, PostgreSQL and MySQL models; `{}` is a {} model",
                model.ident,
                dialect.product()
            ),
        );
        return stub(method);
    }
    for partner in &models[1..] {
        if partner.dialect != Some(dialect) {
            errors.push(syn::Error::new(
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
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(sig.fn_token, "a query method is `async`: write `async fn`"));
    }
    if !sig.generics.params.is_empty() {
        errors
            .push(syn::Error::new_spanned(&sig.generics, "a query method cannot be generic: name the argument types"));
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(syn::FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        _ => errors
            .push(syn::Error::new_spanned(&sig.ident, "a query method takes `&self` first: `async fn name(&self, …)`")),
    }
    let mut args = Vec::new();
    for input in inputs {
        match input {
            syn::FnArg::Typed(pat_type) => match &*pat_type.pat {
                syn::Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    args.push(Arg { ident: pat.ident.clone(), ty: (*pat_type.ty).clone() })
                }
                pat => errors.push(syn::Error::new_spanned(
                    pat,
                    "name the argument: it is bound to the parameter of that name (`:name`)",
                )),
            },
            syn::FnArg::Receiver(r) => errors.push(syn::Error::new_spanned(r, "`self` comes first")),
        }
    }
    let inner = match &sig.output {
        syn::ReturnType::Type(_, ty) => match single_generic(ty, "Result") {
            Some(inner) => Some(inner.clone()),
            None => {
                errors.push(syn::Error::new_spanned(ty, "a query method returns `dbkit::Result<T>`, with `T` one of `Vec<Row>`, `Option<Row>`, `Row` or `u64` (rows affected by a write)"));
                None
            }
        },
        syn::ReturnType::Default => {
            errors.push(syn::Error::new_spanned(&sig.ident, "a query method returns `dbkit::Result<T>`: add `-> dbkit::Result<u64>` for a write, `-> dbkit::Result<Vec<Row>>` for rows"));
            None
        }
    };

    // The SQL.
    let scanned = match text::scan(&sql_lit.value(), dialect) {
        Ok(scanned) => scanned,
        Err(message) => {
            err(errors, message);
            return stub(method);
        }
    };
    let analysis = match analyze::analyze(&scanned, dialect, models) {
        Ok(analysis) => Some(analysis),
        Err(messages) => {
            for message in messages {
                err(errors, message);
            }
            None
        }
    };

    // Parameters and arguments: each parameter has an argument and each argument is used.
    let names: BTreeSet<&str> = scanned.occurrences.iter().map(String::as_str).collect();
    for name in &names {
        if !args.iter().any(|a| a.ident.unraw() == name) {
            err(errors, format!("`:{name}` has no argument: add `{name}: T` to the parameters of `{}`", sig.ident));
        }
    }
    for arg in &args {
        if !names.contains(arg.ident.unraw().to_string().as_str()) {
            errors.push(syn::Error::new_spanned(
                &arg.ident,
                format!(
                    "argument `{}` is not used by the query: refer to it as `:{}`, or remove it",
                    arg.ident,
                    arg.ident.unraw()
                ),
            ));
        }
    }
    let (Some(analysis), Some(inner)) = (analysis, inner) else { return stub(method) };
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
            errors.push(syn::Error::new_spanned(
                &arg.ty,
                format!(
                    "`:{}` is {} (`{}`) but is compared with `{}.{}`, {} (`{}::{}` is `{}`): pass a `{}`",
                    scanned.occurrences[occurrence],
                    actual.name(),
                    type_text(ty),
                    models[m].table,
                    column.name,
                    expected.name(),
                    models[m].ident,
                    column.field,
                    type_text(&column.ty),
                    type_text(crate::ast::option_inner(&column.ty).unwrap_or(&column.ty)),
                ),
            ));
        }
    }

    // The result shape against the select list.
    let shape = shape(&inner, &model.ident, analysis.write);
    let mut text = analysis.text.clone();
    let mut layout = None;
    match (&analysis.projection, shape.row()) {
        (None, None) => {}
        (None, Some(_)) => err(
            errors,
            "this statement returns no rows, only how many it changed: write `-> dbkit::Result<u64>`, or add `RETURNING` to get rows back (not on MySQL)".to_owned(),
        ),
        (Some(_), None) => {}
        (Some(projection), Some(Row::Model)) => match model_layout(projection, models, &mut text) {
            Ok(order) => layout = Some(order),
            Err(message) => err(errors, message),
        },
        (Some(projection), Some(Row::Tuple(types))) => check_columns(projection, types, models, errors, sql_lit),
        (Some(projection), Some(Row::Scalar(ty))) => check_columns(projection, std::slice::from_ref(ty), models, errors, sql_lit),
    }
    if errors.len() > before {
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

/// For a result of the model's type: the column index each field is decoded from, after turning
/// `*` into the model's columns in field order.
fn model_layout(projection: &[Projected], models: &[Schema], text: &mut String) -> Result<Vec<usize>, String> {
    let model = &models[0];
    let quote = |name: &str| model.dialect.expect("a dialect").quote(name);
    let mut selected: Vec<(usize, String)> = Vec::new();
    let mut replacements = Vec::new();
    let mut problems = Vec::new();
    for item in projection {
        match item {
            Projected::Column { column: (0, index), .. } => selected.push((*index, item.label())),
            Projected::Column { column: (m, _), label } => {
                problems.push(format!("`{label}` is a column of `{}`, not of `{}`", models[*m].table, model.table))
            }
            Projected::Expr { label } => problems.push(format!("`{label}` is not a column of `{}`", model.table)),
            Projected::Wildcard { model: Some(0), qualifier, range: Some(range) } => {
                let prefix = qualifier.as_ref().map(|q| format!("{q}.")).unwrap_or_default();
                let list =
                    model.columns.iter().map(|c| format!("{prefix}{}", quote(&c.name))).collect::<Vec<_>>().join(", ");
                replacements.push((*range, list));
                selected.extend(model.columns.iter().enumerate().map(|(i, c)| (i, c.name.clone())));
            }
            Projected::Wildcard { qualifier: None, .. } => problems.push(format!(
                "`*` here is more than `{}`'s columns: write `{}.*` (or its alias) for the columns of `{}`",
                model.table, model.table, model.ident
            )),
            Projected::Wildcard { .. } => {
                problems.push(format!("`{}` is not the table of `{}`", item.label(), model.ident))
            }
        }
    }
    let mut layout = vec![None; model.columns.len()];
    for (position, (index, label)) in selected.iter().enumerate() {
        if layout[*index].is_some() {
            problems.push(format!("`{label}` is selected twice"));
        } else {
            layout[*index] = Some(position);
        }
    }
    let missing: Vec<String> =
        model.columns.iter().zip(&layout).filter(|(_, l)| l.is_none()).map(|(c, _)| format!("`{}`", c.name)).collect();
    if !missing.is_empty() && problems.is_empty() {
        problems.push(format!("missing {}", missing.join(", ")));
    }
    if !problems.is_empty() {
        return Err(format!(
            "the query returns `{}`, so it selects each of its columns once (`*` does): {}; for other columns return a tuple, like `Vec<(String, i64)>`",
            model.ident,
            problems.join("; ")
        ));
    }
    replacements.sort_by_key(|((start, _), _)| std::cmp::Reverse(*start));
    for ((start, end), list) in replacements {
        // sqlparser's end location is one past the wildcard.
        let end = if end > start { end } else { start + 1 };
        text.replace_range(start..end, &list);
    }
    Ok(layout.into_iter().map(|l| l.expect("checked: every column selected")).collect())
}

/// A tuple or scalar result: as many columns as elements, each a type that can hold the column.
fn check_columns(
    projection: &[Projected],
    types: &[syn::Type],
    models: &[Schema],
    errors: &mut Vec<syn::Error>,
    lit: &syn::LitStr,
) {
    if let Some(wildcard) = projection.iter().find(|p| matches!(p, Projected::Wildcard { .. })) {
        errors.push(syn::Error::new(
            lit.span(),
            format!("`{}` selects a table's columns, which a tuple or a single value cannot name: list the columns, or return `{}`", wildcard.label(), models[0].ident),
        ));
        return;
    }
    let shown = if types.len() == 1 {
        type_text(&types[0])
    } else {
        format!("({})", types.iter().map(type_text).collect::<Vec<_>>().join(", "))
    };
    if projection.len() != types.len() {
        errors.push(syn::Error::new(
            lit.span(),
            format!(
                "the query selects {} column{} ({}) but the result `{shown}` holds {}: select one column per element",
                projection.len(),
                if projection.len() == 1 { "" } else { "s" },
                projection.iter().map(|p| format!("`{}`", p.label())).collect::<Vec<_>>().join(", "),
                types.len()
            ),
        ));
        return;
    }
    for (item, ty) in projection.iter().zip(types) {
        let Projected::Column { column: (m, c), label } = item else { continue };
        let column = &models[*m].columns[*c];
        let (actual, optional) = value_family(ty);
        if let (Some(expected), Some(actual)) = (Family::of(column.sql_type), actual)
            && expected != actual
        {
            errors.push(syn::Error::new_spanned(
                ty,
                format!(
                    "`{label}` is {} (`{}::{}` is `{}`), which a `{}` cannot hold",
                    expected.name(),
                    models[*m].ident,
                    column.field,
                    type_text(&column.ty),
                    type_text(ty)
                ),
            ));
        } else if column.nullable && !optional {
            errors.push(syn::Error::new_spanned(
                ty,
                format!(
                    "`{label}` can be NULL (`{}::{}` is `{}`): write `Option<{}>`",
                    models[*m].ident,
                    column.field,
                    type_text(&column.ty),
                    type_text(ty)
                ),
            ));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn generate(
    method: &QueryMethod,
    args: &[Arg],
    occurrences: &[String],
    lists: &BTreeSet<usize>,
    text: &str,
    dialect: Dialect,
    shape: &Shape,
    layout: Option<&[usize]>,
    model: &Schema,
    repository: &str,
    write: bool,
) -> TokenStream {
    let p = quote!(::dbkit::__private);
    let sqlx = quote!(#p::sqlx);
    let driver = format_ident!("{}", dialect.sqlx_type());
    let db = quote!(#sqlx::#driver);
    let pieces = text::pieces(text);
    let arg_ident = |occurrence: usize| {
        let arg = args
            .iter()
            .find(|a| a.ident.unraw() == occurrences[occurrence])
            .expect("checked: every parameter has an argument");
        &arg.ident
    };

    let build = if lists.is_empty() {
        // Fixed text: the driver's placeholders in order, one bind per occurrence.
        let mut sql = String::new();
        let mut binds = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Text(t) => sql.push_str(t),
                Piece::Param(occurrence) => {
                    binds.push(arg_ident(*occurrence));
                    sql.push_str(&dialect.placeholder(binds.len()));
                }
            }
        }
        quote!(let __query = #sqlx::query(#sql) #(.bind(&#binds))*;)
    } else {
        // A list argument (`IN (:ids)`) gets one placeholder per element, so the text is built at
        // run time; every value is still bound, and the text is this method's compile-time pieces
        // and the driver's placeholders only, hence `AssertSqlSafe`.
        let steps = pieces.iter().map(|piece| match piece {
            Piece::Text(t) => quote!(__sql.push_str(#t);),
            Piece::Param(occurrence) if lists.contains(occurrence) => {
                let ident = arg_ident(*occurrence);
                quote! {
                    if #ident.is_empty() {
                        // `IN (NULL)` matches no row, as an empty list would.
                        __sql.push_str("NULL");
                    }
                    for (__i, __value) in ::core::iter::Iterator::enumerate(#ident.iter()) {
                        if __i > 0 {
                            __sql.push_str(", ");
                        }
                        #p::push_bind::<#db, _>(&mut __sql, &mut __arguments, __value)?;
                    }
                }
            }
            Piece::Param(occurrence) => {
                let ident = arg_ident(*occurrence);
                quote!(#p::push_bind::<#db, _>(&mut __sql, &mut __arguments, &#ident)?;)
            }
        });
        quote! {
            let mut __sql = ::std::string::String::new();
            let mut __arguments = <<#db as #sqlx::Database>::Arguments as ::core::default::Default>::default();
            #(#steps)*
            let __query = #sqlx::query_with(#sqlx::AssertSqlSafe(__sql), __arguments);
        }
    };

    let failure = quote!(#p::Failure::sent);
    let decode = |row: &Row| -> TokenStream {
        match row {
            Row::Model => {
                let model_ident = &model.ident;
                let layout = layout.expect("a model row has a layout");
                let fields = model.columns.iter().zip(layout).map(|(c, index)| {
                    let (field, ty, label) = (&c.field, &c.ty, &c.name);
                    quote!(#field: #p::decode::<_, #ty>(__row, #index, #label).map_err(#failure)?,)
                });
                quote!(#model_ident { #(#fields)* })
            }
            Row::Tuple(types) => {
                let values = types.iter().enumerate().map(|(index, ty)| {
                    let label = format!("column {}", index + 1);
                    quote!(#p::decode::<_, #ty>(__row, #index, #label).map_err(#failure)?,)
                });
                quote!((#(#values)*))
            }
            Row::Scalar(ty) if is_u64(ty) => quote! {{
                // Counts are signed 64-bit on every backend.
                let __n = #p::decode::<_, ::core::primitive::i64>(__row, 0, "column 1").map_err(#failure)?;
                match <::core::primitive::u64 as ::core::convert::TryFrom<::core::primitive::i64>>::try_from(__n) {
                    ::core::result::Result::Ok(__n) => __n,
                    ::core::result::Result::Err(_) => {
                        return ::core::result::Result::Err(#failure(#p::Error::Decode {
                            column: ::std::string::String::from("column 1"),
                            message: ::std::format!("{__n} is negative: return `i64`"),
                        }));
                    }
                }
            }},
            Row::Scalar(ty) => quote!(#p::decode::<_, #ty>(__row, 0, "column 1").map_err(#failure)?),
        }
    };
    let fetch = match shape {
        Shape::Many(row) => {
            let decode = decode(row);
            quote! {
                let __rows = __query.fetch_all(&mut *__session).await.map_err(#failure)?;
                let mut __values = ::std::vec::Vec::with_capacity(__rows.len());
                for __row in &__rows {
                    __values.push(#decode);
                }
                ::core::result::Result::Ok(__values)
            }
        }
        Shape::Optional(row) => {
            let decode = decode(row);
            quote! {
                match __query.fetch_optional(&mut *__session).await.map_err(#failure)? {
                    ::core::option::Option::Some(__row) => {
                        let __row = &__row;
                        ::core::result::Result::Ok(::core::option::Option::Some(#decode))
                    }
                    ::core::option::Option::None => ::core::result::Result::Ok(::core::option::Option::None),
                }
            }
        }
        Shape::One(row) => {
            let decode = decode(row);
            quote! {
                let __row = &__query.fetch_one(&mut *__session).await.map_err(#failure)?;
                ::core::result::Result::Ok(#decode)
            }
        }
        Shape::Affected => quote! {
            let __done = __query.execute(&mut *__session).await.map_err(#failure)?;
            ::core::result::Result::Ok(__done.rows_affected())
        },
    };

    let QueryMethod { attrs, vis, sig, sql } = method;
    let name = &sig.ident;
    let method_name = name.unraw().to_string();
    let output = match &sig.output {
        syn::ReturnType::Type(_, ty) => single_generic(ty, "Result").expect("checked").clone(),
        syn::ReturnType::Default => unreachable!("checked"),
    };
    let params = args.iter().map(|a| {
        let (ident, ty) = (&a.ident, &a.ty);
        quote!(#ident: #ty)
    });
    let doc = format!(" Runs `{}`, checked at compile time by `#[dbkit::queries]`.", sql.value().trim());
    let attempt = quote! {
        let mut __session = __call.session::<#db>().await?;
        #build
        #fetch
    };
    let body = crate::expand::call_loop(repository, &method_name, write, quote!(#output), attempt);
    quote! {
        #(#attrs)*
        #[doc = ""]
        #[doc = #doc]
        #vis async fn #name(&self, #(#params),*) -> #p::Result<#output> {
            #body
        }
    }
}

#[cfg(test)]
mod tests;
