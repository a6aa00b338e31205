//! What a query on a ClickHouse model needs beyond the SQL checks: the type of each selected
//! expression, the Rust type that holds it, and the code that binds the values and decodes the
//! rows.
//!
//! Rows arrive as `RowBinary`, which carries no names and no types: each value is read by the
//! width of the Rust type it is decoded into, so an `i32` read from `count()`'s `UInt64` does not
//! fail, it reads the wrong bytes. Hence the exact check here — the width, the signedness and
//! `Nullable` — for the columns of the models and for ClickHouse's common functions and
//! aggregates (`count()` is `UInt64`, `toDate(…)` is `Date`, …); an expression dbkit does not know
//! the type of is not checked.
//!
//! Values are bound two ways, decided at run time by the server's version
//! (`Database::clickhouse_query_parameters`): as server-side parameters (`{p0:Int64}`, sent apart
//! from the statement) on 19.11 and later, and with the `clickhouse` crate's client-side escaping
//! (`?`, a quoted literal) on 18.16, which has no parameters. Both texts are fixed at compile time.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use sqlparser::ast::{
    BinaryOperator, CastKind, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};
use syn::ext::IdentExt;

use super::schema::{Column, Projected, Schema, Typed, list_element};
use super::signature::Arg;
use super::signature::{Row, Shape};
use super::text::{self, Piece};
use crate::backend::clickhouse::codec;
use crate::model::ast::{classify, option_inner, type_name};
use crate::model::{Ctxt, Int, SqlType};

/// Why a statement other than a `SELECT` is refused.
pub(super) const ONLY_SELECT: &str = "a query on a ClickHouse model is a `SELECT`: ClickHouse models are append-only, so insert rows with `create_many`, and run mutations (`ALTER TABLE … UPDATE/DELETE`) through `Database::clickhouse()`";

impl Typed {
    fn new(sql_type: SqlType) -> Typed {
        Typed { sql_type, nullable: false }
    }

    fn of(column: &Column) -> Typed {
        Typed { sql_type: column.sql_type, nullable: column.nullable }
    }

    /// ClickHouse's name for it, `Nullable(…)` included.
    fn name(self) -> String {
        let name = match self.sql_type {
            SqlType::Int(int) => int_name(int),
            SqlType::F32 => "Float32",
            SqlType::F64 => "Float64",
            SqlType::Bool => "UInt8",
            SqlType::String | SqlType::Bytes | SqlType::Json => "String",
            SqlType::DateTimeUtc => "DateTime",
            SqlType::NaiveDate => "Date",
            SqlType::Uuid => "UUID",
            SqlType::NaiveDateTime | SqlType::NaiveTime | SqlType::Other => "?",
        };
        if self.nullable { format!("Nullable({name})") } else { name.to_owned() }
    }

    /// The Rust type that decodes it, `Option<…>` included.
    fn rust(self) -> String {
        let rust = match self.sql_type {
            SqlType::Int(int) => rust_int(int),
            SqlType::F32 => "f32",
            SqlType::F64 => "f64",
            SqlType::Bool => "bool",
            SqlType::String => "String",
            SqlType::Bytes => "Vec<u8>",
            SqlType::Json => "serde_json::Value",
            SqlType::DateTimeUtc => "chrono::DateTime<chrono::Utc>",
            SqlType::NaiveDate => "chrono::NaiveDate",
            SqlType::Uuid => "uuid::Uuid",
            SqlType::NaiveDateTime | SqlType::NaiveTime | SqlType::Other => "?",
        };
        if self.nullable { format!("Option<{rust}>") } else { rust.to_owned() }
    }
}

fn int_name(int: Int) -> &'static str {
    match int {
        Int::I8 => "Int8",
        Int::I16 => "Int16",
        Int::I32 => "Int32",
        Int::I64 => "Int64",
        Int::U8 => "UInt8",
        Int::U16 => "UInt16",
        Int::U32 => "UInt32",
        Int::U64 => "UInt64",
    }
}

