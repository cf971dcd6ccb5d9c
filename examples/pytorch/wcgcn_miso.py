"""Train dmpemu's beamforming WCGCN (eq. 8, section V-C of the MPGNN paper) in PyTorch.

The model is exactly dmpemu's `wcgcn` beamforming architecture (packages/gnn/src/wcgcn.ts):
x_k = [h_kk, v_k] (complex vectors as Nt real parts then Nt imaginary parts, 4 Nt), e_jk = h_jk
(2 Nt) for the senders j whose channel agent k knows, both scaled by the checkpoint's features
(h |-> h (T(|h|) - shift) / (scale |h|), T = log1p: log10(1 + |h|^2)); MLP1 {6 Nt, 64, 64} with ReLU
after every layer, max over the known neighbours, MLP2 {64 + 4 Nt, 32, 2 Nt},
sigma(y) = y / max(||y||, 1); 3 layers sharing their weights, from v_k = 1 / sqrt(Nt). With
--edges out, e_jk = h_kj, the channel from k's transmitter to j's receiver (dmpemu's `edges: out`, the
seed authors' code's edge feature; same widths). With --edges both, e_jk = [h_jk, h_kj] and MLP1
{8 Nt, 64, 64} (dmpemu's `edges: both`): agent k sees the interference it causes at its
neighbours' receivers too; --init from a paper-width `in` model starts the h_kj weights at 0, the
same function. --width1 / --width2 widen MLP1 {.., 64, 64} and MLP2's hidden layer 32; --init from
a narrower model keeps its function (the new units' outgoing weights start at 0).
Channel: channel-models.md section 3 (the D2D layout, beta(d) = 4.4e5 / (d^1.88 10^(6.3 s / 20)),
s ~ N(0, 1) per antenna entry, h = sqrt(beta) CN(0, I), sigma^2 = 1, Pmax = 1, sum rate).

The graph is sparse, as the agents see it: with a 300 m CSI range agent k knows about 14 of its
49 senders (about 24 at 500 m), so messages are computed only on those edges (an edge list
sorted by receiver, the max over the senders a segment max) instead of on all K^2 pairs.

Validation is on a dmpemu instance file (`dmpemu generate --model miso ...`) against the mean sum
rate `dmpemu eval --algorithm wmmse --json` printed for it (centralized WMMSE-100, global CSI): the
ratio is dmpemu's `normalised`. With --init the script first checks that its forward pass gives,
on that file, the `normalised` that `dmpemu eval --algorithm wcgcn --checkpoint <init> --json`
printed (--init-check), so the PyTorch model is dmpemu's model.

Training: Adam on minus the sum rate, fresh networks every batch, StepLR (lr x gamma every
`step_size` steps); with `--warmup`, that schedule times a linear rise over the first steps; with
`--ema`, an exponential moving average of the weights is validated beside them. Every `--every` steps the validation ratio goes to <out>/curve.jsonl; the best
model so far to <out>/weights.json in dmpemu's layout (weights-to-checkpoint.ts makes it a
checkpoint).

Usage: /usr/bin/python3 examples/pytorch/wcgcn_miso.py --validation val.json --wmmse val-wmmse.json
         --init scenarios/models/wcgcn-miso-k50-nt2.json --init-check val-wcgcn.json --out runs/torch/miso
(PyTorch with a real BLAS: apt-get install python3-torch libopenblas0-pthread)
"""
import argparse, json, math, os, sys, time

from dmpemu_weights import layer_weights, load_layers, write_json  # first: it finds PyTorch
import torch
from torch import nn


