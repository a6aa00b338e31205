//! One query's SQL, parsed with sqlparser in the model's dialect and checked against the models:
//! tables, columns, the select list, and which column each parameter is compared with.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, Expr, Ident, ObjectName, ObjectNamePart, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor, TableObject, Visit, Visitor,
};
use sqlparser::parser::Parser;

use super::clickhouse;
use super::dialect::QueryDialect;
use super::schema::{ColumnRef, Projected, Schema};
use super::text::{self, Scanned};

pub(crate) struct Analysis {
    /// The SQL with markers, and wildcards expanded when the result is the model.
    pub(crate) text: String,
    pub(crate) write: bool,
    /// The result columns of a `SELECT` (or of `RETURNING`); `None` for a write without.
    pub(crate) projection: Option<Vec<Projected>>,
    /// The column each parameter occurrence is compared with, assigned or inserted into.
    pub(crate) compared: BTreeMap<usize, ColumnRef>,
    /// The occurrences that are the only element of an `IN (…)` list.
    pub(crate) in_lists: BTreeSet<usize>,
}

/// A table in the statement: the model it is, and the names it is referred to by.
struct TableUse {
    model: usize,
    /// The alias if there is one, else the table's name.
    name: Ident,
}

#[derive(Default)]
struct Scope {
    tables: Vec<TableUse>,
    /// Names that are not models' tables but may be referred to: CTEs, derived tables.
    other_relations: Vec<String>,
    select_aliases: Vec<String>,
    errors: Vec<String>,
}

fn same(ident: &Ident, name: &str) -> bool {
    if ident.quote_style.is_some() { ident.value == name } else { ident.value.eq_ignore_ascii_case(name) }
}

fn last_ident(name: &ObjectName) -> Option<&Ident> {
    match name.0.last()? {
        ObjectNamePart::Identifier(ident) => Some(ident),
        _ => None,
    }
}

fn is_marker(ident: &Ident) -> bool {
    text::occurrence_of(&ident.value).is_some()
}

pub(crate) fn analyze(scanned: &Scanned, dialect: QueryDialect, models: &[Schema]) -> Result<Analysis, Vec<String>> {
    let parser_dialect = dialect.parser();
    let mut statements = Parser::parse_sql(&*parser_dialect, &scanned.text).map_err(|e| {
        vec![format!("this is not valid {} SQL: {}", dialect.product(), unmark(&e.to_string(), scanned))]
    })?;
    if statements.len() != 1 {
        return Err(vec![format!(
            "a query is one statement, and this is {}: write one `#[query]` method per statement",
            statements.len()
        )]);
    }
    let statement = statements.remove(0);
    if let Some(sql) = dialect.sql() {
        let unportable = super::portable::check(&statement, sql);
        if !unportable.is_empty() {
            return Err(unportable);
        }
    } else if !matches!(statement, Statement::Query(_)) {
        return Err(vec![clickhouse::ONLY_SELECT.to_owned()]);
    }

    let mut scope = Scope::default();
    let _ = statement.visit(&mut Relations { models, scope: &mut scope });
    let mut checker =
        Columns { models, scope: &scope, errors: Vec::new(), compared: BTreeMap::new(), in_lists: BTreeSet::new() };
    let _ = statement.visit(&mut checker);
    let (mut errors, mut compared, in_lists) = (checker.errors, checker.compared, checker.in_lists);
    errors.splice(0..0, scope.errors.iter().cloned());

    let (write, projection_items) = match &statement {
        Statement::Query(query) => (false, first_select(query).map(|s| &s.projection)),
        Statement::Insert(insert) => {
            check_insert(insert, models, &scope, &mut errors, &mut compared);
            (true, insert.returning.as_ref())
        }
        Statement::Update(update) => {
            for assignment in &update.assignments {
                let targets = match &assignment.target {
                    AssignmentTarget::ColumnName(name) => vec![name],
                    AssignmentTarget::Tuple(names) => names.iter().collect(),
                };
                for target in targets {
                    let column = resolve(models, &scope, target_idents(target), &mut errors);
                    if let (Some(column), Some(occurrence)) = (column, marker_of(&assignment.value)) {
                        compared.insert(occurrence, column);
                    }
                }
            }
            (true, update.returning.as_ref())
        }
        Statement::Delete(delete) => (true, delete.returning.as_ref()),
        _ => {
            errors.push(
                "a query is a `SELECT`, `INSERT`, `UPDATE` or `DELETE`; run other statements on a session".to_owned(),
            );
            (true, None)
        }
    };
    let projection = projection_items.map(|items| {
        items.iter().map(|item| project(item, models, &scope, dialect, &scanned.text, &mut errors)).collect()
    });
    if !errors.is_empty() {
        errors.dedup();
        return Err(errors.into_iter().map(|e| unmark(&e, scanned)).collect());
    }
    Ok(Analysis { text: scanned.text.clone(), write, projection, compared, in_lists })
}

