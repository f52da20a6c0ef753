//! The one check of a run's settings: what the command line refuses before anything is
//! written, and what every read of `config.json` refuses before anything is built from it.

use super::settings::SweepConfig;

/// The smallest rate accepted. Adam's step is about the rate itself, and below this a step is
/// under a fiftieth of the f32 spacing of the network's typical weight (0.05: spacing 3.7e-9), so
/// the weights could not move: training would make no progress.
pub const MIN_RATE: f64 = 1e-10;

/// The largest rate accepted: the largest finite f32, the precision training runs in.
pub const MAX_RATE: f64 = f32::MAX as f64;

/// The most seeds a rate trains under: each is a full run.
pub const MAX_SEEDS: usize = 20;

/// The most rates a refinement adds: each trains a full run, and more than this many between
/// two neighbouring rates tells nothing new.
pub const MAX_REFINE: usize = 20;

/// The most batch sizes a run lists.
pub const MAX_BATCH_SIZES: usize = 128;

/// The longest file name most filesystems take, in bytes.
pub const NAME_MAX: usize = 255;

/// Settings no run can train with: what is wrong, in a sentence that names the option and the
/// fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// Whether `rate` is one lrsweep trains.
pub fn rate_ok(rate: f64) -> bool {
    (MIN_RATE..=MAX_RATE).contains(&rate)
}

