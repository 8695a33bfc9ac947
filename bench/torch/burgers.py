#!/usr/bin/python3
"""PyTorch equivalent of `ansatz train -problem burgers1d` (Raissi et al.'s Burgers: u_t + u u_x =
nu u_xx, nu = 0.01/pi, on [-1, 1] x [0, 1], u(+-1, t) = 0, u(x, 0) = -sin(pi x)) with Adam then
L-BFGS, for a side-by-side time-to-accuracy comparison. The same network shape (2 -> depth x width
tanh -> 1, Glorot-uniform weights, zero biases, inputs mapped to [-1, 1]), the same collocation
points (read from the ansatz run directory's points_pde.csv), the same loss (the mean squared PDE
residual; with --hard, ansatz's default here, the conditions by the same transform u = g + phi N with
g = -sin(pi x) and phi = (x + 1)/2 (1 - x)/2 t; with --soft, plus the mean squared residual of each
face and of the initial condition, read from points_bc_*.csv and points_initial.csv), the same
error: rel L2 = sqrt(sum e^2 / sum u_ref^2) over ansatz's evaluation grid (101 x 101 over x and t,
x fastest), u_ref the SUNDIALS reference (reference.bin) interpolated as ansatz does (finite-volume
cell averages to point values, then 4-point Lagrange along x and along t between snapshots). Autograd with create_graph for u_x, u_t, u_xx.
Float32 by default (--dtype float64 for the other).

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch/burgers.py RUN_DIR REF_DIR --threads 2 \
      --adam 5000 --lbfgs 20000 --lr 1e-3 --targets 1e-3,1e-4 --history torch.csv
Prints one JSON line: the time and iteration at which each target was first reached (null if not),
iterations, final error. L-BFGS stops early once the last target is reached (--no-stop to run on), or
when its loss has stopped changing (20 calls in a row; `stalled_at` the iteration).
"""
import argparse, json, math, os, struct, time
import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("run_dir", help="ansatz run directory written with -az_save_points")
p.add_argument("ref_dir", help="ansatz reference directory (reference.bin, summary.json)")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--depth", type=int, default=8)
p.add_argument("--width", type=int, default=20)
p.add_argument("--adam", type=int, default=5000)
p.add_argument("--lbfgs", type=int, default=20000)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--history-size", type=int, default=50)
p.add_argument("--targets", default="1e-3,1e-4")
p.add_argument("--every", type=int, default=10, help="iterations between error evaluations")
p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
p.add_argument("--soft", action="store_true", help="soft conditions (default: the hard transform)")
p.add_argument("--no-stop", action="store_true", help="run every iteration even after the last target")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--history", help="write iteration,stage,loss,rel_l2,wall_seconds here")
p.add_argument("--check-theta", metavar="THETA_BIN", help="no training: load ansatz's theta.bin into the network, print its rel L2 and loss "
               "(to check the grid, the reference, the transform and the loss against ansatz's summary.json)")
a = p.parse_args()
torch.set_num_threads(a.threads)
dtype = torch.float32 if a.dtype == "float32" else torch.float64
torch.set_default_dtype(dtype)
torch.manual_seed(a.seed)
nu = 0.01 / math.pi
targets = sorted((float(s) for s in a.targets.split(",")), reverse=True)


def load(name):
    rows = []
    for line in open(os.path.join(a.run_dir, name)):
        try:
            rows.append([float(v) for v in line.split(",")])
        except ValueError:
            continue  # the '#' line or a header
    return torch.tensor(rows, dtype=dtype)


# -- the reference on ansatz's evaluation grid -----------------------------------------------------
def read_reference(d):
    info = json.load(open(os.path.join(d, "summary.json")))
    raw = open(os.path.join(d, "reference.bin"), "rb").read()
    snaps, off = [], 0
    while off < len(raw):
        cid, n = struct.unpack(">ii", raw[off:off + 8])
        assert cid == 1211214, f"{d}/reference.bin: not a PETSc Vec at byte {off}"
        snaps.append(np.frombuffer(raw, ">f8", n, off + 8).astype(np.float64))
        off += 8 + 8 * n
    return info, np.array(snaps)


