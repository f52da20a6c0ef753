#!/bin/bash
# Alternates lrsweep's CPU engine and the PyTorch peer, three runs each, on one MNIST-format
# directory, and prints each run's median epoch:
#
#   scripts/vs-torch.sh DIR [lrsweep bench options...]
#   scripts/vs-torch.sh ../shared/data/mnist --data-dir ../shared/data/mnist
#   scripts/vs-torch.sh /usr/share/datasets/fashion-mnist --dataset fashion-mnist --data-dir /usr/share/datasets/fashion-mnist
#   NET="--hidden 512,256" scripts/vs-torch.sh ../shared/data/mnist --data-dir ../shared/data/mnist
#
# NET (default: the reference's network) is given to both programs, which take the same
# --hidden, --activation and --dropout; OURS goes to lrsweep alone and PEER to the peer alone
# (their optimizer options differ in form):
#
#   OURS="--optimizer sgd:0.9 --rates 1e-2" PEER="--optimizer sgd --momentum 0.9 --lr 1e-2" \
#     scripts/vs-torch.sh ../shared/data/mnist --data-dir ../shared/data/mnist
# LRSWEEP (default target/release/lrsweep), PEERS (default ../shared/peers) and PYTHON (default
# /tmp/peers-venv/bin/python, made by $PEERS/setup-venv.sh) say where the programs are. Run it
# on a quiet machine: PyTorch's threads spin-wait, and anything else holding a core slows it.
set -euo pipefail
dir=$1; shift
lrsweep=${LRSWEEP:-target/release/lrsweep}
peers=${PEERS:-../shared/peers}
python=${PYTHON:-/tmp/peers-venv/bin/python}
read -r -a net <<< "${NET:-}"
read -r -a ours <<< "${OURS:-}"
read -r -a peer <<< "${PEER:-}"
for _ in 1 2 3; do
  out=$(mktemp -d)
  "$lrsweep" bench --backends cpu --epochs 4 --out "$out/bench" ${net[@]+"${net[@]}"} ${ours[@]+"${ours[@]}"} "$@" >/dev/null 2>&1
  echo "lrsweep (path, density, median ms, GFLOP/s, val acc): $(tail -1 "$out/bench/bench.csv" | cut -d, -f3,4,10,14,16)"
  rm -rf "$out"
  echo "torch: $(LRSWEEP_DATA_DIR=$dir "$python" "$peers/torch_mlp.py" --lr 1e-3 --epochs 4 --clip --threads 2 ${net[@]+"${net[@]}"} ${peer[@]+"${peer[@]}"} 2>&1 | tail -1)"
done
