#!/usr/bin/env bash
# Times sslproof's f64 reference losses with gradients (coding rate, VICReg) against PyTorch CPU
# float64 and numpy doing the same, in one run, and prints the ratios.
#   usage: benches/compare/losses.sh [REPS] [TORCH_THREADS]   (defaults 5, all cores)
# Our side is single-threaded (nalgebra); the table also reports torch's thread count.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r "$here/requirements-torch.txt"
cd "$root"
cargo build --release --quiet --example loss_timing
reps="${1:-5}"
ours="$(./target/release/examples/loss_timing "$reps")"
theirs="$("$venv/bin/python" "$here/losses_torch.py" "$reps" ${2:-})"
"$venv/bin/python" - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
v = theirs["versions"]
print(f"PyTorch {v['torch']} ({theirs['torch_threads']} threads), numpy {v['numpy']}, Python {v['python']}; sslproof: 1 thread")
print(f"{'(B, d)':<13}{'workload':<34}{'sslproof (s)':>13}{'other (s)':>11}{'other/ours':>12}")
for d in ("2048", "8192"):
    o, t = ours[d], theirs[d]
    # Same inputs, same loss: the checksums (value + one gradient entry) must agree.
    assert abs(o["coding_rate_check"] - t["cr_check_torch"]) < 1e-8 * abs(t["cr_check_torch"]), (o, t)
    assert abs(o["coding_rate_check"] - t["cr_check_numpy"]) < 1e-8 * abs(t["cr_check_numpy"]), (o, t)
    assert abs(o["vicreg_check"] - t["v_check_torch"]) < 1e-8 * abs(t["v_check_torch"]), (o, t)
    assert abs(o["vicreg_check"] - t["v_check_numpy"]) < 1e-8 * abs(t["v_check_numpy"]), (o, t)
    for ours_key, keys in (("coding_rate", ("coding_rate_torch_batch", "coding_rate_torch_feature", "coding_rate_numpy_batch")),
                           ("vicreg", ("vicreg_torch_official", "vicreg_torch_gram", "vicreg_numpy_gram"))):
        for k in keys:
            if k in t:
                print(f"(512, {d:>4})  {k:<34}{o[ours_key]:>13.4f}{t[k]:>11.4f}{t[k] / o[ours_key]:>11.2f}x")
PY