/// Error text shows `:name`, not the marker the parser saw.
fn unmark(message: &str, scanned: &Scanned) -> String {
    let mut message = message.to_owned();
    for (occurrence, name) in scanned.occurrences.iter().enumerate().rev() {
        message = message.replace(&text::marker(occurrence), &format!(":{name}"));
    }
    message
}

fn first_select(query: &Query) -> Option<&Select> {
    let mut body = &*query.body;
    loop {
        match body {
            SetExpr::Select(select) => return Some(select),
            SetExpr::SetOperation { left, .. } => body = left,
            SetExpr::Query(query) => body = &query.body,
            _ => return None,
        }
    }
}

fn target_idents(name: &ObjectName) -> Vec<&Ident> {
    name.0.iter().filter_map(ObjectNamePart::as_ident).collect()
}

fn marker_of(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Identifier(ident) => text::occurrence_of(&ident.value),
        Expr::Nested(inner) => marker_of(inner),
        _ => None,
    }
}

/// The model whose table `name` is.
fn model_of(models: &[Schema], name: &Ident) -> Option<usize> {
    models.iter().position(|m| same(name, &m.table))
}

fn table_list(models: &[Schema]) -> String {
    let mut names: Vec<String> = models.iter().map(|m| format!("`{}` (the table of `{}`)", m.table, m.ident)).collect();
    if names.len() > 1 {
        let last = names.pop().expect("more than one");
        format!("{} or {last}", names.join(", "))
    } else {
        names.pop().unwrap_or_default()
    }
}

/// Collects the tables, aliases, CTEs and select aliases; reports tables that are no model's.
struct Relations<'a> {
    models: &'a [Schema],
    scope: &'a mut Scope,
}

impl Relations<'_> {
    fn table(&mut self, name: &ObjectName, alias: Option<&Ident>) {
        let Some(ident) = last_ident(name) else { return };
        if self.scope.other_relations.iter().any(|r| same(ident, r)) {
            return;
        }
        match model_of(self.models, ident) {
            Some(model) => self.scope.tables.push(TableUse { model, name: alias.unwrap_or(ident).clone() }),
            None => {
                // Its alias and name are then known, so references to it report nothing more.
                self.scope.other_relations.push(ident.value.clone());
                if let Some(alias) = alias {
                    self.scope.other_relations.push(alias.value.clone());
                }
                let partner = if self.models.len() == 1 {
                    "declare its model as a join partner with `#[dbkit::queries(join = [Model])]`"
                } else {
                    "declare its model in `join = [...]`"
                };
                self.scope.errors.push(format!(
                    "table `{}` is not {}: a query reads and writes its model's table and its declared join partners'; {partner}",
                    ident.value,
                    table_list(self.models)
                ));
            }
        }
    }
}

