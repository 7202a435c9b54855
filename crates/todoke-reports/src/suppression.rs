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
//! **Totals and the audit** ([`suppress_table`], what the sex × age tables
//! use). The line rule alone is not enough: counts are never negative, so a
//! published total of 0 makes every hidden cell of its line 0, and that can
//! give away a small cell through the crossing line (a week with 2 women in
//! their 20s and 1 in her 30s and no one else: hide the four cells of 20s
//! and 30s, and the men's total 0 still yields 2 and 1). And a single case
//! is its row and column total at once. So after the line rule every hidden
//! non-zero cell is audited exactly: the table with its totals is a flow
//! network (area total → sex totals → cells → age totals → area total), a
//! hidden value can be derived from the published ones (with non-negativity
//! and integers) exactly when no cycle of the residual network passes
//! through it, and while one can, one more cell or, failing that, one more
//! sex or age total is hidden (the fewest that make that cell free: one, else
//! two, searched in a fixed order: non-zero before zero, its own row and
//! column before elsewhere, cells before totals, smallest first).
//!
//! Policy: the area total is always published (the ministry published area
//! totals unsuppressed, and it is the same number as the trend tables');
//! sex and age totals are published, also when 1 to 4 — they tell that a
//! small group exists, as the area total does — unless one is needed to keep
//! a cell from being derived. Guaranteed: no hidden cell with persons in it
//! can be derived exactly from what a table publishes. Not claimed: an
//! attacker who also uses that a hidden cell may be a primary one (1..=4),
//! or combines several tables, can narrow a cell to a range.

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

/// What a table with totals publishes ([`suppress_table`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableVisibility {
    pub cells: Vec<Vec<Visibility>>,
    /// One per row (the sex totals).
    pub row_totals: Vec<Visibility>,
    /// One per column (the age-group totals).
    pub column_totals: Vec<Visibility>,
}

/// The line rule ([`suppress`]), then the exact audit with totals (module
/// documentation): the grand total is always published.
pub fn suppress_table(counts: &[Vec<i64>]) -> TableVisibility {
    let rows = counts.len();
    let cols = counts.first().map_or(0, Vec::len);
    let mut t = TableVisibility {
        cells: suppress(counts),
        row_totals: vec![Visibility::Published; rows],
        column_totals: vec![Visibility::Published; cols],
    };
    let net = Network::new(counts);
    // Each round hides at least one more item: at most rows × cols + rows + cols rounds.
    while let Some(cell) = net.first_derivable(&t) {
        let candidates = net.candidates(&t, cell);
        if candidates.is_empty() {
            break; // everything but the grand total is hidden
        }
        let hide = |t: &mut TableVisibility, item: Item| net.set(t, item, Visibility::Secondary);
        let frees = |items: &[Item]| {
            let mut trial = t.clone();
            for &i in items {
                hide(&mut trial, i);
            }
            !net.derivable(&trial, Item::Cell(cell.0, cell.1))
        };
        let pick: Vec<Item> = candidates
            .iter()
            .find(|&&a| frees(&[a]))
            .map(|&a| vec![a])
            .or_else(|| {
                candidates.iter().enumerate().find_map(|(k, &a)| candidates[k + 1..].iter().find(|&&b| frees(&[a, b])).map(|&b| vec![a, b]))
            })
            .unwrap_or_else(|| vec![candidates[0]]);
        for item in pick {
            hide(&mut t, item);
        }
    }
    t
}

/// A value of the table: a cell, a row total or a column total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Cell(usize, usize),
    Row(usize),
    Column(usize),
}

/// The table as a flow network: node 0 the source (area total), 1..=rows
/// the rows, then the columns, then the sink. A hidden value is an edge
/// whose flow the attacker does not know; published values are constants.
struct Network<'a> {
    counts: &'a [Vec<i64>],
    rows: usize,
    cols: usize,
}

