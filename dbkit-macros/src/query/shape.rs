//! What a query method returns against what the query selects.

use super::dialect::QueryDialect;
use super::schema::{Family, Projected, Schema, value_family};
use crate::model::Ctxt;
use crate::model::ast::type_name;

/// For a result of the model's type: the column index each field is decoded from, after turning
/// `*` into the model's columns in field order.
pub(super) fn model_layout(
    projection: &[Projected],
    models: &[Schema],
    dialect: QueryDialect,
    text: &mut String,
) -> Result<Vec<usize>, String> {
    let model = &models[0];
    let quote = |name: &str| dialect.quote(name);
    let mut selected: Vec<(usize, String)> = Vec::new();
    let mut replacements = Vec::new();
    let mut problems = Vec::new();
    for item in projection {
        match item {
            Projected::Column { column: (0, index), .. } => selected.push((*index, item.label())),
            Projected::Column { column: (m, _), label } => {
                problems.push(format!("`{label}` is a column of `{}`, not of `{}`", models[*m].table, model.table))
            }
            Projected::Expr { label, .. } => problems.push(format!("`{label}` is not a column of `{}`", model.table)),
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
pub(super) fn check_columns(
    projection: &[Projected],
    types: &[syn::Type],
    models: &[Schema],
    dialect: QueryDialect,
    cx: &Ctxt,
    lit: &syn::LitStr,
) {
    if let Some(wildcard) = projection.iter().find(|p| matches!(p, Projected::Wildcard { .. })) {
        cx.syn_error(syn::Error::new(
            lit.span(),
            format!("`{}` selects a table's columns, which a tuple or a single value cannot name: list the columns, or return `{}`", wildcard.label(), models[0].ident),
        ));
        return;
    }
    let shown = if types.len() == 1 {
        type_name(&types[0])
    } else {
        format!("({})", types.iter().map(type_name).collect::<Vec<_>>().join(", "))
    };
    if projection.len() != types.len() {
        cx.syn_error(syn::Error::new(
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
        if dialect == QueryDialect::ClickHouse {
            if let Some(message) = super::clickhouse::check_result(item, ty, models) {
                cx.syn_error(syn::Error::new_spanned(ty, message));
            }
            continue;
        }
        let Projected::Column { column: (m, c), label } = item else { continue };
        let column = &models[*m].columns[*c];
        let (actual, optional) = value_family(ty);
        if let (Some(expected), Some(actual)) = (Family::of(column.sql_type), actual)
            && expected != actual
        {
            cx.syn_error(syn::Error::new_spanned(
                ty,
                format!(
                    "`{label}` is {} (`{}::{}` is `{}`), which a `{}` cannot hold",
                    expected.name(),
                    models[*m].ident,
                    column.field,
                    type_name(&column.ty),
                    type_name(ty)
                ),
            ));
        } else if column.nullable && !optional {
            cx.syn_error(syn::Error::new_spanned(
                ty,
                format!(
                    "`{label}` can be NULL (`{}::{}` is `{}`): write `Option<{}>`",
                    models[*m].ident,
                    column.field,
                    type_name(&column.ty),
                    type_name(ty)
                ),
            ));
        }
    }
}
