#!/usr/bin/python3
"""Exports torchvision classification models with random weights (nothing is
downloaded) to ONNX the way a user would: batch 1, eval mode, opset 13,
constant folding (docs/networks.md). Needs python3-torchvision.

    tests/torchvision/export_torchvision.py OUT_DIR [MODEL ...]
"""
import os
import sys

import torch
import torchvision

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "vgg11", "squeezenet1_0", "googlenet", "mnasnet0_5",
          "shufflenet_v2_x0_5", "efficientnet_b0"]


def export(name, out_dir):
    torch.manual_seed(0)
    kwargs = {"weights": None}
    if name == "googlenet":
        kwargs.update(aux_logits=False, init_weights=True)
    model = getattr(torchvision.models, name)(**kwargs).eval()
    x = torch.rand(1, 3, 224, 224)
    path = os.path.join(out_dir, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=13, do_constant_folding=True, input_names=["input"],
                      output_names=["logits"])
    return path


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name in sys.argv[2:] or MODELS:
        print(export(name, out_dir), flush=True)


if __name__ == "__main__":
    main()
