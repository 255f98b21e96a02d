//! Grid and simple tables: isolating the table block, tracing its cells, and checking each
//! cell's content as a nested document.
//!
//! Fact source: docutils 0.23 `parsers/rst/states.py` (`isolate_grid_table`,
//! `isolate_simple_table`, `table_top`) and `parsers/rst/tableparser.py` (the corner-tracing
//! grid parser, the simple-table column and margin rules).

use std::collections::BTreeSet;

use super::{Doc, Elem, Level, Line};

/// Stands after an East Asian wide character so that columns line up (docutils pads too).
const PAD: char = '\u{0}';

/// A table line as columns: wide characters padded, zero-width characters dropped.
fn columns(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match unicode_width::UnicodeWidthChar::width(c) {
            Some(0) => {}
            Some(2) => {
                out.push(c);
                out.push(PAD);
            }
            _ => out.push(c),
        }
    }
    out
}

fn is_grid_border(line: &[char]) -> bool {
    line.len() >= 5
        && line[0] == '+'
        && line[1] == '-'
        && line[line.len() - 2] == '-'
        && line[line.len() - 1] == '+'
        && line.iter().all(|&c| c == '-' || c == '+')
}

fn is_head_separator(line: &[char]) -> bool {
    line.len() >= 5
        && line[0] == '+'
        && line[1] == '='
        && line[line.len() - 2] == '='
        && line[line.len() - 1] == '+'
        && line.iter().all(|&c| c == '=' || c == '+')
}

/// A cell's text: `rows` of `block`, columns `cols`, trailing spaces removed and dedented.
fn cell_lines(
    block: &[Vec<char>],
    numbers: &[usize],
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) -> Vec<Line> {
    let mut cell: Vec<(String, usize)> = rows
        .map(|row| {
            let line = &block[row];
            let text: String = line[cols.start.min(line.len())..cols.end.min(line.len())]
                .iter()
                .filter(|&&c| c != PAD)
                .collect();
            (text.trim_end().to_owned(), numbers[row])
        })
        .collect();
    let indent = cell
        .iter()
        .filter(|(t, _)| !t.is_empty())
        .map(|(t, _)| t.len() - t.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    for (text, _) in &mut cell {
        *text = text.get(indent..).unwrap_or("").to_owned();
    }
    cell.into_iter()
        .map(|(text, number)| Line { text, number })
        .collect()
}

/// Rows `from..to` of a simple table and the column spans that apply to them.
type RowGroup = (usize, usize, Vec<(usize, usize)>);

/// Table sizes are line and column counts, far below `isize::MAX`.
fn to_isize(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

/// The grid table parser: traces every cell from its top-left corner.
struct Grid<'a> {
    block: &'a [Vec<char>],
    bottom: usize,
    right: usize,
    /// Per text column, the last row seen (-1: none).
    done: Vec<isize>,
    cells: Vec<(usize, usize, usize, usize)>,
}

impl Grid<'_> {
    fn at(&self, row: usize, col: usize) -> char {
        self.block[row].get(col).copied().unwrap_or(' ')
    }

    fn parse(&mut self) -> Result<(), String> {
        let mut corners: BTreeSet<(usize, usize)> = BTreeSet::from([(0, 0)]);
        while let Some((top, left)) = corners.pop_first() {
            if top == self.bottom || left == self.right || to_isize(top) <= self.done[left] {
                continue;
            }
            let Some((bottom, right)) = self.scan_right(top, left) else {
                continue;
            };
            for col in left..right {
                self.done[col] = to_isize(bottom) - 1;
            }
            self.cells.push((top, left, bottom, right));
            corners.insert((top, right));
            corners.insert((bottom, left));
        }
        let last = to_isize(self.bottom) - 1;
        let complete = (0..self.right).all(|col| self.done[col] == last);
        if complete {
            Ok(())
        } else {
            Err("Malformed table; parse incomplete.".to_owned())
        }
    }

    fn scan_right(&self, top: usize, left: usize) -> Option<(usize, usize)> {
        for col in left + 1..=self.right {
            match self.at(top, col) {
                '+' => {
                    if let Some(bottom) = self.scan_down(top, left, col) {
                        return Some((bottom, col));
                    }
                }
                '-' => {}
                _ => return None,
            }
        }
        None
    }

    fn scan_down(&self, top: usize, left: usize, right: usize) -> Option<usize> {
        for row in top + 1..=self.bottom {
            match self.at(row, right) {
                '+' => {
                    if self.scan_left(top, left, row, right) {
                        return Some(row);
                    }
                }
                '|' => {}
                _ => return None,
            }
        }
        None
    }

    fn scan_left(&self, top: usize, left: usize, bottom: usize, right: usize) -> bool {
        for col in (left + 1..right).rev() {
            if !matches!(self.at(bottom, col), '+' | '-') {
                return false;
            }
        }
        self.at(bottom, left) == '+'
            && (top + 1..bottom).all(|row| matches!(self.at(row, left), '+' | '|'))
    }
}

