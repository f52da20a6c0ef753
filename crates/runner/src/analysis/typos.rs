//! Listed rates that look like typos: above 1 (Adam with a step that large diverges at once on
//! any of these networks), or three decades or more from every other listed rate (`1e2` among
//! `1e-3, 1e-4, 1e-5`). Each finding says what the user probably meant.

/// Rates this far (in decades) from their nearest listed neighbour look mistyped.
const LONELY_DECADES: f64 = 3.0;

/// One sentence per suspicious rate of `rates`, naming it and the likely intended rate.
pub fn suspicious(rates: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, &r) in rates.iter().enumerate() {
        let decades = r.log10();
        let meant = if decades.fract() == 0.0 && decades > 0.0 {
            format!("; did you mean {:e}?", 10f64.powf(-decades))
        } else {
            String::new()
        };
        if r > 1.0 {
            out.push(format!(
                "--rates {r:e} is above 1: Adam moves every weight by about the rate each step, so it diverges at once{meant}"
            ));
            continue;
        }
        let nearest = rates
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, &o)| (o.log10() - decades).abs())
            .fold(f64::INFINITY, f64::min);
        if rates.len() >= 3 && nearest >= LONELY_DECADES {
            out.push(format!(
                "--rates {r:e} is {nearest:.0} decades from every other listed rate; is it a typo?"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_named_with_what_was_meant() {
        let found = suspicious(&[1e-3, 1e2]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("1e2 is above 1") && found[0].contains("did you mean 1e-2?"),
            "{found:?}"
        );
        let found = suspicious(&[1e-5, 1e-4, 1e-3, 0.9]);
        assert!(found.is_empty(), "{found:?}");
        let found = suspicious(&[1e-3, 1e-4, 1e-5, 1e-9]);
        assert!(found[0].contains("1e-9 is 4 decades"), "{found:?}");
        assert!(
            suspicious(&[1e-5, 1e-4, 1e-3, 1e-2, 1e-1]).is_empty(),
            "the reference's rates"
        );
    }
}
