//! The durations of dbkit's configuration: `30s`, `5m`, `500ms`, `2.5`.

use std::fmt;
use std::time::Duration;

/// Parses a duration as dbkit's environment variables (`DB_POOL_TIMEOUT=30s`,
/// `REDIS_DEFAULT_TTL=5m`, …) write it: a number of seconds (`30`, `2.5`), or a number with a unit,
/// `ms`, `s`, `m` or `h` (`500ms`, `30s`, `5m`, `1.5h`; a space before the unit is allowed). The
/// number is read as a decimal, not a float, so `0.1` is exactly 100 ms; it has at most 9 decimal
/// places, no sign and no exponent. A duration must be greater than zero: where dbkit accepts
/// "never" or "no limit", it is spelled `-1` and handled before this parser.
///
/// ```
/// use std::time::Duration;
/// use dbkit_runtime::config::parse_duration;
///
/// assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
/// assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
/// assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
/// assert_eq!(parse_duration("500 ms"), Ok(Duration::from_millis(500)));
///
/// let err = parse_duration("5d").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid duration \"5d\": unknown unit `d`; expected seconds (`30`, `2.5`) or a number with \
///      a unit `ms`, `s`, `m` or `h` (`500ms`, `30s`, `5m`, `1h`)"
/// );
/// assert!(parse_duration("0s").unwrap_err().to_string().contains("must be greater than zero"));
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, ParseDurationError> {
    const NANOS_PER_SECOND: u128 = 1_000_000_000;
    let fail = |reason| Err(ParseDurationError { text: text.to_owned(), reason });
    if text.is_empty() {
        return fail(Reason::Empty);
    }
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return fail(Reason::NotANumber);
    }
    let nanos_per_unit = match unit.trim_start() {
        "" | "s" => NANOS_PER_SECOND,
        "ms" => NANOS_PER_SECOND / 1000,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3600 * NANOS_PER_SECOND,
        other => return fail(Reason::UnknownUnit(other.to_owned())),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return fail(Reason::NotANumber);
    }
    if fraction.len() > 9 {
        return fail(Reason::TooPrecise);
    }
    // Only digits are left, so a failed parse is an overflow.
    let Ok(whole) = (if whole.is_empty() { Ok(0) } else { whole.parse::<u128>() }) else {
        return fail(Reason::TooLarge);
    };
    let fraction_nanos = match fraction {
        "" => 0,
        digits => digits.parse::<u128>().unwrap_or(0) * nanos_per_unit / 10u128.pow(digits.len() as u32),
    };
    let Some(nanos) = whole.checked_mul(nanos_per_unit).and_then(|n| n.checked_add(fraction_nanos)) else {
        return fail(Reason::TooLarge);
    };
    if nanos == 0 {
        return fail(Reason::Zero);
    }
    let Ok(seconds) = u64::try_from(nanos / NANOS_PER_SECOND) else { return fail(Reason::TooLarge) };
    Ok(Duration::new(seconds, (nanos % NANOS_PER_SECOND) as u32))
}

/// Why a text is not a duration, from [`parse_duration`]; its message quotes the text, says what is
/// wrong and shows the forms expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDurationError {
    text: String,
    reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    Empty,
    NotANumber,
    UnknownUnit(String),
    Zero,
    TooPrecise,
    TooLarge,
}

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 64;
        if self.text.chars().count() <= MAX {
            write!(f, "invalid duration {:?}: ", self.text)?;
        } else {
            write!(f, "invalid duration {:?}…: ", self.text.chars().take(MAX).collect::<String>())?;
        }
        match &self.reason {
            Reason::Empty => f.write_str("it is empty")?,
            Reason::NotANumber => f.write_str("not a number")?,
            Reason::UnknownUnit(unit) => write!(f, "unknown unit `{unit}`")?,
            Reason::Zero => f.write_str("it must be greater than zero")?,
            Reason::TooPrecise => f.write_str("more than 9 decimal places")?,
            Reason::TooLarge => f.write_str("too large")?,
        }
        f.write_str("; expected seconds (`30`, `2.5`) or a number with a unit `ms`, `s`, `m` or `h` (`500ms`, `30s`, `5m`, `1h`)")
    }
}

impl std::error::Error for ParseDurationError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mistake_is_named() {
        for (text, reason) in [
            ("", "it is empty"),
            ("abc", "not a number"),
            ("-5s", "not a number"),
            (".", "not a number"),
            ("1.2.3", "not a number"),
            ("5d", "unknown unit `d`"),
            ("1e3", "unknown unit `e3`"),
            ("5 m s", "unknown unit `m s`"),
            ("0", "it must be greater than zero"),
            ("0.0ms", "it must be greater than zero"),
            ("1.0000000001", "more than 9 decimal places"),
            ("99999999999999999999999999999999999999h", "too large"),
            ("999999999999999999999999999999999999999999", "too large"),
        ] {
            let err = parse_duration(text).unwrap_err().to_string();
            assert!(err.starts_with(&format!("invalid duration {text:?}: {reason}; expected seconds")), "{err}");
        }
    }

    #[test]
    fn a_long_text_is_cut_in_the_message() {
        let text = "x".repeat(200);
        let err = parse_duration(&text).unwrap_err().to_string();
        assert!(err.starts_with(&format!("invalid duration {:?}…: not a number", "x".repeat(64))), "{err}");
    }
}
