//! Training one rate of a sweep: continue or skip what a resume finds, then after every epoch
//! report progress, save model files and the checkpoint, append the metrics and decide on
//! early stopping.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lrsweep_model::{EpochRecord, Fit, Flow, Trainer};

use super::{interrupt, interrupted, Sweep};
use crate::analysis::summary;
use crate::config::{rate_label, SweepConfig};
use crate::render::chart;
use crate::render::progress::Progress;
use crate::store::checkpoint::{self, Checkpoint};
use crate::store::metrics::MetricsWriter;
use crate::store::model_file::{self, ModelMeta};

/// What a resume finds for a rate.
enum Previous {
    /// Nothing to continue from: train from the start.
    Nothing,
    /// The rate finished before: its records.
    Finished(Vec<EpochRecord>),
    /// An unfinished rate's checkpoint.
    Checkpoint(Checkpoint),
}

/// Whether a rate with these records is done: all epochs, diverged, or stopped early.
fn finished(config: &SweepConfig, records: &[EpochRecord]) -> bool {
    records.len() >= config.epochs
        || records.last().is_some_and(|r| r.diverged())
        || config
            .patience
            .is_some_and(|p| summary::patience_stop(records, p).is_some())
}

/// Everything that happens after an epoch, for one rate.
struct EpochSink<'a> {
    config: &'a SweepConfig,
    rate: f64,
    label: &'a str,
    dir: &'a Path,
    progress: &'a Progress,
    metrics: MetricsWriter,
    records: Vec<EpochRecord>,
    best_loss: f64,
    /// The first write that failed: training stops and the error is reported.
    error: Option<anyhow::Error>,
}

impl EpochSink<'_> {
    fn on_epoch(&mut self, record: &EpochRecord, trainer: &Trainer) -> Flow {
        self.progress.epoch(self.label, self.config.epochs, record);
        self.records.push(*record);
        let stop_early = self
            .config
            .patience
            .is_some_and(|p| summary::patience_stop(&self.records, p).is_some());
        match self.save(record, trainer, stop_early) {
            Ok(()) if stop_early => {
                self.progress.println(&format!(
                    "learning rate {}: validation loss has not improved for {} epochs; stopping at epoch {}",
                    self.label,
                    self.config.patience.unwrap_or_default(),
                    record.epoch
                ));
                Flow::Stop
            }
            Ok(()) => Flow::Continue,
            Err(e) => {
                self.error = Some(e);
                Flow::Stop
            }
        }
    }

    /// Model files before the checkpoint: a crash between the two retrains the epoch
    /// (identically) and writes them again, never leaving them behind the checkpoint.
    fn save(&mut self, record: &EpochRecord, trainer: &Trainer, stop_early: bool) -> Result<()> {
        let meta = ModelMeta::new(self.config, self.rate, record);
        if record.val_loss < self.best_loss {
            self.best_loss = record.val_loss;
            model_file::save(self.dir, "best", trainer, &meta)?;
        }
        let last = record.epoch >= self.config.epochs || stop_early || record.diverged();
        if last {
            if self.config.restore_best {
                model_file::copy(self.dir, "best", "model")?;
            } else {
                model_file::save(self.dir, "model", trainer, &meta)?;
            }
        }
        let state = trainer.state()?;
        checkpoint::save(
            &self.dir.join(checkpoint::FILE),
            self.rate,
            &self.records,
            &state,
        )?;
        self.metrics.append(record)
    }
}

impl Sweep<'_> {
    /// On a resume: the records of a rate that finished, or the checkpoint to continue from.
    fn previous(&self, rate: f64, dir: &Path) -> Previous {
        let label = rate_label(rate);
        if !self.resuming || !dir.exists() {
            return Previous::Nothing;
        }
        if let Ok(records) = crate::store::metrics::read_metrics(&dir.join("metrics.csv")) {
            if finished(self.config, &records) {
                return Previous::Finished(records);
            }
        }
        let path = dir.join(checkpoint::FILE);
        if !path.exists() {
            self.progress.println(&format!(
                "learning rate {label}: no checkpoint; training it from the start"
            ));
            return Previous::Nothing;
        }
        match checkpoint::load(&path, rate) {
            Ok(c) => {
                self.progress.println(&format!(
                    "learning rate {label}: continuing after epoch {} from its checkpoint",
                    c.records.len()
                ));
                Previous::Checkpoint(c)
            }
            Err(e) => {
                self.progress.println(&format!(
                    "learning rate {label}: {e:#}; training it again from the start"
                ));
                Previous::Nothing
            }
        }
    }

    /// Trains `rate` (or keeps it, when a resume finds it finished) and draws its chart.
    pub(super) fn train_rate(&mut self, rate: f64) -> Result<()> {
        let label = rate_label(rate);
        self.record.rates_trained = self.runs.iter().map(|(r, _)| *r).collect();
        self.record.rates_trained.push(rate);
        self.record.write(self.out)?;
        let dir: PathBuf = self.out.join(format!("lr-{label}"));
        let resume = match self.previous(rate, &dir) {
            Previous::Finished(records) => {
                self.progress.println(&format!(
                    "learning rate {label}: finished before, kept as it is"
                ));
                chart::rate_chart(self.out, &format!("lr-{label}"), &label, &records)?;
                self.runs.push((rate, records));
                return Ok(());
            }
            Previous::Checkpoint(c) => Some(c),
            Previous::Nothing => None,
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut metrics = MetricsWriter::create(&dir.join("metrics.csv"))?;
        let records: Vec<EpochRecord> =
            resume.as_ref().map_or_else(Vec::new, |c| c.records.clone());
        for r in &records {
            metrics.append(r)?;
        }
        let total = self.config.rates.len() + self.config.refine;
        self.progress.start_rate(
            &label,
            self.runs.len(),
            total.max(self.record.rates_trained.len()),
            self.config.epochs,
        );
        let mut sink = EpochSink {
            config: self.config,
            rate,
            label: &label,
            dir: &dir,
            progress: &self.progress,
            metrics,
            best_loss: records
                .iter()
                .map(|r| r.val_loss)
                .filter(|l| l.is_finite())
                .fold(f64::INFINITY, f64::min),
            records,
            error: None,
        };
        let (model, train) = (
            self.config.model(),
            self.config.train(rate, self.selected.update),
        );
        let mut fit = Fit::new(
            &model,
            &train,
            &self.split.train,
            &self.split.valid,
            &self.selected.device,
        )
        .interrupt(interrupt::flag());
        if let Some(c) = &resume {
            fit = fit.resume(&c.state, c.records.clone());
        }
        let trained = fit
            .run(|record, trainer| sink.on_epoch(record, trainer))
            .with_context(|| format!("training learning rate {label}"))?;
        if let Some(e) = sink.error {
            return Err(e.context(format!(
                "saving learning rate {label}; what was written before stays valid"
            )));
        }
        if interrupt::requested() && !finished(self.config, &trained) {
            self.progress.finish();
            return Err(interrupted(self.out));
        }
        if let Some(bad) = trained.iter().find(|r| r.diverged()) {
            self.progress.println(&format!(
                "learning rate {label} diverged at epoch {} (loss NaN or infinite); going on with the other rates",
                bad.epoch
            ));
        }
        chart::rate_chart(self.out, &format!("lr-{label}"), &label, &trained)?;
        self.runs.push((rate, trained));
        Ok(())
    }
}