p = argparse.ArgumentParser()
p.add_argument("--K", type=int, default=50)
p.add_argument("--Nt", type=int, default=2)
p.add_argument("--field", type=float, default=1000)
p.add_argument("--dmin", type=float, default=2)
p.add_argument("--dmax", type=float, default=65)
p.add_argument("--csi-range", type=float, default=300)
p.add_argument("--steps", type=int, default=20000)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--step-size", type=int, default=2000, help="StepLR period in steps")
p.add_argument("--gamma", type=float, default=0.8)
p.add_argument("--warmup", type=int, default=0, help="lr rises linearly from lr / warmup to lr over the first steps (a continued model: Adam's moments start at 0, and its first steps at full lr throw it back)")
p.add_argument("--every", type=int, default=250)
p.add_argument("--validation", required=True, help="a dmpemu miso instance file (JSON) of the same network")
p.add_argument("--wmmse", required=True, help="`dmpemu eval --algorithm wmmse --json` of the validation file")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--init", help="a dmpemu beamforming wcgcn checkpoint (.json) to start from")
p.add_argument("--init-check", help="`dmpemu eval --algorithm wcgcn --checkpoint <init> --json` of the validation file")
p.add_argument("--edges", choices=["in", "out", "both"], default="in", help="e_jk = h_jk (the paper's text, MLP1 {6 Nt, ...}), h_kj (the seed authors' code: the interference agent k causes at j, MLP1 {6 Nt, ...}) or [h_jk, h_kj] (MLP1 {8 Nt, ...}, as the power-control WCGCN's e_jk = [g_jk, g_kj]); --init from an `in` model with --edges both starts the h_kj weights at 0")
p.add_argument("--width1", type=int, default=64, help="MLP1's widths {in, width1, width1}: its hidden layer and the message (the paper's 64)")
p.add_argument("--width2", type=int, default=32, help="MLP2's hidden width: {width1 + 4 Nt, width2, 2 Nt} (the paper's 32)")
p.add_argument("--ema", type=float, default=0, help="also keep an exponential moving average of the weights (Polyak averaging, W_avg <- ema W_avg + (1 - ema) W after every step; torch.optim.swa_utils.AveragedModel), validate it beside the weights, and export whichever is better; 0: off")
p.add_argument("--out", required=True)
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
os.makedirs(args.out, exist_ok=True)
K, Nt = args.K, args.Nt
EDGE = 4 * Nt if args.edges == "both" else 2 * Nt
W1, W2 = args.width1, args.width2
ARCH = {"kind": "wcgcn", "task": "beamforming", "layers": 3, "Nt": Nt, "mlp1": [4 * Nt + EDGE, W1, W1], "mlp2": [W1 + 4 * Nt, W2, 2 * Nt], "aggregation": "max", "mlp1Output": "relu", **({"edges": args.edges} if args.edges != "in" else {})}


INIT = None
if args.init:
    with open(args.init) as f:
        INIT = json.load(f)
    a = INIT["architecture"]
    more_edges = args.edges == "both" and a.get("edges", "in") == "in"  # an `in` model: h_kj's weights start at 0
    w1, w2 = a.get("mlp1", [0, 0])[-1], a.get("mlp2", [0, 0])[1]  # a narrower model: its new units' outputs start at 0
    expect = {**ARCH, "mlp1": [6 * Nt if more_edges else 4 * Nt + EDGE, w1, w1], "mlp2": [w1 + 4 * Nt, w2, 2 * Nt]}
    if any(a.get(key) != expect[key] for key in expect if key != "edges") or a.get("edges", "in") != ("in" if more_edges else args.edges) or w1 > W1 or w2 > W2:
        sys.exit(f"--init {args.init}: expected a wcgcn checkpoint {json.dumps(expect)} with widths at most --width1 {W1}, --width2 {W2}")
    widened = more_edges or (w1, w2) != (W1, W2)
    FEATURES = a["features"]
else:
    FEATURES = None  # fitted below on training draws, as dmpemu's fitFeatureScaling does


