//! The small-cell rule: hand-computed tables and a property over random ones.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use todoke_reports::suppression::{no_line_with_one_hidden, suppress, Visibility};

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