fn rust_int(int: Int) -> &'static str {
    match int {
        Int::I8 => "i8",
        Int::I16 => "i16",
        Int::I32 => "i32",
        Int::I64 => "i64",
        Int::U8 => "u8",
        Int::U16 => "u16",
        Int::U32 => "u32",
        Int::U64 => "u64",
    }
}

/// A ClickHouse type name (`UInt64`, `Nullable(Date)`), for `CAST(x AS T)` and `toT(x)`.
fn named(name: &str) -> Option<Typed> {
    if let Some(inner) = name.strip_prefix("Nullable(").and_then(|n| n.strip_suffix(')')) {
        return named(inner).map(|t| Typed { nullable: true, ..t });
    }
    let sql_type = match name.to_ascii_lowercase().as_str() {
        "int8" => SqlType::Int(Int::I8),
        "int16" => SqlType::Int(Int::I16),
        "int32" => SqlType::Int(Int::I32),
        "int64" => SqlType::Int(Int::I64),
        "uint8" => SqlType::Int(Int::U8),
        "uint16" => SqlType::Int(Int::U16),
        "uint32" => SqlType::Int(Int::U32),
        "uint64" => SqlType::Int(Int::U64),
        "float32" => SqlType::F32,
        "float64" => SqlType::F64,
        "string" => SqlType::String,
        "date" => SqlType::NaiveDate,
        "datetime" => SqlType::DateTimeUtc,
        "uuid" => SqlType::Uuid,
        _ => return None,
    };
    Some(Typed::new(sql_type))
}

/// The type of `expr` where dbkit knows it: a model's column (through `column`), a literal, a
/// cast, a comparison, or one of ClickHouse's common functions and aggregates. `None` for
/// anything else.
pub(crate) fn infer<'m>(expr: &Expr, column: &dyn Fn(&Expr) -> Option<&'m Column>) -> Option<Typed> {
    if let Some(column) = column(expr) {
        return Some(Typed::of(column));
    }
    match expr {
        Expr::Nested(inner) => infer(inner, column),
        Expr::Value(value) => literal(&value.value, false),
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => match &**expr {
            Expr::Value(value) => literal(&value.value, true),
            _ => None,
        },
        Expr::Cast { kind: CastKind::Cast | CastKind::DoubleColon, data_type, .. } => named(&data_type.to_string()),
        // Comparisons and logic are `UInt8` in ClickHouse.
        Expr::BinaryOp {
            op:
                BinaryOperator::Eq
                | BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq
                | BinaryOperator::And
                | BinaryOperator::Or,
            ..
        } => Some(Typed::new(SqlType::Int(Int::U8))),
        Expr::Function(function) => {
            let name = function.name.to_string();
            let args = arguments(&function.args);
            let typed: Vec<Option<Typed>> = args.iter().map(|a| infer(a, column)).collect();
            function_type(&name, &typed)
        }
        _ => None,
    }
}

/// The expressions among a function's arguments (`count(*)` has none).
fn arguments(args: &FunctionArguments) -> Vec<&Expr> {
    let FunctionArguments::List(list) = args else { return Vec::new() };
    list.args
        .iter()
        .filter_map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr),
            _ => None,
        })
        .collect()
}

/// A literal: an integer is the smallest `UInt`/`Int` that holds it, as in ClickHouse (`1` is
/// `UInt8`, `-1` is `Int8`); a decimal number is `Float64`.
fn literal(value: &Value, negative: bool) -> Option<Typed> {
    let sql_type = match value {
        Value::SingleQuotedString(_) => SqlType::String,
        Value::Number(number, _) if number.contains(['.', 'e', 'E']) => SqlType::F64,
        Value::Number(number, _) => {
            let n: u128 = number.parse().ok()?;
            // The largest value of each type, smallest type first.
            let types = if negative {
                [(0x80, Int::I8), (0x8000, Int::I16), (0x8000_0000, Int::I32), (0x8000_0000_0000_0000, Int::I64)]
            } else {
                [(0xff, Int::U8), (0xffff, Int::U16), (0xffff_ffff, Int::U32), (0xffff_ffff_ffff_ffff, Int::U64)]
            };
            let (_, int) = types.into_iter().find(|&(max, _)| n <= max)?;
            SqlType::Int(int)
        }
        _ => return None,
    };
    Some(Typed::new(sql_type))
}

