// ONNX import (Debian's libonnx protobuf classes): a chain of Conv (groups 1,
// dilation 1), Gemm, MatMul (+ Add as bias), Relu, MaxPool, AveragePool,
// GlobalAveragePool, Flatten, Reshape to 2-D, BatchNormalization (folded into
// the preceding Conv/Gemm), Dropout and Identity (removed). Anything else is
// rejected with a ConfigError naming the file, the node, the op and what is
// supported.
#pragma once

#include <string>

#include "network.h"

namespace brsim {

Network import_onnx(const std::string& path);
// The same on a serialized model already in memory; `name` stands for the
// file in messages (the fuzz harness and tests).
Network import_onnx_bytes(const std::string& bytes, const std::string& name);

// The op types import_onnx accepts, comma-separated (for messages and docs).
const char* supported_onnx_ops();

}  // namespace brsim
