//! Value parsers: each refuses what cannot be trained, with a message that says what to write.

use lrsweep_data::DatasetKind;

use crate::config::{MAX_RATE, MIN_RATE};

/// A learning-rate schedule (`--schedule`): its spec, with the forms named when it is wrong.
pub fn schedule(s: &str) -> Result<lrsweep_model::Schedule, String> {
    s.parse()
}

/// A network's hidden layers (`--hidden`): widths, comma-separated.
pub fn widths(s: &str) -> Result<lrsweep_model::Widths, String> {
    s.parse()
}

/// An activation (`--activation`).
pub fn activation(s: &str) -> Result<lrsweep_model::Activation, String> {
    s.parse()
}

/// A weight initialisation (`--init`).
pub fn init(s: &str) -> Result<lrsweep_model::Init, String> {
    s.parse()
}

/// A drop probability (`--dropout`): at least 0, below 1.
pub fn dropout(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let p: f64 = t
        .parse()
        .map_err(|_| format!("'{t}' is not a number: give drop probabilities such as 0,0.2"))?;
    if !(0.0..1.0).contains(&p) {
        return Err(format!(
            "{t}: a drop probability must be at least 0 and below 1 (0.2 drops a fifth of the units; 0 is none)"
        ));
    }
    Ok(p)
}

/// An optimizer spec (`--optimizer`).
pub fn optimizer(s: &str) -> Result<lrsweep_model::Optimizer, String> {
    s.parse()
}

/// A weight decay (`--weight-decay`): a finite number at least 0.
pub fn weight_decay(s: &str) -> Result<f64, String> {
    let t = s.trim();
    match t.parse::<f64>() {
        Ok(w) if w.is_finite() && w >= 0.0 => Ok(w),
        Ok(_) => Err(format!(
            "{t}: a weight decay must be a finite number at least 0 (e.g. 1e-4; 0 is none)"
        )),
        Err(_) => Err(format!(
            "'{t}' is not a number: give a weight decay such as 1e-4"
        )),
    }
}

/// A data set name.
pub fn dataset(s: &str) -> Result<DatasetKind, String> {
    s.parse()
        .map_err(|e: lrsweep_data::DataError| e.to_string())
}

/// A `--backend` name; the GPU words people try (cuda, gpu, vulkan, …) get told that wgpu is
/// the GPU backend, rather than a tip towards a similar-looking name.
pub fn backend(s: &str) -> Result<crate::backend::BackendChoice, String> {
    use clap::ValueEnum;
    if let Ok(b) = crate::backend::BackendChoice::from_str(s.trim(), true) {
        return Ok(b);
    }
    let gpu_words = [
        "cuda", "gpu", "vulkan", "metal", "rocm", "hip", "mps", "dx12", "directx", "opencl",
        "nvidia",
    ];
    if gpu_words.contains(&s.trim().to_lowercase().as_str()) {
        return Err(format!(
            "there is no '{s}' backend: wgpu is lrsweep's GPU backend (Vulkan, Metal or DirectX 12, for NVIDIA, AMD, Intel and Apple GPUs); use --backend wgpu, or auto, which takes a GPU when there is one (see lrsweep devices)"
        ));
    }
    Err(format!(
        "unknown backend '{s}': choose auto, cpu, wgpu, flex or ndarray"
    ))
}

/// A count that must be at least 1 (epochs, batch size, hidden units, patience), with the
/// refusal in words.
pub fn at_least_one(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a whole number (at least 1)")),
    }
}

/// An image size `WxH` (each at least 1).
pub fn image_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{s}' is not an image size: write width x height, e.g. 28x28");
    let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > 1 << 26 {
        return Err(format!(
            "image size {w}x{h} must be at least 1x1 and at most 2^26 pixels"
        ));
    }
    Ok((w, h))
}

/// A learning rate: a finite number in [`MIN_RATE`, `MAX_RATE`], with a message that says how to
/// write one.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty learning rate: give a comma-separated list such as 1e-4,1e-3".into());
    }
    let r: f64 = t
        .parse()
        .map_err(|_| format!("'{t}' is not a number: give learning rates such as 1e-3 or 0.001"))?;
    if !r.is_finite() || r <= 0.0 {
        return Err(format!("learning rate {t} must be a finite number above 0"));
    }
    if r < MIN_RATE {
        return Err(format!(
            "learning rate {t} is too small to train anything: below {MIN_RATE:e} an Adam step is lost in the f32 rounding of the weights; use at least {MIN_RATE:e}"
        ));
    }
    if r > MAX_RATE {
        return Err(format!(
            "learning rate {t} is beyond f32's range (at most {MAX_RATE:.2e}), the precision training runs in"
        ));
    }
    Ok(r)
}

/// A share strictly between 0 and 1.
pub fn fraction(s: &str) -> Result<f64, String> {
    let f: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if f > 0.0 && f < 1.0 {
        Ok(f)
    } else {
        Err(format!("{s} is not strictly between 0 and 1 (e.g. 0.15)"))
    }
}

/// Rates written for a help text or a command line: `1e-5,1e-4`.
pub fn rate_list(rates: &[f64]) -> String {
    rates
        .iter()
        .map(|r| format!("{r:e}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_f32_cannot_train_are_refused_with_the_reason() {
        for bad in ["1e-320", "1e-250", "1e-46", "1e-11"] {
            let e = parse_rate(bad).unwrap_err();
            assert!(e.contains("too small"), "{bad}: {e}");
        }
        for bad in ["1e300", "1e39"] {
            let e = parse_rate(bad).unwrap_err();
            assert!(e.contains("f32"), "{bad}: {e}");
        }
        for bad in ["0", "-1", "nan", "inf", "", "x"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_rate("1e-10"), Ok(1e-10));
        assert_eq!(parse_rate("1e38"), Ok(1e38));
    }

    #[test]
    fn a_rate_list_parses_back_to_the_same_rates() {
        let rates = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 2.5e-4];
        let text = rate_list(&rates);
        assert_eq!(text, "1e-5,1e-4,1e-3,1e-2,1e-1,2.5e-4");
        let back: Vec<f64> = text.split(',').map(|r| parse_rate(r).unwrap()).collect();
        assert_eq!(back, rates);
    }
}
