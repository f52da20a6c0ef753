//! `lrsweep find`: Leslie Smith's learning-rate range test, with the suggestions users know
//! from fastai (`valley`, `steep`, `minimum/10`).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use clap::Args;
use lrsweep_data::Split;
use lrsweep_model::{DeviceData, ModelConfig, TrainConfig, Trainer};
use serde::{Deserialize, Serialize};

use crate::backend::{self, BackendChoice, Selected};
use crate::cli::DataArgs;
use crate::config::SweepConfig;
use crate::{chart, rundir, sweep, usage};

/// Smoothing of the loss (fastai's 0.98).
const BETA: f64 = 0.98;
/// The test stops once the smoothed loss exceeds this multiple of its minimum.
const DIVERGENCE: f64 = 4.0;

/// Settings of a range test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FindConfig {
    /// Most batches to train.
    pub steps: usize,
    /// First learning rate.
    pub start: f64,
    /// Last learning rate.
    pub end: f64,
}

impl Default for FindConfig {
    fn default() -> Self {
        Self {
            steps: 100,
            start: 1e-7,
            end: 10.0,
        }
    }
}

/// One step of the test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FindStep {
    /// 1-based step.
    pub step: usize,
    /// The rate of this step.
    pub rate: f64,
    /// The batch's mean loss.
    pub loss: f64,
    /// Debiased exponential moving average of the loss.
    pub smoothed: f64,
}

/// The suggestions of a range test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Suggestions {
    /// fastai's default: a rate two thirds down the longest valley of the loss curve.
    pub valley: f64,
    /// The rate where the loss falls fastest against log rate.
    pub steep: f64,
    /// The rate of the lowest loss, divided by 10.
    pub minimum_10: f64,
}

/// `find.json`: what ran and what it suggests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindResult {
    /// The settings.
    pub config: FindConfig,
    /// Seed of the model and the training order.
    pub seed: u64,
    /// Whether it stopped because the loss diverged (before `end`).
    pub diverged: bool,
    /// The suggestions (absent when too few steps ran).
    pub suggestions: Option<Suggestions>,
    /// The steps.
    pub steps: Vec<FindStep>,
}

/// Options of `lrsweep find`.
#[derive(Debug, Args)]
pub struct FindArgs {
    /// Most batches to train while the rate grows.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(5..))]
    pub steps: u64,
    /// First learning rate.
    #[arg(long, default_value_t = 1e-7, value_parser = crate::cli::parse_rate)]
    pub start: f64,
    /// Last learning rate.
    #[arg(long, default_value_t = 10.0, value_parser = crate::cli::parse_rate)]
    pub end: f64,
    /// Images per batch.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,
    /// Seed of the split, the order and the weights.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Use a stratified subset of N images.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Where to train.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendChoice,
    /// Directory for find.csv, find.png and find.json [default: runs/find-<YYYYMMDD-HHMMSS>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where the data comes from.
    #[command(flatten)]
    pub data: DataArgs,
}

/// fastai's `valley`: the longest run of decreasing loss, two thirds of the way down it.
fn valley(steps: &[FindStep]) -> f64 {
    let n = steps.len();
    let mut lds = vec![1usize; n];
    let (mut max_start, mut max_end) = (0, 0);
    for i in 1..n {
        for j in 0..i {
            if steps[i].smoothed < steps[j].smoothed && lds[i] < lds[j] + 1 {
                lds[i] = lds[j] + 1;
            }
        }
        if lds[max_end] < lds[i] {
            max_end = i;
            max_start = max_end.saturating_sub(lds[max_end]);
        }
    }
    let sections = (max_end - max_start) as f64 / 3.0;
    let idx = max_start + sections as usize + (sections / 2.0) as usize;
    steps[idx.min(n - 1)].rate
}

fn suggest(steps: &[FindStep]) -> Option<Suggestions> {
    if steps.len() < 3 {
        return None;
    }
    let steep = steps
        .windows(2)
        .map(|w| {
            (
                (w[1].smoothed - w[0].smoothed) / (w[1].rate.ln() - w[0].rate.ln()),
                w[0].rate,
            )
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, r)| r)?;
    let minimum = steps
        .iter()
        .min_by(|a, b| a.smoothed.total_cmp(&b.smoothed))?
        .rate;
    Some(Suggestions {
        valley: valley(steps),
        steep,
        minimum_10: minimum / 10.0,
    })
}