impl Doc {
    fn blank_required(&mut self, lines: &[Line], end: usize) {
        let line = lines
            .get(end)
            .map_or_else(|| lines.last().map_or(0, |l| l.number + 1), |l| l.number);
        self.report(
            line,
            Level::Warning,
            "Blank line required after table.".to_owned(),
        );
    }

    fn malformed(&mut self, line: usize, detail: &str) {
        let message = if detail.is_empty() {
            "Malformed table.".to_owned()
        } else {
            format!("Malformed table. {detail}")
        };
        self.report(line, Level::Error, message);
    }

    pub(super) fn grid_table(&mut self, lines: &[Line], i: usize, nested: bool) -> usize {
        self.push(nested, Elem::Body);
        let mut end = i;
        let mut blank_finish = true;
        while end < lines.len() && !lines[end].is_blank() {
            if lines[end].is_indented() {
                self.unexpected_indentation(lines[end].number);
                blank_finish = false;
                break;
            }
            end += 1;
        }
        let mut block: Vec<Vec<char>> = lines[i..end].iter().map(|l| columns(&l.text)).collect();
        let numbers: Vec<usize> = lines[i..end].iter().map(|l| l.number).collect();
        let width = block[0].len();
        if let Some(k) = block
            .iter()
            .position(|l| !matches!(l.first(), Some('+' | '|')))
        {
            blank_finish = false;
            block.truncate(k);
        }
        if !block.last().is_some_and(|l| is_grid_border(l)) {
            blank_finish = false;
            match (2..block.len().saturating_sub(1))
                .rev()
                .find(|&k| is_grid_border(&block[k]))
            {
                Some(k) => block.truncate(k + 1),
                None => {
                    self.malformed(numbers[0], "");
                    if !blank_finish {
                        self.blank_required(lines, i + block.len());
                    }
                    return i + block.len();
                }
            }
        }
        let consumed = i + block.len();
        if block
            .iter()
            .any(|l| l.len() != width || !matches!(l.last(), Some('+' | '|')))
        {
            self.malformed(numbers[0], "");
        } else if let Err(detail) = self.grid_cells(&mut block, &numbers) {
            self.malformed(numbers[0], &detail);
        }
        if !blank_finish {
            self.blank_required(lines, consumed);
        }
        consumed
    }

    fn grid_cells(&mut self, block: &mut [Vec<char>], numbers: &[usize]) -> Result<(), String> {
        let separators: Vec<usize> = (0..block.len())
            .filter(|&k| is_head_separator(&block[k]))
            .collect();
        if separators.len() > 1 {
            return Err(format!(
                "Multiple head/body row separators (table lines {} and {}); only one allowed.",
                separators[0] + 1,
                separators[1] + 1
            ));
        }
        if let Some(&k) = separators.first() {
            if k == 0 || k == block.len() - 1 {
                return Err(
                    "The head/body row separator may not be the first or last line of the table."
                        .to_owned(),
                );
            }
            for c in &mut block[k] {
                if *c == '=' {
                    *c = '-';
                }
            }
        }
        let mut grid = Grid {
            block,
            bottom: block.len() - 1,
            right: block[0].len() - 1,
            done: vec![-1; block[0].len()],
            cells: Vec::new(),
        };
        grid.parse()?;
        let cells = std::mem::take(&mut grid.cells);
        for (top, left, bottom, right) in cells {
            let cell = cell_lines(block, numbers, top + 1..bottom, left + 1..right);
            self.body(&cell, true);
        }
        Ok(())
    }