/// The result type of a ClickHouse function or aggregate from its arguments' types; the names
/// are matched ignoring case.
fn function_type(name: &str, args: &[Option<Typed>]) -> Option<Typed> {
    let first = args.first().copied().flatten();
    // A function of a `Nullable` argument is `Nullable`; an aggregate of one too, except the counts.
    let nullable = args.iter().flatten().any(|t| t.nullable);
    let with = |sql_type: SqlType| Some(Typed { sql_type, nullable });
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "count" | "countif" | "uniq" | "uniqexact" | "uniqcombined" | "uniqcombined64" | "uniqhll12" => {
            Some(Typed::new(SqlType::Int(Int::U64)))
        }
        // Signed integers sum to `Int64`, unsigned ones (and `bool`'s `UInt8`) to `UInt64`, floats
        // to `Float64`.
        "sum" | "sumif" => match first?.sql_type {
            SqlType::Int(int) if int.is_unsigned() => with(SqlType::Int(Int::U64)),
            SqlType::Int(_) => with(SqlType::Int(Int::I64)),
            SqlType::Bool => with(SqlType::Int(Int::U64)),
            SqlType::F32 | SqlType::F64 => with(SqlType::F64),
            _ => None,
        },
        "avg" | "avgif" => with(SqlType::F64),
        "min" | "max" | "any" | "anylast" | "minif" | "maxif" | "anyif" | "argmin" | "argmax" => first,
        // Interpolating quantiles are `Float64` for numbers and keep a date's or time's type.
        "quantile" | "median" | "quantiletdigest" | "mediantdigest" => match first?.sql_type {
            SqlType::NaiveDate | SqlType::DateTimeUtc => first,
            SqlType::Int(_) | SqlType::F32 | SqlType::F64 => with(SqlType::F64),
            _ => None,
        },
        "todate" | "tostartofmonth" | "tostartofquarter" | "tostartofyear" | "tomonday" | "tostartofweek" | "today"
        | "yesterday" => with(SqlType::NaiveDate),
        "todatetime"
        | "tostartofhour"
        | "tostartofday"
        | "tostartofminute"
        | "tostartoffiveminute"
        | "tostartoffiveminutes"
        | "tostartoftenminutes"
        | "tostartoffifteenminutes"
        | "now" => with(SqlType::DateTimeUtc),
        "toyyyymm" | "toyyyymmdd" => with(SqlType::Int(Int::U32)),
        "toyear" => with(SqlType::Int(Int::U16)),
        "tomonth" | "todayofmonth" | "todayofweek" | "tohour" | "tominute" | "tosecond" => with(SqlType::Int(Int::U8)),
        "length" => with(SqlType::Int(Int::U64)),
        "tostring" | "lower" | "upper" | "concat" | "substring" | "trim" | "replaceall" => with(SqlType::String),
        _ => {
            let target = lower.strip_prefix("to").and_then(named)?;
            // `toInt64`, `toFloat64`, `toUInt8`, … (`toDate`/`toDateTime`/`toString` above).
            with(target.sql_type)
        }
    }
}

