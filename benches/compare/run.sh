#!/usr/bin/env bash
# Runs the same workloads in sslproof (Rust, MPFR, symbolica) and in mpmath/SymPy (pinned, own
# virtual environment), in one run, and prints both sides and the ratio.
#   usage: benches/compare/run.sh [SYMPY_LIMIT_SECONDS]   (default 300 per dimension)
set -euo pipefail
. "$(dirname "$0")/venv.sh" requirements.txt
echo "building our side (release)…" >&2
cargo build --release --quiet --example compare_workloads
# symbolica prints its licence notice on stdout: show it, and read our JSON from the last line.
ours_all="$(./target/release/examples/compare_workloads)"
printf '%s\n' "$ours_all" | sed '$d' >&2
ours="$(printf '%s\n' "$ours_all" | tail -n 1)"
echo "running mpmath/SymPy (SymPy limit ${1:-300}s per dimension)…" >&2
theirs="$("$venv/bin/python" "$here/reference.py" "${1:-300}")"
"$venv/bin/python" - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
v = theirs["versions"]
print(f"reference: mpmath {v['mpmath']}, SymPy {v['sympy']}, Python {v['python']}")
print(f"{'workload':<38}{'sslproof (s)':>14}{'reference (s)':>16}{'ratio':>10}")
def row(name, a, b):
    if isinstance(b, dict):
        lim = b.get("timeout")
        txt = f">{lim}" if lim else "skipped"
        ratio = f">{lim / a:.0f}x" if lim else "-"
        print(f"{name:<38}{a:>14.4g}{txt:>16}{ratio:>10}")
    else:
        print(f"{name:<38}{a:>14.4g}{b:>16.4g}{b / a:>9.1f}x")
for n in ("16", "64", "128"):
    row(f"256-bit log det, n = {n} (mpmath)", ours["logdet_256bit"][n], theirs["logdet_256bit"][n])
row("1000 truncation checks, 8x8 (mpmath)", ours["truncation_1000_8x8"], theirs["truncation_1000_8x8"])
def best(*vals):
    fl = [v for v in vals if not isinstance(v, dict)]
    return min(fl) if fl else vals[0]
for d in ("2", "3", "4", "5", "6"):
    if "symbolic_identity" in ours:
        nat, tr = theirs["symbolic_identity_natural"][d], theirs["symbolic_identity_truncated"][d]
        row(f"series identity, d = {d} (SymPy det+series)", ours["symbolic_identity"][d], nat)
        row(f"series identity, d = {d} (SymPy same algorithm)", ours["symbolic_identity"][d], tr)
        row(f"series identity, d = {d} (SymPy best)", ours["symbolic_identity"][d], best(nat, tr))
PY