impl SweepConfig {
    /// Refuses settings no run can train with, naming the first problem: every bound the
    /// command line's parsers keep (a crafted `config.json` is held to them too) and every rule
    /// between settings.
    pub fn validate(&self) -> Result<(), Invalid> {
        let least = |flag: &str, n: usize| {
            (n >= 1)
                .then_some(())
                .ok_or_else(|| Invalid(format!("{flag} {n}: must be at least 1")))
        };
        least("--epochs", self.epochs)?;
        least("--batch-size", self.batch_size)?;
        for &b in &self.batch_sizes {
            least("--batch-size", b)?;
        }
        if self.batch_sizes.len() > MAX_BATCH_SIZES {
            return Err(Invalid(format!(
                "--batch-size lists {} sizes; at most {MAX_BATCH_SIZES} (each is a stack, an overview and a curve of its own)",
                self.batch_sizes.len()
            )));
        }
        if !self.batch_sizes.is_empty() && !self.batch_sizes.contains(&self.batch_size) {
            return Err(Invalid(format!(
                "batch sizes {:?} without the run's own size {}",
                self.batch_sizes, self.batch_size
            )));
        }
        if self.hidden.0.is_empty() {
            return Err(Invalid("no --hidden".to_string()));
        }
        if self.activations.is_empty() || self.inits.is_empty() || self.dropouts.is_empty() {
            return Err(Invalid("no --activation, --dropout or --init".to_string()));
        }
        if self.optimizers.is_empty() {
            return Err(Invalid("no --optimizer".to_string()));
        }
        for o in &self.optimizers {
            o.check().map_err(|e| Invalid(format!("--optimizer {e}")))?;
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Invalid(format!(
                "--weight-decay {}: a weight decay must be a finite number at least 0 (e.g. 1e-4; 0 is none)",
                self.weight_decay
            )));
        }
        for o in &self.optimizer_rates {
            if o.rates.is_empty() || !o.rates.iter().all(|&r| rate_ok(r)) {
                return Err(Invalid(format!("{}'s rates {:?}", o.optimizer, o.rates)));
            }
        }
        if let Some(&p) = self.dropouts.iter().find(|&&p| !(0.0..1.0).contains(&p)) {
            return Err(Invalid(format!(
                "--dropout {p}: a drop probability must be at least 0 and below 1 (e.g. 0.2; 0 is none)"
            )));
        }
        if let Some(p) = self.patience {
            least("--patience", p)?;
        }
        if self.refine > MAX_REFINE {
            return Err(Invalid(format!(
                "--refine {}: at most {MAX_REFINE}",
                self.refine
            )));
        }
        if !(1..=MAX_SEEDS).contains(&self.seeds) {
            return Err(Invalid(format!(
                "--seeds {}: between 1 and {MAX_SEEDS}",
                self.seeds
            )));
        }
        let f = self.data.val_fraction;
        if !(f > 0.0 && f < 1.0) {
            return Err(Invalid(format!(
                "--val-fraction {f}: not strictly between 0 and 1 (e.g. 0.15)"
            )));
        }
        if self.rates.is_empty() || !self.rates.iter().all(|&r| rate_ok(r)) {
            return Err(Invalid(format!(
                "--rates {:?}: a rate outside {MIN_RATE:e}..={MAX_RATE:.2e}",
                self.rates
            )));
        }
        if self.schedules.is_empty() {
            return Err(Invalid("no --schedule".to_string()));
        }
        if self.warmup >= self.epochs {
            return Err(Invalid(format!(
                "--warmup {}: a warm-up must leave epochs for the schedule: give fewer than --epochs {}",
                self.warmup, self.epochs
            )));
        }
        if let Some(h) = &self.prune {
            let refuse = |why: String| Err(Invalid(format!("--prune {h}: {why}")));
            if h.eta < 2 || h.min < 1 {
                return refuse("ETA must be at least 2 and MIN at least 1".to_string());
            }
            if let Err(why) = h.check(self.epochs) {
                return refuse(why);
            }
            if self.seeds > 1 {
                return refuse(format!(
                    "not with --seeds {}: a rung ranks one curve per rate, and a rate's seeds may stop at different epochs; prune with one seed, or compare seeds without pruning",
                    self.seeds
                ));
            }
        }
        // A rate scaled for its batch size is a rate Adam takes: in the same range.
        for arm in self.listed_arms() {
            let effective = self.effective_rate(arm);
            if !rate_ok(effective) {
                return Err(Invalid(format!(
                    "--scale-lr {} makes the rate {} at batch size {} an effective rate of {effective:e}, outside {MIN_RATE:e}..={MAX_RATE:.2e}; list rates whose scaled values fall inside, or scale with another rule",
                    self.scale_lr,
                    arm.rate,
                    self.batch_of(arm.group)
                )));
            }
        }
        // Every member's directory, and its chart beside it (`<name>.svg`), must be a name the
        // filesystem takes, with room for a refined rate's label (at most 16 characters where
        // a listed one may be shorter).
        let first = self.first_network();
        for unit in self.units(&self.listed_arms()) {
            let name = unit.dir_name(self.seed, &first);
            if name.len() + ".svg".len() + 16 > NAME_MAX {
                let head: String = name.chars().take(48).collect();
                return Err(Invalid(format!(
                    "the member directory '{head}…' would be {} bytes, and a file name takes at most {NAME_MAX}: a --schedule, --hidden, --dropout or --optimizer value is written out too long (a schedule factor such as exp:1e-300 is written in full); give shorter values",
                    name.len()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_is_valid_and_each_bound_is_named() {
        assert_eq!(SweepConfig::default().validate(), Ok(()));
        let bad = |f: &dyn Fn(&mut SweepConfig)| {
            let mut c = SweepConfig::default();
            f(&mut c);
            c.validate().unwrap_err().0
        };
        assert!(bad(&|c| c.epochs = 0).contains("--epochs 0"));
        assert!(bad(&|c| c.dropouts = vec![1.0]).contains("--dropout 1"));
        assert!(bad(&|c| c.dropouts = vec![-0.1]).contains("--dropout -0.1"));
        assert!(bad(&|c| c.seeds = 21).contains("--seeds 21"));
        assert!(bad(&|c| c.rates = vec![1e-11]).contains("a rate outside"));
        assert!(bad(&|c| c.warmup = 150).contains("--warmup 150"));
        assert!(bad(&|c| {
            c.prune = Some(Default::default());
            c.seeds = 2
        })
        .contains("not with --seeds 2"));
        // Pruning ranks each group's rates among themselves: several groups are fine.
        let c = SweepConfig {
            prune: Some(Default::default()),
            schedules: vec![Default::default(), "cosine".parse().unwrap()],
            optimizers: vec![Default::default(), "sgd:0.9".parse().unwrap()],
            ..Default::default()
        };
        assert_eq!(c.validate(), Ok(()));
        assert!(bad(&|c| c.weight_decay = -1.0).contains("--weight-decay -1"));
        assert!(bad(&|c| c.optimizers = Vec::new()).contains("no --optimizer"));
        assert!(bad(&|c| {
            c.prune = Some(Default::default());
            c.epochs = 3
        })
        .contains("would never prune"));
        // Issue 37, class 17: thousands of batch sizes (a crafted config.json).
        assert!(bad(&|c| {
            c.batch_sizes = (1..=1000).collect();
            c.batch_size = 1;
        })
        .contains("at most 128"));
        // Issue 37, class 16: an effective rate out of range.
        assert!(bad(&|c| {
            c.rates = vec![1e-10];
            c.batch_size = 8;
            c.scale_lr = crate::config::ScaleLr::Linear;
        })
        .contains("an effective rate of 3.125e-12"));
        // Issue 37, class 13: a name too long for the filesystem, refused before anything.
        assert!(bad(&|c| c.schedules = vec!["exp:1e-300".parse().unwrap()])
            .contains("a file name takes at most 255"));
    }
}
