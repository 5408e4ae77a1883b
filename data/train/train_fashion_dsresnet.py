#!/usr/bin/python3
"""Train brsim's shipped residual model: a small ResNet with depthwise-separable blocks on Fashion-MNIST.

What it trains
--------------
    input   [1, 1, 28, 28]  pixel/255 in [0, 1] (no mean/std normalization)
    stem    conv 1 -> 24, 3x3, pad 1, ReLU                        -> [24, 28, 28]
            maxpool 2x2, stride 2                                 -> [24, 14, 14]
    block1  depthwise 3x3 (24), ReLU; pointwise 24 -> 24, BN;
            + identity; ReLU                                      -> [24, 14, 14]
    block2  depthwise 3x3 stride 2 (24), ReLU; pointwise 24 -> 48, BN;
            + projection (conv 1x1 stride 2, 24 -> 48, BN); ReLU  -> [48, 7, 7]
    block3  depthwise 3x3 (48), ReLU; pointwise 48 -> 48, BN;
            + identity; ReLU                                      -> [48, 7, 7]
    head    GlobalAveragePool, flatten, fc 48 -> 10               -> logits (no softmax)

About 7,000 parameters and 0.58 M MACs per image. The ONNX export runs in
eval mode, which folds the BatchNorms (after the pointwise and projection
convs only) into the Conv before them, so the graph
holds Conv (grouped for the depthwise layers), Relu, MaxPool, Add,
GlobalAveragePool, Flatten and Gemm nodes.

Outputs
-------
    <out-dir>/fashion_dsresnet.onnx   opset 13, input "input" [1,1,28,28] (static),
                                      output "logits" [1,10]
    <out-dir>/fashion_dsresnet.json   metadata (float test top-1 accuracy, ...)
    <fixture>                         logits of t10k images 0..7, computed with the
                                      PyTorch model (eval mode, float32) and cross-
                                      checked against a pure-numpy evaluator of the
                                      exported ONNX graph.

Training: Adam, batch 128, learning rate 3e-3 on a cosine schedule to zero,
no augmentation. Determinism: seed 1234 for torch / numpy / the
shuffling generator, torch.use_deterministic_algorithms(True), 2 CPU threads.

How to rerun (from the repository root; needs Debian's python3-torch,
python3-onnx, python3-numpy and dataset-fashion-mnist)::

    /usr/bin/python3 data/train/train_fashion_dsresnet.py --out-dir data/models --epochs 3
"""

import argparse
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_fashion_lenet import (SEED, REPO_ROOT, load_split,  # noqa: E402
                                 numpy_eval_onnx as numpy_eval_chain, predict_logits, _attrs,
                                 report_float_accuracy, export_onnx, write_fixture_and_meta)

ALLOWED_OPS = {"Conv", "Relu", "MaxPool", "Add", "GlobalAveragePool", "Flatten", "Reshape", "Gemm"}
NUM_FIXTURE_IMAGES = 8


# ----------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------
def conv_bn(cin, cout, k, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout))


class DSBlock(nn.Module):
    """Depthwise 3x3 + ReLU, pointwise 1x1 + BN, residual add, ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        # No BatchNorm after the depthwise conv: folded into 9 weights per
        # channel, its per-channel gains spread the layer's weights over more
        # octaves than a 5-bit log code spans (about 7), and small channels
        # flush to zero (13 points of top-1 lost in a trial with it).
        self.dw = nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin)
        self.pw = conv_bn(cin, cout, 1)
        self.proj = conv_bn(cin, cout, 1, stride=stride) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        y = self.pw(F.relu(self.dw(x)))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class FashionDSResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 24, 3, padding=1)  # no BatchNorm, for the same reason
        self.block1 = DSBlock(24, 24, 1)
        self.block2 = DSBlock(24, 48, 2)
        self.block3 = DSBlock(48, 48, 1)
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), kernel_size=2, stride=2)  # 24x14x14
        x = self.block3(self.block2(self.block1(x)))                      # 48x7x7
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)                 # 48
        return self.fc(x)                                                 # logits


# ----------------------------------------------------------------------------
# Pure-numpy evaluator of the exported graph (float64): the LeNet script's
# evaluator for one node, plus grouped Conv and GlobalAveragePool.
# ----------------------------------------------------------------------------
def _grouped_conv(x, w, b, a):
    g = a.get("group", 1)
    cin, cout = x.shape[1] // g, w.shape[0] // g
    one = {k: v for k, v in a.items() if k != "group"}
    ys = [_one_node("Conv", [x[:, i * cin:(i + 1) * cin], w[i * cout:(i + 1) * cout], None], one)
          for i in range(g)]
    y = np.concatenate(ys, axis=1)
    return y if b is None else y + b[None, :, None, None]


def _one_node(op, ins, attrs):
    """Runs one node through the LeNet script's evaluator (a one-node graph)."""
    names = ["i%d" % k for k in range(len(ins))]
    node = onnx.helper.make_node(op, [n if v is not None else "" for n, v in zip(names, ins)], ["o"], **attrs)
    graph = onnx.helper.make_graph([node], "one", [], [onnx.helper.make_tensor_value_info("o", 1, None)])
    feeds = {n: v for n, v in zip(names, ins) if v is not None}
    return numpy_eval_chain(onnx.helper.make_model(graph), feeds)[0]


