//! What a dialect's parser accepts and its server cannot run. sqlparser's dialects are lenient —
//! each reads most of the others' syntax — so a query of a model that lists several backends is
//! also checked here, in each dialect, for the constructs dbkit knows one of them lacks.

use std::ops::ControlFlow;

use sqlparser::ast::{CastKind, Expr, OnInsert, Statement, Visit, Visitor};

use crate::backend::sql::Dialect;

/// Why `statement` cannot run on `dialect`'s server, one message per construct, each naming the
/// dialect and what to write instead.
pub(super) fn check(statement: &Statement, dialect: Dialect) -> Vec<String> {
    let mut problems = Vec::new();
    let mut lacks = |what: &str, instead: &str| {
        let message = format!("{} has no {what}{instead}", dialect.product());
        if !problems.contains(&message) {
            problems.push(message);
        }
    };
    match statement {
        Statement::Insert(insert) => {
            match (&insert.on, dialect) {
                (Some(OnInsert::OnConflict(_)), Dialect::MySql) => {
                    lacks("`ON CONFLICT`", ": write `ON DUPLICATE KEY UPDATE`, or `INSERT IGNORE`")
                }
                (Some(OnInsert::DuplicateKeyUpdate(_)), Dialect::Sqlite | Dialect::Postgres) => {
                    lacks("`ON DUPLICATE KEY UPDATE`", ": write `ON CONFLICT (…) DO UPDATE SET …`")
                }
                _ => {}
            }
            if insert.or.is_some() && dialect != Dialect::Sqlite {
                lacks(
                    "`INSERT OR …`",
                    "; `INSERT OR IGNORE` is SQLite's: write `ON CONFLICT DO NOTHING` (PostgreSQL) or `INSERT IGNORE` (MySQL)",
                );
            }
            if insert.ignore && dialect != Dialect::MySql {
                lacks("`INSERT IGNORE`", "; it is MySQL's: write `ON CONFLICT DO NOTHING`");
            }
            if insert.replace_into && dialect == Dialect::Postgres {
                lacks("`REPLACE INTO`", ": write `INSERT … ON CONFLICT (…) DO UPDATE SET …`");
            }
        }
        Statement::Update(update) if update.returning.is_some() && dialect == Dialect::MySql => {
            lacks("`UPDATE … RETURNING` (neither MySQL nor MariaDB)", ": update, then select the rows")
        }
        _ => {}
    }
    let mut expressions = Expressions { dialect, problems: Vec::new() };
    let _ = statement.visit(&mut expressions);
    for message in expressions.problems {
        if !problems.contains(&message) {
            problems.push(message);
        }
    }
    problems
}

struct Expressions {
    dialect: Dialect,
    problems: Vec<String>,
}

impl Visitor for Expressions {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        let product = self.dialect.product();
        let problem = match (expr, self.dialect) {
            (Expr::ILike { .. }, Dialect::Sqlite | Dialect::MySql) => {
                Some(format!("{product} has no `ILIKE`: write `LOWER(column) LIKE LOWER(:pattern)`"))
            }
            (Expr::SimilarTo { .. }, Dialect::Sqlite | Dialect::MySql) => {
                Some(format!("{product} has no `SIMILAR TO`: write `LIKE`"))
            }
            (Expr::RLike { .. }, Dialect::Postgres) => {
                Some(format!("{product} has no `REGEXP`/`RLIKE`: its regular-expression match is `~`"))
            }
            (Expr::RLike { .. }, Dialect::Sqlite) => Some(format!(
                "{product} has no built-in `REGEXP`: it needs a `regexp()` function the application registers"
            )),
            (Expr::Cast { kind: CastKind::DoubleColon, .. }, Dialect::Sqlite | Dialect::MySql) => {
                Some(format!("{product} has no `::` cast: write `CAST(value AS type)`"))
            }
            _ => None,
        };
        if let Some(problem) = problem
            && !self.problems.contains(&problem)
        {
            self.problems.push(problem);
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::dialect::GenericDialect;
    use sqlparser::parser::Parser;

    use super::*;

    fn problems(sql: &str, dialect: Dialect) -> Vec<String> {
        let statement = Parser::parse_sql(&GenericDialect {}, sql).unwrap().remove(0);
        check(&statement, dialect)
    }

    #[test]
    fn each_construct_is_refused_where_it_does_not_run_and_only_there() {
        let cases: [(&str, &[Dialect]); 9] = [
            ("SELECT a FROM t WHERE a ILIKE 'x'", &[Dialect::Sqlite, Dialect::MySql]),
            ("SELECT a FROM t WHERE a SIMILAR TO 'x'", &[Dialect::Sqlite, Dialect::MySql]),
            ("SELECT a FROM t WHERE a REGEXP 'x'", &[Dialect::Sqlite, Dialect::Postgres]),
            ("SELECT a::text FROM t", &[Dialect::Sqlite, Dialect::MySql]),
            ("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO NOTHING", &[Dialect::MySql]),
            ("INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2", &[Dialect::Sqlite, Dialect::Postgres]),
            ("INSERT OR IGNORE INTO t (a) VALUES (1)", &[Dialect::Postgres, Dialect::MySql]),
            ("UPDATE t SET a = 1 RETURNING a", &[Dialect::MySql]),
            // The control: portable SQL is refused nowhere.
            ("SELECT a FROM t WHERE LOWER(a) LIKE 'x' AND CAST(a AS TEXT) = 'y' LIMIT 5 OFFSET 2", &[]),
        ];
        for (sql, refused) in cases {
            for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
                let found = problems(sql, dialect);
                assert_eq!(!found.is_empty(), refused.contains(&dialect), "{sql} on {dialect:?}: {found:?}");
                assert!(found.iter().all(|m| m.starts_with(dialect.product())), "{found:?}");
            }
        }
    }
}
