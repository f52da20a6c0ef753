//! Ranking rows: the best of them (the lowest minimum among those that learned and finished)
//! and the rows that tie with it within their noise.

use super::row::RateSummary;

/// The rate whose lowest validation loss (mean over the seeds, with `--seeds`) is the lowest,
/// among those that did not diverge.
pub fn best(rates: &[RateSummary]) -> Option<&RateSummary> {
    eligible(rates).min_by(|a, b| a.score().total_cmp(&b.score()))
}

/// The rates that tie with `best` (the lowest minimum) within their noise, best first: those
/// whose minimum is within the two minima's noise combined (`√(n₁² + n₂²)`).
pub fn ties<'a>(best: &'a RateSummary, rates: &'a [RateSummary]) -> Vec<&'a RateSummary> {
    let mut tied: Vec<&RateSummary> = eligible(rates)
        .filter(|r| r.score() - best.score() <= (best.noise().powi(2) + r.noise().powi(2)).sqrt())
        .collect();
    tied.sort_by(|a, b| a.score().total_cmp(&b.score()));
    tied
}

/// The rates a recommendation chooses among: learned, finished, not pruned, with a loss.
pub fn eligible(rates: &[RateSummary]) -> impl Iterator<Item = &RateSummary> {
    rates
        .iter()
        .filter(|r| r.verdict.learned() && r.unfinished.is_none() && r.score().is_finite())
        .filter(|r| r.pruned_at.is_none())
}
