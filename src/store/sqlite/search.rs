//! The `q` search on SQLite: a function of our own, `task_text_has(needle, title, description)`,
//! registered on every reader connection.
//!
//! A search tests every one of the owner's rows (no index answers a substring), so what the test
//! costs a row, it costs 10^5 times for a heavy user. It was two `LIKE '%…%' ESCAPE '\'`, which
//! run SQLite's general pattern matcher a character at a time; this looks for the needle's first
//! byte with `memchr` and compares the rest, ASCII case folded, in one call for both columns
//! (callgrind, 10^5 tasks: 164.7 M → 145.8 M instructions per search).
//!
//! It matches exactly what those `LIKE`s matched: a literal substring of the title or of the
//! description (never across the two), ASCII letters in either case, every other character as
//! itself (SQLite's `LIKE` folds ASCII only).

use std::ffi::{c_int, CStr};

use libsqlite3_sys as ffi;
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};

/// The function's name as registered; [`push_filter`] spells it in SQL.
const FUNCTION: &CStr = c"task_text_has";

/// Adds the search for `q` to a list's `WHERE`: the function, given the needle [`fold`]ed once.
pub(super) fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, q: &str) {
    qb.push(" AND task_text_has(").push_bind(fold(q));
    qb.push(", title, description)");
}

/// The needle as the function wants it: ASCII letters lower-cased, everything else as it is.
fn fold(q: &str) -> String {
    q.to_ascii_lowercase()
}

/// Whether `haystack` contains `needle` (already [`fold`]ed), ASCII letters in either case.
fn contains_folded(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    // Only a start at most `len - needle.len()` can hold the whole needle.
    let Some(starts) = haystack
        .len()
        .checked_sub(needle.len())
        .and_then(|last| haystack.get(..=last))
    else {
        return false;
    };
    let matches_at = |at: usize| {
        haystack
            .get(at + 1..at + needle.len())
            .is_some_and(|tail| tail.eq_ignore_ascii_case(rest))
    };
    // The needle is folded, so its first byte and that byte's upper case are the candidates (the
    // same byte twice when it is not a letter).
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), starts).any(matches_at)
}

/// The bytes of an argument as UTF-8 text; `None` for SQL NULL.
///
/// # Safety
/// `value` must be a valid argument of the function call in progress.
unsafe fn text<'a>(value: *mut ffi::sqlite3_value) -> Option<&'a [u8]> {
    // SAFETY: the caller passes an argument of the running call; `sqlite3_value_text` converts
    // it to UTF-8 text if it is not already, and `sqlite3_value_bytes`, called after it, gives
    // that text's length. Both stay valid until the call returns, which outlives every use here.
    unsafe {
        let ptr = ffi::sqlite3_value_text(value);
        if ptr.is_null() {
            return None;
        }
        let len = usize::try_from(ffi::sqlite3_value_bytes(value)).unwrap_or(0);
        Some(std::slice::from_raw_parts(ptr, len))
    }
}