impl Visitor for Relations<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.scope.other_relations.push(cte.alias.name.value.clone());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        for item in &select.projection {
            if let SelectItem::ExprWithAlias { alias, .. } = item {
                self.scope.select_aliases.push(alias.value.clone());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        match factor {
            TableFactor::Table { name, alias, args: None, .. } => self.table(name, alias.as_ref().map(|a| &a.name)),
            TableFactor::Table { alias, .. } | TableFactor::Derived { alias, .. } => {
                if let Some(alias) = alias {
                    self.scope.other_relations.push(alias.name.value.clone());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        if let Statement::Insert(insert) = statement
            && let TableObject::TableName(name) = &insert.table
        {
            let alias = insert.table_alias.as_ref().map(|a| &a.alias);
            self.table(name, alias);
        }
        ControlFlow::Continue(())
    }
}

/// Resolves a column reference (`email`, `u.email`) to a model's column, reporting what does not
/// exist. `None` for what is not a model's column but may be fine (a select alias, a CTE's column).
fn resolve(models: &[Schema], scope: &Scope, parts: Vec<&Ident>, errors: &mut Vec<String>) -> Option<ColumnRef> {
    let (column, qualifier) = match parts[..] {
        [column] => (column, None),
        [.., qualifier, column] => (column, Some(qualifier)),
        [] => return None,
    };
    if is_marker(column) {
        return None;
    }
    let quoted = column.quote_style.is_some();
    match qualifier {
        Some(qualifier) => {
            if scope.other_relations.iter().any(|r| same(qualifier, r)) {
                return None;
            }
            let Some(table) =
                scope.tables.iter().find(|t| same(qualifier, &t.name.value) || same(&t.name, &qualifier.value))
            else {
                errors.push(format!(
                    "`{}` is not a table or alias of this query: qualify `{}` with one of {}",
                    qualifier.value,
                    column.value,
                    scope.tables.iter().map(|t| format!("`{}`", t.name.value)).collect::<Vec<_>>().join(", ")
                ));
                return None;
            };
            let model = &models[table.model];
            match model.column(&column.value, quoted) {
                Some(index) => Some((table.model, index)),
                None => {
                    errors.push(unknown_column(&column.value, &[model]));
                    None
                }
            }
        }
        None => {
            for table in &scope.tables {
                if let Some(index) = models[table.model].column(&column.value, quoted) {
                    return Some((table.model, index));
                }
            }
            let alias = scope.select_aliases.iter().any(|a| same(column, a));
            if alias || !scope.other_relations.is_empty() || scope.tables.is_empty() {
                return None;
            }
            let mut seen = BTreeSet::new();
            let tables: Vec<&Schema> =
                scope.tables.iter().filter(|t| seen.insert(t.model)).map(|t| &models[t.model]).collect();
            errors.push(unknown_column(&column.value, &tables));
            None
        }
    }
}

fn unknown_column(column: &str, models: &[&Schema]) -> String {
    let tables = models.iter().map(|m| format!("`{}`", m.table)).collect::<Vec<_>>().join(" or ");
    let known = models.iter().map(|m| m.column_names()).collect::<Vec<_>>().join("; ");
    let suggestion = models
        .iter()
        .flat_map(|m| &m.columns)
        .map(|c| (distance(&c.name.to_ascii_lowercase(), &column.to_ascii_lowercase()), &c.name))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, name)| format!("did you mean `{name}`? "))
        .unwrap_or_default();
    format!("no column `{column}` in {tables}: {suggestion}the columns are {known}")
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            previous = current;
        }
    }
    row[b.len()]
}

/// Checks every column reference, and records which column each parameter meets.
struct Columns<'a> {
    models: &'a [Schema],
    scope: &'a Scope,
    errors: Vec<String>,
    compared: BTreeMap<usize, ColumnRef>,
    in_lists: BTreeSet<usize>,
}

impl Columns<'_> {
    fn column_of(&mut self, expr: &Expr) -> Option<ColumnRef> {
        let mut ignored = Vec::new();
        match expr {
            Expr::Identifier(ident) => resolve(self.models, self.scope, vec![ident], &mut ignored),
            Expr::CompoundIdentifier(parts) => resolve(self.models, self.scope, parts.iter().collect(), &mut ignored),
            Expr::Nested(inner) => self.column_of(inner),
            _ => None,
        }
    }

    fn pair(&mut self, column: &Expr, value: &Expr) {
        if let (Some(column), Some(occurrence)) = (self.column_of(column), marker_of(value)) {
            self.compared.insert(occurrence, column);
        }
    }
}

