//! Kernel launches per training step on a cubecl backend (wgpu), for `bench`.

use super::choice::Selected;

/// Kernel launches per training step of a stack of `rates` on a cubecl backend (wgpu), counted
/// with cubecl's launch observer over ten steps after two of warm-up, the steps' totals summed
/// and read back as an epoch does; `None` where it could not be counted.
pub fn launches_per_step(
    model: &lrsweep_model::ModelConfig,
    train: &lrsweep_model::TrainConfig,
    rates: &[f64],
    split: &lrsweep_data::Split,
    selected: &Selected,
) -> Option<f64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use cubecl_runtime::logging::{LaunchObservation, LaunchObserver};
    use lrsweep_model::{DeviceData, Member, TensorStack};

    struct Count(AtomicU64);
    impl LaunchObserver for Count {
        fn launched(&self, _kernel: &'static str) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    const STEPS: usize = 10;
    let members: Vec<Member> = rates.iter().map(|&rate| Member::fresh(rate)).collect();
    let mut stack = TensorStack::new(model, *train, &members, &selected.device).ok()?;
    let data = DeviceData::upload(&split.train, train.batch_size, None, &selected.device);
    let mut batches = data.batches();
    let mut run = |n: usize| -> Option<usize> {
        let mut totals = None;
        let mut steps = 0;
        for batch in batches.by_ref().take(n) {
            let t = stack.train_step(batch);
            totals = Some(match totals {
                Some(acc) => acc + t,
                None => t,
            });
            steps += 1;
        }
        totals?.try_into_data().ok()?;
        Some(steps)
    };
    run(2)?;
    let count = Arc::new(Count(AtomicU64::new(0)));
    let watching = LaunchObservation::new(count.clone());
    let steps = run(STEPS);
    drop(watching);
    let steps = steps.filter(|&s| s > 0)?;
    Some(count.0.load(Ordering::Relaxed) as f64 / steps as f64)
}
