//! Paired timing for the benches: two sides doing the same work, timed back to back in each
//! round with the order alternating, so a shared machine's drift hits both alike; the figure is
//! the median of the per-round ratios, with its interquartile range.

use std::time::Duration;

/// The times of a paired run, side `a` against side `b`.
#[derive(Debug, Default)]
pub struct Paired {
    a: Vec<Duration>,
    b: Vec<Duration>,
    ratios: Vec<f64>,
}

impl Paired {
    /// Records one round.
    pub fn record(&mut self, a: Duration, b: Duration) {
        self.a.push(a);
        self.b.push(b);
        self.ratios.push(a.as_secs_f64() / b.as_secs_f64());
    }

    /// One line: each side's median time, and the median ratio a/b with its quartiles.
    pub fn report(mut self, label: &str, a: &str, b: &str) -> String {
        self.a.sort();
        self.b.sort();
        self.ratios.sort_by(f64::total_cmp);
        let n = self.ratios.len();
        format!(
            "{label:<28} {a} {:>7.2} µs, {b} {:>7.2} µs (medians of {n}); median ratio {:.3} (IQR {:.3}–{:.3})",
            self.a[n / 2].as_secs_f64() * 1e6,
            self.b[n / 2].as_secs_f64() * 1e6,
            self.ratios[n / 2],
            self.ratios[n / 4],
            self.ratios[3 * n / 4],
        )
    }
}

/// Times `$a` and `$b` (expressions, `.await`s allowed) back to back `$rounds` times, alternating
/// which goes first, and returns the [`Paired`] times.
#[macro_export]
macro_rules! paired {
    ($rounds:expr, $a:expr, $b:expr) => {{
        let mut paired = $crate::paired::Paired::default();
        for round in 0..$rounds {
            let (a, b);
            if round % 2 == 0 {
                let t = ::std::time::Instant::now();
                ::std::hint::black_box($a);
                a = t.elapsed();
                let t = ::std::time::Instant::now();
                ::std::hint::black_box($b);
                b = t.elapsed();
            } else {
                let t = ::std::time::Instant::now();
                ::std::hint::black_box($b);
                b = t.elapsed();
                let t = ::std::time::Instant::now();
                ::std::hint::black_box($a);
                a = t.elapsed();
            }
            paired.record(a, b);
        }
        paired
    }};
}
