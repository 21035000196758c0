"""PyTorch implementations of every loss that sslproof checks, written the way the official code
writes them (see docs/losses.md for the conventions table). Each takes the inputs as tensors
(rows are samples) and returns a scalar; gradients come from autograd.

`IMPLEMENTATIONS[(loss, variant)](inputs, params)` is what the tests call.
"""
import torch
import torch.nn.functional as F


def off_diagonal(x):
    n = x.shape[0]
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def vicreg(z1, z2, sim=25.0, std=25.0, cov=1.0, gamma=1.0, eps=1e-4, variant="official"):
    """facebookresearch/vicreg VICReg.forward (one GPU); `paper` and `solo-learn` conventions."""
    n, d = z1.shape
    if variant == "paper":
        repr_loss = (z1 - z2).pow(2).sum(dim=1).mean()
    else:
        repr_loss = F.mse_loss(z1, z2)
    x = z1 - z1.mean(dim=0)
    y = z2 - z2.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + eps)
    std_y = torch.sqrt(y.var(dim=0) + eps)
    std_loss = torch.mean(F.relu(gamma - std_x)) + torch.mean(F.relu(gamma - std_y))
    if variant == "official":
        std_loss = std_loss / 2
    cov_x = (x.T @ x) / (n - 1)
    cov_y = (y.T @ y) / (n - 1)
    cov_loss = off_diagonal(cov_x).pow(2).sum().div(d) + off_diagonal(cov_y).pow(2).sum().div(d)
    return sim * repr_loss + std * std_loss + cov * cov_loss


def barlow_twins(z1, z2, lambd=0.0051, bn_eps=1e-5, scale=1.0):
    """facebookresearch/barlowtwins (one GPU): BatchNorm1d(affine=False) in training mode."""
    n, d = z1.shape
    bn = lambda z: F.batch_norm(z, None, None, training=True, eps=bn_eps)
    c = bn(z1).T @ bn(z2) / n
    on_diag = (torch.diagonal(c) - 1).pow(2).sum()
    off_diag = off_diagonal(c).pow(2).sum()
    return scale * (on_diag + lambd * off_diag)


def coding_rate(z, eps, variant="mcr2"):
    """MCR² compute_discrimn_loss_empirical (R), SimDINO's expansion term (−γ_h R by Cholesky),
    EMP-SSL (−R). `eps` is the code's eps (= ε²)."""
    m, p = z.shape
    scalar = p / (m * eps)
    if variant == "simdino":
        eye = torch.eye(p, dtype=z.dtype, device=z.device)
        half = torch.linalg.cholesky_ex(eye + scalar * z.T @ z)[0].diagonal().log().sum()
        return -half * (p + m) / (p * m)
    W = z.T
    eye = torch.eye(p, dtype=z.dtype, device=z.device)
    r = torch.logdet(eye + scalar * W.matmul(W.T)) / 2.0
    return r if variant == "mcr2" else -r


def lightly_emp_ssl_tcr(z, eps):
    """lightly EMPSSLLoss's tcr_loss for one view: +½ logdet (the opposite sign of official)."""
    batch_size, dim = z.shape
    eye = torch.eye(dim, dtype=z.dtype, device=z.device)
    logdet = torch.logdet(eye + dim / (batch_size * eps) * torch.einsum("bi,bj->ij", z, z))
    return 0.5 * logdet


def corinfomax(z1, z2, alpha=500.0, eps=1e-6, state=None, la_mu=0.01, la_r=0.01):
    """serdarozsoy/corinfomax-ssl cifars-tiny/loss.py; `state = (mu1, R1, mu2, R2)` for the
    running form (detached)."""
    N, D = z1.shape
    eye = torch.eye(D, dtype=z1.dtype, device=z1.device)
    sim = F.mse_loss(z1, z2)
    logdets = 0
    for i, z in enumerate((z1, z2)):
        if state is None:
            mu = z.mean(dim=0)
            R = (z - mu).T @ (z - mu) / N
        else:
            mu_prev, R_prev = state[2 * i].detach(), state[2 * i + 1].detach()
            mu = la_mu * mu_prev.reshape(-1) + (1 - la_mu) * z.mean(dim=0)
            zh = z - mu
            R = la_r * R_prev + (1 - la_r) * (zh.T @ zh) / N
        logdets = logdets + torch.logdet(R + eps * eye)
    return alpha * sim - logdets / D


