#!/usr/bin/python3
"""PyTorch reference for bench/jets: loss value + parameter gradient of the Burgers residual
r = u_t + u u_x - nu u_xx at N points (autograd with create_graph), float64, the same networks.
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch/burgers_jets.py --threads 2 [-n 10000] [--reps 20]
"""
import argparse, json, math, time
import torch

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("-n", type=int, default=10000)
p.add_argument("--reps", type=int, default=20)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.set_default_dtype(torch.float64)
torch.manual_seed(0)
nu = 0.01 / math.pi
x = torch.rand(a.n, 2)
x[:, 0] = 2 * x[:, 0] - 1
for depth, width in [(8, 20), (4, 50), (5, 100)]:
    layers, n_in = [], 2
    for _ in range(depth):
        layers += [torch.nn.Linear(n_in, width), torch.nn.Tanh()]
        n_in = width
    layers.append(torch.nn.Linear(n_in, 1))
    net = torch.nn.Sequential(*layers)
    best = 1e30
    for r in range(a.reps + 2):
        t0 = time.perf_counter()
        xx = x.clone().requires_grad_(True)
        u = net(torch.stack([xx[:, 0], 2 * xx[:, 1] - 1], 1))
        g = torch.autograd.grad(u.sum(), xx, create_graph=True)[0]
        ux, ut = g[:, 0], g[:, 1]
        uxx = torch.autograd.grad(ux.sum(), xx, create_graph=True)[0][:, 0]
        res = ut + u[:, 0] * ux - nu * uxx
        loss = (res**2).mean()
        net.zero_grad()
        loss.backward()
        if r >= 2:
            best = min(best, time.perf_counter() - t0)
    nparam = sum(q.numel() for q in net.parameters())
    print(json.dumps({"network": f"2->{depth}x{width}", "params": nparam, "ms_per_iter": best * 1e3, "points_per_s": a.n / best, "threads": a.threads}))
