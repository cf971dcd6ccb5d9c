"""IGCNet (Shen et al., the WCGCN paper's PyTorch Geometric code) exported for dmpemu.

The model is a PyG MessagePassing layer applied 3 times with the same weights:
  message(x_j, edge_attr) = mlp1([x_j, edge_attr])            per edge j -> k
  aggr_out = max over j of the messages                        (aggr='max')
  update(x, aggr_out)     = [x[:, :2], mlp2([x, aggr_out])]    the new x_k = [g_kk, w_k, p_k]
with MLP(c) = Seq(Lin, ReLU, BatchNorm1d) per layer and mlp2 ending in Lin(16, 1), Sigmoid.
dmpemu runs it decentralised from the two networks alone: export `message` and `update` with
torch.onnx.export (input names x_j, edge_attr / x, aggr_out) and describe the rest in a YAML
file (igcnet.yaml), then `dmpemu import igcnet.yaml --out igcnet.json`.

Written without torch_geometric (not installable here); `IGConv.forward` does what PyG's
propagate does for a dense graph with a CSI mask, so the same module trains on the papers' data.
Usage: python3 igcnet.py <out dir>   (random weights; load your trained state_dict instead)
"""
import json
import sys

import torch
from torch import nn


def MLP(channels):
    return nn.Sequential(*[nn.Sequential(nn.Linear(channels[i - 1], channels[i]), nn.ReLU(), nn.BatchNorm1d(channels[i])) for i in range(1, len(channels))])


class Message(nn.Module):
    def __init__(self, mlp1):
        super().__init__()
        self.mlp1 = mlp1

    def forward(self, x_j, edge_attr):
        return self.mlp1(torch.cat([x_j, edge_attr], dim=1))


class Update(nn.Module):
    def __init__(self, mlp2):
        super().__init__()
        self.mlp2 = mlp2

    def forward(self, x, aggr_out):
        return torch.cat([x[:, :2], self.mlp2(torch.cat([x, aggr_out], dim=1))], dim=1)


class IGCNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.message = Message(MLP([5, 16, 32]))
        self.update = Update(nn.Sequential(MLP([35, 16]), nn.Sequential(nn.Linear(16, 1), nn.Sigmoid())))

    def conv(self, x, H, known):
        """One layer for a K x K channel H (H[i, j]: transmitter i to receiver j) and CSI mask known[j, k]."""
        K = H.shape[0]
        src, dst = torch.nonzero(known, as_tuple=True)  # edges j -> k
        # edge_attr of j -> k: [g_kj, g_jk] = [g_out, g_in] seen from receiver k (igcnet.yaml: edge)
        edge_attr = torch.stack([H[dst, src], H[src, dst]], dim=1)
        msg = self.message(x[src], edge_attr)
        aggr = torch.zeros(K, msg.shape[1], dtype=msg.dtype)  # PyG's scatter max: 0 where nothing arrives
        for k in range(K):
            m = msg[dst == k]
            if len(m):
                aggr[k] = m.max(dim=0).values
        return self.update(x, aggr)

    def forward(self, H, w, known, rounds=3):
        x = torch.stack([torch.diagonal(H), w, torch.ones_like(w)], dim=1)  # igcnet.yaml: state
        for _ in range(rounds):
            x = self.conv(x, H, known)
        return x[:, 2]  # p_k / Pmax (igcnet.yaml: output)


def export(model, out):
    model.eval()
    E, N = 4, 3
    torch.onnx.export(model.message, (torch.rand(E, 3), torch.rand(E, 2)), f'{out}/message.onnx', input_names=['x_j', 'edge_attr'], output_names=['message'],
                      dynamic_axes={'x_j': {0: 'E'}, 'edge_attr': {0: 'E'}, 'message': {0: 'E'}}, opset_version=13)
    torch.onnx.export(model.update, (torch.rand(N, 3), torch.rand(N, 32)), f'{out}/update.onnx', input_names=['x', 'aggr_out'], output_names=['x_new'],
                      dynamic_axes={'x': {0: 'N'}, 'aggr_out': {0: 'N'}, 'x_new': {0: 'N'}}, opset_version=13)
    with open(f'{out}/igcnet.yaml', 'w') as f:
        f.write('\n'.join([
            'name: igcnet',
            'message: message.onnx     # inputs x_j, edge_attr: one row per neighbour',
            'update: update.onnx       # inputs x, aggr_out: the new x_k',
            'aggregation: max',
            'rounds: 3',
            'state: [direct, weight, 1]   # x_k = [g_kk, w_k, 1] as IGCNet starts',
            'edge: [g_out, g_in]       # edge_attr of j -> k: [g_kj, g_jk]',
            'output: { power: 2 }      # p_k = Pmax x_k[2]',
            '']))


if __name__ == '__main__':
    torch.manual_seed(0)
    export(IGCNet(), sys.argv[1] if len(sys.argv) > 1 else '.')