def nt_xent(views, tau):
    """lightly NTXentLoss (two views) and solo-learn simclr_loss_func (any number of views:
    positives summed inside the log)."""
    v = len(views)
    b = views[0].shape[0]
    z = F.normalize(torch.cat(views), dim=1)
    logits = z @ z.T / tau
    n = v * b
    idx = torch.arange(n, device=z.device) % b
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    pos_mask = (idx[:, None] == idx[None, :]) & ~self_mask
    logits = logits.masked_fill(self_mask, float("-inf"))
    log_den = torch.logsumexp(logits, dim=1)
    log_pos = torch.logsumexp(logits.masked_fill(~pos_mask, float("-inf")), dim=1)
    return (log_den - log_pos).mean()


def simsiam(p1, p2, z1, z2):
    """facebookresearch/simsiam: −½[cos(p1, sg(z2)) + cos(p2, sg(z1))], batch means."""
    criterion = torch.nn.CosineSimilarity(dim=1)
    return -(criterion(p1, z2.detach()).mean() + criterion(p2, z1.detach()).mean()) * 0.5


def align(x, y, alpha=2):
    """SsnL/align_uniform align_loss."""
    return (x - y).norm(p=2, dim=1).pow(alpha).mean()


def uniformity(x, t=2):
    """SsnL/align_uniform uniform_loss."""
    return torch.pdist(x, p=2).pow(2).mul(-t).exp().mean().log()


def _vicreg(variant):
    return lambda xs, p: vicreg(xs[0], xs[1], p["sim"], p["std"], p["cov"], p["gamma"], p["eps"], variant)


IMPLEMENTATIONS = {
    ("vicreg", "official"): _vicreg("official"),
    ("vicreg", "paper"): _vicreg("paper"),
    ("vicreg", "solo-learn"): _vicreg("solo-learn"),
    ("barlow-twins", "official"): lambda xs, p: barlow_twins(xs[0], xs[1], p["lambda"], p["bn_eps"]),
    ("barlow-twins", "lightly"): lambda xs, p: barlow_twins(xs[0], xs[1], p["lambda"], p["bn_eps"]),
    ("barlow-twins", "solo-learn"): lambda xs, p: barlow_twins(xs[0], xs[1], p["lambda"], p["bn_eps"], p["scale"]),
    ("coding-rate", "mcr2"): lambda xs, p: coding_rate(xs[0], p["eps"], "mcr2"),
    ("coding-rate", "simdino"): lambda xs, p: coding_rate(xs[0], p["eps"], "simdino"),
    ("coding-rate", "emp-ssl"): lambda xs, p: coding_rate(xs[0], p["eps"], "emp-ssl"),
    ("coding-rate", "lightly"): lambda xs, p: lightly_emp_ssl_tcr(xs[0], p["eps"]),
    ("corinfomax", "one-batch"): lambda xs, p: corinfomax(xs[0], xs[1], p["alpha"], p["eps"]),
    ("corinfomax", "running"): lambda xs, p: corinfomax(
        xs[0], xs[1], p["alpha"], p["eps"], state=xs[2:], la_mu=p["la_mu"], la_r=p["la_r"]
    ),
    ("nt-xent", "lightly"): lambda xs, p: nt_xent(xs, p["tau"]),
    ("nt-xent", "solo-learn"): lambda xs, p: nt_xent(xs, p["tau"]),
    ("simsiam", "official"): lambda xs, p: simsiam(*xs),
    ("align", "official"): lambda xs, p: align(xs[0], xs[1], int(p["alpha"])),
    ("uniformity", "official"): lambda xs, p: uniformity(xs[0], p["t"]),
    ("uniformity", "lightly"): lambda xs, p: uniformity(xs[0], p["t"]),
}

# Inputs that are state, not variables (no gradient).
STATE_INPUTS = {"mu1", "r1", "mu2", "r2"}
