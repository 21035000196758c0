#!/usr/bin/env bash
# Times the float32 factorisations of the checker's official-algorithm runs (losses/src/dense.rs:
# blocked LU with partial pivoting and its inverse, Cholesky) against nalgebra's column-by-column
# ones and PyTorch CPU's LAPACK, on the same d × d matrices, in one run, and prints the ratios.
#   usage: benches/compare/factorisations.sh [REPS] [D,D,...] [TORCH_THREADS]
#   (defaults 3; 1024,2048,4096,8192; all cores)
# TORCH_PYTHON=/path/to/python runs torch's side with an interpreter that has torch and numpy
# instead of the pinned virtual environment (benches/compare/.venv).
set -euo pipefail
if [ -n "${TORCH_PYTHON:-}" ]; then
  here="$(cd "$(dirname "$0")" && pwd)"
  cd "$here/../.."
  py="$TORCH_PYTHON"
else
  . "$(dirname "$0")/venv.sh" requirements-torch.txt
  py="$venv/bin/python"
fi
cargo build --release --quiet --example factorisation_timing
reps="${1:-3}"
ds="${2:-1024,2048,4096,8192}"
ours="$(./target/release/examples/factorisation_timing "$reps" ${ds//,/ })"
theirs="$("$py" -W ignore "$here/factorisations_torch.py" "$reps" "$ds" ${3:-})"
"$py" - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"PyTorch {theirs['torch']} ({theirs['threads']} threads); sslproof: dense (matrixmultiply, all cores); nalgebra column by column (one core)")
print(f"{'d':>6} {'LU+inverse: dense':>18} {'nalgebra':>9} {'torch':>8} {'dense/torch':>12} | {'Cholesky: dense':>15} {'nalgebra':>9} {'torch':>8}")
for d in sorted(ours, key=int):
    o = ours[d]
    t = theirs[d]
    # Same matrix, same inverse: the traces agree to float32's accuracy at this conditioning.
    assert abs(o["inverse_trace"] - t["inverse_trace"]) < 1e-3 * abs(t["inverse_trace"]), (d, o, t)
    na = f"{o['lu_inverse_nalgebra']:.3f}" if "lu_inverse_nalgebra" in o else "-"
    nc = f"{o['cholesky_nalgebra']:.3f}" if "cholesky_nalgebra" in o else "-"
    print(f"{d:>6} {o['lu_inverse_dense']:>18.3f} {na:>9} {t['lu_inverse_torch']:>8.3f} "
          f"{o['lu_inverse_dense'] / t['lu_inverse_torch']:>11.1f}x | {o['cholesky_dense']:>15.3f} {nc:>9} {t['cholesky_torch']:>8.3f}")
PY
