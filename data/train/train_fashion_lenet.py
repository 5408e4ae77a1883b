#!/usr/bin/python3
"""Train brsim's shipped reference model: a small LeNet-class CNN on Fashion-MNIST.

What it trains
--------------
    input  [1, 1, 28, 28]  pixel/255 in [0, 1] (no mean/std normalization)
    conv1  1 -> 16, 5x5, stride 1, pad 2   + ReLU   -> [16, 28, 28]
    pool1  maxpool 2x2, stride 2                    -> [16, 14, 14]
    conv2  16 -> 32, 5x5, stride 1, pad 0  + ReLU   -> [32, 10, 10]
    pool2  maxpool 2x2, stride 2                    -> [32, 5, 5]
    flatten                                         -> [800]
    fc1    800 -> 128                      + ReLU
    fc2    128 -> 10                                -> logits (no softmax)

No BatchNorm and no Dropout, so the exported ONNX graph only contains
Conv, Relu, MaxPool, Flatten and Gemm nodes (the op set the C++ simulator
supports).

Outputs
-------
    <out-dir>/fashion_lenet.onnx    opset 13, input "input" [1,1,28,28] (static),
                                    output "logits" [1,10]
    <out-dir>/fashion_lenet.json    metadata (float test top-1 accuracy, ...)
    <fixture>                       logits of t10k images 0..7, computed with the
                                    PyTorch model (eval mode, float32) and cross-
                                    checked against a pure-numpy evaluator of the
                                    exported ONNX graph.

Determinism: seed 1234 for torch / numpy / the shuffling generator,
torch.use_deterministic_algorithms(True), 2 CPU threads.

How to rerun (from the repository root; needs Debian's python3-torch,
python3-onnx, python3-numpy and dataset-fashion-mnist)::

    /usr/bin/python3 data/train/train_fashion_lenet.py --out-dir data/models --epochs 12
"""

import argparse
import gzip
import json
import os
import random
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 1234
DATASET_DIR = "/usr/share/datasets/fashion-mnist"
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ALLOWED_OPS = {"Conv", "Relu", "MaxPool", "Flatten", "Reshape", "Gemm", "MatMul", "Add"}
NUM_FIXTURE_IMAGES = 8