def layout(B, gen):
    """tx, rx [B, K, 2] (channel-models.md section 2): receivers redrawn until inside the field,
    a whole layout redrawn while any transmitter-receiver distance is below 1 m; dist [B, K(tx), K(rx)]."""
    L = args.field
    out_tx, out_rx, out_d = [], [], []
    while len(out_tx) < B:
        tx = torch.rand(K, 2, generator=gen, dtype=torch.float64) * L
        rx = torch.empty(K, 2, dtype=torch.float64)
        todo = torch.ones(K, dtype=torch.bool)
        while todo.any():
            n = int(todo.sum())
            d = args.dmin + (args.dmax - args.dmin) * torch.rand(n, generator=gen, dtype=torch.float64)
            angle = 2 * math.pi * torch.rand(n, generator=gen, dtype=torch.float64)
            r = tx[todo] + torch.stack([d * torch.cos(angle), d * torch.sin(angle)], 1)
            inside = (r >= 0).all(1) & (r <= L).all(1)
            idx = todo.nonzero().squeeze(1)
            rx[idx[inside]] = r[inside]
            todo[idx[inside]] = False
        dist = torch.cdist(tx, rx)
        if (dist < 1).any():
            continue
        out_tx.append(tx), out_rx.append(rx), out_d.append(dist)
    return torch.stack(out_tx), torch.stack(out_rx), torch.stack(out_d)


def draw(B, gen=None):
    """h [B, K(tx j), K(rx k), Nt] complex (channel-models.md section 3) and known [B, K(rx k), K(tx j)]."""
    _, _, dist = layout(B, gen)
    s = torch.randn(B, K, K, Nt, generator=gen, dtype=torch.float64)
    beta = 4.4e5 / (dist.unsqueeze(3) ** 1.88 * 10 ** (6.3 * s / 20))
    z = torch.complex(torch.randn(B, K, K, Nt, generator=gen, dtype=torch.float64), torch.randn(B, K, K, Nt, generator=gen, dtype=torch.float64)) * math.sqrt(0.5)
    h = torch.sqrt(beta) * z
    eye = torch.eye(K, dtype=torch.bool)
    known = (dist <= args.csi_range) & ~eye  # [b, j, k]: agent k knows h_jk
    return h, known.transpose(1, 2)


def log1p_norm(h):
    return torch.log10(1 + (h.abs() ** 2).sum(-1))


if FEATURES is None:
    h, known = draw(200, torch.Generator().manual_seed(args.seed + 7))
    t = log1p_norm(h)
    eye = torch.eye(K, dtype=torch.bool).expand_as(t)
    FEATURES = {"transform": "log1p", "direct": {"shift": 0, "scale": t[eye].std(unbiased=False).item()}, "cross": {"shift": 0, "scale": t[known.transpose(1, 2)].std(unbiased=False).item()}}


def scaled(h, kind):
    """h (T(|h|) - 0) / (scale |h|) as [re (Nt), im (Nt)], 0 for h = 0 (dmpemu's scaleChannel)."""
    r = torch.sqrt((h.abs() ** 2).sum(-1, keepdim=True))
    factor = torch.where(r > 0, torch.log10(1 + r * r) / (FEATURES[kind]["scale"] * torch.clamp(r, min=1e-300)), torch.zeros_like(r))
    v = h * factor
    return torch.cat([v.real, v.imag], -1).float()


class Graph:
    """The batch as the agents see it, as an edge list: for every known edge (j, k), the sender's
    row src = b K + j, the receiver's row dst = b K + k and the scaled h_jk (edge [E, 2 Nt]);
    node [B, K, 2 Nt] the scaled h_kk."""

    def __init__(self, h, known):
        B = h.shape[0]
        b, k, j = known.nonzero(as_tuple=True)  # known[b, k, j]: agent k knows h_jk
        self.B, self.src, self.dst = B, b * K + j, b * K + k
        self.lengths = torch.bincount(self.dst, minlength=B * K)  # edges per receiver; nonzero() sorts them by dst
        parts = []  # e_jk: h_jk (in), h_kj (out) or both
        if args.edges != "out":
            parts.append(scaled(h[b, j, k], "cross"))
        if args.edges != "in":
            parts.append(scaled(h[b, k, j], "cross"))
        self.edge = torch.cat(parts, 1)
        self.node = scaled(torch.diagonal(h, dim1=1, dim2=2).transpose(1, 2), "direct")


