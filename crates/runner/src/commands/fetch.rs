//! `lrsweep fetch`: find or download the data set, verify it, say where it is.

use anyhow::{anyhow, Result};

use crate::cli::CatalogueArgs;
use crate::exit::{say, usage};

/// Runs `lrsweep fetch`.
pub fn run(args: &CatalogueArgs) -> Result<()> {
    let config = args.to_config();
    let images = lrsweep_data::load(&config.locator())
        .map_err(|e| usage(anyhow!(e).context(format!("fetching {}", args.dataset))))?;
    say(&format!(
        "{}: {} images, classes {:?}",
        images.name,
        images.len(),
        images.class_counts()
    ))?;
    for f in &images.files {
        say(&format!(
            "  {} ({:?}) {}\n    SHA-256 of the decompressed file verified: {}",
            f.name,
            f.origin,
            f.path.display(),
            f.sha256
        ))?;
    }
    Ok(())
}
