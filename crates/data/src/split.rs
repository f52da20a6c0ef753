//! Stratified, seeded, portable splits and subsets.
//!
//! The generator is ChaCha8 and the shuffle is written out here (Fisher–Yates with unbiased
//! rejection sampling), so a seed gives the same split on every machine and every version of
//! `rand`.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{DataError, Result};
use crate::values::Label;

/// A seeded generator whose stream is fixed by its algorithm, not by the platform.
pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A uniform integer in `0..n` (n > 0), without modulo bias.
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX - n + 1) % n;
    loop {
        let x = rng.next_u64();
        if x <= zone {
            return x % n;
        }
    }
}

/// Shuffles in place (Fisher–Yates).
pub(crate) fn shuffle<T>(items: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// A seeded random permutation of `0..n` (e.g. a per-epoch training order).
pub fn seeded_permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut order, &mut rng(seed));
    order
}

/// Counts per class, for `classes` classes.
pub fn class_counts(labels: &[Label], classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    for &l in labels {
        counts[l as usize] += 1;
    }
    counts
}

/// Splits `total` among classes in proportion to `counts`, by largest remainder (ties to the
/// lower class), so each share is within 1 of its exact proportion and the shares sum to `total`.
pub fn proportional_shares(counts: &[usize], total: usize) -> Vec<usize> {
    let n: usize = counts.iter().sum();
    let mut shares = vec![0; counts.len()];
    if n == 0 {
        return shares;
    }
    let mut remainders = Vec::with_capacity(counts.len());
    for (c, &count) in counts.iter().enumerate() {
        let exact = count as u128 * total as u128;
        shares[c] = (exact / n as u128) as usize;
        remainders.push((exact % n as u128, c));
    }
    let left = total - shares.iter().sum::<usize>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, c) in remainders.iter().take(left) {
        shares[c] += 1;
    }
    shares
}

/// Indices of each class, each list shuffled.
fn shuffled_by_class(labels: &[Label], classes: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    let mut by_class = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    for list in &mut by_class {
        shuffle(list, rng);
    }
    by_class
}

/// Stratified split of the items into `(train, validation)` index lists: validation has
/// `ceil(fraction × N)` items, each class within 1 of its share; both lists in a seeded random
/// order. Every class present must land at least one item in each part (`class_names` name it
/// when one cannot).
pub fn stratified_split(
    labels: &[Label],
    class_names: &[String],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let n_classes = class_names.len();
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(DataError::InvalidSplit(format!(
            "validation fraction {fraction} is not between 0 and 1 (exclusive); use e.g. --val-fraction 0.15"
        )));
    }
    let n = labels.len();
    let n_val = (fraction * n as f64).ceil() as usize;
    // Each part needs every class present at least once: fewer validation images than classes
    // cannot score the classes at all.
    let counts = class_counts(labels, n_classes);
    let classes = counts.iter().filter(|&&c| c > 0).count().max(1);
    if n_val < classes || n.saturating_sub(n_val) < classes {
        // No fraction can do when there are more classes than half the items: say so, and
        // what the label column may be instead, rather than a range that cannot be chosen.
        if 2 * classes > n {
            return Err(DataError::InvalidSplit(format!(
                "the {n} items hold {classes} classes, and each class needs at least two items (one in each part): no --val-fraction can split them; give more items per class, or check the label column (one that holds an ID or a measurement has about as many values as rows)"
            )));
        }
        return Err(DataError::InvalidSplit(format!(
            "a validation fraction of {fraction} of {n} items leaves {} for training and {n_val} for validation; each part needs at least one item of each of the {classes} classes: choose a --val-fraction between {:.4} and {:.4}",
            n.saturating_sub(n_val),
            classes as f64 / n as f64,
            1.0 - classes as f64 / n as f64
        )));
    }
    let mut rng = rng(seed);
    let mut shares = proportional_shares(&counts, n_val);
    // A class too small for a proportional validation item still gets one (from the class with
    // the largest share), so every class is scored; one item cannot be in both parts.
    for c in 0..counts.len() {
        if counts[c] >= 2 && shares[c] == 0 {
            let donor = (0..shares.len())
                .filter(|&d| shares[d] > 1)
                .max_by_key(|&d| (shares[d], std::cmp::Reverse(d)));
            if let Some(d) = donor {
                shares[d] -= 1;
                shares[c] = 1;
            }
        }
    }
    for (c, (&count, &k)) in counts.iter().zip(&shares).enumerate() {
        if count > 0 && (k == 0 || k == count) {
            return Err(DataError::InvalidSplit(format!(
                "class '{}' has {count} item{} of {n}: a validation fraction of {fraction} puts {k} of {} in validation, and each part needs at least one; give that class more rows, choose another --val-fraction, or pass a validation file with --val",
                class_names[c],
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "them" },
            )));
        }
    }
    let (mut train, mut valid) = (Vec::with_capacity(n - n_val), Vec::with_capacity(n_val));
    for (list, &k) in shuffled_by_class(labels, n_classes, &mut rng)
        .iter()
        .zip(&shares)
    {
        valid.extend_from_slice(&list[..k]);
        train.extend_from_slice(&list[k..]);
    }
    shuffle(&mut train, &mut rng);
    shuffle(&mut valid, &mut rng);
    Ok((train, valid))
}

