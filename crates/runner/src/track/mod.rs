//! The trackers a sweep reaches beyond its run directory (TensorBoard's event files are run
//! files: `store/tfevents`): MLflow, logged live by a background worker and brought up to date
//! afterwards by `lrsweep track`.

pub mod mlflow;
