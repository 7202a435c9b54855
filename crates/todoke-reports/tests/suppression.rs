//! The small-cell rule: hand-computed tables and a property over random ones.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use todoke_reports::suppression::{no_line_with_one_hidden, suppress, suppress_table, TableVisibility, Visibility};

/// Renders the published view: counts, `*` for hidden; row totals at the end.
fn view(counts: &[Vec<i64>]) -> Vec<String> {
    let vis = suppress(counts);
    counts
        .iter()
        .zip(&vis)
        .map(|(r, v)| {
            let cells: Vec<String> = r.iter().zip(v).map(|(n, v)| if v.is_hidden() { "*".into() } else { n.to_string() }).collect();
            format!("{} | {}", cells.join(" "), r.iter().sum::<i64>())
        })
        .collect()
}

/// Row total minus published cells: what a reader recovers when a row has one hidden cell.
fn recover_from_rows(counts: &[Vec<i64>], vis: &[Vec<Visibility>]) -> Vec<(usize, usize, i64)> {
    let mut out = Vec::new();
    for (i, row) in counts.iter().enumerate() {
        let hidden: Vec<usize> = (0..row.len()).filter(|&j| vis[i][j].is_hidden()).collect();
        if let [j] = hidden[..] {
            let published: i64 = (0..row.len()).filter(|&k| k != j).map(|k| row[k]).sum();
            out.push((i, j, row.iter().sum::<i64>() - published));
        }
    }
    out
}

#[test]
fn primary_alone_leaks_and_secondary_closes_it() {
    // Male: 10 3 12 20 (total 45); female: 8 9 15 6 (total 38).
    let counts = vec![vec![10, 3, 12, 20], vec![8, 9, 15, 6]];

    // Primary only: the 3 is hidden, and 45 − 10 − 12 − 20 gives it back.
    let primary: Vec<Vec<Visibility>> = counts
        .iter()
        .map(|r| r.iter().map(|&n| if (1..=4).contains(&n) { Visibility::Primary } else { Visibility::Published }).collect())
        .collect();
    assert_eq!(recover_from_rows(&counts, &primary), vec![(0, 1, 3)]);

    // Secondary: row M hides its next-smallest (10); column b then hides 9;
    // column a hides 8. A 2 × 2 block: every line has two hidden cells.
    let vis = suppress(&counts);
    assert_eq!(view(&counts), vec!["* * 12 20 | 45", "* * 15 6 | 38"]);
    assert_eq!(vis[0][1], Visibility::Primary);
    assert_eq!(vis[0][0], Visibility::Secondary);
    assert!(recover_from_rows(&counts, &vis).is_empty());
    assert!(no_line_with_one_hidden(&vis));
}

#[test]
fn zero_and_five_are_published_one_to_four_are_not() {
    let counts = vec![vec![0, 5, 1, 4, 30], vec![0, 6, 2, 3, 40]];
    // Two small cells in each row and each of their columns: nothing else needs hiding.
    assert_eq!(view(&counts), vec!["0 5 * * 30 | 40", "0 6 * * 40 | 51"]);
}

#[test]
fn secondary_prefers_non_zero_and_falls_back_to_zero() {
    // Row 0 has one small cell (2); its next-smallest non-zero cell is 7, not the 0.
    // Column 1 (the 2) then hides its smallest other cell, 30; column 3 (the 7) hides 9.
    // Row 1 now has two hidden cells (30 and 9): the fixed point.
    let counts = vec![vec![0, 2, 20, 7], vec![11, 30, 25, 9], vec![12, 40, 26, 10]];
    let vis = suppress(&counts);
    assert!(no_line_with_one_hidden(&vis));
    assert!(!vis[0][0].is_hidden(), "a zero is not hidden while a non-zero cell can be");
    assert_eq!(view(&counts), vec!["0 * 20 * | 29", "11 * 25 * | 75", "12 40 26 10 | 88"]);

    // A row whose only other cells are zero: hiding one zero is all that is left.
    let counts = vec![vec![0, 3, 0], vec![5, 6, 7], vec![8, 9, 10]];
    let vis = suppress(&counts);
    assert!(no_line_with_one_hidden(&vis));
    assert!(vis[0][0].is_hidden());
}

