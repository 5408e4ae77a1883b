// The memory limit of the commands that allocate (run, layer, accuracy,
// quantize, sweep): each estimates the bytes it will hold from the shapes it
// was given, before allocating, and refuses above the limit with the
// estimate and the override (--max-memory SIZE). docs/reliability.md "Limits".
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "network.h"

namespace brsim {

// Half the physical memory, at most 8 GiB (4 GiB when it cannot be read).
uint64_t default_memory_limit();
uint64_t memory_limit();
void set_memory_limit(uint64_t bytes);

// "4G", "512M", "1.5GiB", "100000" (bytes); K/M/G/T are powers of 1024.
// ConfigError naming --max-memory and the accepted form.
uint64_t parse_memory_size(const std::string& text);
std::string format_bytes(uint64_t bytes);  // "1.50 GiB", "12.0 MiB", "512 B"

// Adds --max-memory SIZE to a command (sets the limit when given).
void add_max_memory_option(CLI::App* cmd);

// ConfigError "WHAT needs about X, above the memory limit Y: ..." when
// `estimate` passes the limit.
void check_memory(uint64_t estimate, const std::string& what);

// Estimated bytes of a network's run on `images` images: weights (float,
// quantized and packed copies), the activations of every layer of every
// image kept for the scoreboard (int32) and float inference of one image.
uint64_t network_memory_estimate(const Network& net, uint64_t images);

}  // namespace brsim
