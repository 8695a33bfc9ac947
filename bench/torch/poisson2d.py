#!/usr/bin/python3
"""PyTorch equivalent of `ansatz train -problem poisson2d` with Adam then L-BFGS, for a side-by-side
time-to-accuracy comparison: the same network shape (2 -> depth x width tanh -> 1, Glorot-uniform,
zero biases, inputs mapped to [-1, 1]), the same collocation points (read from the ansatz run
directory's points_*.csv), the same loss (mean squared residuals, one term per face), the same
evaluation grid (101 x 101) and error measure. Autograd with create_graph for u_xx, u_yy.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch/poisson2d.py RUN_DIR --threads 2 \
      --depth 3 --width 20 --adam 2000 --lbfgs 3000 --lr 2e-3 --target 1e-3
Prints one JSON line: time to the target error, iterations, final error.
"""
import argparse, glob, json, math, os, time
import torch

p = argparse.ArgumentParser()
p.add_argument("run_dir")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--depth", type=int, default=3)
p.add_argument("--width", type=int, default=20)
p.add_argument("--adam", type=int, default=2000)
p.add_argument("--lbfgs", type=int, default=3000)
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--target", type=float, default=1e-3)
p.add_argument("--every", type=int, default=10)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.set_default_dtype(torch.float64)
torch.manual_seed(0)


def load(name):
    rows = [list(map(float, l.split(","))) for l in open(os.path.join(a.run_dir, name)) if l[0] not in "#x"]
    return torch.tensor(rows)


interior = load("points_pde.csv").requires_grad_(True)
faces = [load(os.path.basename(f)) for f in sorted(glob.glob(os.path.join(a.run_dir, "points_bc_*.csv")))]

layers = []
n_in = 2
for _ in range(a.depth):
    layers += [torch.nn.Linear(n_in, a.width), torch.nn.Tanh()]
    n_in = a.width
layers.append(torch.nn.Linear(n_in, 1))
net = torch.nn.Sequential(*layers)
for m in net:
    if isinstance(m, torch.nn.Linear):
        torch.nn.init.xavier_uniform_(m.weight)
        torch.nn.init.zeros_(m.bias)


def u(x):
    return net(2 * x - 1)  # [0,1]^2 -> [-1,1]^2


def loss_fn():
    x = interior
    v = u(x)
    g = torch.autograd.grad(v.sum(), x, create_graph=True)[0]
    uxx = torch.autograd.grad(g[:, 0].sum(), x, create_graph=True)[0][:, 0]
    uyy = torch.autograd.grad(g[:, 1].sum(), x, create_graph=True)[0][:, 1]
    f = 2 * math.pi**2 * torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1])
    L = ((-(uxx + uyy) - f) ** 2).mean()
    for xb in faces:
        L = L + (u(xb) ** 2).mean()
    return L


ge = torch.linspace(0, 1, 101)
X, Y = torch.meshgrid(ge, ge, indexing="ij")
grid = torch.stack([X.reshape(-1), Y.reshape(-1)], 1)
uex = (torch.sin(math.pi * grid[:, 0]) * torch.sin(math.pi * grid[:, 1])).unsqueeze(1)


def rel_l2():
    with torch.no_grad():
        return (torch.linalg.norm(u(grid) - uex) / torch.linalg.norm(uex)).item()


t0 = time.perf_counter()
t_hit, it_hit, it = None, None, 0
opt = torch.optim.Adam(net.parameters(), lr=a.lr)
for k in range(a.adam):
    opt.zero_grad()
    L = loss_fn()
    L.backward()
    opt.step()
    it += 1
    if it % a.every == 0 and t_hit is None and rel_l2() <= a.target:
        t_hit, it_hit = time.perf_counter() - t0, it
lb = torch.optim.LBFGS(net.parameters(), lr=1, max_iter=1, history_size=50, line_search_fn="strong_wolfe")


def closure():
    lb.zero_grad()
    L = loss_fn()
    L.backward()
    return L


for k in range(a.lbfgs):
    lb.step(closure)
    it += 1
    if it % a.every == 0 and t_hit is None and rel_l2() <= a.target:
        t_hit, it_hit = time.perf_counter() - t0, it
wall = time.perf_counter() - t0
print(json.dumps({"impl": "pytorch " + torch.__version__, "threads": a.threads, "target": a.target, "time_to_target": t_hit,
                  "iterations_to_target": it_hit, "iterations": it, "wall_seconds": wall, "rel_l2": rel_l2(), "loss": loss_fn().item()}))
