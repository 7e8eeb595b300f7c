//! Output: aligned tables for people, JSON for scripts, and the small formats both use
//! (timestamps, "3m ago", progress lines on stderr).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A plain table: a header row and left-aligned columns two spaces apart. The last column is
/// not padded, so free text (errors, reasons) goes there.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Add a row (as many cells as headers).
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, ending with a newline.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let pad = widths[i] - cell.chars().count();
                    let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Print the table, or `empty` when it has no rows.
    pub fn print_or(&self, empty: &str) {
        if self.is_empty() {
            println!("{empty}");
        } else {
            print!("{}", self.render());
        }
    }
}

/// Print a value as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot print json: {e}"),
    }
}

/// A progress line for bulk operations, on stderr so stdout stays clean for scripts.
pub fn progress(done: usize, total: usize, what: &str) {
    eprintln!("[{done}/{total}] {what}");
}

/// A timestamp as people read it: `2026-11-24 09:00:00Z`.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// A length of time in its two largest units: `45s`, `4m12s`, `2h5m`, `3d4h`.
pub fn span(d: chrono::Duration) -> String {
    let secs = d.num_seconds().unsigned_abs();
    let (days, hours, mins, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) if s == 0 => format!("{m}m"),
        (0, 0, m) => format!("{m}m{s}s"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

/// `t` relative to `now`: `3m ago` or `in 5m`.
pub fn relative(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    if t <= now {
        format!("{} ago", span(now - t))
    } else {
        format!("in {}", span(t - now))
    }
}

/// The first line of `text`, cut to `max` characters with an ellipsis.
pub fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    let multi = text.lines().nth(1).is_some();
    if line.chars().count() > max {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else if multi {
        format!("{line} …")
    } else {
        line.to_string()
    }
}

/// `-` for a missing value in a table cell.
pub fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_use_the_two_largest_units() {
        let s = chrono::Duration::seconds;
        assert_eq!(span(s(45)), "45s");
        assert_eq!(span(s(252)), "4m12s");
        assert_eq!(span(s(600)), "10m");
        assert_eq!(span(s(7500)), "2h5m");
        assert_eq!(span(s(7200)), "2h");
        assert_eq!(span(s(3 * 86_400 + 4 * 3600 + 59)), "3d4h");
        assert_eq!(span(s(-30)), "30s");
    }

    #[test]
    fn tables_align_and_leave_the_last_column_free() {
        let mut t = Table::new(&["ID", "STATE", "ERROR"]);
        t.row(vec!["a".into(), "pending".into(), "x".into()]);
        t.row(vec!["bbbb".into(), "done".into(), "-".into()]);
        assert_eq!(
            t.render(),
            "ID    STATE    ERROR\na     pending  x\nbbbb  done     -\n"
        );
    }

    #[test]
    fn first_lines_are_cut() {
        assert_eq!(first_line("short", 10), "short");
        assert_eq!(first_line("two\nlines", 10), "two …");
        assert_eq!(first_line("abcdefghijkl", 5), "abcd…");
    }
}
