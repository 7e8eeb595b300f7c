//! Generated blocks in hand-written markdown, and markdown tables.
//!
//! A block is everything between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; only the
//! text between the two markers is rewritten, so the prose around them (and sections other
//! people write, such as the ingress benchmarks) stays as it is.

/// Replace the body of block `name` in `doc` with `body`. `None` if the block is missing.
pub fn replace_block(doc: &str, name: &str, body: &str) -> Option<String> {
    let open = format!("<!-- bench:{name} -->");
    let close = format!("<!-- /bench:{name} -->");
    let start = doc.find(&open)? + open.len();
    let end = start + doc[start..].find(&close)?;
    let body = body.trim_end_matches('\n');
    Some(format!("{}\n{body}\n{}", &doc[..start], &doc[end..]))
}

/// A markdown table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row (cells beyond the header are dropped, missing ones left empty).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
    }

    /// The table as markdown.
    pub fn render(&self) -> String {
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let mut out = line(&self.header);
        out.push_str(&format!("|{}\n", " --- |".repeat(self.header.len())));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_block_body_is_replaced() {
        let doc =
            "# T\nintro\n<!-- bench:x -->\nold\nrows\n<!-- /bench:x -->\nafter\n## Ingress\nkept\n";
        let new = replace_block(doc, "x", "new\n").unwrap();
        assert_eq!(
            new,
            "# T\nintro\n<!-- bench:x -->\nnew\n<!-- /bench:x -->\nafter\n## Ingress\nkept\n"
        );
        // idempotent
        assert_eq!(replace_block(&new, "x", "new").unwrap(), new);
        assert!(replace_block(doc, "y", "z").is_none());
    }

    #[test]
    fn tables_are_padded_and_escaped() {
        let mut t = Table::new(["a", "b"]);
        t.row(["1"]);
        t.row(["x|y", "2", "dropped"]);
        assert_eq!(
            t.render(),
            "| a | b |\n| --- | --- |\n| 1 |  |\n| x\\|y | 2 |\n"
        );
    }
}