# ----------------------------------------------------------------------------
# Data: gzipped IDX files read with gzip + numpy
# ----------------------------------------------------------------------------
def read_idx(path):
    """Read a gzipped IDX file (images: uint8 [N,28,28]; labels: uint8 [N])."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte element type
        raise ValueError("%s: unexpected IDX magic 0x%08x" % (path, magic))
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_split(split):
    """Return (images float32 [N,1,28,28] = pixel/255, labels int64 [N])."""
    images = read_idx(os.path.join(DATASET_DIR, "%s-images-idx3-ubyte.gz" % split))
    labels = read_idx(os.path.join(DATASET_DIR, "%s-labels-idx1-ubyte.gz" % split))
    x = images.astype(np.float32)[:, None, :, :] / np.float32(255.0)
    return x, labels.astype(np.int64)


# ----------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------
class FashionLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5, stride=1, padding=2)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5, stride=1, padding=0)
        self.fc1 = nn.Linear(32 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), kernel_size=2, stride=2)  # 16x14x14
        x = F.max_pool2d(F.relu(self.conv2(x)), kernel_size=2, stride=2)  # 32x5x5
        x = torch.flatten(x, 1)                                           # 800
        x = F.relu(self.fc1(x))
        return self.fc2(x)                                                # logits


@torch.no_grad()
def predict_logits(model, x, batch=1000):
    model.eval()
    out = [model(torch.from_numpy(x[i:i + batch])) for i in range(0, len(x), batch)]
    return torch.cat(out).numpy()


# ----------------------------------------------------------------------------
# Tiny pure-numpy evaluator of the exported ONNX graph (float64 arithmetic)
# ----------------------------------------------------------------------------
def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b, a):
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("Conv: only group=1, dilation=1 supported")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("Conv: auto_pad not supported")
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    n, c, _, _ = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    # im2col: cols[n, c, ky, kx, oy, ox]
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for ky in range(kh):
        for kx in range(kw):
            cols[:, :, ky, kx] = xp[:, :, ky:ky + sh * oh:sh, kx:kx + sw * ow:sw]
    y = np.einsum("nckloq,mckl->nmoq", cols, w, optimize=True)
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def _maxpool(x, a):
    if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("MaxPool: ceil_mode / dilations not supported")
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-np.inf)
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    y = np.full(x.shape[:2] + (oh, ow), -np.inf, dtype=x.dtype)
    for ky in range(kh):
        for kx in range(kw):
            y = np.maximum(y, xp[:, :, ky:ky + sh * oh:sh, kx:kx + sw * ow:sw])
    return y


def numpy_eval_onnx(model_proto, feeds):
    """Evaluate a graph made of ALLOWED_OPS (+ Constant) with numpy in float64."""
    env = {init.name: numpy_helper.to_array(init).astype(np.float64)
           if numpy_helper.to_array(init).dtype.kind == "f"
           else numpy_helper.to_array(init)
           for init in model_proto.graph.initializer}
    env.update({k: np.asarray(v, dtype=np.float64) for k, v in feeds.items()})
    for node in model_proto.graph.node:
        a = _attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Constant":
            out = numpy_helper.to_array(a["value"])
        elif op == "Conv":
            out = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "Relu":
            out = np.maximum(ins[0], 0.0)
        elif op == "MaxPool":
            out = _maxpool(ins[0], a)
        elif op == "Flatten":
            axis = a.get("axis", 1)
            s = ins[0].shape
            out = ins[0].reshape(int(np.prod(s[:axis])), int(np.prod(s[axis:])))
        elif op == "Reshape":
            shape = [int(d) for d in ins[1]]
            shape = [ins[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
            out = ins[0].reshape(shape)
        elif op == "Gemm":
            A = ins[0].T if a.get("transA", 0) else ins[0]
            B = ins[1].T if a.get("transB", 0) else ins[1]
            out = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                out = out + a.get("beta", 1.0) * ins[2]
        elif op == "MatMul":
            out = ins[0] @ ins[1]
        elif op == "Add":
            out = ins[0] + ins[1]
        else:
            raise NotImplementedError("numpy evaluator: op %s" % op)
        env[node.output[0]] = out
    return [env[o.name] for o in model_proto.graph.output]


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------
def report_float_accuracy(model, x_test, y_test):
    """The trained model's float top-1 on the test set (printed and returned)."""
    model.eval()
    test_logits = predict_logits(model, x_test)
    test_top1 = float((test_logits.argmax(1) == y_test).mean())
    print("float test top-1: %.4f (%d/%d)"
          % (test_top1, int((test_logits.argmax(1) == y_test).sum()), len(y_test)))
    return test_top1


def export_onnx(model, out_dir, name, allowed_ops):
    """Exports `model` to OUT_DIR/NAME.onnx (batch 1, opset 13, constant
    folding), checks it and that it holds only `allowed_ops`."""
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, name + ".onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), onnx_path,
                      export_params=True, opset_version=13,
                      do_constant_folding=True,
                      input_names=["input"], output_names=["logits"])
    proto = onnx.load(onnx_path)
    onnx.checker.check_model(proto)
    ops = [n.op_type for n in proto.graph.node]
    print("ONNX ops: %s" % ops)
    bad = sorted(set(ops) - allowed_ops)
    if bad:
        sys.exit("error: exported graph contains unexpected ops %s" % bad)
    return onnx_path, proto


