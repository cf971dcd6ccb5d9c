"""WMMSE power control written the way the papers' public numpy code is (a Python loop over
pairs with numpy row operations), for a same-run speed comparison. Prints ms per instance."""
import json, sys, time
import numpy as np

def wmmse(H, w, pmax, noise, iterations=100):
    # H[i, j]: amplitude from transmitter j to receiver i (the numpy code's orientation)
    K = H.shape[0]
    b = np.sqrt(pmax) * np.ones(K)
    f = np.zeros(K); a = np.zeros(K)
    for i in range(K):
        f[i] = H[i, i] * b[i] / (np.square(H[i, :]) @ np.square(b) + noise)
        a[i] = 1 / (1 - f[i] * b[i] * H[i, i])
    for _ in range(iterations):
        for i in range(K):
            bt = w[i] * a[i] * f[i] * H[i, i] / np.sum(w * a * np.square(f) * np.square(H[:, i]))
            b[i] = min(bt, np.sqrt(pmax)) + max(bt, 0) - bt
        for i in range(K):
            f[i] = H[i, i] * b[i] / (np.square(H[i, :]) @ np.square(b) + noise)
            a[i] = 1 / (1 - f[i] * b[i] * H[i, i])
    return np.square(b)

data = json.load(open(sys.argv[1]))
insts = data["instances"]
t0 = time.perf_counter()
for inst in insts:
    H = np.array(inst["gain"]).T
    wmmse(H, np.array(inst["weights"]), inst["pmax"], inst["noise"])
print((time.perf_counter() - t0) * 1000 / len(insts))
