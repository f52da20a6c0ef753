//! How a part's values are made from a data set's: the [`Scaling`] fitted on the training part.

use serde::{Deserialize, Serialize};

use crate::values::{Scale, Values};

/// How a part's values are made from a data set's: the [`Scale`] made concrete, with the
/// training part's per-feature mean and standard deviation for `standard`. A model file records
/// it, so that any file it scores later is scaled exactly as its training part was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scaling {
    /// Pixels stay bytes, divided by 255 as they are read (`unit` on pixels; numbers given
    /// for such a model are taken as pixel values, 0 to 255).
    Bytes,
    /// `(v - shift[j]) * factor[j]` per feature `j`.
    Affine {
        /// Subtracted from each feature.
        shift: Vec<f64>,
        /// Then multiplied.
        factor: Vec<f64>,
    },
}

impl Scaling {
    /// The scaling of `scale` for `values` (items `width` wide), fitted on the items `train`.
    pub(crate) fn fit(scale: Scale, values: &Values, width: usize, train: &[usize]) -> Self {
        let pixels = matches!(values, Values::Pixels(_));
        match scale {
            Scale::Unit if pixels => Scaling::Bytes,
            Scale::Unit => Scaling::Affine {
                shift: vec![0.0; width],
                factor: vec![1.0 / 255.0; width],
            },
            Scale::None => Scaling::Affine {
                shift: vec![0.0; width],
                factor: vec![1.0; width],
            },
            Scale::Standard => {
                let (mut sum, mut sq) = (vec![0f64; width], vec![0f64; width]);
                for &i in train {
                    for (j, v) in values.row(width, i).enumerate() {
                        sum[j] += v;
                        sq[j] += v * v;
                    }
                }
                let n = train.len().max(1) as f64;
                let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
                let factor = sq
                    .iter()
                    .zip(&mean)
                    .map(|(q, m)| {
                        let var = (q / n - m * m).max(0.0);
                        // A constant feature carries nothing: it becomes 0, not a division by 0.
                        if var > 1e-12 * (1.0 + m * m) {
                            1.0 / var.sqrt()
                        } else {
                            0.0
                        }
                    })
                    .collect();
                Scaling::Affine {
                    shift: mean,
                    factor,
                }
            }
        }
    }
}

/// How a regression's targets are standardised: each target minus the training part's mean,
/// divided by its standard deviation (the population's, as scikit-learn's `StandardScaler`).
/// The network learns and predicts standardised targets; metrics and predictions are turned
/// back into the targets' own units with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetScaling {
    /// The training part's mean of each target.
    pub mean: Vec<f64>,
    /// The training part's standard deviation of each target (above 0).
    pub sd: Vec<f64>,
}

impl TargetScaling {
    /// Fitted on the items `train` of `targets` (`outputs` per item); none when a target is
    /// constant on those items (its index is returned to be named).
    pub(crate) fn fit(
        targets: &[f64],
        outputs: usize,
        train: &[usize],
    ) -> std::result::Result<Self, usize> {
        let n = train.len().max(1) as f64;
        let mut mean = vec![0f64; outputs];
        for &i in train {
            for (m, t) in mean
                .iter_mut()
                .zip(&targets[i * outputs..(i + 1) * outputs])
            {
                *m += t;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0f64; outputs];
        for &i in train {
            for (k, t) in targets[i * outputs..(i + 1) * outputs].iter().enumerate() {
                var[k] += (t - mean[k]).powi(2);
            }
        }
        let sd: Vec<f64> = var.iter().map(|v| (v / n).sqrt()).collect();
        match sd
            .iter()
            .zip(&mean)
            .position(|(s, m)| s.is_nan() || *s <= 1e-12 * (1.0 + m.abs()))
        {
            Some(k) => Err(k),
            None => Ok(Self { mean, sd }),
        }
    }

    /// `value` of target `k` standardised.
    pub fn standardise(&self, k: usize, value: f64) -> f64 {
        (value - self.mean[k]) / self.sd[k]
    }

    /// A standardised value of target `k` in the target's own units.
    pub fn restore(&self, k: usize, value: f64) -> f64 {
        value * self.sd[k] + self.mean[k]
    }
}