class WCGCN(nn.Module):
    def __init__(self):
        super().__init__()
        # dmpemu's layout; forward folds the last ReLU (mlp1[3]) into the max over the senders
        self.mlp1 = nn.Sequential(nn.Linear(4 * Nt + EDGE, W1), nn.ReLU(), nn.Linear(W1, W1), nn.ReLU())
        self.mlp2 = nn.Sequential(nn.Linear(W1 + 4 * Nt, W2), nn.ReLU(), nn.Linear(W2, 2 * Nt))

    def forward(self, g):
        """v_k / sqrt(Pmax) as [re (Nt), im (Nt)], [B, K, 2 Nt]."""
        B = g.B
        W, bias = self.mlp1[0].weight, self.mlp1[0].bias
        edge_half = g.edge @ W[:, 4 * Nt:].T + bias  # [E, W1], once for the 3 layers
        v = torch.cat([torch.full((B, K, Nt), 1 / math.sqrt(Nt)), torch.zeros(B, K, Nt)], 2)
        for _ in range(3):
            x = torch.cat([g.node, v], 2)
            # MLP1's first layer: the edge half plus sender j's x_j (4 Nt numbers gathered per edge, not
            # W1), the add fused into the product; the same numbers, 1.17x faster a step at W1 = 128
            first = torch.addmm(edge_half, x.reshape(B * K, 4 * Nt)[g.src], W[:, :4 * Nt].T)
            z = self.mlp1[2](torch.relu(first))  # the messages before MLP1's last ReLU
            # max over k's known senders of ReLU(z) = max(0, max of z): a segment max starting from 0, with
            # no ReLU over the edges (0 for agents without neighbours, as dmpemu gives). The same
            # numbers as the per-edge ReLU and a scatter max, forward and backward, 1.7x faster.
            agg = torch.segment_reduce(z, "max", lengths=g.lengths, unsafe=True, initial=0).reshape(B, K, W1)
            y = self.mlp2(torch.cat([x, agg], 2))
            v = y / torch.sqrt(torch.clamp((y * y).sum(2, keepdim=True), min=1))
        return v


def sum_rate(v, h):
    """sum_k log2(1 + |h_kk^H v_k|^2 / (sum_{j != k} |h_jk^H v_j|^2 + sigma^2)), sigma^2 = Pmax = 1, per instance [B]."""
    vc = torch.complex(v[:, :, :Nt].double(), v[:, :, Nt:].double())  # [B, K(j), Nt]
    power = (torch.conj(h) * vc.unsqueeze(2)).sum(3).abs() ** 2  # [b, j, k] = |h_jk^H v_j|^2
    signal = torch.diagonal(power, dim1=1, dim2=2)
    interference = power.sum(1) - signal
    return torch.log2(1 + signal / (interference + 1)).sum(1)


def load_validation(path):
    with open(path) as f:
        file = json.load(f)
    if file.get("model") != "miso" or file.get("K") != K or file.get("Nt") != Nt:
        sys.exit(f"--validation {path}: expected a miso instance file with K = {K}, Nt = {Nt}")
    hs, knowns = [], []
    for inst in file["instances"]:
        h = torch.complex(torch.tensor(inst["hRe"], dtype=torch.float64), torch.tensor(inst["hIm"], dtype=torch.float64))
        known = torch.zeros(K, K, dtype=torch.bool)
        for k, senders in enumerate(inst["csi"]):
            known[k, senders] = True
        hs.append(h), knowns.append(known)
    return torch.stack(hs), torch.stack(knowns)


val_h, val_known = load_validation(args.validation)
val_graph = Graph(val_h, val_known)
with open(args.wmmse) as f:
    wmmse100 = json.load(f)["meanRate"]


def validation_ratio(m):
    with torch.no_grad():
        return sum_rate(m(val_graph), val_h).mean().item() / wmmse100


model = WCGCN()
if INIT:
    load_layers(model, INIT["weights"], widen=widened)  # widened: the same function (h_kj's inputs and new units' outputs 0)