/// Runs the range test on `split` with a fresh model from `seed`. It scores with the exact
/// cross-entropy whatever the sweep uses: Keras' clipped loss saturates at 16.1 and would hide
/// the divergence the test looks for.
pub fn range_test(
    find: &FindConfig,
    model: &ModelConfig,
    train: TrainConfig,
    split: &Split,
    selected: &Selected,
) -> Result<FindResult> {
    let train = TrainConfig {
        loss: lrsweep_model::LossKind::Exact,
        ..train
    };
    let device = &selected.device;
    let mut trainer = Trainer::new(model.init(train.seed, device), train)?;
    let data = DeviceData::upload(&split.train, train.batch_size, None, device);
    let ratio = find.end / find.start;
    let (mut avg, mut best, mut steps, mut diverged) = (0.0, f64::INFINITY, Vec::new(), false);
    let mut batches = std::iter::repeat_with(|| data.batches()).flatten();
    for i in 0..find.steps {
        let rate = find.start * ratio.powf(i as f64 / (find.steps - 1).max(1) as f64);
        trainer.set_learning_rate(rate)?;
        let Some(batch) = batches.next() else { break };
        let rows = batch.x.dims()[0];
        let totals = trainer
            .train_step(batch)
            .try_into_data()
            .map_err(|e| anyhow!("the device failed: {e:?}"))?
            .try_to_vec::<f32>()
            .map_err(|e| anyhow!("the device failed: {e:?}"))?;
        let loss = totals[0] as f64 / rows as f64;
        avg = BETA * avg + (1.0 - BETA) * loss;
        let smoothed = avg / (1.0 - BETA.powi(i as i32 + 1));
        steps.push(FindStep {
            step: i + 1,
            rate,
            loss,
            smoothed,
        });
        if !smoothed.is_finite() || smoothed > DIVERGENCE * best {
            diverged = true;
            break;
        }
        best = best.min(smoothed);
    }
    // The step that diverged is not part of the curve the suggestions read.
    let curve = if diverged {
        &steps[..steps.len() - 1]
    } else {
        &steps[..]
    };
    Ok(FindResult {
        config: *find,
        seed: train.seed,
        diverged,
        suggestions: suggest(curve),
        steps,
    })
}

/// Writes `find.csv`, `find.json` and `find.png` into `dir`.
pub fn write(dir: &Path, result: &FindResult) -> Result<()> {
    let mut csv = String::from("step,rate,loss,smoothed\n");
    for s in &result.steps {
        csv += &format!("{},{},{},{}\n", s.step, s.rate, s.loss, s.smoothed);
    }
    rundir::write_atomic(&dir.join("find.csv"), csv.as_bytes())?;
    rundir::write_json(&dir.join("find.json"), result)?;
    chart::find(dir, result)
}

/// Reads a range test back from `dir` (`find.json` for its settings, `find.csv` for the exact
/// steps), recomputing the suggestions, so a report reproduces the run's summary exactly.
pub fn read(dir: &Path) -> Result<FindResult> {
    let json = dir.join("find.json");
    let text =
        std::fs::read_to_string(&json).map_err(|e| anyhow!("reading {}: {e}", json.display()))?;
    let saved: FindResult = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}: not a range test ({e})", json.display()))?;
    let csv = dir.join("find.csv");
    let text =
        std::fs::read_to_string(&csv).map_err(|e| anyhow!("reading {}: {e}", csv.display()))?;
    let mut lines = text.lines();
    if lines.next() != Some("step,rate,loss,smoothed") {
        return Err(anyhow!(
            "{} line 1: expected the header 'step,rate,loss,smoothed'",
            csv.display()
        ));
    }
    let steps = lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let bad = || {
                anyhow!(
                    "{} line {}: expected step,rate,loss,smoothed numbers",
                    csv.display(),
                    i + 2
                )
            };
            if f.len() != 4 {
                return Err(bad());
            }
            Ok(FindStep {
                step: f[0].parse().map_err(|_| bad())?,
                rate: f[1].parse().map_err(|_| bad())?,
                loss: f[2].parse().map_err(|_| bad())?,
                smoothed: f[3].parse().map_err(|_| bad())?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let curve = if saved.diverged && !steps.is_empty() {
        &steps[..steps.len() - 1]
    } else {
        &steps[..]
    };
    Ok(FindResult {
        suggestions: suggest(curve),
        steps,
        ..saved
    })
}

/// A suggested rate with three significant digits (they are not round numbers).
pub fn short(rate: f64) -> String {
    format!("{rate:.2e}")
}

/// One line saying what the test suggests.
pub fn describe(result: &FindResult) -> String {
    match &result.suggestions {
        Some(s) => format!(
            "range test ({} steps{}): valley {}, steep {}, minimum/10 {}",
            result.steps.len(),
            if result.diverged {
                ", stopped at divergence"
            } else {
                ""
            },
            short(s.valley),
            short(s.steep),
            short(s.minimum_10)
        ),
        None => "range test: too few steps for a suggestion".to_string(),
    }
}

/// `lrsweep find`.
pub fn run(args: &FindArgs) -> Result<()> {
    if args.start >= args.end {
        return Err(usage(anyhow!(
            "--start {} must be below --end {}",
            args.start,
            args.end
        )));
    }
    let config = SweepConfig {
        batch_size: args.batch_size as usize,
        seed: args.seed,
        data: args.data.to_config(0.15, args.limit),
        ..SweepConfig::default()
    };
    let out = rundir::fresh_out(args.out.clone(), Some("find"))?;
    let (_, split) = sweep::load_data(&config)?;
    let selected = backend::select(args.backend).map_err(usage)?;
    let find = FindConfig {
        steps: args.steps as usize,
        start: args.start,
        end: args.end,
    };
    let result = range_test(
        &find,
        &config.model(),
        config.train(args.start, selected.update),
        &split,
        &selected,
    )?;
    std::fs::create_dir_all(&out).map_err(|e| anyhow!("creating {}: {e}", out.display()))?;
    write(&out, &result)?;
    crate::say(&describe(&result))?;
    crate::say(&format!("Written to {}", out.display()))
}