def lagrange(s, n, ext):
    """ansatz's LagrangeWeights (src/reference/interp.c): 4 nodes around s, kept inside [0, n-1]"""
    m = min(4, n)
    s = min(max(s, -ext), n - 1 + ext)
    b = min(max(int(math.floor(s)) - (m // 2 - 1), 0), n - m)
    w = [math.prod((s - (b + j)) / (k - j) for j in range(m) if j != k) for k in range(m)]
    return b, w


def find(info, *keys):
    """the first of keys in summary.json, at its top level or one level down"""
    for k in keys:
        if k in info:
            return info[k]
        for v in info.values():
            if isinstance(v, dict) and k in v:
                return v[k]
    raise KeyError(f"none of {keys} in the reference's summary.json")


info, snaps = read_reference(a.ref_dir)
nt, nx = snaps.shape
fv = str(find(info, "method")).lower() == "fv"
hx = float(find(info, "h")[0])
x0 = -1.0 + (0.5 * hx if fv else 0.0)
if fv:  # cell averages to point values at the centres, as ansatz's AveragesToPoints
    j = np.clip(np.arange(nx), 1, nx - 2)
    snaps = snaps - (snaps[:, j - 1] - 2 * snaps[:, j] + snaps[:, j + 1]) / 24
ge = np.linspace(0.0, 1.0, 101)
gx, gt = -1 + 2 * ge, ge
# interpolate along x on every snapshot, then along t
Wx = np.zeros((101, nx))
for i, x in enumerate(gx):
    b, w = lagrange((x - x0) / hx, nx, 0.5 if fv else 0.0)
    Wx[i, b:b + len(w)] = w
Wt = np.zeros((101, nt))
for j, t in enumerate(gt):
    b, w = lagrange(t * (nt - 1), nt, 0.0)
    Wt[j, b:b + len(w)] = w
uref = (Wt @ snaps @ Wx.T)  # [t, x]
uref = uref.reshape(-1)  # x fastest, as ansatz's grid
T, X = np.meshgrid(gt, gx, indexing="ij")
grid = torch.tensor(np.stack([X.reshape(-1), T.reshape(-1)], 1), dtype=dtype)
uref_sq = float((uref**2).sum())

# -- the network and the loss ----------------------------------------------------------------------
interior = load("points_pde.csv").requires_grad_(True)
assert interior.shape[1] == 2, "points_pde.csv: expected two coordinates x, t"
soft_sets = []
if a.soft:
    for f in sorted(os.listdir(a.run_dir)):
        if f.startswith("points_bc_") and f.endswith(".csv"):
            soft_sets.append(("bc", load(f)))
    soft_sets.append(("initial", load("points_initial.csv")))

layers, n_in = [], 2
for _ in range(a.depth):
    layers += [torch.nn.Linear(n_in, a.width), torch.nn.Tanh()]
    n_in = a.width
layers.append(torch.nn.Linear(n_in, 1))
net = torch.nn.Sequential(*layers)
for m in net:
    if isinstance(m, torch.nn.Linear):
        torch.nn.init.xavier_uniform_(m.weight)
        torch.nn.init.zeros_(m.bias)


def u(z):
    x, t = z[:, 0:1], z[:, 1:2]
    n = net(torch.cat([x, 2 * t - 1], 1))  # [-1,1] x [0,1] -> [-1,1]^2
    if a.soft:
        return n
    return -torch.sin(math.pi * x) + (x + 1) / 2 * (1 - x) / 2 * t * n


def loss_fn():
    z = interior
    v = u(z)
    g = torch.autograd.grad(v.sum(), z, create_graph=True)[0]
    ux, ut = g[:, 0:1], g[:, 1:2]
    uxx = torch.autograd.grad(ux.sum(), z, create_graph=True)[0][:, 0:1]
    L = ((ut + v * ux - nu * uxx) ** 2).mean()
    for kind, zb in soft_sets:
        vb = u(zb)
        L = L + ((vb if kind == "bc" else vb + torch.sin(math.pi * zb[:, 0:1])) ** 2).mean()
    return L


def rel_l2():
    with torch.no_grad():
        e = u(grid).double().reshape(-1).numpy() - uref
    return math.sqrt(float((e**2).sum()) / max(uref_sq, 1e-300))


if a.check_theta:  # theta.bin: a header, then the parameters (float64), each layer W (nout x nin, row-major) then b
    params = [q for q in net.parameters()]
    nparam = sum(q.numel() for q in params)
    th = np.frombuffer(open(a.check_theta, "rb").read()[-8 * nparam:], "<f8")
    off = 0
    with torch.no_grad():
        for q in params:
            q.copy_(torch.tensor(th[off:off + q.numel()].reshape(q.shape)))
            off += q.numel()
    print(json.dumps({"theta": a.check_theta, "rel_l2": rel_l2(), "loss": loss_fn().item()}))
    raise SystemExit(0)

# -- training --------------------------------------------------------------------------------------
hist = open(a.history, "w") if a.history else None
if hist:
    hist.write("iteration,stage,loss,rel_l2,wall_seconds\n")
hit = {t: None for t in targets}
t0 = time.perf_counter()


def record(it, stage, loss):
    """error every --every iterations (its time counted, as ansatz's monitor is); True once all targets are met"""
    r = rel_l2()
    w = time.perf_counter() - t0
    for t in targets:
        if hit[t] is None and r <= t:
            hit[t] = (w, it)
    if hist:
        hist.write(f"{it},{stage},{loss:.6e},{r:.6e},{w:.3f}\n")
        hist.flush()
    return all(v is not None for v in hit.values())


it, done = 0, False
opt = torch.optim.Adam(net.parameters(), lr=a.lr)
for k in range(a.adam):
    opt.zero_grad()
    L = loss_fn()
    L.backward()
    opt.step()
    it += 1
    if it % a.every == 0:
        done = record(it, "adam", L.item())
# L-BFGS in calls of --every iterations each (one extra loss and gradient per call, not per iteration)
lb = torch.optim.LBFGS(net.parameters(), lr=1, max_iter=a.every, max_eval=10 * a.every, history_size=a.history_size,
                       tolerance_grad=0, tolerance_change=0, line_search_fn="strong_wolfe")


def closure():
    lb.zero_grad()
    L = loss_fn()
    L.backward()
    return L


lbfgs_it, same, prev, stalled = 0, 0, None, None
while lbfgs_it < a.lbfgs and not (done and not a.no_stop):
    before = lb.state[lb._params[0]].get("n_iter", 0)
    lb.param_groups[0]["max_iter"] = min(a.every, a.lbfgs - lbfgs_it)
    L = lb.step(closure)
    n = lb.state[lb._params[0]].get("n_iter", 0) - before
    if n <= 0 or not math.isfinite(L.item()):
        break  # no progress (a failed line search)
    lbfgs_it += n
    it += n
    done = record(it, "lbfgs", L.item())
    # in float32 the line search stops finding lower points: each call then makes one iteration that
    # leaves the loss unchanged; 20 such calls in a row end the stage
    same = same + 1 if L.item() == prev else 0
    prev = L.item()
    if same >= 20:
        stalled = it
        break
wall = time.perf_counter() - t0
out = {"impl": "pytorch " + torch.__version__, "dtype": a.dtype, "threads": a.threads, "points": interior.shape[0],
       "conditions": "soft" if a.soft else "hard", "iterations": it, "adam": a.adam, "lbfgs_iterations": lbfgs_it,
       "wall_seconds": wall, "rel_l2": rel_l2(), "loss": loss_fn().item(), "stalled_at": stalled}
for t in targets:
    out[f"time_to_{t:g}"] = hit[t][0] if hit[t] else None
    out[f"iterations_to_{t:g}"] = hit[t][1] if hit[t] else None
print(json.dumps(out))