#[test]
fn property_no_line_with_a_published_total_has_exactly_one_hidden_cell() {
    let mut rng = ChaCha8Rng::seed_from_u64(20_210_801);
    for case in 0..2_000 {
        let rows = rng.gen_range(2..=4);
        let cols = rng.gen_range(2..=11);
        let counts: Vec<Vec<i64>> = (0..rows)
            .map(|_| {
                (0..cols)
                    .map(|_| match rng.gen_range(0..10) {
                        0..=2 => 0,
                        3..=6 => rng.gen_range(1..=4),
                        _ => rng.gen_range(5..=60),
                    })
                    .collect()
            })
            .collect();
        let vis = suppress(&counts);
        assert!(no_line_with_one_hidden(&vis), "case {case}: {counts:?} → {vis:?}");
        for (r, v) in counts.iter().zip(&vis) {
            for (n, v) in r.iter().zip(v) {
                if (1..=4).contains(n) {
                    assert!(v.is_hidden(), "case {case}: small cell {n} published");
                }
                if *v == Visibility::Primary {
                    assert!((1..=4).contains(n));
                }
            }
        }
        assert!(recover_from_rows(&counts, &vis).is_empty());
    }
}

/// The published view of [`suppress_table`]: cells and row totals, then the
/// column totals and the grand total (`*` hidden).
fn view_with_totals(counts: &[Vec<i64>]) -> Vec<String> {
    let t = suppress_table(counts);
    let show = |hidden: bool, n: i64| if hidden { "*".to_string() } else { n.to_string() };
    let mut out: Vec<String> = counts
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let cells: Vec<String> = r.iter().enumerate().map(|(j, &n)| show(t.cells[i][j].is_hidden(), n)).collect();
            format!("{} | {}", cells.join(" "), show(t.row_totals[i].is_hidden(), r.iter().sum()))
        })
        .collect();
    let cols = counts[0].len();
    let totals: Vec<String> = (0..cols).map(|j| show(t.column_totals[j].is_hidden(), counts.iter().map(|r| r[j]).sum())).collect();
    out.push(format!("{} | {}", totals.join(" "), counts.iter().flatten().sum::<i64>()));
    out
}

/// Brute force, independent of the audit: every table of counts ≥ 0 that
/// shows what `t` publishes (cells, totals, grand total); per hidden cell,
/// the values it takes over all of them.
fn consistent_values(counts: &[Vec<i64>], t: &TableVisibility) -> Vec<((usize, usize), std::collections::BTreeSet<i64>)> {
    let grand: i64 = counts.iter().flatten().sum();
    let hidden: Vec<(usize, usize)> =
        (0..counts.len()).flat_map(|i| (0..counts[0].len()).map(move |j| (i, j))).filter(|&(i, j)| t.cells[i][j].is_hidden()).collect();
    let mut values = vec![std::collections::BTreeSet::new(); hidden.len()];
    let mut trial = counts.to_vec();
    let combos = (grand + 1).pow(hidden.len() as u32);
    for mut k in 0..combos {
        for &(i, j) in &hidden {
            trial[i][j] = k % (grand + 1);
            k /= grand + 1;
        }
        let rows_ok =
            (0..counts.len()).all(|i| t.row_totals[i].is_hidden() || trial[i].iter().sum::<i64>() == counts[i].iter().sum::<i64>());
        let cols_ok = (0..counts[0].len())
            .all(|j| t.column_totals[j].is_hidden() || trial.iter().map(|r| r[j]).sum::<i64>() == counts.iter().map(|r| r[j]).sum::<i64>());
        if rows_ok && cols_ok && trial.iter().flatten().sum::<i64>() == grand {
            for (n, &(i, j)) in hidden.iter().enumerate() {
                values[n].insert(trial[i][j]);
            }
        }
    }
    hidden.into_iter().zip(values).collect()
}

