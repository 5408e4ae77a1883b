// ONNX import (Debian's libonnx protobuf classes): the graph as a DAG of
// layers in topological order (docs/networks.md lists the ops). An op that is
// not supported is refused with a ConfigError naming the file, every such
// node and its op, and what is supported. The importer's parts:
// onnx_importer.h, onnx_import.cpp (protobuf, checks, constants) and
// onnx_graph_ops.cpp (the ops that make layers).
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
