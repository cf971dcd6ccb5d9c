"""What the PyTorch examples share: PyTorch itself (re-run under Debian's /usr/bin/python3 when the
current interpreter has none) and dmpemu's weight layout for a WCGCN's two MLPs (`mlp1.<l>` /
`mlp2.<l>`, kernels [in, out], y = x W + b: an nn.Linear's weight transposed). Import it before torch."""
import base64, json, os, sys

try:
    import torch
except ImportError:
    if os.path.exists("/usr/bin/python3") and not sys.executable.startswith("/usr/bin/"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    sys.exit("torch not installed: apt-get install python3-torch libopenblas0-pthread")

# a WCGCN's nn.Sequential layers (Linear, ReLU, Linear, ...) by dmpemu's names
WCGCN_LAYERS = {"mlp1.0": "mlp1.0", "mlp1.2": "mlp1.1", "mlp2.0": "mlp2.0", "mlp2.2": "mlp2.1"}


def tensor_of(w):
    """A checkpoint tensor: {shape, data} or {shape, dtype: float32, base64} (little-endian)."""
    if "base64" in w:
        return torch.frombuffer(bytearray(base64.b64decode(w["base64"])), dtype=torch.float32).reshape(w["shape"])
    return torch.tensor(w["data"], dtype=torch.float32).reshape(w["shape"])


def load_layers(model, weights, widen=False):
    """Copy a dmpemu checkpoint's dense layers into the model's. widen: a kernel smaller than the
    layer fills its top-left block; its other inputs (new inputs, or the previous layer's new units)
    get weight 0 and its new units keep the layer's random start, so the model computes the same
    function and the new units learn from the first step."""
    with torch.no_grad():
        for torch_name, ours in WCGCN_LAYERS.items():
            layer = model.get_submodule(torch_name)
            kernel, bias = tensor_of(weights[f"{ours}.kernel"]).T, tensor_of(weights[f"{ours}.bias"])
            if widen and kernel.shape != layer.weight.shape:
                n_out, n_in = kernel.shape
                if n_out > layer.weight.shape[0] or n_in > layer.weight.shape[1]:
                    sys.exit(f"{ours}: the checkpoint's kernel {n_in} x {n_out} is wider than the model's {layer.weight.shape[1]} x {layer.weight.shape[0]}")
                layer.weight[:, n_in:] = 0
                layer.weight[:n_out, :n_in] = kernel
                layer.bias[:n_out] = bias
            else:
                layer.weight.copy_(kernel)
                layer.bias.copy_(bias)


def layer_weights(model):
    """The model's dense layers in dmpemu's layout, as JSON-ready {shape, data}."""
    out = {}
    for torch_name, ours in WCGCN_LAYERS.items():
        layer = model.get_submodule(torch_name)
        W, b = layer.weight.detach(), layer.bias.detach()
        out[f"{ours}.kernel"] = {"shape": [W.shape[1], W.shape[0]], "data": W.T.reshape(-1).tolist()}
        out[f"{ours}.bias"] = {"shape": [b.shape[0]], "data": b.tolist()}
    return out


def write_json(path, value):
    """Write atomically (a reader never sees half a file)."""
    with open(path + ".tmp", "w") as f:
        json.dump(value, f)
    os.replace(path + ".tmp", path)
