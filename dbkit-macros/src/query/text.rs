//! The text of a query: named parameters (`:since`) found outside literals, quoted identifiers and
//! comments, and replaced by marker identifiers that every dialect's parser reads as a column
//! name; and, once checked, the final SQL split at the markers.

use super::dialect::QueryDialect;
use crate::backend::sql::Dialect;

/// The prefix of a marker: `:since` becomes `__dbkit_p0`, its first occurrence.
const MARKER: &str = "__dbkit_p";

pub(crate) struct Scanned {
    /// The SQL with each parameter occurrence replaced by its marker.
    pub(crate) text: String,
    /// The parameter name of each occurrence, in order.
    pub(crate) occurrences: Vec<String>,
}

pub(crate) fn marker(occurrence: usize) -> String {
    format!("{MARKER}{occurrence}")
}

/// The occurrence a marker identifier stands for.
pub(crate) fn occurrence_of(ident: &str) -> Option<usize> {
    ident.strip_prefix(MARKER)?.parse().ok()
}

/// Replaces `:name` by markers. A positional placeholder (`?`, `$1`) is an error: parameters are
/// named, so that each is bound from the argument of that name.
pub(crate) fn scan(sql: &str, dialect: QueryDialect) -> Result<Scanned, String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut text = String::with_capacity(sql.len() + 16);
    let mut occurrences = Vec::new();
    let mut i = 0;
    let is_ident_start = |c: char| c.is_ascii_alphabetic() || c == '_';
    let is_ident_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\'' | '"' | '`' => {
                // A literal or quoted identifier, to its closing quote (a doubled quote inside is
                // the quote itself; MySQL and ClickHouse also escape with a backslash).
                let start = i;
                i += 1;
                while i < chars.len() {
                    if dialect.backslash_escapes() && c != '`' && chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == c {
                        if chars.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i = (i + 1).min(chars.len());
                text.extend(&chars[start..i]);
            }
            '-' if next == Some('-') => {
                let start = i;
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                text.extend(&chars[start..i]);
            }
            '/' if next == Some('*') => {
                let start = i;
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i = (i + 2).min(chars.len());
                text.extend(&chars[start..i]);
            }
            // `::type`, PostgreSQL's cast, and `:=`, MySQL's assignment.
            ':' if next == Some(':') => {
                text.push_str("::");
                i += 2;
            }
            ':' if next.is_some_and(is_ident_start) && !(i > 0 && is_ident_char(chars[i - 1])) => {
                let start = i + 1;
                i = start;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                text.push(' ');
                text.push_str(&marker(occurrences.len()));
                text.push(' ');
                occurrences.push(name);
            }
            '?' if dialect != QueryDialect::Sql(Dialect::Postgres) => {
                return Err(
                    "a positional `?` placeholder: name each parameter after its argument, like `WHERE email = :email`"
                        .to_owned(),
                );
            }
            '$' if dialect == QueryDialect::Sql(Dialect::Postgres) && next.is_some_and(|n| n.is_ascii_digit()) => {
                return Err(
                    "a positional `$n` placeholder: name each parameter after its argument, like `WHERE email = :email`"
                        .to_owned(),
                );
            }
            _ => {
                text.push(c);
                i += 1;
            }
        }
    }
    Ok(Scanned { text, occurrences })
}

/// A piece of the final SQL: text, or the bind of one parameter occurrence.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    Param(usize),
}

/// Splits checked text at its markers.
pub(crate) fn pieces(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(MARKER) {
        let digits = rest[at + MARKER.len()..].chars().take_while(char::is_ascii_digit).count();
        let occurrence = rest[at + MARKER.len()..at + MARKER.len() + digits].parse().expect("a marker we wrote");
        // The markers were written with a space either side; drop them again.
        let before = rest[..at].strip_suffix(' ').unwrap_or(&rest[..at]);
        pieces.push(Piece::Text(before.to_owned()));
        pieces.push(Piece::Param(occurrence));
        let after = &rest[at + MARKER.len() + digits..];
        rest = after.strip_prefix(' ').unwrap_or(after);
    }
    pieces.push(Piece::Text(rest.to_owned()));
    pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
    pieces
}

/// The byte offset of a 1-based line and (character) column in `text`.
pub(crate) fn offset(text: &str, line: u64, column: u64) -> Option<usize> {
    let mut current = 1;
    let mut line_start = 0;
    if line == 0 || column == 0 {
        return None;
    }
    for (at, c) in text.char_indices() {
        if current == line {
            break;
        }
        if c == '\n' {
            current += 1;
            line_start = at + 1;
        }
    }
    if current != line {
        return None;
    }
    let line_text = &text[line_start..];
    match line_text.char_indices().nth(usize::try_from(column).ok()? - 1) {
        Some((at, _)) => Some(line_start + at),
        None => Some(text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_outside_literals() {
        let s = scan(
            "SELECT ':no', \"a:b\" FROM t WHERE a = :a AND b::text = :b -- :c\n",
            QueryDialect::Sql(Dialect::Postgres),
        )
        .ok()
        .unwrap();
        assert_eq!(s.occurrences, ["a", "b"]);
        assert_eq!(s.text, "SELECT ':no', \"a:b\" FROM t WHERE a =  __dbkit_p0  AND b::text =  __dbkit_p1  -- :c\n");
        assert_eq!(
            pieces(&s.text),
            [
                Piece::Text("SELECT ':no', \"a:b\" FROM t WHERE a = ".into()),
                Piece::Param(0),
                Piece::Text(" AND b::text = ".into()),
                Piece::Param(1),
                Piece::Text(" -- :c\n".into())
            ]
        );
    }

    #[test]
    fn positional_placeholders_are_refused() {
        assert!(scan("SELECT 1 WHERE a = ?", QueryDialect::Sql(Dialect::Sqlite)).is_err());
        assert!(scan("SELECT 1 WHERE a = '?'", QueryDialect::Sql(Dialect::MySql)).is_ok());
        assert!(scan("SELECT 1 WHERE a = $1", QueryDialect::Sql(Dialect::Postgres)).is_err());
    }

    #[test]
    fn offsets() {
        assert_eq!(offset("ab\ncd", 2, 2), Some(4));
        assert_eq!(offset("ab\ncd", 1, 1), Some(0));
    }
}
