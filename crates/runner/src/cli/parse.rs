//! Value parsers: each refuses what cannot be trained, with a message that says what to write.

use lrsweep_data::DatasetKind;

/// A data set name.
pub fn dataset(s: &str) -> Result<DatasetKind, String> {
    s.parse()
        .map_err(|e: lrsweep_data::DataError| e.to_string())
}

/// A learning rate: a finite number above 0, with a message that says how to write one.
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
    fn a_rate_list_parses_back_to_the_same_rates() {
        let rates = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 2.5e-4];
        let text = rate_list(&rates);
        assert_eq!(text, "1e-5,1e-4,1e-3,1e-2,1e-1,2.5e-4");
        let back: Vec<f64> = text.split(',').map(|r| parse_rate(r).unwrap()).collect();
        assert_eq!(back, rates);
    }
}