def numpy_eval_onnx(model_proto, feeds):
    env = {init.name: numpy_helper.to_array(init).astype(np.float64) for init in model_proto.graph.initializer}
    env.update({k: np.asarray(v, dtype=np.float64) for k, v in feeds.items()})
    for node in model_proto.graph.node:
        a = _attrs(node)
        ins = [env[i] if i else None for i in node.input]
        if node.op_type == "Conv":
            out = _grouped_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif node.op_type == "GlobalAveragePool":
            out = ins[0].mean(axis=(2, 3), keepdims=True)
        else:
            out = _one_node(node.op_type, ins, a)
        env[node.output[0]] = out
    return [env[o.name] for o in model_proto.graph.output]


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "data", "models"))
    ap.add_argument("--fixture", default=os.path.join(
        REPO_ROOT, "tests", "fixtures", "fashion_dsresnet_reference.json"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()

    # --- determinism ---------------------------------------------------------
    torch.set_num_threads(2)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    print("torch %s, onnx %s, numpy %s, threads=%d"
          % (torch.__version__, onnx.__version__, np.__version__, torch.get_num_threads()))

    # --- data ------------------------------------------------------------------
    x_train, y_train = load_split("train")
    x_test, y_test = load_split("t10k")
    xt_train = torch.from_numpy(x_train)
    yt_train = torch.from_numpy(y_train)
    shuffle_gen = torch.Generator().manual_seed(SEED)

    # --- training ----------------------------------------------------------------
    model = FashionDSResNet()
    print("parameters: %d" % sum(p.numel() for p in model.parameters()))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    n = len(x_train)
    steps = args.epochs * ((n + args.batch_size - 1) // args.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    t0 = time.time()
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
            sched.step()
            total_loss += loss.item() * len(idx)
        acc = float((predict_logits(model, x_test).argmax(1) == y_test).mean())
        print("epoch %2d/%d  lr %.2e  train_loss %.4f  test_top1 %.4f  (%.1fs)"
              % (epoch, args.epochs, opt.param_groups[0]["lr"], total_loss / n,
                 acc, time.time() - t0), flush=True)
    train_seconds = time.time() - t0
    print("training wall time: %.1f s" % train_seconds)

    test_top1 = report_float_accuracy(model, x_test, y_test)

    # --- ONNX export ---------------------------------------------------------------
    onnx_path, proto = export_onnx(model, args.out_dir, "fashion_dsresnet", ALLOWED_OPS)
    print("ONNX size: %d bytes" % os.path.getsize(onnx_path))

    # --- reference fixture + numpy cross-check --------------------------------------
    idxs = list(range(NUM_FIXTURE_IMAGES))
    ref_logits = predict_logits(model, x_test[idxs])  # PyTorch eval, float32
    max_diff = 0.0
    for k, i in enumerate(idxs):
        (np_logits,) = numpy_eval_onnx(proto, {"input": x_test[i:i + 1]})
        max_diff = max(max_diff, float(np.abs(np_logits[0] - ref_logits[k]).max()))
    print("numpy ONNX evaluator vs PyTorch, max |diff| over %d images: %.3e" % (len(idxs), max_diff))
    if not max_diff <= 1e-4:
        sys.exit("error: numpy ONNX evaluation disagrees with PyTorch (> 1e-4)")

    write_fixture_and_meta("fashion_dsresnet", args, idxs, y_test, ref_logits, max_diff, test_top1)
    print("wrote %s, %s, %s" % (onnx_path, os.path.join(args.out_dir, "fashion_dsresnet.json"), args.fixture))


if __name__ == "__main__":
    main()
