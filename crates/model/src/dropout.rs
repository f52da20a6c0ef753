//! Inverted dropout's masks (as Keras' `Dropout` and PyTorch's `nn.Dropout` apply it: during
//! training each hidden unit is kept with probability `1 − p` and scaled by `1/(1 − p)`, and
//! nothing is dropped when scoring), drawn from a counter-based stream: whether a unit is kept
//! is a hash of the member's seed, its step, the layer and the unit's place in the batch. No
//! generator state is carried, so a member draws the same masks stacked or alone, on either
//! engine, in one run or resumed from its checkpoint at any step.

/// splitmix64's finaliser: a 64-bit mix whose outputs look independent for nearby inputs.
#[inline(always)]
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform number in [0, 1) for unit `index` (its row in the batch times the layer's width,
/// plus its column) of hidden layer `layer` at Adam step `step` of a member seeded `seed`.
#[inline(always)]
pub fn uniform(seed: u64, step: u64, layer: usize, index: usize) -> f32 {
    let key = mix(seed ^ 0x5851_F42D_4C95_7F2D)
        ^ mix(step.wrapping_add(0x9E37_79B9_7F4A_7C15))
        ^ mix(((layer as u64) << 48) ^ index as u64 ^ 0xD1B5_4A32_D192_ED03);
    // The top 24 bits: every f32 in [0, 1) they make is exact.
    (mix(key) >> 40) as f32 / (1u64 << 24) as f32
}

/// The mask of a batch of `rows` items for hidden layer `layer` of `width` units at step
/// `step` of a member seeded `seed`, with drop probability `p`: each unit's factor, 0 (dropped)
/// or `1/(1 − p)` (kept), row by row.
pub fn mask(seed: u64, step: u64, layer: usize, rows: usize, width: usize, p: f64) -> Vec<f32> {
    let keep = (1.0 / (1.0 - p)) as f32;
    let p = p as f32;
    (0..rows * width)
        .map(|i| {
            if uniform(seed, step, layer, i) >= p {
                keep
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_fraction_and_scale_are_dropouts_and_the_masks_are_reproducible() {
        for p in [0.1, 0.2, 0.5, 0.9] {
            let m = mask(42, 7, 1, 256, 512, p);
            let n = m.len() as f64;
            let kept = m.iter().filter(|&&x| x > 0.0).count() as f64;
            // Binomial: within 5 standard deviations of n(1 − p).
            let sd = (n * p * (1.0 - p)).sqrt();
            assert!(
                (kept - n * (1.0 - p)).abs() < 5.0 * sd,
                "p {p}: {kept} of {n}"
            );
            // Every kept unit scaled by 1/(1 − p): the mask's mean is 1 (inverted dropout).
            assert!(m
                .iter()
                .all(|&x| x == 0.0 || (x as f64 - 1.0 / (1.0 - p)).abs() < 1e-6));
            let mean = m.iter().map(|&x| x as f64).sum::<f64>() / n;
            assert!(
                (mean - 1.0).abs() < 5.0 * sd / n / (1.0 - p),
                "p {p}: mean {mean}"
            );
        }
        // The same seed, step and layer: the same mask; another of any: another mask.
        let a = mask(42, 7, 1, 64, 32, 0.5);
        assert_eq!(a, mask(42, 7, 1, 64, 32, 0.5));
        for other in [
            mask(43, 7, 1, 64, 32, 0.5),
            mask(42, 8, 1, 64, 32, 0.5),
            mask(42, 7, 2, 64, 32, 0.5),
        ] {
            let same = a.iter().zip(&other).filter(|(x, y)| x == y).count();
            assert!(same < a.len() * 6 / 10, "{same} of {} equal", a.len());
        }
        // Units of neighbouring rows and columns are uncorrelated: about half agree.
        let rows: Vec<bool> = (0..4096).map(|i| uniform(1, 1, 0, i) < 0.5).collect();
        let agree = rows.windows(2).filter(|w| w[0] == w[1]).count() as f64 / 4095.0;
        assert!((agree - 0.5).abs() < 0.05, "{agree}");
    }
}
