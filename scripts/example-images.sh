#!/bin/bash
# Regenerates the README's example charts (docs/example-lr-0.001.png, docs/example-overview.png)
# from a real run of the current binary: a 10,000-image subset, 30 epochs, three rates.
#
#   scripts/example-images.sh            # LRSWEEP (default target/release/lrsweep) names the binary
set -euo pipefail
cd "$(dirname "$0")/.."
lrsweep=${LRSWEEP:-target/release/lrsweep}
run=$(mktemp -d)/run
"$lrsweep" sweep --limit 10000 --epochs 30 --rates 1e-4,1e-3,1e-2 --refine 0 --no-find --out "$run"
cp "$run/lr-0.001.png" docs/example-lr-0.001.png
cp "$run/overview.png" docs/example-overview.png
echo "docs/example-lr-0.001.png and docs/example-overview.png redrawn from $run"
