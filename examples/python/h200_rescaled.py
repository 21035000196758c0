"""The H200 records of docs/validation/gpu-h200.txt against `check`'s current tolerances, without
a GPU: each record's largest gradient error (relative to the gradient's largest entry) is set
beside torch CPU's on the same golden case, and the CPU run's worst entry ratio
(|error| / tolerance, through `sslproof.check`) is rescaled by H200 / CPU. Approximate: the
H200's largest error need not sit at the CPU's entry. Cases `check` now calls untrustworthy
(exit 3) are listed with the H200's error.

    python examples/python/validate_tolerance.py --devices cpu --large --json cpu.json
    python examples/python/h200_rescaled.py cpu.json
"""
import argparse
import json
import re
from pathlib import Path

RECORDS = Path(__file__).resolve().parents[2] / "docs" / "validation" / "gpu-h200.txt"
LINE = re.compile(r"(\S+) (\S+) (f32|tf32|bf16) ([TU]) v (\S+) g (\S+) rel (\S+)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cpu_json", help="validate_tolerance.py --devices cpu --json output")
    ap.add_argument("--records", default=str(RECORDS), help="the H200 records (default: %(default)s)")
    args = ap.parse_args()
    cpu = {(r["loss"], r["case"], r["precision"]): r
           for r in json.loads(Path(args.cpu_json).read_text()) if r["device"] == "cpu"}
    rows = []
    for line in Path(args.records).read_text().splitlines():
        m = LINE.match(line)
        if not m:
            continue
        loss, case, p, _, _, _, rel = m.groups()
        c = cpu.get((loss, case, p))
        trusted = bool(c and c.get("check_trustworthy"))
        scale = float(rel) / max(c["grad_rel_error"], 1e-300) if c else float("nan")
        worst = c["entry_ratio"] * scale if trusted and "entry_ratio" in c else None
        rows.append((loss, case, p, float(rel), worst, scale, trusted))
    for p in ("f32", "tf32", "bf16"):
        rs = [r for r in rows if r[2] == p]
        tr = [r for r in rs if r[6]]
        print(f"{p}: {len(rs)} records, {len(tr)} trusted by check now, {len(rs) - len(tr)} exit 3 or not checked")
        for r in sorted((r for r in tr if r[4] is not None), key=lambda r: -r[4])[:5]:
            print(f"   rescaled worst entry {r[4]:.3f} (H200/CPU error {r[5]:.2f})  {r[0]} {r[1]}")
        for r in rs:
            if not r[6]:
                print(f"   exit 3 / not checked: {r[0]} {r[1]}  H200 rel error {r[3]:.2g}")
        over = [r for r in tr if r[4] is not None and r[4] > 1]
        for r in over:
            print(f"   OVER ITS TOLERANCE (rescaled): {r[0]} {r[1]} {r[4]:.3f}")


if __name__ == "__main__":
    main()