/// `task_text_has(needle, title, description)`: 1 when the title or the description contains the
/// needle, 0 otherwise; NULL when the needle is NULL.
unsafe extern "C" fn task_text_has(ctx: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: SQLite calls this with `argc` valid arguments in `argv` (registered with three, so
    // `argc` is 3) and a valid context; nothing here can panic, so nothing unwinds into C.
    unsafe {
        if argc != 3 {
            ffi::sqlite3_result_error(ctx, c"task_text_has takes 3 arguments".as_ptr(), -1);
            return;
        }
        let args = std::slice::from_raw_parts(argv, 3);
        let Some(needle) = text(args[0]) else {
            ffi::sqlite3_result_null(ctx);
            return;
        };
        let found = [args[1], args[2]]
            .into_iter()
            .any(|column| text(column).is_some_and(|haystack| contains_folded(haystack, needle)));
        ffi::sqlite3_result_int(ctx, c_int::from(found));
    }
}

/// Registers the function on `conn`.
pub(super) async fn register(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the open connection, which `handle` keeps from every other use while the
    // function is registered. The name is a NUL-terminated constant; no user data, so nothing to
    // free. DETERMINISTIC lets SQLite treat equal calls as equal; INNOCUOUS says the function
    // has no side effects, so it may run wherever SQL of the schema's could.
    let rc = unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            FUNCTION.as_ptr(),
            3,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS,
            std::ptr::null_mut(),
            Some(task_text_has),
            None,
            None,
            None,
        )
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!(
            "registering {}: SQLite error {rc}",
            FUNCTION.to_string_lossy()
        )))
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;
    use crate::store::like_pattern;

    fn has(haystack: &str, q: &str) -> bool {
        contains_folded(haystack.as_bytes(), fold(q).as_bytes())
    }

    #[test]
    fn matches_a_literal_substring_ignoring_ascii_case() {
        assert!(has("Write the Report", "report"));
        assert!(has("Write the Report", "REPORT"));
        assert!(has("Write the Report", "e the r"));
        assert!(has("report", "report"));
        assert!(has("anything", ""));
        assert!(!has("Write the Report", "reports"));
        assert!(!has("rep", "report"));
        assert!(!has("", "a"));
        // A candidate start near the end that would run past it.
        assert!(!has("aaab", "abc"));
        assert!(has("aaabc", "abc"));
        // Wildcards and the escape character are plain characters here.
        assert!(has(r"50%_off\now", r"50%_off\n"));
        assert!(!has("50 off", "50%"));
        assert!(!has("ab", "a_"));
    }

    #[test]
    fn folds_ascii_only_as_sqlite_like_does() {
        assert!(has("Äpfel kaufen", "Äpfel KAUFEN"));
        assert!(!has("Äpfel", "äpfel"));
        assert!(has("Café", "CAFé"));
        assert!(!has("Café", "CAFÉ"));
        // Bytes of a multi-byte character are never folded into ASCII letters.
        assert!(!has("\u{c1}", "a"));
    }

    #[test]
    fn a_needle_starting_with_a_non_letter_is_found() {
        assert!(has("buy 2 apples", "2 APP"));
        assert!(has("call +44", "+44"));
        assert!(!has("call 44", "+44"));
    }

    /// Over every pair of short strings from an alphabet of ASCII letters in both cases,
    /// non-ASCII letters, LIKE's wildcards and its escape, the function agrees with the two
    /// `LIKE`s it replaced, as SQLite itself evaluates them, NULLs included.
    #[tokio::test]
    async fn agrees_with_sqlite_like_on_every_short_string() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        register(&mut conn).await.unwrap();
        let alphabet = ["a", "B", "b", "ä", "Ä", "%", "_", "\\", " "];
        let mut strings = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
        }
        strings.sort();
        strings.dedup();
        let needles: Vec<&String> = strings.iter().filter(|s| s.chars().count() <= 2).collect();
        let mut checked = 0;
        for needle in needles {
            let rows: Vec<(String, Option<bool>, Option<bool>)> = sqlx::query_as(
                "WITH t(title) AS (SELECT value FROM json_each(?1)) \
                 SELECT title, task_text_has(?2, title, NULL), title LIKE ?3 ESCAPE '\\' FROM t",
            )
            .bind(serde_json::to_string(&strings).unwrap())
            .bind(fold(needle))
            .bind(like_pattern(needle))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for (title, ours, like) in rows {
                assert_eq!(ours, like, "{title:?} contains {needle:?}");
                checked += 1;
            }
        }
        assert!(checked > 50_000, "{checked}");
        let null: (Option<bool>, Option<bool>, Option<bool>) = sqlx::query_as(
            "SELECT task_text_has(NULL, 'a', 'b'), task_text_has('a', NULL, 'xa'), task_text_has('a', NULL, NULL)",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(null, (None, Some(true), Some(false)));
    }
}
