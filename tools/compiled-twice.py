#!/usr/bin/env python3
"""Which crates would a sequence of cargo commands compile more than once?

    python3 tools/compiled-twice.py "build --release -p sslproof-cli" \
        "test --release -p sslproof-losses --no-run" \
        "test --release --workspace --exclude sslproof-losses --no-run"

(the commands of `make verify` then `make test`). Reads each command's unit graph (cargo's
`--unit-graph`, unstable, enabled here with RUSTC_BOOTSTRAP=1: an analysis aid, not part of the
build) and gives every unit an identity the way cargo's metadata hash does: package, target, mode,
profile, features, platform and, recursively, its dependencies' identities. A crate with two
identities is compiled twice. Compiles nothing. Exit 0 always; the report is the output.

Two kinds of duplicates are expected and printed separately: our own crates (the engine and the
loss crate are built once without symbolica for the loss crate's own test), and crates built both
for the host (build scripts and proc macros, opt-level 0 in release) and for the target within one
command, which is how cargo builds and not a recompilation.
"""
import hashlib
import json
import os
import subprocess
import sys


def unit_ids(args):
    env = dict(os.environ, RUSTC_BOOTSTRAP="1")
    out = subprocess.run(["cargo", *args, "--unit-graph", "-Z", "unstable-options"],
                         env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"cargo {' '.join(args)} failed:\n{out.stderr}")
    units = json.loads(out.stdout)["units"]
    ids = [None] * len(units)

    def ident(i):
        if ids[i] is None:
            u = units[i]
            deps = sorted(ident(d["index"]) for d in u["dependencies"])
            key = json.dumps([u["pkg_id"], u["target"]["name"], u["target"]["kind"], u["mode"],
                              u["profile"], u["features"], u["platform"], deps], sort_keys=True)
            ids[i] = hashlib.sha1(key.encode()).hexdigest()
        return ids[i]

    sys.setrecursionlimit(100000)
    return [(ident(i), u) for i, u in enumerate(units)]


def main():
    cmds = [c.split() for c in sys.argv[1:]]
    if not cmds:
        sys.exit(__doc__)
    first = {}  # identity -> (command index, name, features, opt level)
    for ci, c in enumerate(cmds):
        units = unit_ids(c)
        print(f"command {ci}: cargo {' '.join(c)}: {len(units)} units")
        for h, u in units:
            name = f"{u['pkg_id'].split('#')[-1]} {u['target']['name']} {u['mode']}"
            first.setdefault(h, (ci, name, u["features"], u["profile"]["opt_level"],
                                 u["pkg_id"].startswith("registry+")))
    by = {}
    for ci, name, feats, opt, third in first.values():
        by.setdefault(name, []).append((ci, feats, opt, third))
    across, host, ours = [], [], []
    for name, v in sorted(by.items()):
        if len(v) < 2:
            continue
        if not v[0][3]:
            ours.append((name, v))
        elif len({ci for ci, *_ in v}) > 1:
            across.append((name, v))
        else:
            host.append((name, v))
    for title, rows in [("third-party, recompiled by a later command", across),
                        ("third-party, host and target within one command", host),
                        ("our crates", ours)]:
        print(f"== {title}: {len(rows)}")
        for name, v in rows:
            print("  ", name, [(ci, feats, f"opt-level {opt}") for ci, feats, opt, _ in v])


if __name__ == "__main__":
    main()
