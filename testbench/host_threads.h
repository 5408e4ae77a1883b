// Host threads of the testbench's bulk work (weight generation, the float
// reference of a synthetic layer, the weight quantizer, the golden model's
// weight preparation): a process-wide count and a parallel loop whose
// results never depend on it (each index's work is the same on any thread).
#pragma once

#include <cstddef>
#include <functional>

namespace brsim {

// Default: the CPUs this process may run on (its affinity mask). `brsim run`
// and `brsim layer` set it from --threads; sweep points run with 1.
void set_host_threads(int n);  // n >= 1 (ConfigError otherwise)
int host_threads();

// Runs f(0) .. f(count - 1) on up to host_threads() threads (the caller's
// among them), each index once, claimed in ascending order. Nested calls
// (from inside f) run serially on their thread. If some f(i) throw, the
// exception of the smallest such i is rethrown after every thread is done,
// as a serial loop would have thrown it.
void parallel_for(size_t count, const std::function<void(size_t)>& f);

}  // namespace brsim