/// Whether the result type `ty` decodes `item` exactly; the message says what to write if not.
/// `None` also where dbkit does not know the expression's type.
pub(super) fn check_result(item: &Projected, ty: &syn::Type, models: &[Schema]) -> Option<String> {
    let (expected, what) = match item {
        Projected::Column { column: (m, c), label } => {
            let column = &models[*m].columns[*c];
            let field = format!("`{}::{}` is `{}`", models[*m].ident, column.field, type_name(&column.ty));
            (Typed::of(column), format!("`{label}` is ClickHouse `{}` ({field})", Typed::of(column).name()))
        }
        Projected::Expr { label, ty: Some(typed) } => (*typed, format!("`{label}` is ClickHouse `{}`", typed.name())),
        _ => return None,
    };
    let (inner, optional) = match option_inner(ty) {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    let actual = classify(inner);
    if expected.sql_type == SqlType::Other || actual == SqlType::Other {
        return None;
    }
    let write = match item {
        Projected::Column { column: (m, c), .. } => type_name(&models[*m].columns[*c].ty),
        _ => expected.rust(),
    };
    if actual != expected.sql_type {
        Some(format!(
            "{what}, which a `{}` cannot hold: `RowBinary` rows are decoded by each value's exact width, so write `{write}`",
            type_name(ty)
        ))
    } else if expected.nullable && !optional {
        Some(format!("{what}, which can be NULL: write `{write}`"))
    } else if !expected.nullable && optional {
        Some(format!("{what}, which is never NULL and has no NULL marker in `RowBinary`: write `{write}`"))
    } else {
        None
    }
}

/// How one parameter occurrence is bound.
pub(super) struct Binding {
    arg: syn::Ident,
    /// Sent through `clickhouse_row::Param` (dates, instants, UUIDs, bytes, booleans, JSON).
    converted: bool,
    /// The function that turns the bound form into the column's type (`toDateTime`).
    wrap: Option<&'static str>,
    /// The server-side parameter's type (`Nullable(Int64)`).
    param_type: String,
}

/// The binding of each parameter occurrence, or `None` with an error for each argument of a type
/// dbkit cannot bind on ClickHouse.
pub(super) fn bindings(cx: &Ctxt, args: &[Arg], occurrences: &[String]) -> Option<Vec<Binding>> {
    let mut bindings = Vec::new();
    let mut refused: Vec<&syn::Ident> = Vec::new();
    for name in occurrences {
        let arg = args.iter().find(|a| a.ident.unraw() == name).expect("checked: every parameter has an argument");
        match binding(&arg.ty) {
            Some((converted, wrap, param_type)) => {
                bindings.push(Binding { arg: arg.ident.clone(), converted, wrap, param_type })
            }
            None if refused.contains(&&arg.ident) => {}
            None => {
                {
                    let list = if list_element(&arg.ty).is_some() {
                        "; a list is not bound on ClickHouse: write one query per value, or filter in Rust"
                    } else {
                        ""
                    };
                    cx.syn_error(syn::Error::new_spanned(
                        &arg.ty,
                        format!(
                            "dbkit cannot bind a `{}` on ClickHouse: pass an integer, a float, `&str`/`String`, `&[u8]`/`Vec<u8>`, `bool`, `chrono::NaiveDate`, `chrono::DateTime<chrono::Utc>`, `uuid::Uuid`, `serde_json::Value`, or an `Option` of one{list}",
                            type_name(&arg.ty)
                        ),
                    ));
                }
                refused.push(&arg.ident);
            }
        }
    }
    refused.is_empty().then_some(bindings)
}

/// `(converted, wrap, server-side type)` of an argument type.
fn binding(ty: &syn::Type) -> Option<(bool, Option<&'static str>, String)> {
    let (sql_type, nullable) = bound_type(ty)?;
    let (converted, wrap, name) = match sql_type {
        SqlType::Int(int) => (false, None, int_name(int)),
        SqlType::F32 => (false, None, "Float32"),
        SqlType::F64 => (false, None, "Float64"),
        SqlType::String => (false, None, "String"),
        SqlType::Bool => (true, None, "UInt8"),
        SqlType::Json => (true, None, "String"),
        // Hexadecimal text: 18.16 has no `X'…'` literal, and the bytes need not be UTF-8.
        SqlType::Bytes => (true, Some("unhex"), "String"),
        // The seconds since 1970: an instant, whatever the server's time zone.
        SqlType::DateTimeUtc => (true, Some("toDateTime"), "Int64"),
        SqlType::NaiveDate => (true, Some("toDate"), "String"),
        SqlType::Uuid => (true, Some("toUUID"), "String"),
        SqlType::NaiveDateTime | SqlType::NaiveTime | SqlType::Other => return None,
    };
    let param_type = if nullable { format!("Nullable({name})") } else { name.to_owned() };
    Some((converted, wrap, param_type))
}

/// The value type of an argument, seen through `&`: `&str` is text, `&[u8]` bytes.
fn bound_type(ty: &syn::Type) -> Option<(SqlType, bool)> {
    match ty {
        syn::Type::Reference(r) => bound_type(&r.elem),
        syn::Type::Paren(p) => bound_type(&p.elem),
        syn::Type::Group(g) => bound_type(&g.elem),
        syn::Type::Slice(s) if matches!(&*s.elem, syn::Type::Path(p) if p.path.is_ident("u8")) => {
            Some((SqlType::Bytes, false))
        }
        syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => Some((SqlType::String, false)),
        _ => match option_inner(ty) {
            Some(inner) => {
                let (sql_type, nullable) = bound_type(inner)?;
                (!nullable).then_some((sql_type, true))
            }
            None => Some((classify(ty), false)).filter(|(t, _)| *t != SqlType::Other),
        },
    }
}

/// One attempt of a checked query on ClickHouse: the statement with its values bound the way the
/// server takes them, and the rows decoded into the result shape; evaluates to
/// `Result<output, Failure>`.
pub(super) fn attempt(
    text: &str,
    bindings: &[Binding],
    shape: &Shape,
    layout: Option<&[usize]>,
    model: &Schema,
) -> TokenStream {
    let p = &model.private;
    let private = p.to_string().replace(' ', "");
    // The crate reads `?` as a placeholder in both texts; a literal one is `??`.
    let mut client = String::new();
    let mut server = String::new();
    for piece in text::pieces(text) {
        match piece {
            Piece::Text(t) => {
                let t = t.replace('?', "??");
                client.push_str(&t);
                server.push_str(&t);
            }
            Piece::Param(occurrence) => {
                let binding = &bindings[occurrence];
                let parameter = format!("{{p{occurrence}:{}}}", binding.param_type);
                match binding.wrap {
                    Some(wrap) => {
                        client.push_str(&format!("{wrap}(?)"));
                        server.push_str(&format!("{wrap}({parameter})"));
                    }
                    None => {
                        client.push('?');
                        server.push_str(&parameter);
                    }
                }
            }
        }
    }
    let values: Vec<TokenStream> = bindings
        .iter()
        .map(|b| {
            let arg = &b.arg;
            if b.converted { quote!(#p::clickhouse_row::Param::param(&#arg)) } else { quote!(&#arg) }
        })
        .collect();
    let names: Vec<String> = (0..bindings.len()).map(|i| format!("p{i}")).collect();

    // The row struct, its fields in the order of the select list.
    let field = |ident: &syn::Ident, ty: &syn::Type, sql_type: SqlType, nullable: bool| {
        let attr = match codec(sql_type, nullable) {
            Some(module) => {
                let with = format!("{private}::clickhouse_row::{module}");
                quote!(#[serde(with = #with)])
            }
            None => TokenStream::new(),
        };
        quote!(#attr #ident: #ty,)
    };
    let row = shape.row().expect("a ClickHouse query is a `SELECT`");
    let (fields, convert) = match row {
        Row::Model => {
            let layout = layout.expect("a model row has a layout");
            let mut columns: Vec<(usize, &Column)> = layout.iter().copied().zip(&model.columns).collect();
            columns.sort_by_key(|(position, _)| *position);
            let fields: Vec<TokenStream> =
                columns.iter().map(|(_, c)| field(&c.field, &c.ty, c.sql_type, c.nullable)).collect();
            let idents = model.columns.iter().map(|c| &c.field);
            let model_ident = &model.ident;
            (fields, quote!(#model_ident { #(#idents: __row.#idents,)* }))
        }
        Row::Tuple(types) => {
            let idents: Vec<syn::Ident> = (0..types.len()).map(|i| format_ident!("__c{}", i)).collect();
            let fields = idents.iter().zip(types).map(|(i, ty)| typed_field(&field, i, ty)).collect();
            (fields, quote!((#(__row.#idents,)*)))
        }
        Row::Scalar(ty) => {
            let ident = format_ident!("__c0");
            (vec![typed_field(&field, &ident, ty)], quote!(__row.__c0))
        }
    };
    let failure = quote!(#p::Failure::sent);
    let fetch = match shape {
        Shape::Many(_) => quote! {
            let __rows = __query.fetch_all::<__QueryRow>().await.map_err(#failure)?;
            ::core::result::Result::Ok(::core::iter::Iterator::collect(::core::iter::Iterator::map(
                ::core::iter::IntoIterator::into_iter(__rows),
                |__row| #convert,
            )))
        },
        Shape::Optional(_) => quote! {
            let __row = __query.fetch_optional::<__QueryRow>().await.map_err(#failure)?;
            ::core::result::Result::Ok(::core::option::Option::map(__row, |__row| #convert))
        },
        Shape::One(_) => quote! {
            let __row = __query.fetch_one::<__QueryRow>().await.map_err(#failure)?;
            ::core::result::Result::Ok(#convert)
        },
        Shape::Affected => unreachable!("a ClickHouse query is a `SELECT`"),
    };
    let clickhouse_crate = format!("{private}::clickhouse");
    let serde_crate = format!("{private}::serde");
    quote! {
        #[derive(#p::clickhouse::Row, #p::serde::Deserialize)]
        #[clickhouse(crate = #clickhouse_crate)]
        #[serde(crate = #serde_crate)]
        struct __QueryRow {
            #(#fields)*
        }
        __call.text(#server);
        let __client = __call.clickhouse()?;
        // Server-side parameters where the server has them; the crate's escaping on 18.16.
        let __query = if __call.database().clickhouse_query_parameters() {
            __client.query(#server) #(.param(#names, #values))*
        } else {
            __client.query(#client) #(.bind(#values))*
        };
        #fetch
    }
}

/// A field of a tuple or scalar row, decoded as its Rust type says.
fn typed_field(
    field: &dyn Fn(&syn::Ident, &syn::Type, SqlType, bool) -> TokenStream,
    ident: &syn::Ident,
    ty: &syn::Type,
) -> TokenStream {
    let (inner, nullable) = match option_inner(ty) {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    field(ident, ty, classify(inner), nullable)
}

#[cfg(test)]
mod tests {
    use sqlparser::dialect::ClickHouseDialect;
    use sqlparser::parser::Parser;

    use super::*;

    fn type_of(sql: &str) -> Option<String> {
        let expr = Parser::new(&ClickHouseDialect {}).try_with_sql(sql).unwrap().parse_expr().unwrap();
        infer(&expr, &|_| None).map(|t| t.name())
    }

    #[test]
    fn common_functions_and_aggregates() {
        let cases = [
            ("count()", "UInt64"),
            ("count(*)", "UInt64"),
            ("uniq(1)", "UInt64"),
            ("toDate(now())", "Date"),
            ("toStartOfHour(now())", "DateTime"),
            ("sum(toInt32(1))", "Int64"),
            ("sum(toUInt8(1))", "UInt64"),
            ("sum(1.5)", "Float64"),
            ("avg(1)", "Float64"),
            ("quantile(0.5)(toUInt32(1))", "Float64"),
            ("max(toInt16(1))", "Int16"),
            ("CAST(1 AS Nullable(Int64))", "Nullable(Int64)"),
            ("1", "UInt8"),
            ("-300", "Int16"),
            ("'a'", "String"),
            ("1 = 1", "UInt8"),
            ("toYYYYMM(now())", "UInt32"),
        ];
        for (sql, expected) in cases {
            assert_eq!(type_of(sql).as_deref(), Some(expected), "{sql}");
        }
        assert_eq!(type_of("someFunction(1)"), None);
        assert_eq!(type_of("1 + 1"), None);
    }

    #[test]
    fn argument_bindings() {
        let of = |ty: syn::Type| binding(&ty);
        assert_eq!(of(syn::parse_quote!(&str)), Some((false, None, "String".to_owned())));
        assert_eq!(of(syn::parse_quote!(i64)), Some((false, None, "Int64".to_owned())));
        assert_eq!(
            of(syn::parse_quote!(Option<chrono::DateTime<chrono::Utc>>)),
            Some((true, Some("toDateTime"), "Nullable(Int64)".to_owned()))
        );
        assert_eq!(of(syn::parse_quote!(&[u8])), Some((true, Some("unhex"), "String".to_owned())));
        assert_eq!(of(syn::parse_quote!(Vec<i64>)), None);
        assert_eq!(of(syn::parse_quote!(Option<Option<i64>>)), None);
    }
}
