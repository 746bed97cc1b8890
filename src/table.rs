//! Text tables for people: left-aligned columns two spaces apart, as `kubectl get` prints them.

use std::fmt::Write;

/// `header` and `rows` as aligned lines, each ending in a newline.
pub fn columns<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths = header.each_ref().map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let header = ["NAME".to_owned(), "PHASE".to_owned()];
        let rows = [["cabling".to_owned(), "Bound".to_owned()], ["a".to_owned(), "".to_owned()]];
        assert_eq!(super::columns(&header, &rows), "NAME     PHASE\ncabling  Bound\na\n");
    }
}