def write_fixture_and_meta(name, args, idxs, y_test, ref_logits, max_diff, test_top1):
    """The test fixture (PyTorch logits of the first test images) at args.fixture and
    the model's JSON sidecar NAME.json in args.out_dir."""
    fixture = {
        "model": "data/models/%s.onnx" % name,
        "dataset": "fashion-mnist t10k",
        "input": "pixel/255, NCHW 1x1x28x28",
        "computed_with": "PyTorch %s model in eval mode, float32 (the model that was "
                         "exported to ONNX); cross-checked against a pure-numpy "
                         "float64 evaluation of the ONNX graph, max abs diff %.3e"
                         % (torch.__version__, max_diff),
        "images": idxs,
        "labels": [int(y_test[i]) for i in idxs],
        "predicted": [int(v) for v in ref_logits.argmax(1)],
        # float32 values widened to Python floats; json writes repr (round-trips).
        "logits": [[float(v) for v in row] for row in ref_logits],
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.fixture)), exist_ok=True)
    with open(args.fixture, "w") as f:
        json.dump(fixture, f, indent=2)
        f.write("\n")

    meta = {
        "dataset": "fashion-mnist",
        "input": "pixel/255, NCHW 1x1x28x28",
        "float_test_top1": test_top1,
        "epochs": args.epochs,
        "seed": SEED,
        "torch_version": torch.__version__,
        "classes": CLASSES,
    }
    with open(os.path.join(args.out_dir, name + ".json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "data", "models"))
    ap.add_argument("--fixture", default=os.path.join(
        REPO_ROOT, "tests", "fixtures", "fashion_lenet_reference.json"))
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    # --- determinism ---------------------------------------------------------
    torch.set_num_threads(2)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    try:
        torch.use_deterministic_algorithms(True)
        deterministic = True
    except Exception as e:  # pragma: no cover
        print("warning: use_deterministic_algorithms unavailable: %s" % e)
        deterministic = False
    print("torch %s, onnx %s, numpy %s, threads=%d, deterministic=%s"
          % (torch.__version__, onnx.__version__, np.__version__,
             torch.get_num_threads(), deterministic))

    # --- data ------------------------------------------------------------------
    x_train, y_train = load_split("train")
    x_test, y_test = load_split("t10k")
    print("train %s  test %s" % (x_train.shape, x_test.shape))
    xt_train = torch.from_numpy(x_train)
    yt_train = torch.from_numpy(y_train)
    shuffle_gen = torch.Generator().manual_seed(SEED)

    # --- training ----------------------------------------------------------------
    model = FashionLeNet()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # Scale the learning rate by 0.3 at 50% and 75% of training for a cleaner finish.
    milestones = sorted({m for m in (args.epochs // 2, (3 * args.epochs) // 4) if m >= 1})
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.3)
    t0 = time.time()
    n = len(x_train)
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=shuffle_gen)
        total_loss = 0.0
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            xb, yb = xt_train[idx], yt_train[idx]
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(idx)
        sched.step()
        acc = float((predict_logits(model, x_test).argmax(1) == y_test).mean())
        print("epoch %2d/%d  lr %.2e  train_loss %.4f  test_top1 %.4f  (%.1fs)"
              % (epoch, args.epochs, opt.param_groups[0]["lr"], total_loss / n,
                 acc, time.time() - t0), flush=True)
    train_seconds = time.time() - t0
    print("training wall time: %.1f s" % train_seconds)

    test_top1 = report_float_accuracy(model, x_test, y_test)

    # --- ONNX export ---------------------------------------------------------------
    onnx_path, proto = export_onnx(model, args.out_dir, "fashion_lenet", ALLOWED_OPS)
    for init in proto.graph.initializer:
        print("  initializer %-14s %s" % (init.name, list(init.dims)))
    print("ONNX size: %d bytes" % os.path.getsize(onnx_path))

    # --- reference fixture + numpy cross-check --------------------------------------
    idxs = list(range(NUM_FIXTURE_IMAGES))
    ref_logits = predict_logits(model, x_test[idxs])  # PyTorch eval, float32
    max_diff = 0.0
    for k, i in enumerate(idxs):
        (np_logits,) = numpy_eval_onnx(proto, {"input": x_test[i:i + 1]})
        max_diff = max(max_diff, float(np.abs(np_logits[0] - ref_logits[k]).max()))
    print("numpy ONNX evaluator vs PyTorch, max |diff| over %d images: %.3e"
          % (len(idxs), max_diff))
    if not max_diff <= 1e-5:
        sys.exit("error: numpy ONNX evaluation disagrees with PyTorch (> 1e-5)")

    write_fixture_and_meta("fashion_lenet", args, idxs, y_test, ref_logits, max_diff, test_top1)
    print("wrote %s, %s, %s" % (onnx_path, os.path.join(args.out_dir, "fashion_lenet.json"),
                                args.fixture))


if __name__ == "__main__":
    main()