/// No hidden cell with persons in it has a single possible value.
fn assert_nothing_derivable(counts: &[Vec<i64>]) {
    let t = suppress_table(counts);
    for ((i, j), values) in consistent_values(counts, &t) {
        assert!(values.contains(&counts[i][j]), "{counts:?}: the true value is consistent");
        if counts[i][j] > 0 {
            assert!(values.len() > 1, "{counts:?}: cell ({i}, {j}) = {} can be derived: {:?}", counts[i][j], view_with_totals(counts));
        }
    }
}

#[test]
fn a_zero_total_gives_away_what_the_line_rule_hid() {
    // A week: two women in their 20s, one in her 30s, no one else (rows: men, women, other; columns: 10s 20s 30s 40s).
    let counts = vec![vec![0, 0, 0, 0], vec![0, 2, 1, 0], vec![0, 0, 0, 0]];
    // The line rule hides the two small cells and, for their columns, the men's zeros beside them …
    assert_eq!(view(&counts), vec!["0 * * 0 | 0", "0 * * 0 | 3", "0 0 0 0 | 0"]);
    // … but the men's total is 0, so their hidden cells are 0, and the 20s total (2) minus them
    // and the published 0 gives the women's 2 back: the line rule alone leaks here.
    let men_20s = 0; // row total 0, counts are never negative
    assert_eq!(2 - men_20s - 0, counts[1][1]);
    // With the audit: the 20s and 30s totals are hidden too (hiding either alone, or the women's
    // total, leaves the 2 derivable); the women's total 3 and the area total stay published.
    assert_eq!(view_with_totals(&counts), vec!["0 * * 0 | 0", "0 * * 0 | 3", "0 0 0 0 | 0", "0 * * 0 | 3"]);
    assert_nothing_derivable(&counts);
}

#[test]
fn a_single_case_hides_its_sex_total_not_the_area_total() {
    // One person (women's row, middle age group). Its row and column totals are both 1: with
    // them published the cell is derived whatever cells are hidden.
    let counts = vec![vec![0, 0, 0], vec![0, 1, 0], vec![0, 0, 0]];
    assert_eq!(view(&counts), vec!["* * 0 | 0", "* * 0 | 1", "0 0 0 | 0"]);
    // The audit hides the first two sex totals (one alone is derived from the area total);
    // the age totals and the area total (1) stay: "one person in the middle age group".
    assert_eq!(view_with_totals(&counts), vec!["* * 0 | *", "* * 0 | *", "0 0 0 | 0", "0 1 0 | 1"]);
    assert_nothing_derivable(&counts);
}

#[test]
fn totals_of_one_to_four_stay_published_when_nothing_can_be_derived() {
    // The women's total is 3 and the last age group's 2: published, because each hidden small cell
    // still has two or more possible values.
    let counts = vec![vec![6, 5, 1], vec![0, 2, 1], vec![5, 6, 0]];
    let t = suppress_table(&counts);
    assert!(!t.row_totals[1].is_hidden() && !t.column_totals[2].is_hidden(), "{:?}", view_with_totals(&counts));
    assert_eq!(t.cells, suppress(&counts), "the line rule was enough");
    assert_nothing_derivable(&counts);
}

#[test]
fn property_no_hidden_cell_with_persons_can_be_derived() {
    let mut rng = ChaCha8Rng::seed_from_u64(20_221_121);
    for _ in 0..300 {
        let rows = rng.gen_range(2..=3);
        let cols = if rows == 3 { 2 } else { rng.gen_range(2..=3) };
        let counts: Vec<Vec<i64>> =
            (0..rows).map(|_| (0..cols).map(|_| if rng.gen_bool(0.5) { 0 } else { rng.gen_range(1..=3) }).collect()).collect();
        if counts.iter().flatten().sum::<i64>() > 4 {
            continue; // keeps the brute force small
        }
        let t = suppress_table(&counts);
        for (i, r) in counts.iter().enumerate() {
            for (j, &n) in r.iter().enumerate() {
                assert!(!(1..=4).contains(&n) || t.cells[i][j].is_hidden(), "{counts:?}");
            }
        }
        assert_nothing_derivable(&counts);
    }
}
