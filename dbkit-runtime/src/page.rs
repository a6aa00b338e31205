//! [`Page`]: which slice of a table a repository's `list` returns.

/// A window on a table ordered by its key: skip `offset` rows, return at most `limit`.
///
/// `Page::default()` is the first 100 rows.
///
/// ```
/// use dbkit_runtime::Page;
///
/// assert_eq!(Page::default(), Page::new(0, 100));
/// let third = Page::new(40, 20); // rows 41 to 60
/// assert_eq!((third.offset, third.limit), (40, 20));
/// assert_eq!(third.next(), Page::new(60, 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// The most rows to return.
    pub limit: u64,
}

impl Page {
    /// Skips `offset` rows and returns at most `limit`.
    pub const fn new(offset: u64, limit: u64) -> Page {
        Page { offset, limit }
    }

    /// The page after this one, of the same size.
    pub const fn next(self) -> Page {
        Page { offset: self.offset.saturating_add(self.limit), limit: self.limit }
    }

    /// `offset` as the signed 64-bit integer SQL `OFFSET` binds (larger values are clamped: no
    /// table holds that many rows).
    #[doc(hidden)]
    pub fn sql_offset(&self) -> i64 {
        i64::try_from(self.offset).unwrap_or(i64::MAX)
    }

    /// `limit` as the signed 64-bit integer SQL `LIMIT` binds, clamped like [`Page::sql_offset`].
    #[doc(hidden)]
    pub fn sql_limit(&self) -> i64 {
        i64::try_from(self.limit).unwrap_or(i64::MAX)
    }
}

impl Default for Page {
    /// The first 100 rows: small enough for one response, large enough for most listings.
    fn default() -> Page {
        Page { offset: 0, limit: 100 }
    }
}