opt = torch.optim.Adam(model.parameters(), lr=args.lr)
if args.warmup < 0:
    sys.exit(f"--warmup: steps, at least 0, got {args.warmup}")
if args.warmup:  # StepLR's decays, times a linear rise over the first --warmup steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / args.warmup) * args.gamma ** (s // args.step_size))
else:  # StepLR itself: it multiplies the lr in place, so earlier runs' schedules are reproduced to the bit
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=args.step_size, gamma=args.gamma)
if not 0 <= args.ema < 1:
    sys.exit(f"--ema: a decay in [0, 1), 0 for off, got {args.ema}")
ema = torch.optim.swa_utils.AveragedModel(model, avg_fn=lambda avg, w, n: args.ema * avg + (1 - args.ema) * w) if args.ema else None


def export(ratio, step, seen, averaged):
    out = {
        "architecture": {**ARCH, "features": FEATURES},
        "weights": layer_weights(ema.module if averaged else model),
        "training": {
            "framework": f"torch {torch.__version__}", "script": "examples/pytorch/wcgcn_miso.py",
            "command": " ".join(["python3", "examples/pytorch/wcgcn_miso.py", *sys.argv[1:]]),
            "network": {"model": "miso", "K": K, "Nt": Nt, "field": args.field, "dmin": args.dmin, "dmax": args.dmax, "csiRange": args.csi_range},
            "steps": step, "batch": args.batch, "samplesSeen": seen, "lr": args.lr, "schedule": f"StepLR step {args.step_size} gamma {args.gamma}" + (f", linear warm-up {args.warmup} steps" if args.warmup else ""),
            "samples": "fresh per batch", "seed": args.seed,
            **({"weightAverage": f"exponential moving average, decay {args.ema}"} if averaged else {}),
            **({"init": os.path.basename(args.init), "initHash": INIT.get("hash"), "initTraining": INIT["training"]} if INIT else {}),
        },
        "metrics": {"validationRatio": ratio, "validationInstances": val_h.shape[0], "validationFile": os.path.basename(args.validation)},
    }
    write_json(os.path.join(args.out, "weights.json"), out)


curve = open(os.path.join(args.out, "curve.jsonl"), "a")
best, t0, seen = validation_ratio(model), time.perf_counter(), 0
print(f"validation ratio at the start: {best:.6f} ({val_h.shape[0]} instances, WMMSE-100 {wmmse100:.4f})", flush=True)
if args.init_check:
    with open(args.init_check) as f:
        expected = json.load(f)["normalised"]
    if abs(best - expected) > 1e-4:
        sys.exit(f"--init-check: this model gives {best:.6f} on the validation file, dmpemu gave {expected:.6f}: the PyTorch model is not dmpemu's")
    print(f"--init-check: dmpemu gave {expected:.6f}: same model", flush=True)
curve.write(json.dumps({"step": 0, "samples": 0, "validationRatio": best, "lr": args.lr, "seconds": 0}) + "\n")
curve.flush()
gen = torch.Generator().manual_seed(args.seed)
for step in range(1, args.steps + 1):
    h, known = draw(args.batch, gen)
    loss = -sum_rate(model(Graph(h, known)), h).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    if ema:
        ema.update_parameters(model)
    seen += args.batch
    if step % args.every == 0 or step == args.steps:
        ratio = validation_ratio(model)
        averaged = validation_ratio(ema) if ema else None
        line = {"step": step, "samples": seen, "loss": loss.item(), "validationRatio": ratio, **({"validationRatioEma": averaged} if ema else {}), "lr": sched.get_last_lr()[0], "seconds": time.perf_counter() - t0}
        curve.write(json.dumps(line) + "\n")
        curve.flush()
        print(json.dumps(line), flush=True)
        if max(ratio, averaged or 0) > best:
            best = max(ratio, averaged or 0)
            export(best, step, seen, averaged=ema is not None and averaged > ratio)
print(f"best validation ratio {best:.6f}")
