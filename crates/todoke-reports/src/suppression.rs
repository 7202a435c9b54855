//! 最低公表人数 — the small-cell rule for sex × age tables (DOMAIN.md §5).
//!
//! **Primary suppression**: a cell of 1 to 4 persons is not published; 0 and
//! 5 or more are.
//!
//! **Secondary suppression**: row and column totals are published, so a row
//! (or column) with exactly one hidden cell gives it away (total minus the
//! published cells). For every such line the smallest non-zero published cell
//! of the line is hidden too (a zero only when the line has no other
//! non-zero cell), and this repeats over rows and columns until no line has
//! exactly one hidden cell. The result is deterministic (ties go to the
//! first cell in order).
//!
//! What this does not guarantee: with several hidden cells an attacker who
//! solves the whole system of row and column equations (with the knowledge
//! that primary cells lie in 1..=4) may still narrow a cell to an interval;
//! the rule closes the exact one-cell recoveries the ministry's tables
//! guarded against. Tables with stronger needs should use an LP-based audit.

use serde::Serialize;

/// Why a cell is or is not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Published,
    /// 1 to 4 persons.
    Primary,
    /// Hidden so that a primary cell cannot be recovered from the totals.
    Secondary,
}

impl Visibility {
    pub fn is_hidden(&self) -> bool {
        !matches!(self, Visibility::Published)
    }
}

/// True for a count the small-cell rule hides by itself.
pub fn is_small(count: i64) -> bool {
    (1..=4).contains(&count)
}

/// Decides which cells of a matrix (rows of equal length, counts ≥ 0) are
/// published when every row total and every column total is.
pub fn suppress(counts: &[Vec<i64>]) -> Vec<Vec<Visibility>> {
    let rows = counts.len();
    let cols = counts.first().map_or(0, Vec::len);
    let mut vis: Vec<Vec<Visibility>> =
        counts.iter().map(|r| r.iter().map(|&n| if is_small(n) { Visibility::Primary } else { Visibility::Published }).collect()).collect();

    // Each pass hides at least one more cell or stops: at most rows × cols passes.
    loop {
        let mut changed = false;
        for i in 0..rows {
            let line: Vec<(usize, usize)> = (0..cols).map(|j| (i, j)).collect();
            changed |= protect_line(counts, &mut vis, &line);
        }
        for j in 0..cols {
            let line: Vec<(usize, usize)> = (0..rows).map(|i| (i, j)).collect();
            changed |= protect_line(counts, &mut vis, &line);
        }
        if !changed {
            return vis;
        }
    }
}

/// If exactly one cell of the line is hidden, hides the smallest non-zero
/// published cell (else a zero one). Returns whether it hid anything.
fn protect_line(counts: &[Vec<i64>], vis: &mut [Vec<Visibility>], line: &[(usize, usize)]) -> bool {
    let hidden = line.iter().filter(|&&(i, j)| vis[i][j].is_hidden()).count();
    if hidden != 1 {
        return false;
    }
    let pick = line.iter().filter(|&&(i, j)| !vis[i][j].is_hidden()).min_by_key(|&&(i, j)| (counts[i][j] == 0, counts[i][j])).copied();
    match pick {
        Some((i, j)) => {
            vis[i][j] = Visibility::Secondary;
            true
        }
        // A line of one cell: its total is the cell; nothing in the line can hide it.
        None => false,
    }
}

/// Checks the guarantee: no row or column has exactly one hidden cell (for tests and audits).
pub fn no_line_with_one_hidden(vis: &[Vec<Visibility>]) -> bool {
    let cols = vis.first().map_or(0, Vec::len);
    let rows_ok = vis.iter().all(|r| r.iter().filter(|v| v.is_hidden()).count() != 1);
    let cols_ok = (0..cols).all(|j| vis.iter().filter(|r| r[j].is_hidden()).count() != 1);
    rows_ok && cols_ok
}
