"""The reference side of benches/compare/run.sh: the same workloads as ours.rs in mpmath and SymPy.

Pinned versions: benches/compare/requirements.txt. Prints one JSON object on stdout.
Each timing is the best of several runs, as on our side; a SymPy run that exceeds its time limit is
reported as {"timeout": limit}.
"""
import json
import math
import signal
import sys
import time

import mpmath
import sympy
from mpmath import mp

mp.prec = 256
SYMPY_LIMIT_S = int(sys.argv[1]) if len(sys.argv) > 1 else 300


def best_of(reps, f):
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


class Rng:
    """A seeded source of 256-bit normals (Box-Muller in mpmath), like our sampler."""

    def __init__(self, seed):
        import random

        self.r = random.Random(seed)

    def uniform(self):
        while True:
            x = mpmath.mpf(self.r.getrandbits(256)) / mpmath.mpf(2) ** 256
            if x > 0:
                return x

    def normal(self):
        u1, u2 = self.uniform(), self.uniform()
        return mp.sqrt(-2 * mp.log(u1)) * mp.cos(2 * mp.pi * u2)


def orthogonal(rng, n):
    # As on our side: the entries only need to be random (Gaussian at double precision); the QR at
    # 256 bits makes Q orthogonal to working precision.
    g = mp.matrix(n, n)
    for i in range(n):
        for j in range(n):
            g[i, j] = mpmath.mpf(rng.r.gauss(0.0, 1.0))
    q, _ = mp.qr(g)
    return q


def spd_with_spectrum(rng, spectrum):
    n = len(spectrum)
    q = orthogonal(rng, n)
    return q * mp.diag(spectrum) * q.T


def logdet_chol(a):
    l = mp.cholesky(a)
    return 2 * mp.fsum(mp.log(l[i, i]) for i in range(a.rows))


def truncation_case(rng, d, top):
    lam_max = mpmath.mpf(2) ** top
    spectrum = [lam_max] + [rng.uniform() * lam_max for _ in range(d - 1)]
    s = spd_with_spectrum(rng, spectrum)
    neg_logdet = -logdet_chol(mp.eye(d) + s)
    # As on our side: p2 = tr(SS) and p3 = tr(S^2 S) as dot products, one matrix product.
    s2 = s * s
    p1 = sum(s[i, i] for i in range(d))
    p2 = mp.fsum(s[i, k] * s[k, i] for i in range(d) for k in range(d))
    p3 = mp.fsum(s2[i, k] * s[k, i] for i in range(d) for k in range(d))
    e = neg_logdet - (-p1 + p2 / 2)
    slack = (abs(neg_logdet) + 1) * mpmath.mpf(2) ** -200
    return -p3 / 3 - slack <= e <= slack


def sym_matrix(d):
    syms = {}
    rows = []
    for i in range(d):
        row = []
        for j in range(d):
            k = (min(i, j), max(i, j))
            if k not in syms:
                syms[k] = sympy.Symbol(f"s{k[0] + 1}{k[1] + 1}")
            row.append(syms[k])
        rows.append(row)
    return sympy.Matrix(rows)


def check_identity(a, s, det):
    ser = sympy.series(-sympy.log(det), a, 0, 3).removeO()
    form = -a * s.trace() + a**2 / 2 * (s * s).trace()
    assert sympy.expand(ser - form) == 0


def sympy_identity_natural(d):
    """What a SymPy user writes: the full determinant, then the series of its log."""
    a = sympy.Symbol("a")
    s = sym_matrix(d)
    check_identity(a, s, (sympy.eye(d) + a * s).det())


def sympy_identity_truncated(d, order=2):
    """The algorithm our side uses: det(I + aS) mod a^3 by elimination over truncated series."""
    a = sympy.Symbol("a")
    s = sym_matrix(d)

    def mul(x, y):
        return [sympy.expand(sum(x[i] * y[k - i] for i in range(k + 1))) for k in range(order + 1)]

    def inv_unit(x):
        b = [sympy.Integer(1)]
        for m in range(1, order + 1):
            b.append(sympy.expand(-sum(x[k] * b[m - k] for k in range(1, m + 1))))
        return b

    m = [[[sympy.Integer(1 if i == j else 0), s[i, j]] + [sympy.Integer(0)] * (order - 1) for j in range(d)] for i in range(d)]
    det = [sympy.Integer(1)] + [sympy.Integer(0)] * order
    for k in range(d):
        piv = m[k][k]
        det = mul(det, piv)
        inv = inv_unit(piv)
        for i in range(k + 1, d):
            f = mul(m[i][k], inv)
            for j in range(k + 1, d):
                t = mul(f, m[k][j])
                m[i][j] = [sympy.expand(u - v) for u, v in zip(m[i][j], t)]
    check_identity(a, s, sum(c * a**n for n, c in enumerate(det)))


class Timeout(Exception):
    pass


def with_limit(seconds, f):
    def handler(signum, frame):
        raise Timeout()

    signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        t = time.perf_counter()
        f()
        return time.perf_counter() - t
    except Timeout:
        return {"timeout": seconds}
    finally:
        signal.alarm(0)


def main():
    out = {"versions": {"mpmath": mpmath.__version__, "sympy": sympy.__version__, "python": sys.version.split()[0]}}
    rng = Rng(7)
    logdet = {}
    for n in (16, 64, 128):
        spectrum = [1 + rng.uniform() * 8 for _ in range(n)]
        a = spd_with_spectrum(rng, spectrum)
        logdet[str(n)] = best_of(5, lambda: logdet_chol(a))  # same count as ours.rs
    out["logdet_256bit"] = logdet

    def thousand():
        r = Rng(1)
        ok = sum(truncation_case(r, 8, (i % 13) - 8) for i in range(1000))
        assert ok == 1000

    out["truncation_1000_8x8"] = best_of(3, thousand)  # as ours.rs
    for name, f in (("symbolic_identity_natural", sympy_identity_natural), ("symbolic_identity_truncated", sympy_identity_truncated)):
        sym = {}
        for d in range(2, 7):
            t = with_limit(SYMPY_LIMIT_S, lambda: f(d))
            if isinstance(t, float) and t < 5:
                t = min(t, best_of(2, lambda: f(d)))
            sym[str(d)] = t
            if isinstance(t, dict):
                for dd in range(d + 1, 7):
                    sym[str(dd)] = {"skipped_after_timeout_at_d": d}
                break
        out[name] = sym
    print(json.dumps(out))


if __name__ == "__main__":
    main()
