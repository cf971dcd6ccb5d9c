"""Train dmpemu's Table I WCGCN (eq. 8 of the MPGNN paper) in PyTorch and export it for dmpemu.

The model is exactly dmpemu's `wcgcn` power-control architecture: x_k = [T(g_kk), w_k, p_k],
e_jk = [T(g_jk), T(g_kj)] with T(g) = (20 log10 g - shift) / scale, MLP1 {5, 32, 32} (ReLU after
every layer), max over the neighbours j != k, MLP2 {35, 16, 1}, p_k = sigmoid(y_k) Pmax, 3 layers
sharing their weights, starting from p_k = Pmax. Rayleigh channel: h_ij ~ CN(0, 1), g_ij = |h_ij|,
sigma^2 = 10^(-SNR/10), w_k = 1 (channel-models.md section 1, as docs/channel-models.md says).

Training: Adam, unsupervised on minus the sum rate, fresh channels every batch, and the step
learning-rate schedule of the seed authors' code (StepLR: lr x gamma every `step_size` steps).
Every `--every` steps the validation ratio (mean sum rate / mean sum rate of WMMSE-100 from
p = Pmax, on fixed validation channels) is appended to <out>/curve.jsonl, and the best model so
far is written as <out>/weights.json (dmpemu's weight names, kernels [in, out]) plus the ONNX
message and update networks and their model.yaml for `dmpemu import`.

Usage: /usr/bin/python3 wcgcn_rayleigh.py --K 50 --snr-db 0 --steps 30000 --out runs/torch/k50-snr0
With --init <checkpoint.json> training starts from a dmpemu WCGCN checkpoint (its weights and its
feature scaling), e.g. to continue a TF.js run with a decaying learning rate.
"""
import argparse, json, math, os, sys, time

from dmpemu_weights import layer_weights, load_layers, write_json  # first: it finds PyTorch
import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("--K", type=int, required=True)
p.add_argument("--snr-db", type=float, required=True)
p.add_argument("--steps", type=int, default=30000)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--step-size", type=int, default=3140, help="StepLR period in steps (20 epochs of 10^4 samples at batch 64)")
p.add_argument("--gamma", type=float, default=0.9)
p.add_argument("--every", type=int, default=500)
p.add_argument("--validation", type=int, default=500)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--init", help="a dmpemu wcgcn checkpoint (.json) to start from: its weights and feature scaling")
p.add_argument("--out", required=True)
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
os.makedirs(args.out, exist_ok=True)
K, SIGMA2 = args.K, 10 ** (-args.snr_db / 10)


def channel(B, gen=None, dtype=torch.float32):
    """g[b, i, j] = |h_ij|, transmitter i to receiver j, h_ij ~ CN(0, 1) (float32 for training)."""
    re = torch.randn(B, K, K, generator=gen, dtype=dtype)
    im = torch.randn(B, K, K, generator=gen, dtype=dtype)
    return torch.sqrt((re * re + im * im) / 2)


# T(g) = 20 log10 g standardised over the direct and over the cross channels, as dmpemu's
# fitFeatureScaling does on training data (here on 200 fresh draws)
with torch.no_grad():
    g = channel(200, torch.Generator().manual_seed(args.seed + 7), torch.float64)
    db = 20 * torch.log10(g)
    eye = torch.eye(K, dtype=torch.bool).expand_as(db)
    direct, cross = db[eye], db[~eye]
    FEATURES = {
        "transform": "db",
        "direct": {"shift": direct.mean().item(), "scale": direct.std(unbiased=False).item()},
        "cross": {"shift": cross.mean().item(), "scale": cross.std(unbiased=False).item()},
    }


INIT = None
if args.init:
    with open(args.init) as f:
        INIT = json.load(f)
    arch = INIT["architecture"]
    if arch.get("kind") != "wcgcn" or arch.get("mlp1") != [5, 32, 32] or arch.get("mlp2") != [35, 16, 1]:
        sys.exit(f"--init {args.init}: expected a wcgcn checkpoint with mlp1 [5, 32, 32] and mlp2 [35, 16, 1]")
    FEATURES = arch["features"]


def scaled(g, kind):
    f = FEATURES[kind]
    return (20 * torch.log10(torch.clamp(g, min=1e-15)) - f["shift"]) / f["scale"]


class WCGCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp1 = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.mlp2 = nn.Sequential(nn.Linear(35, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, g):
        """p_k / Pmax, [B, K]; dense form: [B, K(receiver), K(sender), F], max over the senders."""
        B = g.shape[0]
        gkk = scaled(torch.diagonal(g, dim1=1, dim2=2), "direct").unsqueeze(2)  # [B, K, 1]
        w = torch.ones_like(gkk)
        gT = g.transpose(1, 2)  # gT[b, k, j] = g_jk
        e = torch.stack([scaled(gT, "cross"), scaled(g, "cross")], 3)  # e[b, k, j] = [g_jk, g_kj]
        W, bias = self.mlp1[0].weight, self.mlp1[0].bias
        edge_half = e @ W[:, 3:].T + bias
        no_self = torch.diag(torch.full((K,), -1e30, dtype=g.dtype)).reshape(1, K, K, 1)
        p = torch.ones_like(gkk)
        for _ in range(3):
            x = torch.cat([gkk, w, p], 2)
            node_half = (x @ W[:, :3].T).unsqueeze(1)  # sender j on axis 2
            m = self.mlp1[3](self.mlp1[2](torch.relu(edge_half + node_half)))
            aggr = torch.amax(m + no_self, 2)
            p = torch.sigmoid(self.mlp2(torch.cat([x, aggr], 2)))
        return p.squeeze(2)


def sum_rate(p, g):
    """sum_k log2(1 + g_kk^2 p_k / (sum_{j != k} g_jk^2 p_j + sigma^2)) per instance, [B]."""
    g2 = g * g
    signal = torch.diagonal(g2, dim1=1, dim2=2) * p
    interference = torch.bmm(p.unsqueeze(1), g2).squeeze(1) - signal
    return torch.log2(1 + signal / (interference + SIGMA2)).sum(1)


def wmmse(g, iterations=100):
    """Batched WMMSE power control (eq. 16 of the theory-to-practice paper) from v = sqrt(Pmax)."""
    g2 = g * g
    gkk = torch.diagonal(g, dim1=1, dim2=2)
    v = torch.ones_like(gkk)
    for _ in range(iterations):
        received = torch.bmm((v * v).unsqueeze(1), g2).squeeze(1) + SIGMA2  # sum_j g_jk^2 v_j^2 + sigma^2
        u = gkk * v / received
        a = 1 / (1 - u * gkk * v)
        c = a * u * u
        v = torch.clamp(a * u * gkk / torch.bmm(g2, c.unsqueeze(2)).squeeze(2), 0, 1)  # sum_j c_j g_kj^2
    return v * v


val = channel(args.validation, torch.Generator().manual_seed(args.seed + 9001), torch.float64)
wmmse100 = sum_rate(wmmse(val), val).mean().item()


model = WCGCN()
if INIT:
    load_layers(model, INIT["weights"])
opt = torch.optim.Adam(model.parameters(), lr=args.lr)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=args.step_size, gamma=args.gamma)


def export(ratio, step):
    out = {
        "architecture": {"kind": "wcgcn", "task": "power", "layers": 3, "mlp1": [5, 32, 32], "mlp2": [35, 16, 1], "aggregation": "max", "mlp1Output": "relu", "features": FEATURES},
        "weights": layer_weights(model),
        "training": {"framework": f"torch {torch.__version__}", "script": "examples/pytorch/wcgcn_rayleigh.py", "command": " ".join(["python3", "examples/pytorch/wcgcn_rayleigh.py", *sys.argv[1:]]), "network": {"model": "rayleigh-ic", "K": K, "snrDb": args.snr_db}, "steps": step, "batch": args.batch, "lr": args.lr, "schedule": f"StepLR step {args.step_size} gamma {args.gamma}", "samples": "fresh per batch", "seed": args.seed, **({"init": os.path.basename(args.init), "initHash": INIT.get("hash"), "initTraining": INIT["training"]} if INIT else {})},
        "metrics": {"validationRatio": ratio, "validationInstances": args.validation},
    }
    write_json(os.path.join(args.out, "weights.json"), out)


curve = open(os.path.join(args.out, "curve.jsonl"), "a")
best, t0, seen = -1.0, time.perf_counter(), 0
if INIT:
    with torch.no_grad():
        start = sum_rate(model(val.float()).double(), val).mean().item() / wmmse100
    curve.write(json.dumps({"step": 0, "samples": 0, "validationRatio": start, "lr": args.lr, "seconds": 0}) + "\n")
    curve.flush()
    print(f"validation ratio of --init: {start:.4f}")
    best = start  # weights.json is written only for a model better than the one it started from
for step in range(1, args.steps + 1):
    g = channel(args.batch)
    loss = -sum_rate(model(g), g).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    seen += args.batch
    if step % args.every == 0 or step == args.steps:
        with torch.no_grad():
            ratio = sum_rate(model(val.float()).double(), val).mean().item() / wmmse100
        line = {"step": step, "samples": seen, "loss": loss.item(), "validationRatio": ratio, "lr": sched.get_last_lr()[0], "seconds": time.perf_counter() - t0}
        curve.write(json.dumps(line) + "\n")
        curve.flush()
        if ratio > best:
            best = ratio
            export(ratio, step)
print(f"best validation ratio {best:.4f}")
