#!/usr/bin/env bash
# The GPU half of the tolerance validation (one prepared run of at most 5 minutes on a lent GPU
# machine; see docs/losses.md for what it measured). Needs the release binary built on an
# x86-64 Linux machine (carried as target/release/sslproof) and Python with torch and numpy.
#   usage: examples/python/gpu_validation.sh OUTDIR
set -uo pipefail
out="${1:?OUTDIR}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
cd "$(dirname "$0")"
nvidia-smi -L
python3 -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__, torch.cuda.get_device_name(0))"
# The large cases are regenerated here, identically (seeded), in parallel, one process per loss.
large=/tmp/sslproof-golden-large
start=$(date +%s)
for l in vicreg coding-rate barlow-twins corinfomax nt-xent simsiam align uniformity; do
  ../../target/release/sslproof golden --large --loss "$l" --out "$large" > "$out/golden-$l.log" 2>&1 &
done
wait
echo "large golden cases written in $(( $(date +%s) - start )) s"
SSLPROOF_GOLDEN_LARGE="$large" timeout 200 python3 validate_tolerance.py --large --devices cuda --json "$out/gpu_rows.json" 2>&1 | tee "$out/gpu_validation.txt"
echo "exit $?"
timeout 60 python3 -m pytest -q test_golden.py test_checker.py 2>&1 | tail -3 | tee "$out/pytest.txt"