impl<'a> Network<'a> {
    fn new(counts: &'a [Vec<i64>]) -> Network<'a> {
        Network { counts, rows: counts.len(), cols: counts.first().map_or(0, Vec::len) }
    }

    fn value(&self, item: Item) -> i64 {
        match item {
            Item::Cell(i, j) => self.counts[i][j],
            Item::Row(i) => self.counts[i].iter().sum(),
            Item::Column(j) => self.counts.iter().map(|r| r[j]).sum(),
        }
    }

    fn visibility(&self, t: &TableVisibility, item: Item) -> Visibility {
        match item {
            Item::Cell(i, j) => t.cells[i][j],
            Item::Row(i) => t.row_totals[i],
            Item::Column(j) => t.column_totals[j],
        }
    }

    fn set(&self, t: &mut TableVisibility, item: Item, v: Visibility) {
        match item {
            Item::Cell(i, j) => t.cells[i][j] = v,
            Item::Row(i) => t.row_totals[i] = v,
            Item::Column(j) => t.column_totals[j] = v,
        }
    }

    /// The edge of an item: (from, to).
    fn edge(&self, item: Item) -> (usize, usize) {
        let sink = self.rows + self.cols + 1;
        match item {
            Item::Cell(i, j) => (1 + i, 1 + self.rows + j),
            Item::Row(i) => (0, 1 + i),
            Item::Column(j) => (1 + self.rows + j, sink),
        }
    }

    fn items(&self) -> impl Iterator<Item = Item> + '_ {
        let cells = (0..self.rows).flat_map(move |i| (0..self.cols).map(move |j| Item::Cell(i, j)));
        cells.chain((0..self.rows).map(Item::Row)).chain((0..self.cols).map(Item::Column))
    }

    /// Whether a hidden item's value follows from what is published: no
    /// cycle of the residual network runs through its edge either way.
    fn derivable(&self, t: &TableVisibility, item: Item) -> bool {
        let (u, v) = self.edge(item);
        let nodes = self.rows + self.cols + 2;
        // Residual arcs of every hidden item but this one: forward always
        // (no upper bound), backward while the flow is positive.
        let mut arcs: Vec<Vec<usize>> = vec![Vec::new(); nodes];
        for other in self.items().filter(|&o| o != item && self.visibility(t, o).is_hidden()) {
            let (a, b) = self.edge(other);
            arcs[a].push(b);
            if self.value(other) > 0 {
                arcs[b].push(a);
            }
        }
        let reaches = |from: usize, to: usize| {
            let mut seen = vec![false; nodes];
            let mut stack = vec![from];
            seen[from] = true;
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                for &m in &arcs[n] {
                    if !seen[m] {
                        seen[m] = true;
                        stack.push(m);
                    }
                }
            }
            false
        };
        // It can grow if flow can come back from v to u; shrink (if above 0) if it can go from u to v another way.
        let can_grow = reaches(v, u);
        let can_shrink = self.value(item) > 0 && reaches(u, v);
        !(can_grow || can_shrink)
    }

    /// The first hidden cell with persons in it whose value can be derived.
    fn first_derivable(&self, t: &TableVisibility) -> Option<(usize, usize)> {
        (0..self.rows)
            .flat_map(|i| (0..self.cols).map(move |j| (i, j)))
            .find(|&(i, j)| t.cells[i][j].is_hidden() && self.counts[i][j] > 0 && self.derivable(t, Item::Cell(i, j)))
    }

    /// Published items that could free `cell`, best first: in its own row
    /// or column before elsewhere, non-zero before zero, cells before
    /// totals, smaller before larger, then in table order.
    fn candidates(&self, t: &TableVisibility, (ci, cj): (usize, usize)) -> Vec<Item> {
        let mut out: Vec<(bool, bool, bool, i64, usize, Item)> = self
            .items()
            .enumerate()
            .filter(|&(_, item)| !self.visibility(t, item).is_hidden())
            .map(|(order, item)| {
                let own = match item {
                    Item::Cell(i, j) => i == ci || j == cj,
                    Item::Row(i) => i == ci,
                    Item::Column(j) => j == cj,
                };
                let value = self.value(item);
                (value == 0, !own, !matches!(item, Item::Cell(..)), value, order, item)
            })
            .collect();
        out.sort_by_key(|&(zero, other, total, value, order, _)| (zero, other, total, value, order));
        out.into_iter().map(|c| c.5).collect()
    }
}

/// Checks the guarantee: no row or column has exactly one hidden cell (for tests and audits).
pub fn no_line_with_one_hidden(vis: &[Vec<Visibility>]) -> bool {
    let cols = vis.first().map_or(0, Vec::len);
    let rows_ok = vis.iter().all(|r| r.iter().filter(|v| v.is_hidden()).count() != 1);
    let cols_ok = (0..cols).all(|j| vis.iter().filter(|r| r[j].is_hidden()).count() != 1);
    rows_ok && cols_ok
}