/// A stratified subset of `limit` items (class proportions kept), in ascending index order.
pub fn stratified_subset(
    labels: &[Label],
    classes: usize,
    limit: usize,
    seed: u64,
) -> Result<Vec<usize>> {
    let counts = class_counts(labels, classes);
    let present = counts.iter().filter(|&&c| c > 0).count();
    if limit < present || limit > labels.len() {
        return Err(DataError::InvalidSplit(format!(
            "--limit {limit} is outside {present}..={}: a stratified subset needs at least one image per class and at most the whole set",
            labels.len()
        )));
    }
    let mut rng = rng(seed ^ 0x5eed_5eed_5eed_5eed);
    let shares = proportional_shares(&counts, limit);
    let mut picked: Vec<usize> = shuffled_by_class(labels, classes, &mut rng)
        .iter()
        .zip(&shares)
        .flat_map(|(list, &k)| list[..k].iter().copied())
        .collect();
    picked.sort_unstable();
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        (0..10).map(|c| c.to_string()).collect()
    }

    fn labels(n: usize) -> Vec<Label> {
        // Uneven classes: class c has weight c + 1.
        (0..n)
            .map(|i| {
                let mut r = i % 55;
                let mut c = 0;
                while r > c {
                    r -= c + 1;
                    c += 1;
                }
                c as Label
            })
            .collect()
    }

    #[test]
    fn shares_sum_and_stay_within_one() {
        let counts = [6903, 7877, 6990, 7141, 6824, 6313, 6876, 7293, 6825, 6958];
        let shares = proportional_shares(&counts, 10_500);
        assert_eq!(shares.iter().sum::<usize>(), 10_500);
        for (s, c) in shares.iter().zip(counts) {
            let exact = c as f64 * 10_500.0 / 70_000.0;
            assert!((*s as f64 - exact).abs() < 1.0, "{s} vs {exact}");
        }
    }

    #[test]
    fn split_is_stratified_complete_disjoint_and_seeded() {
        let labels = labels(1_000);
        let (train, valid) = stratified_split(&labels, &names(), 0.15, 42).unwrap();
        assert_eq!(valid.len(), 150);
        assert_eq!(train.len(), 850);
        let mut all: Vec<usize> = train.iter().chain(&valid).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1_000).collect::<Vec<_>>());
        let vl: Vec<Label> = valid.iter().map(|&i| labels[i]).collect();
        let counts = class_counts(&labels, 10);
        for (c, v) in class_counts(&vl, 10).iter().enumerate() {
            let exact = counts[c] as f64 * 0.15;
            assert!((*v as f64 - exact).abs() < 1.0, "class {c}: {v} vs {exact}");
        }
        // Not in index order: shuffled.
        assert!(train.windows(2).any(|w| w[0] > w[1]));
        assert_eq!(
            stratified_split(&labels, &names(), 0.15, 42).unwrap(),
            (train.clone(), valid)
        );
        assert_ne!(
            stratified_split(&labels, &names(), 0.15, 7).unwrap().0,
            train
        );
    }

    #[test]
    fn bad_parameters_are_refused() {
        let labels = labels(100);
        for f in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(stratified_split(&labels, &names(), f, 1).is_err(), "{f}");
        }
        assert!(stratified_subset(&labels, 10, 5, 1).is_err());
        assert!(stratified_subset(&labels, 10, 101, 1).is_err());
        let sub = stratified_subset(&labels, 10, 30, 1).unwrap();
        assert_eq!(sub.len(), 30);
        assert!(sub.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_class_too_small_for_both_parts_is_named() {
        let mut labels = labels(200);
        let mut names = names();
        // Class 0 has 3 items of 200: its proportional share (0.45) rounds to none, yet it is
        // scored with one validation item.
        let (train, valid) = stratified_split(&labels, &names, 0.15, 1).unwrap();
        assert_eq!(valid.iter().filter(|&&i| labels[i] == 0).count(), 1);
        assert_eq!(valid.len(), 30);
        assert_eq!(train.len(), 170);
        names.push("rare".into());
        labels[1] = 10;
        let err = stratified_split(&labels, &names, 0.15, 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("class 'rare' has 1 item"), "{err}");
    }

    #[test]
    fn generator_stream_is_pinned() {
        // Guards portability: if the generator or the shuffle changes, old splits change too.
        let mut v: Vec<u32> = (0..10).collect();
        shuffle(&mut v, &mut rng(42));
        let mut w: Vec<u32> = (0..10).collect();
        shuffle(&mut w, &mut rng(42));
        assert_eq!(v, w);
        assert_ne!(v, (0..10).collect::<Vec<_>>());
    }
}