    pub(super) fn simple_table(&mut self, lines: &[Line], i: usize, nested: bool) -> usize {
        self.push(nested, Elem::Body);
        let is_border =
            |l: &Line| l.text.starts_with('=') && l.text.chars().all(|c| c == '=' || c == ' ');
        let top_len = lines[i].text.trim().chars().count();
        let last = lines.len() - 1;
        let mut found = 0;
        let mut found_at = None;
        let mut end = None;
        let mut k = i + 1;
        while k <= last {
            if is_border(&lines[k]) {
                if lines[k].text.trim().chars().count() != top_len {
                    self.malformed(
                        lines[i].number,
                        "Bottom/header table border does not match top border.",
                    );
                    let blank = k == last || lines[k + 1].is_blank();
                    if !blank {
                        self.blank_required(lines, k + 1);
                    }
                    return k + 1;
                }
                found += 1;
                found_at = Some(k);
                if found == 2 || k == last || lines[k + 1].is_blank() {
                    end = Some(k);
                    break;
                }
            }
            k += 1;
        }
        let Some(end) = end else {
            match found_at {
                Some(at) => {
                    self.malformed(
                        lines[i].number,
                        "No bottom table border found or no blank line after table bottom.",
                    );
                    self.blank_required(lines, at + 1);
                    return at + 1;
                }
                None => {
                    self.malformed(lines[i].number, "No bottom table border found.");
                    return lines.len();
                }
            }
        };
        if let Err(detail) = self.simple_cells(&lines[i..=end]) {
            self.malformed(lines[i].number, &detail);
        }
        if !(end == last || lines[end + 1].is_blank()) {
            self.blank_required(lines, end + 1);
        }
        end + 1
    }

    fn simple_cells(&mut self, block: &[Line]) -> Result<(), String> {
        let rows: Vec<Vec<char>> = block.iter().map(|l| columns(&l.text)).collect();
        let spans = |line: &[char]| -> Vec<(usize, usize)> {
            let mut spans = Vec::new();
            let mut col = 0;
            while col < line.len() {
                if line[col] == ' ' {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < line.len() && line[col] != ' ' {
                    col += 1;
                }
                spans.push((start, col));
            }
            spans
        };
        let columns = spans(&rows[0]);
        let border_end = columns.last().map_or(0, |c| c.1);
        let is_span_line = |line: &[char]| {
            !line.is_empty()
                && matches!(line[0], '-' | '=')
                && line.iter().all(|c| matches!(c, '-' | '=' | ' '))
        };
        let (first_start, first_end) = columns[0];
        let mut start = 1;
        let mut text_found = false;
        let mut groups: Vec<RowGroup> = Vec::new();
        for offset in 1..rows.len() {
            let line = &rows[offset];
            if is_span_line(line) {
                let mut span = spans(line);
                if offset != rows.len() - 1 {
                    if span.last().map(|s| s.1) != Some(border_end) {
                        return Err(format!(
                            "Column span incomplete in table line {}.",
                            offset + 1
                        ));
                    }
                    for &(s, e) in &span {
                        if !columns.iter().any(|c| c.0 == s) || !columns.iter().any(|c| c.1 == e) {
                            return Err(format!(
                                "Column span alignment problem in table line {}.",
                                offset + 1
                            ));
                        }
                    }
                } else {
                    span.clone_from(&columns);
                }
                groups.push((start, offset, span));
                start = offset + 1;
                text_found = false;
            } else if line
                .get(first_start..first_end.min(line.len()))
                .is_some_and(|s| s.iter().any(|c| *c != ' '))
            {
                if text_found && offset != start {
                    groups.push((start, offset, columns.clone()));
                }
                start = offset;
                text_found = true;
            } else if !text_found {
                start = offset + 1;
            }
        }
        for (from, to, span) in groups {
            if from >= to {
                continue;
            }
            let row_lines = &rows[from..to];
            for (n, &(_, end)) in span.iter().enumerate() {
                let Some(&(next_start, _)) = span.get(n + 1) else {
                    break;
                };
                for (k, line) in row_lines.iter().enumerate() {
                    let margin = line.get(end.min(line.len())..next_start.min(line.len()));
                    if margin.is_some_and(|m| m.iter().any(|c| *c != ' ')) {
                        return Err(format!(
                            "Text in column margin in table line {}.",
                            from + k + 1
                        ));
                    }
                }
            }
            let numbers: Vec<usize> = block.iter().map(|l| l.number).collect();
            for (n, &(s, e)) in span.iter().enumerate() {
                let right = if n + 1 == span.len() { usize::MAX } else { e };
                let cell = cell_lines(&rows, &numbers, from..to, s..right);
                self.body(&cell, true);
            }
        }
        Ok(())
    }
}