impl Visitor for Columns<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(ident) => {
                resolve(self.models, self.scope, vec![ident], &mut self.errors);
            }
            Expr::CompoundIdentifier(parts) => {
                resolve(self.models, self.scope, parts.iter().collect(), &mut self.errors);
            }
            Expr::BinaryOp { left, right, .. } => {
                self.pair(left, right);
                self.pair(right, left);
            }
            Expr::InList { expr, list, .. } => {
                for value in list {
                    self.pair(expr, value);
                }
                if let [only] = &list[..]
                    && let Some(occurrence) = marker_of(only)
                {
                    self.in_lists.insert(occurrence);
                }
            }
            Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. } => self.pair(expr, pattern),
            Expr::Between { expr, low, high, .. } => {
                self.pair(expr, low);
                self.pair(expr, high);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn check_insert(
    insert: &sqlparser::ast::Insert,
    models: &[Schema],
    scope: &Scope,
    errors: &mut Vec<String>,
    compared: &mut BTreeMap<usize, ColumnRef>,
) {
    let columns: Vec<Option<ColumnRef>> =
        insert.columns.iter().map(|name| resolve(models, scope, target_idents(name), errors)).collect();
    let Some(source) = &insert.source else { return };
    let SetExpr::Values(values) = &*source.body else { return };
    for row in &values.rows {
        if row.content.len() != columns.len() && !columns.is_empty() {
            errors.push(format!(
                "the `INSERT` names {} columns but a row of `VALUES` has {} values",
                columns.len(),
                row.content.len()
            ));
        }
        for (column, value) in columns.iter().zip(&row.content) {
            if let (Some(column), Some(occurrence)) = (column, marker_of(value)) {
                compared.insert(occurrence, *column);
            }
        }
    }
}

fn project(
    item: &SelectItem,
    models: &[Schema],
    scope: &Scope,
    dialect: QueryDialect,
    text: &str,
    errors: &mut Vec<String>,
) -> Projected {
    let mut ignored = Vec::new();
    let column_of = |expr: &Expr, ignored: &mut Vec<String>| match expr {
        Expr::Identifier(ident) => resolve(models, scope, vec![ident], ignored),
        Expr::CompoundIdentifier(parts) => resolve(models, scope, parts.iter().collect(), ignored),
        _ => None,
    };
    let expression = |expr: &Expr, label: String, ignored: &mut Vec<String>| match column_of(expr, ignored) {
        Some(column) => Projected::Column { column, label },
        None => {
            // Only ClickHouse's `RowBinary` needs the exact type: the SQL drivers decode by name
            // and convert.
            let ty = (dialect == QueryDialect::ClickHouse)
                .then(|| {
                    let column = |e: &Expr| column_of(e, &mut Vec::new()).map(|(m, c)| &models[m].columns[c]);
                    clickhouse::infer(expr, &column)
                })
                .flatten();
            Projected::Expr { label, ty }
        }
    };
    match item {
        SelectItem::UnnamedExpr(expr) => expression(expr, expr.to_string(), &mut ignored),
        SelectItem::ExprWithAlias { expr, alias } => expression(expr, alias.value.clone(), &mut ignored),
        SelectItem::ExprWithAliases { expr, .. } => Projected::Expr { label: expr.to_string(), ty: None },
        SelectItem::Wildcard(options) => {
            let span = options.wildcard_token.0.span;
            let range = range(text, span.start, span.end);
            let mut models_in_scope: Vec<usize> = scope.tables.iter().map(|t| t.model).collect();
            models_in_scope.dedup();
            let model = match models_in_scope[..] {
                [model] if scope.other_relations.is_empty() => Some(model),
                _ => None,
            };
            Projected::Wildcard { model, qualifier: None, range }
        }
        SelectItem::QualifiedWildcard(kind, options) => {
            let SelectItemQualifiedWildcardKind::ObjectName(name) = kind else {
                return Projected::Expr { label: item.to_string(), ty: None };
            };
            let qualifier = name.to_string();
            let first = name.0.first().and_then(ObjectNamePart::as_ident);
            let range = first.and_then(|f| range(text, f.span.start, options.wildcard_token.0.span.end));
            let model = last_ident(name).and_then(|q| {
                scope.tables.iter().find(|t| same(q, &t.name.value) || same(&t.name, &q.value)).map(|t| t.model)
            });
            if model.is_none() && last_ident(name).is_some_and(|q| !scope.other_relations.iter().any(|r| same(q, r))) {
                errors.push(format!("`{qualifier}.*`: `{qualifier}` is not a table or alias of this query"));
            }
            Projected::Wildcard { model, qualifier: Some(qualifier), range }
        }
    }
}

fn range(
    text: &str,
    start: sqlparser::tokenizer::Location,
    end: sqlparser::tokenizer::Location,
) -> Option<(usize, usize)> {
    let start = text::offset(text, start.line, start.column)?;
    let end = text::offset(text, end.line, end.column)?;
    (start <= end).then_some((start, end))
}
