"""The other side of benches/compare/losses.sh: PyTorch CPU float64 (autograd) and numpy float64
(closed-form gradients) computing the same losses and gradients as sslproof's f64 references, on
the same deterministic inputs, best of N runs. Prints one JSON line.

Forms timed:
- coding rate R = ½ log det(I + c ZᵀZ), c = d/(m·eps), eps = 0.2, with ∂R/∂Z:
  torch batch form (logdet of the m×m matrix I + c ZZᵀ; the best form for d > m),
  torch feature form (the d×d matrix, as MCR²/EMP-SSL write it; d = 2048 only),
  numpy batch form (Cholesky, gradient c(I + cZZᵀ)⁻¹Z).
- VICReg (official conventions), value and gradients for both views:
  torch official (the code of facebookresearch/vicreg, d×d covariance),
  torch Gram form (‖C‖²_F through the B×B Gram matrix, the same algorithm as sslproof),
  numpy Gram form with the closed-form gradient.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def pattern(b, d, a, c, m):
    i = np.arange(b)[:, None]
    j = np.arange(d)[None, :]
    return ((i * a + j * c) % m).astype(np.float64) / m - 0.5


def best_of(n, f):
    best, v = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        v = f()
        best = min(best, time.perf_counter() - t)
    return best, v


def cr_torch_batch(z, eps=0.2):
    z = z.detach().requires_grad_(True)
    m, d = z.shape
    c = d / (m * eps)
    r = torch.logdet(torch.eye(m, dtype=z.dtype) + c * z @ z.T) / 2
    r.backward()
    return float(r) + float(z.grad[0, 0])


def cr_torch_feature(z, eps=0.2):
    z = z.detach().requires_grad_(True)
    m, d = z.shape
    c = d / (m * eps)
    r = torch.logdet(torch.eye(d, dtype=z.dtype) + c * z.T @ z) / 2
    r.backward()
    return float(r) + float(z.grad[0, 0])


def cr_numpy(z, eps=0.2):
    m, d = z.shape
    c = d / (m * eps)
    a = np.eye(m) + c * (z @ z.T)
    l = np.linalg.cholesky(a)
    r = np.log(np.diag(l)).sum()
    g = c * np.linalg.solve(a, z)
    return float(r) + float(g[0, 0])


def off_diagonal(x):
    n = x.shape[0]
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def vicreg_torch_official(x, y, sim=25.0, std=25.0, cov=1.0):
    x = x.detach().requires_grad_(True)
    y = y.detach().requires_grad_(True)
    n, d = x.shape
    repr_loss = F.mse_loss(x, y)
    xc = x - x.mean(dim=0)
    yc = y - y.mean(dim=0)
    std_x = torch.sqrt(xc.var(dim=0) + 0.0001)
    std_y = torch.sqrt(yc.var(dim=0) + 0.0001)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (xc.T @ xc) / (n - 1)
    cov_y = (yc.T @ yc) / (n - 1)
    cov_loss = off_diagonal(cov_x).pow_(2).sum().div(d) + off_diagonal(cov_y).pow_(2).sum().div(d)
    loss = sim * repr_loss + std * std_loss + cov * cov_loss
    loss.backward()
    return float(loss) + float(x.grad[0, 0])


def vicreg_torch_gram(x, y, sim=25.0, std=25.0, cov=1.0):
    x = x.detach().requires_grad_(True)
    y = y.detach().requires_grad_(True)
    n, d = x.shape
    repr_loss = F.mse_loss(x, y)
    total = sim * repr_loss
    for z in (x, y):
        zc = z - z.mean(dim=0)
        var = (zc * zc).sum(dim=0) / (n - 1)
        s = torch.sqrt(var + 0.0001)
        total = total + std * torch.mean(F.relu(1 - s)) / 2
        k = zc @ zc.T
        total = total + cov * ((k * k).sum() / (n - 1) ** 2 - (var * var).sum()) / d
    total.backward()
    return float(total) + float(x.grad[0, 0])


def vicreg_numpy_gram(x, y, sim=25.0, std=25.0, cov=1.0):
    n, d = x.shape
    diff = x - y
    value = sim * (diff * diff).sum() / (n * d)
    gi = 2 * sim / (n * d) * diff
    grads = []
    for z in (x, y):
        zc = z - z.mean(axis=0)
        var = (zc * zc).sum(axis=0) / (n - 1)
        s = np.sqrt(var + 1e-4)
        active = s < 1
        value += std / 2 * np.where(active, 1 - s, 0).sum() / d
        gv = np.where(active, -zc / (d * (n - 1) * s), 0.0)
        k = zc @ zc.T
        value += cov * ((k * k).sum() / (n - 1) ** 2 - (var * var).sum()) / d
        gc = 4 / (d * (n - 1)) * (k @ zc / (n - 1) - zc * var)
        grads.append(std / 2 * gv + cov * gc)
    return float(value) + float((gi + grads[0])[0, 0])


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads()
    torch.set_num_threads(threads)
    out = {"versions": {"torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
           "torch_threads": torch.get_num_threads()}
    for d in (2048, 8192):
        b = 512
        z1n, z2n = pattern(b, d, 31, 17, 97), pattern(b, d, 29, 13, 89)
        z1, z2 = torch.from_numpy(z1n), torch.from_numpy(z2n)
        row = {}
        row["coding_rate_torch_batch"], row["cr_check_torch"] = best_of(reps, lambda: cr_torch_batch(z1))
        if d <= 2048:
            row["coding_rate_torch_feature"], _ = best_of(max(1, reps // 2), lambda: cr_torch_feature(z1))
        row["coding_rate_numpy_batch"], row["cr_check_numpy"] = best_of(reps, lambda: cr_numpy(z1n))
        row["vicreg_torch_official"], row["v_check_torch"] = best_of(max(1, reps // 2), lambda: vicreg_torch_official(z1, z2))
        row["vicreg_torch_gram"], _ = best_of(reps, lambda: vicreg_torch_gram(z1, z2))
        row["vicreg_numpy_gram"], row["v_check_numpy"] = best_of(reps, lambda: vicreg_numpy_gram(z1n, z2n))
        out[str(d)] = row
    print(json.dumps(out))


if __name__ == "__main__":
    main()
