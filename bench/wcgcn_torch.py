"""Training throughput of the WCGCN (eq. 8 of shared/papers/mpgnn-wcgcn-scalable-rrm.md) in plain
PyTorch, for a same-machine comparison with our TensorFlow.js benchmark (bench/gnn.ts).

Two formulations of the same model, both timed:
  pyg   - what PyTorch Geometric's MessagePassing does: B graphs batched into one big graph with
          all K(K-1) directed edges each, gather x_j over edge_index, MLP1 on [x_j, e_jk],
          scatter-amax into the receivers, then MLP2.
  dense - what packages/gnn/src/wcgcn.ts does: [B, K, K, F] tensors, MLP1's first layer split
          into an edge half (once) and a node half (per layer), masked max over the sender axis.
Usage: python3 wcgcn_torch.py [seconds per configuration, default 4]
"""
import os, sys, time

try:
    import torch
except ImportError:
    # apt's python3-torch is in the system python; `python3` on PATH may be another one (pyenv)
    if os.path.exists("/usr/bin/python3") and not sys.executable.startswith("/usr/bin/"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    print("torch not installed: apt-get install python3-torch")
    sys.exit(0)
from torch import nn
import warnings

warnings.filterwarnings("ignore", message="scatter_reduce")  # "in beta" in torch 1.13

B, LAYERS, SIGMA2, LR = 64, 3, 0.1, 1e-3  # batch 64, 3 layers sharing weights, 10 dB, Adam 1e-3
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0


def channel(K):
    """g[b, j, k] = |h_jk|, h_jk ~ CN(0, 1): amplitude from transmitter j to receiver k."""
    return torch.complex(torch.randn(B, K, K), torch.randn(B, K, K)).abs() / 2**0.5


def neg_sum_rate(p, g):
    """Minus the mean over the batch of sum_k log2(1 + g_kk^2 p_k / (sum_{j!=k} g_jk^2 p_j + sigma^2))."""
    g2 = g**2
    signal = torch.diagonal(g2, dim1=1, dim2=2) * p  # [B, K]
    interference = torch.bmm(p.unsqueeze(1), g2).squeeze(1) - signal  # sum_{j != k} g_jk^2 p_j
    return -torch.log2(1 + signal / (interference + SIGMA2)).sum(1).mean()


class WCGCN(nn.Module):
    # eq. 8: y_k = MLP2([x_k, MAX_{j in N(k)} MLP1([x_j, e_jk])]), p_k = sigmoid(y_k), 3 layers
    def __init__(self):
        super().__init__()
        self.mlp1 = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.mlp2 = nn.Sequential(nn.Linear(35, 16), nn.ReLU(), nn.Linear(16, 1))

    def pyg(self, g, edge_index):
        K = g.shape[1]
        j, k = edge_index  # sender, receiver (node ids b*K + i)
        gkk = torch.diagonal(g, dim1=1, dim2=2).reshape(-1, 1)  # [N, 1], N = B K
        w = torch.ones_like(gkk)
        off_diagonal = ~torch.eye(K, dtype=torch.bool)  # edges in complete_graph_edges' order
        e = torch.stack([g, g.transpose(1, 2)], 3)[:, off_diagonal].reshape(-1, 2)  # e_jk = [g_jk, g_kj]
        p = torch.ones_like(gkk)
        for _ in range(LAYERS):
            x = torch.cat([gkk, w, p], 1)  # x_k = [g_kk, w_k, p_k]
            m = self.mlp1(torch.cat([x[j], e], 1))  # [E, 32]
            index = k.unsqueeze(1).expand_as(m)
            aggr = torch.zeros(x.shape[0], m.shape[1]).scatter_reduce(0, index, m, reduce="amax", include_self=False)
            p = torch.sigmoid(self.mlp2(torch.cat([x, aggr], 1)))
        return p.reshape(B, K)

    def dense(self, g):
        K = g.shape[1]
        gkk = torch.diagonal(g, dim1=1, dim2=2).unsqueeze(2)  # [B, K, 1]
        w = torch.ones_like(gkk)
        e = torch.stack([g.transpose(1, 2), g], 3)  # e[b, k, j] = [g_jk, g_kj], receiver k on axis 1
        W, bias = self.mlp1[0].weight, self.mlp1[0].bias
        edge_half = e @ W[:, 3:].T + bias  # [B, K, K, 32], once for all layers
        mask_bias = torch.diag(torch.full((K,), -1e9)).reshape(1, K, K, 1)  # no self-edge
        p = torch.ones_like(gkk)
        for _ in range(LAYERS):
            x = torch.cat([gkk, w, p], 2)
            node_half = (x @ W[:, :3].T).unsqueeze(1)  # [B, 1, K, 32], sender j on axis 2
            m = self.mlp1[3](self.mlp1[2](torch.relu(edge_half + node_half)))
            aggr = torch.amax(m + mask_bias, 2)  # max over senders j != k
            p = torch.sigmoid(self.mlp2(torch.cat([x, aggr], 2)))
        return p.reshape(B, K)


def complete_graph_edges(K):
    """All K(K-1) directed edges of each of B complete graphs, batched as one graph (PyG's Batch)."""
    j, k = torch.meshgrid(torch.arange(K), torch.arange(K), indexing="ij")
    keep = j != k
    offsets = (torch.arange(B) * K).reshape(B, 1)
    return torch.stack([(j[keep] + offsets).reshape(-1), (k[keep] + offsets).reshape(-1)])


def blas():
    """The BLAS library torch's matmuls use (Debian's torch takes whichever libblas.so.3 is selected)."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "libblas" in line.split()[-1]})
    except OSError:
        return "unknown"
    reference = any("/blas/libblas" in lib for lib in libs)  # netlib: several times slower than MKL
    return ", ".join(libs) + (" (reference BLAS: apt-get install libopenblas0-openmp)" if reference else "")


def samples_per_second(formulation, K):
    torch.manual_seed(0)
    model = WCGCN()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    edge_index = complete_graph_edges(K)
    forward = (lambda g: model.pyg(g, edge_index)) if formulation == "pyg" else model.dense

    def step():
        g = channel(K)  # a fresh batch every step, as the TF.js benchmark does
        loss = neg_sum_rate(forward(g), g)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < SECONDS:
        step()
        n += 1
    return n * B / (time.perf_counter() - t0)


torch.ones(2, 2) @ torch.ones(2, 2)
print(f"torch {torch.__version__} (eq. 8 WCGCN, 3 layers, MLP1 5-32-32, MLP2 35-16-1, batch 64, Adam 1e-3)\nBLAS {blas()}")
# Debian's torch defaults to 1 thread; the second line uses every core this process may run on
for threads in sorted({1, max(torch.get_num_threads(), len(os.sched_getaffinity(0)))}):
    torch.set_num_threads(threads)
    for K in (10, 50):
        for formulation in ("pyg", "dense"):
            sps = samples_per_second(formulation, K)
            print(f"torch-{formulation:<7} threads={threads} K={K:<4} {sps:7.0f} samples/s", flush=True)
