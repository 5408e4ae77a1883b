#include "controller.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include "trace_hooks.h"
#include "errors.h"
#include "pooling.h"
#include "spin_wait.h"

namespace brsim {

using sc_core::sc_time;

std::vector<std::pair<uint32_t, uint32_t>> descriptor_registers(const LayerDescriptor& d, int sqrt2_terms) {
  auto lo_hi = [](uint32_t lo, uint32_t hi) { return (lo & 0xFFFFu) | (hi << 16); };
  auto bytes4 = [](uint32_t a, uint32_t b, uint32_t c, uint32_t e) {
    return (a & 0xFFu) | ((b & 0xFFu) << 8) | ((c & 0xFFu) << 16) | ((e & 0xFFu) << 24);
  };
  const uint32_t cfg = (d.fc ? 1u : 0u) | (d.relu ? 2u : 0u) | (static_cast<uint32_t>(d.pool) << 2) |
                       (d.per_channel ? 16u : 0u);
  return {{reg::kLayerCfg, cfg},
          {reg::kInC, d.in_c},
          {reg::kInH, d.in_h},
          {reg::kInW, d.in_w},
          {reg::kOutM, d.out_m},
          {reg::kKernel, lo_hi(d.kh, d.kw)},
          {reg::kStride, lo_hi(d.stride_h, d.stride_w)},
          {reg::kPad, bytes4(d.pad_t, d.pad_l, d.pad_b, d.pad_r)},
          {reg::kInAddr, static_cast<uint32_t>(d.in_addr)},
          {reg::kWAddr, static_cast<uint32_t>(d.w_addr)},
          {reg::kParamAddr, static_cast<uint32_t>(d.param_addr)},
          {reg::kOutAddr, static_cast<uint32_t>(d.out_addr)},
          {reg::kSegCfg, (static_cast<uint32_t>(d.n2) & 0xFFu) | (static_cast<uint32_t>(d.p & 1) << 8) |
                             ((static_cast<uint32_t>(sqrt2_terms) & 0xFu) << 16)},
          {reg::kPoolKernel, lo_hi(d.pool_kh, d.pool_kw)},
          {reg::kPoolStride, lo_hi(d.pool_sh, d.pool_sw)},
          {reg::kPoolPad, bytes4(d.pool_pt, d.pool_pl, d.pool_pb, d.pool_pr)}};
}

LayerDescriptor descriptor_from_registers(const std::array<uint32_t, reg::kMapBytes / 4>& r, int* sqrt2_terms) {
  auto at = [&](uint32_t a) { return r[a / 4]; };
  LayerDescriptor d;
  const uint32_t cfg = at(reg::kLayerCfg);
  d.fc = cfg & 1u;
  d.relu = (cfg >> 1) & 1u;
  d.pool = static_cast<PoolKind>((cfg >> 2) & 3u);
  d.per_channel = (cfg >> 4) & 1u;
  d.in_c = at(reg::kInC), d.in_h = at(reg::kInH), d.in_w = at(reg::kInW), d.out_m = at(reg::kOutM);
  d.kh = at(reg::kKernel) & 0xFFFFu, d.kw = at(reg::kKernel) >> 16;
  d.stride_h = at(reg::kStride) & 0xFFFFu, d.stride_w = at(reg::kStride) >> 16;
  const uint32_t pad = at(reg::kPad);
  d.pad_t = pad & 0xFFu, d.pad_l = (pad >> 8) & 0xFFu, d.pad_b = (pad >> 16) & 0xFFu, d.pad_r = pad >> 24;
  d.in_addr = at(reg::kInAddr), d.w_addr = at(reg::kWAddr), d.param_addr = at(reg::kParamAddr);
  d.out_addr = at(reg::kOutAddr);
  const uint32_t seg = at(reg::kSegCfg);
  d.n2 = static_cast<int>(seg & 0xFFu), d.p = static_cast<int>((seg >> 8) & 1u);
  *sqrt2_terms = static_cast<int>((seg >> 16) & 0xFu);
  d.pool_kh = at(reg::kPoolKernel) & 0xFFFFu, d.pool_kw = at(reg::kPoolKernel) >> 16;
  d.pool_sh = at(reg::kPoolStride) & 0xFFFFu, d.pool_sw = at(reg::kPoolStride) >> 16;
  const uint32_t pp = at(reg::kPoolPad);
  d.pool_pt = pp & 0xFFu, d.pool_pl = (pp >> 8) & 0xFFu, d.pool_pb = (pp >> 16) & 0xFFu, d.pool_pr = pp >> 24;
  return d;
}

void LayerStats::add(const LayerStats& s) {
  cycles.weight_load += s.cycles.weight_load;
  cycles.compute += s.cycles.compute;
  cycles.drain += s.cycles.drain;
  cycles.stall += s.cycles.stall;
  cycles.output += s.cycles.output;
  macs += s.macs;
  folds += s.folds;
  array_overflows += s.array_overflows;
  output_overflows += s.output_overflows;
  requant.merge(s.requant);
  dram_bytes_read += s.dram_bytes_read;
  dram_bytes_written += s.dram_bytes_written;
  weight_reads += s.weight_reads;
  weight_writes += s.weight_writes;
  input_reads += s.input_reads;
  input_writes += s.input_writes;
  output_reads += s.output_reads;
  output_writes += s.output_writes;
  decodes += s.decodes;
  ae_sqrt2 += s.ae_sqrt2;
  ae_pow2 += s.ae_pow2;
  ae_zero += s.ae_zero;
  fixed16_muls += s.fixed16_muls;
  acc_adds += s.acc_adds;
  reg_write_bits += s.reg_write_bits;
  toggles_weight += s.toggles_weight;
  toggles_act += s.toggles_act;
  toggles_product += s.toggles_product;
  toggles_psum += s.toggles_psum;
}

Controller::Controller(sc_core::sc_module_name name, const ArchConfig& arch, sc_time period, PeArray* array, Dma* dma,
                       Sram* wbuf, Sram* ibuf, Sram* obuf)
    : sc_module(name),
      irq("irq"),
      reg_socket("reg_socket"),
      arch_(arch),
      array_(array),
      dma_(dma),
      wbuf_(wbuf),
      ibuf_(ibuf),
      obuf_(obuf),
      period_(period) {
  regs_[reg::kId / 4] = reg::kIdValue;
  reg_socket.register_b_transport(this, &Controller::b_transport);
  SC_THREAD(run);
  SC_THREAD(read_channel);
  SC_THREAD(write_channel);
}

void Controller::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  const uint64_t a = t.get_address();
  const unsigned len = t.get_data_length();
  t.set_response_status(tlm::TLM_OK_RESPONSE);
  if (t.get_byte_enable_ptr()) return t.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  if (len != 4 || t.get_streaming_width() < 4) return t.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
  if (a % 4 != 0 || a >= reg::kMapBytes) return t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
  const bool busy = regs_[reg::kStatus / 4] & reg::kStatusBusy;
  uint32_t v = 0;
  if (t.is_read()) {
    v = a == reg::kCtrl ? 0 : regs_[a / 4];
    std::memcpy(t.get_data_ptr(), &v, 4);
  } else if (t.is_write()) {
    std::memcpy(&v, t.get_data_ptr(), 4);
    if (a < reg::kLayerCfg && a != reg::kCtrl) return t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    if (a == reg::kCtrl) {
      if (v & 2u) irq.write(false);
      if (v & 1u) {
        if (busy) return t.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        regs_[reg::kStatus / 4] = reg::kStatusBusy;
        start_.notify(sc_core::SC_ZERO_TIME);
      }
    } else {
      // The descriptor is a set of configuration registers: written between layers only.
      if (busy) return t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      regs_[a / 4] = v;
    }
  } else {
    return t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
  }
  (void)delay;  // register accesses have no wait states
}

uint64_t Controller::now_cycle() const {
  return static_cast<uint64_t>(sc_core::sc_time_stamp() / period_ + 0.5);
}

void Controller::set_state(int s) {
  state_ = s;
  if (tracer_) tracer_->controller(now_cycle(), state_, fold_index_);
}

void Controller::wait_cycles(uint64_t n) {
  if (n == 0) return;
  if (decoupled()) local_ += n;
  else wait(period_ * static_cast<double>(n));
}

void Controller::sync() {
  if (local_ == 0) return;
  wait(sc_time::from_value(period_.value() * local_));
  local_ = 0;
}

// The DMA's read and write channels (synchronized mode; as AXI's, they are
// independent): each moves one transfer at a time in the order issued, a
// TLM transaction whose delay the channel's thread waits out.
void Controller::read_channel() { dma_channel(0); }
void Controller::write_channel() { dma_channel(1); }

void Controller::dma_channel(int ch) {
  for (;;) {
    while (dma_queue_[ch].empty()) wait(dma_issued_[ch]);
    DmaRequest& r = dma_request(dma_queue_[ch].front());
    const uint64_t bytes = r.data.size();
    if (tracer_) tracer_->dma(now_cycle(), true, r.write, r.addr, bytes);
    uint64_t done = now_cycle();
    try {
      done = dma_transfer(r);
    } catch (const DmaError& e) {
      r.error = e.what();  // the controller reports it when it awaits the transfer
    }
    if (done > now_cycle()) wait(period_ * static_cast<double>(done - now_cycle()));
    if (tracer_) tracer_->dma(now_cycle(), false, r.write, r.addr, bytes);
    r.done = true;
    dma_queue_[ch].pop_front();
    dma_done_.notify(sc_core::SC_ZERO_TIME);
  }
}

// Runs request r's TLM transaction (loosely timed: the DRAM annotates its
// delay, latency + data cycles) and returns the cycle it completes on its
// channel: requests are pipelined, so a request's latency overlaps the
// previous one's data phase, and the data phases follow each other:
// done = max(issue + latency, previous done) + ceil(bytes / bytes_per_cycle).
uint64_t Controller::dma_transfer(DmaRequest& r) {
  sc_time offset = sc_core::SC_ZERO_TIME;
  const uint64_t cycles = r.write ? dma_->write(r.addr, r.data.data(), r.data.size(), &offset)
                                  : dma_->read(r.addr, r.data.data(), r.data.size(), &offset);
  const uint64_t bw = static_cast<uint64_t>(arch_.dram.bytes_per_cycle);
  const uint64_t data = std::min<uint64_t>(cycles, (r.data.size() + bw - 1) / bw);
  uint64_t& free = channel_free_[r.write ? 1 : 0];
  free = std::max(r.issue_cycle + (cycles - data), free) + data;
  return free;
}

// Queues a transfer on the DMA's read or write channel. Decoupled, the transaction runs now
// and its completion time follows from the channel's timeline: it starts
// when the channel is free and takes the DRAM's annotated cycles.
uint64_t Controller::dma_issue(bool write, uint64_t addr, std::vector<uint8_t> data) {
  const uint64_t id = dma_next_id_++;
  if (dma_reqs_.empty()) dma_base_id_ = id;
  dma_reqs_.emplace_back();
  DmaRequest& r = dma_reqs_.back();
  r.write = write, r.addr = addr, r.data = std::move(data);
  r.issue_cycle = timeline_cycle();
  (write ? last_.dram_bytes_written : last_.dram_bytes_read) += r.data.size();
  if (decoupled()) {
    r.done_cycle = r.issue_cycle;
    try {
      r.done_cycle = dma_transfer(r);
    } catch (const DmaError& e) {
      r.error = e.what();
    }
    r.done = true;
  } else {
    dma_queue_[write ? 1 : 0].push_back(id);
    dma_issued_[write ? 1 : 0].notify(sc_core::SC_ZERO_TIME);
  }
  return id;
}

// A zeroed buffer of `bytes` for a read, reusing one an await gave back.
std::vector<uint8_t> Controller::dma_buffer(uint64_t bytes) {
  std::vector<uint8_t> b;
  if (!spare_bufs_.empty()) b.swap(spare_bufs_.back()), spare_bufs_.pop_back();
  b.assign(bytes, 0);
  return b;
}

// Outstanding request `id` (a logic_error if it is not).
Controller::DmaRequest& Controller::dma_request(uint64_t id) {
  if (id < dma_base_id_ || id - dma_base_id_ >= dma_reqs_.size() || dma_reqs_[id - dma_base_id_].awaited)
    throw std::logic_error("internal: DMA request " + std::to_string(id) + " is not outstanding");
  return dma_reqs_[id - dma_base_id_];
}

// Waits (stalls) until transfer `id` is done; a read's bytes go to *data.
void Controller::dma_await(uint64_t id, std::vector<uint8_t>* data) {
  DmaRequest& r = dma_request(id);
  if (decoupled()) {
    dma_await_cycle(r.done_cycle);
  } else if (!r.done) {
    set_state(1);
    const uint64_t t0 = now_cycle();
    while (!r.done) wait(dma_done_);
    last_.cycles.stall += now_cycle() - t0;
  }
  const std::string err = r.error;
  if (data) data->swap(r.data);
  if (spare_bufs_.size() < 8) spare_bufs_.push_back(std::move(r.data));  // the caller's old buffer, for reuse
  r.awaited = true;
  while (!dma_reqs_.empty() && dma_reqs_.front().awaited) dma_reqs_.pop_front(), ++dma_base_id_;
  if (!err.empty()) throw DmaError(err);
}

// The bytes of issued reads `ids`, in order, in one buffer (waiting for each).
void Controller::dma_read_all(const std::vector<uint64_t>& ids, std::vector<uint8_t>* bytes) {
  bytes->clear();
  std::vector<uint8_t> part;
  for (uint64_t id : ids) {
    dma_await(id, &part);
    bytes->insert(bytes->end(), part.begin(), part.end());
  }
}

// Serially: each chunk issued when the previous one is done.
void Controller::dma_read_serial(const std::vector<Chunk>& chunks, std::vector<uint8_t>* bytes) {
  bytes->clear();
  std::vector<uint8_t> part;
  for (const Chunk& c : chunks) {
    dma_await(dma_issue(false, c.addr, dma_buffer(c.bytes)), &part);
    bytes->insert(bytes->end(), part.begin(), part.end());
  }
}

std::vector<uint64_t> Controller::dma_issue_reads(const std::vector<Chunk>& chunks) {
  std::vector<uint64_t> ids;
  for (const Chunk& c : chunks) ids.push_back(dma_issue(false, c.addr, dma_buffer(c.bytes)));
  return ids;
}

// Waits until the channel is idle (the layer's writes have landed).
void Controller::dma_drain(bool report_errors) {
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < dma_reqs_.size(); ++i)
    if (!dma_reqs_[i].awaited) ids.push_back(dma_base_id_ + i);
  std::string err;
  for (uint64_t id : ids) {
    try {
      dma_await(id, nullptr);
    } catch (const DmaError& e) {
      if (err.empty()) err = e.what();
    }
  }
  if (decoupled()) dma_await_cycle(std::max(channel_free_[0], channel_free_[1]));
  if (report_errors && !err.empty()) throw DmaError(err);
}

// Decoupled: the local time moves on to `cycle` (a stall) if it is behind.
void Controller::dma_await_cycle(uint64_t cycle) {
  const uint64_t now = timeline_cycle();
  if (cycle > now) {
    last_.cycles.stall += cycle - now;
    local_ += cycle - now;
  }
}

bool Controller::queues_folds() const { return decoupled() && arch_.dataflow == Dataflow::WeightStationary; }

uint8_t* Controller::codes_buffer(uint64_t n, std::vector<uint8_t>* scratch) {
  staged_ = nullptr;
  if (!queues_folds()) {
    scratch->resize(n);
    return scratch->data();
  }
  uint8_t* const p = queued_.append(n);
  staged_ = p;
  return p;
}

// One fold on the array: the controller waits for its last edge (decoupled:
// the array runs it now, or queues it, and the local time advances by its
// edges).
void Controller::run_fold(const FoldJob& job) {
  ++fold_index_;
  set_state(2);
  if (queues_folds() && job.codes) {
    constexpr size_t kQueue = 64;  // folds; their codes stay in the cache
    const uint64_t edges =
        fold_timing(arch_.dataflow, static_cast<uint64_t>(arch_.rows), static_cast<uint64_t>(arch_.cols), job.rows, job.cols, job.p)
            .edges();
    const uint64_t n = job.rows * job.cols;
    local_ += edges;
    queued_.edges += edges;
    queued_.jobs.push_back(job);
    queued_.jobs.back().codes = nullptr;  // set from queued_.codes when run
    if (job.codes == staged_) {  // unpacked in place (codes_buffer)
      queued_.offsets.push_back(static_cast<size_t>(staged_ - queued_.codes.data()));
    } else {
      queued_.offsets.push_back(queued_.used);
      std::copy(job.codes, job.codes + n, queued_.append(n));
    }
    staged_ = nullptr;
    if (queued_.jobs.size() == kQueue) flush_folds(false);
    return;
  }
  if (decoupled()) {
    local_ += array_->run_fold_now(job);
    return;
  }
  array_->start(job);
  wait(array_->done());
}

// A host thread that runs one task at a time for the controller (its
// queued folds on the array): post() hands a task over, wait() returns when
// it is done (rethrowing what it threw). Both sides spin briefly before
// they sleep (up to a millisecond: a batch takes tens of microseconds, and
// waking a sleeping thread takes about as long on these machines).
class Controller::FoldRunner {
 public:
  static constexpr std::chrono::microseconds kSpin{1000};
  FoldRunner() : thread_([this] { loop(); }) {}
  ~FoldRunner() {
    {
      std::lock_guard<std::mutex> l(m_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> l(m_);
      task_ = std::move(task);
      error_ = nullptr;
      busy_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
  }
  void wait() {
    if (!spin_until([this] { return !busy_.load(std::memory_order_acquire); }, kSpin)) {
      std::unique_lock<std::mutex> l(m_);
      cv_.wait(l, [this] { return !busy_.load(std::memory_order_acquire); });
    }
    std::exception_ptr e;
    {
      std::lock_guard<std::mutex> l(m_);
      std::swap(e, error_);
    }
    if (e) std::rethrow_exception(e);
  }

 private:
  void loop() {
    for (;;) {
      if (!spin_until([this] { return busy_.load(std::memory_order_acquire); }, kSpin)) {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [this] { return quit_ || busy_.load(std::memory_order_acquire); });
        if (!busy_.load(std::memory_order_acquire)) return;  // quit
      }
      std::function<void()> task;
      {
        std::lock_guard<std::mutex> l(m_);
        task = std::move(task_);
      }
      std::exception_ptr e;
      try {
        task();
      } catch (...) {
        e = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> l(m_);
        error_ = e;
        busy_.store(false, std::memory_order_release);
      }
      cv_.notify_all();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::atomic<bool> busy_{false};
  bool quit_ = false;  // under m_
  std::function<void()> task_;
  std::exception_ptr error_;
  std::thread thread_;
};

Controller::~Controller() = default;

void Controller::finish_batch() {
  if (running_.jobs.empty()) return;
  if (runner_) {
    try {
      runner_->wait();
    } catch (...) {
      running_.clear();
      throw;
    }
  }
  const uint64_t ran = running_.ran, expected = running_.edges;
  running_.clear();
  if (ran != expected)
    throw std::logic_error("internal: queued folds took " + std::to_string(ran) + " edges, not " +
                           std::to_string(expected));
}

void Controller::flush_folds(bool wait) {
  finish_batch();  // the batch before: at most one is on the runner
  staged_ = nullptr;
  if (queued_.jobs.empty()) return;
  std::swap(queued_, running_);
  for (size_t i = 0; i < running_.jobs.size(); ++i) running_.jobs[i].codes = running_.codes.data() + running_.offsets[i];
  // On the runner: folds of one pixel (fully connected layers at batch 1),
  // where the controller's share of the work is as large as the array's.
  // (Measured: larger folds gain little and lose the cache to the move.)
  bool async = !wait && array_threads_ > 1;
  for (const FoldJob& j : running_.jobs) async = async && j.p == 1;
  auto task = [this] { running_.ran = array_->run_folds_now(running_.jobs.data(), running_.jobs.size()); };
  if (async) {
    if (!runner_) runner_.reset(new FoldRunner);
    runner_->post(task);
    ++runner_batches_;
    return;
  }
  task();
  finish_batch();
}

void Controller::run() {
  for (;;) {
    wait(start_);
    // The layer starts on the next rising edge.
    const sc_time now = sc_core::sc_time_stamp();
    wait(period_ * static_cast<double>(static_cast<uint64_t>(now / period_) + 1) - now);
    const sc_time t0 = sc_core::sc_time_stamp();
    decoupled_ = array_->fast() && tracer_ == nullptr;
    base_cycle_ = now_cycle();
    array_threads_ = array_->fast_engine().tuning().threads;
    if (tracer_) tracer_->begin_layer(static_cast<int>(layers_started_), now_cycle());
    ++layers_started_;
    last_ = LayerStats{};
    error_.clear();
    uint32_t status = reg::kStatusDone;
    try {
      int k = 0;
      const LayerDescriptor d = descriptor_from_registers(regs_, &k);
      run_layer(d, k);
    } catch (const ConfigError& e) {
      error_ = e.what();
      regs_[reg::kErrorCode / 4] = 1;
      status |= reg::kStatusError;
    } catch (const DmaError& e) {
      error_ = e.what();
      regs_[reg::kErrorCode / 4] = 2;
      status |= reg::kStatusError;
    }
    if (status & reg::kStatusError) {
      try {  // the folds before the error run, as they would have (the error is what the layer reports)
        flush_folds(true);
      } catch (...) {
      }
      dma_drain(false);  // nothing of a failed layer stays queued
    }
    sync();  // a decoupled layer's time passes now (an error's too, as it would have)
    set_state(0);
    const uint64_t cycles = static_cast<uint64_t>((sc_core::sc_time_stamp() - t0) / period_ + 0.5);
    if (!(status & reg::kStatusError) && cycles != last_.cycles.total()) {
      error_ = "internal: elapsed cycles " + std::to_string(cycles) + " differ from the categories' sum " +
               std::to_string(last_.cycles.total());
      regs_[reg::kErrorCode / 4] = 3;
      status |= reg::kStatusError;
    }
    regs_[reg::kCyclesLo / 4] = static_cast<uint32_t>(cycles);
    regs_[reg::kCyclesHi / 4] = static_cast<uint32_t>(cycles >> 32);
    regs_[reg::kStatus / 4] = status;
    irq.write(true);
  }
}

namespace {

int32_t load_act(const uint8_t* p, int bytes) {
  uint32_t u = 0;
  for (int i = 0; i < bytes; ++i) u |= uint32_t{p[i]} << (8 * i);
  const int shift = 32 - 8 * bytes;  // sign-extend
  return static_cast<int32_t>(u << shift) >> shift;
}

void store_act(uint8_t* p, int32_t v, int bytes) {
  const uint32_t u = static_cast<uint32_t>(v);
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(u >> (8 * i));
}

// unpack() for codes of at most 8 bits while whole windows remain: eight
// codes (`bits` whole bytes) per 64-bit load, spread to one byte each by a
// bit deposit. Advances *i and *bit.
__attribute__((target("bmi2"))) void unpack_bmi2(const uint8_t* src, uint64_t size, uint64_t n, int bits, uint8_t* out,
                                                 uint64_t* i, uint64_t* bit) {
  const uint64_t byte_mask = ((uint64_t{1} << bits) - 1) * 0x0101010101010101ull;
  uint64_t k = *i, b = *bit;  // (locals: the stores to out could alias *i and *bit)
  for (; k + 8 <= n && b / 8 + 8 <= size; k += 8, b += 8 * static_cast<uint64_t>(bits)) {
    uint64_t w;
    std::memcpy(&w, &src[b / 8], 8);
    const uint64_t spread = _pdep_u64(w, byte_mask);
    std::memcpy(out + k, &spread, 8);
  }
  // The last groups, fewer than 8 bytes before the end: the buffer's last
  // 8 bytes shifted down to the group (a load of bytes just stored
  // elsewhere would wait for them; these were not).
  if (size >= 8 && b % 8 == 0) {
    uint64_t last;
    std::memcpy(&last, &src[size - 8], 8);
    for (; k < n; k += 8, b += 8 * static_cast<uint64_t>(bits)) {
      const uint64_t b0 = b / 8;  // the group starts on a byte (8 codes are `bits` bytes)
      uint64_t w;
      if (b0 + 8 <= size) std::memcpy(&w, &src[b0], 8);
      else w = last >> (8 * (b0 + 8 - size));  // b0 < size: the group's first code is in the buffer
      const uint64_t spread = _pdep_u64(w, byte_mask);
      std::memcpy(out + k, &spread, std::min<uint64_t>(8, n - k));
    }
  }
  *i = k, *bit = b;
}

const bool kBmi2 = __builtin_cpu_supports("bmi2");

// Unpacks `n` fields of `bits` bits, LSB first, from `size` bytes (which
// hold them all): BRSLog codes (<= 8 bits) into bytes, 16-bit fixed-point
// weights into int16_t. A little-endian 64-bit window per field, zero
// filled where a window would pass the end.
template <class T>
void unpack(const uint8_t* src, uint64_t size, uint64_t n, int bits, T* out) {
  static_assert(std::is_same_v<T, uint8_t> || std::is_same_v<T, int16_t>, "codes or 16-bit weights");
  const uint32_t mask = (1u << bits) - 1u;
  uint64_t i = 0, bit = 0;
  if constexpr (std::is_same_v<T, uint8_t>)
    if (kBmi2) unpack_bmi2(src, size, n, bits, out, &i, &bit);
  // Eight codes of at most 8 bits are `bits` whole bytes: one load for all.
  if (bits <= 8)
    for (; i + 8 <= n && bit / 8 + 8 <= size; i += 8, bit += 8 * static_cast<uint64_t>(bits)) {
      uint64_t w;
      std::memcpy(&w, &src[bit / 8], 8);
      for (int k = 0; k < 8; ++k) out[i + static_cast<uint64_t>(k)] = static_cast<T>((w >> (k * bits)) & mask);
    }
  for (; i < n && bit / 8 + 8 <= size; ++i, bit += static_cast<uint64_t>(bits)) {
    uint64_t w;
    std::memcpy(&w, &src[bit / 8], 8);
    out[i] = static_cast<T>((w >> (bit % 8)) & mask);
  }
  // The last codes (fewer than 8 bytes left): each from its (at most three)
  // bytes, assembled in a register. (A wide load from a small copy of those
  // bytes would wait for the copy's stores to land, on every code.)
  for (; i < n; ++i, bit += static_cast<uint64_t>(bits)) {
    const uint64_t b0 = bit / 8;
    uint32_t w = 0;
    for (uint64_t k = 0; k < 3 && b0 + k < size; ++k) w |= uint32_t{src[b0 + k]} << (8 * k);
    out[i] = static_cast<T>((w >> (bit % 8)) & mask);
  }
}

// The input buffer's address generator for output rows [oy0, oy1):
// A[p][k], k = (c kh + ky) kw + kx, from the band's input rows [y0, y0 + rows).
void build_im2col(const LayerDescriptor& d, const std::vector<int32_t>& band, uint32_t y0, uint64_t rows, uint32_t oy0,
                  uint32_t oy1, std::vector<int32_t>* im2col) {
  const uint32_t ow = d.out_w();
  const uint64_t K = d.gemm_k(), row_vals = d.in_w;
  im2col->assign(uint64_t{oy1 - oy0} * ow * K, 0);
  // A window row's valid kx (ix = ox * stride + kx - pad in [0, in_w)) are a
  // run of the band row: copied as one.
  for (uint32_t oy = oy0; oy < oy1; ++oy)
    for (uint32_t ox = 0; ox < ow; ++ox) {
      int32_t* row = &(*im2col)[(uint64_t{oy - oy0} * ow + ox) * K];
      const int64_t ix0 = int64_t{ox} * d.stride_w - d.pad_l;
      const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min<int64_t>(d.kw, int64_t{d.in_w} - ix0);
      if (kx0 >= kx1) continue;
      const size_t n = static_cast<size_t>(kx1 - kx0);
      for (uint32_t c = 0; c < d.in_c; ++c)
        for (uint32_t ky = 0; ky < d.kh; ++ky) {
          const int64_t iy = int64_t{oy} * d.stride_h + ky - d.pad_t;
          if (iy < 0 || iy >= d.in_h) continue;
          const int32_t* src =
              &band[(uint64_t{c} * rows + static_cast<uint64_t>(iy - y0)) * row_vals + static_cast<uint64_t>(ix0 + kx0)];
          std::memcpy(&row[(c * d.kh + ky) * d.kw + static_cast<uint64_t>(kx0)], src, n * sizeof(int32_t));
        }
    }
}

}  // namespace

void Controller::run_layer(const LayerDescriptor& d, int sqrt2_terms) {
  const ArchConfig& a = arch_;
  if (a.pe == PeType::BrsLog && (sqrt2_terms < kMinSqrt2Terms || sqrt2_terms > kMaxSqrt2Terms))
    throw ConfigError("SEG_CFG: sqrt2 terms K = " + std::to_string(sqrt2_terms) + ", expected [1, 7]");
  const Schedule s = make_schedule(d, a);
  const FoldCounters before = array_->counters();
  const SramCounters wb0 = wbuf_->counters(), ib0 = ibuf_->counters(), ob0 = obuf_->counters();
  const int ab = act_bytes(a), A = a.datapath.act_bits, acc_bits = a.datapath.acc_bits;
  const uint32_t oh = d.out_h(), ow = d.out_w();
  const uint64_t C = static_cast<uint64_t>(a.cols);
  const bool pooled = d.pool != PoolKind::None;
  DatapathConfig dp = a.datapath;
  dp.sqrt2_terms = sqrt2_terms;

  std::vector<uint8_t> bytes;
  std::vector<int32_t> band, staging, outv;
  std::vector<int64_t> psums, bias;
  std::vector<int> shifts;
  std::vector<SegmentConfig> col_cfg;
  std::vector<uint8_t> codes;
  std::vector<int16_t> fixed;

  // DMA requests in flight (ids on the channel): see closed_form() for the
  // order in which the double-buffered transfers are issued.
  const bool dbw = a.double_buffer_weights, dba = a.double_buffer_activations;
  auto issue_params = [&](uint64_t mt) {
    return dma_issue(false, d.param_addr + mt * C * kParamBytes, dma_buffer(s.tile_cols(mt) * kParamBytes));
  };
  auto issue_input = [&](uint32_t b) {
    uint32_t y0, y1;
    band_input_rows(d, b * s.band_rows, std::min(oh, (b + 1) * s.band_rows), &y0, &y1);
    return dma_issue_reads(input_band_chunks(d, a, y0, y1));
  };
  auto issue_weights = [&](uint64_t mt, uint64_t j) {
    return dma_issue(false, d.w_addr + weight_tile_offset(d, a, mt, s.load_kt0(j)),
                     dma_buffer(weight_load_bytes(s, a, mt, j)));
  };
  // Output chunks: written behind (double-buffered activations) or serially.
  auto write_out = [&](const std::vector<Chunk>& chunks, const std::vector<uint8_t>& data) {
    std::vector<uint64_t> ids;
    uint64_t off = 0;
    for (const Chunk& ch : chunks) {
      ids.push_back(dma_issue(true, ch.addr, std::vector<uint8_t>(data.begin() + static_cast<std::ptrdiff_t>(off),
                                                                   data.begin() + static_cast<std::ptrdiff_t>(off + ch.bytes))));
      off += ch.bytes;
      if (!dba) dma_await(ids.back(), nullptr);
    }
    if (!dba) ids.clear();
    return ids;
  };
  auto await_all = [&](std::vector<uint64_t>* ids) {
    for (uint64_t id : *ids) dma_await(id, nullptr);
    ids->clear();
  };
  uint64_t params_id = 0, weights_id = 0;
  std::vector<uint64_t> input_ids, write_ids;
  if (dba) {
    params_id = issue_params(0);
    input_ids = issue_input(0);
  }
  const uint64_t loads = s.m_tiles * s.bands * s.loads;  // weight loads of the layer
  // The bands' im2col views, kept across m-tiles while they fit 256 MiB.
  struct BandView {
    std::vector<uint8_t> bytes;   // the band's input bytes
    std::vector<int32_t> im2col;  // their im2col view
    uint64_t act_id = 0;          // 0: none yet
  };
  const bool keep_views = s.m_tiles > 1 && uint64_t{oh} * ow * s.K * sizeof(int32_t) <= (uint64_t{256} << 20);
  std::vector<BandView> views(keep_views ? s.bands : 1);
  std::vector<SegmentConfig> realizable;  // configurations checked (check_realizable)
  uint64_t load = 0;
  FoldJob job;  // each load's (every field set there)
  for (uint64_t mt = 0; mt < s.m_tiles; ++mt) {
    const uint64_t cols = s.tile_cols(mt), m0 = mt * C;
    // Parameters of this m-tile's channels: bias, shift, segment split.
    dma_await(dba ? params_id : issue_params(mt), &bytes);
    bias.assign(cols, 0), shifts.assign(cols, 0), col_cfg.assign(cols, SegmentConfig{});
    for (uint64_t c = 0; c < cols; ++c) {
      const uint8_t* e = &bytes[c * kParamBytes];
      int32_t sh;
      std::memcpy(&bias[c], e, 8);
      std::memcpy(&sh, e + 8, 4);
      shifts[c] = sh;
      SegmentConfig cfg{a.weight_bits, d.per_channel ? e[12] : d.n2, d.per_channel ? e[13] : d.p, 0};
      // (each distinct configuration once per layer: the check derives the sqrt2 constants)
      if (a.pe == PeType::BrsLog && std::find(realizable.begin(), realizable.end(), cfg) == realizable.end()) {
        check_realizable(cfg, dp);
        realizable.push_back(cfg);
      }
      col_cfg[c] = cfg;
    }
    if (pooled) staging.assign(cols * oh * ow, 0);
    for (uint32_t b = 0; b < s.bands; ++b) {
      const uint32_t oy0 = b * s.band_rows, oy1 = std::min(oh, oy0 + s.band_rows);
      const uint64_t pb = uint64_t{oy1 - oy0} * ow;
      uint32_t y0, y1;
      band_input_rows(d, oy0, oy1, &y0, &y1);
      // Input band: every channel's rows [y0, y1) into the input buffer.
      const uint64_t rows = y1 - y0, row_vals = uint64_t{d.in_w};
      if (dba) {
        dma_read_all(input_ids, &bytes);
      } else {
        dma_read_serial(input_band_chunks(d, a, y0, y1), &bytes);
      }
      ibuf_->occupy((dba ? 2 : 1) * bytes.size());
      ibuf_->write_bits(bytes.size() * 8);
      // The input buffer's address generator: A[p][k], k = (c kh + ky) kw + kx
      // (im2col). Each m-tile receives the same bytes for band b: the
      // host-side view is built once per band while they stay the same (the
      // transfers above still happen), and names them with one act_id.
      BandView& view = views[keep_views ? b : 0];
      if (view.act_id == 0 || view.bytes != bytes) {
        band.resize(uint64_t{d.in_c} * rows * row_vals);
        for (size_t i = 0; i < band.size(); ++i) band[i] = load_act(&bytes[i * static_cast<size_t>(ab)], ab);
        build_im2col(d, band, y0, rows, oy0, oy1, &view.im2col);
        view.bytes = bytes;
        view.act_id = ++act_ids_;
      }
      const std::vector<int32_t>& im2col = view.im2col;
      psums.assign(pb * cols, 0);
      const uint64_t write_staging =
          !dba ? 0 : (pooled ? uint64_t{d.pooled_h()} * d.pooled_w() : pb) * C * static_cast<uint64_t>(ab);
      obuf_->occupy(pb * C * static_cast<uint64_t>(acc_bytes(a)) + (pooled ? staging.size() * static_cast<uint64_t>(ab) : 0) +
                    write_staging);
      for (uint64_t j = 0; j < s.loads; ++j, ++load) {
        // Weight load j: k-tiles [kt0, kt1) of this m-tile, one transfer.
        const uint64_t kt0 = s.load_kt0(j), krows = s.load_rows(j);
        // (double buffered: requested when the previous load's first fold started)
        dma_await(dbw && load > 0 ? weights_id : issue_weights(mt, j), &bytes);
        // This load's first fold starts now: issue what loads behind it.
        if (dbw && load + 1 < loads) {
          // The next load: it arrives while this one's folds compute.
          const uint64_t nj = j + 1 < s.loads ? j + 1 : 0;
          const uint64_t nmt = (j + 1 < s.loads || b + 1 < s.bands) ? mt : mt + 1;
          const uint64_t next_bytes = weight_load_bytes(s, a, nmt, nj);
          weights_id = issue_weights(nmt, nj);
          wbuf_->occupy(bytes.size() + next_bytes);
          wbuf_->write_bits(next_bytes * 8);
        }
        if (dba && j == 0 && (b + 1 < s.bands || mt + 1 < s.m_tiles)) {
          // The next band's input rows (and the next m-tile's parameters).
          const uint32_t nb = b + 1 < s.bands ? b + 1 : 0;
          if (nb == 0) params_id = issue_params(mt + 1);
          input_ids = issue_input(nb);
        }
        if (!dbw || load == 0) wbuf_->write_bits(bytes.size() * 8);
        // The load's tiles as one K' x C' matrix (each tile is padded to a byte).
        // (BRSLog codes, at most 8 bits: a byte each; 16-bit weights: words)
        const int wb = stored_weight_bits(a);
        const bool f16 = a.pe == PeType::Fixed16;
        uint8_t* const load_codes = f16 ? nullptr : codes_buffer(krows * cols, &codes);
        if (f16) fixed.resize(krows * cols);
        uint64_t boff = 0, coff = 0;
        for (uint64_t kt = kt0; kt < s.load_kt1(j); ++kt) {
          const uint64_t n = s.tile_rows(kt) * cols;
          if (f16) unpack(bytes.data() + boff, bytes.size() - boff, n, wb, fixed.data() + coff);
          else unpack(bytes.data() + boff, bytes.size() - boff, n, wb, load_codes + coff);
          boff += weight_tile_bytes(s.tile_rows(kt), cols, a), coff += n;
        }
        job.rows = krows, job.cols = cols, job.sqrt2_terms = sqrt2_terms;
        if (f16) {
          job.fixed = fixed.data();
        } else {
          job.codes = load_codes;
          job.col_cfg = col_cfg.data();
        }
        job.act = im2col.data(), job.act_stride = s.K, job.k0 = kt0 * static_cast<uint64_t>(a.rows);
        job.out = psums.data();
        job.load_id = ++load_ids_;
        job.act_id = view.act_id, job.act_reuse = s.m_tiles - mt;  // band b's values in every m-tile
        // The load's folds: the whole band (ws), or tiles of C (is) or R (os) pixels.
        const uint64_t pt = s.pixel_tile(pb);
        for (uint64_t p0 = 0; p0 < pb; p0 += pt) {
          job.p0 = p0, job.p = std::min(pt, pb - p0);
          run_fold(job);
        }
      }
      flush_folds(true);  // the band's sums are complete
      // Output stage: one pixel (C' lanes) per cycle: requantize, ReLU, saturate.
      if (!pooled) await_all(&write_ids);  // the staging area of the previous band's write is free again
      set_state(3);
      outv.assign(cols * pb, 0);
      for (uint64_t px = 0; px < pb; ++px)
        for (uint64_t c = 0; c < cols; ++c) {
          const int32_t v = requantize(psums[px * cols + c], bias[c], {shifts[c], d.relu, A}, &last_.requant);
          if (pooled) staging[c * oh * ow + uint64_t{oy0} * ow + px] = v;
          else outv[c * pb + px] = v;
        }
      obuf_->read_bits(pb * cols * static_cast<uint64_t>(acc_bits));
      wait_cycles(pb);
      last_.cycles.output += pb;
      if (!pooled) {
        bytes.assign(outv.size() * static_cast<uint64_t>(ab), 0);
        for (size_t i = 0; i < outv.size(); ++i) store_act(&bytes[i * static_cast<size_t>(ab)], outv[i], ab);
        // Chunks are per channel (rows oy0..oy1) or one run of whole planes.
        write_ids = write_out(
            output_chunks(d.out_addr, oh, ow, static_cast<uint32_t>(m0), static_cast<uint32_t>(cols), oy0, oy1, a), bytes);
        if (!dba) await_all(&write_ids);
      } else {
        obuf_->write_bits(pb * cols * static_cast<uint64_t>(A));
      }
    }
    if (pooled) {
      // Pooling over the staged m-tile: one window element per cycle, C' lanes.
      await_all(&write_ids);
      set_state(3);
      const uint32_t ph = d.pooled_h(), pw = d.pooled_w();
      outv.assign(cols * ph * pw, 0);
      for (uint64_t c = 0; c < cols; ++c)
        for (uint32_t py = 0; py < ph; ++py)
          for (uint32_t px = 0; px < pw; ++px) {
            int64_t sum = 0, n = 0;
            int32_t best = INT32_MIN;
            for (uint32_t ky = 0; ky < d.pool_kh; ++ky)
              for (uint32_t kx = 0; kx < d.pool_kw; ++kx) {
                const int64_t y = int64_t{py} * d.pool_sh + ky - d.pool_pt;
                const int64_t x = int64_t{px} * d.pool_sw + kx - d.pool_pl;
                if (y < 0 || y >= oh || x < 0 || x >= ow) continue;
                const int32_t v = staging[(c * oh + static_cast<uint64_t>(y)) * ow + static_cast<uint64_t>(x)];
                best = std::max(best, v);
                sum += v;
                ++n;
              }
            outv[(c * ph + py) * pw + px] = d.pool == PoolKind::Max ? best : average_half_up(sum, n);
          }
      const uint64_t cyc = uint64_t{ph} * pw * d.pool_kh * d.pool_kw;
      obuf_->read_bits(cyc * cols * static_cast<uint64_t>(A));
      wait_cycles(cyc);
      last_.cycles.output += cyc;
      bytes.assign(outv.size() * static_cast<uint64_t>(ab), 0);
      for (size_t i = 0; i < outv.size(); ++i) store_act(&bytes[i * static_cast<size_t>(ab)], outv[i], ab);
      write_ids = write_out(
          output_chunks(d.out_addr, ph, pw, static_cast<uint32_t>(m0), static_cast<uint32_t>(cols), 0, ph, a), bytes);
      if (!dba) await_all(&write_ids);
    }
  }
  dma_drain(true);  // the layer is done when its last write has landed
  const FoldCounters& after = array_->counters();
  last_.cycles.weight_load = after.load_cycles - before.load_cycles;
  last_.cycles.compute = after.stream_cycles - before.stream_cycles;
  last_.cycles.drain = after.drain_cycles - before.drain_cycles;
  last_.macs = after.macs - before.macs;
  last_.folds = after.folds - before.folds;
  last_.decodes = after.decodes - before.decodes;
  last_.array_overflows = after.array_overflows - before.array_overflows;
  last_.output_overflows = after.output_overflows - before.output_overflows;
  last_.ae_sqrt2 = after.ae_sqrt2 - before.ae_sqrt2;
  last_.ae_pow2 = after.ae_pow2 - before.ae_pow2;
  last_.ae_zero = after.ae_zero - before.ae_zero;
  last_.fixed16_muls = after.fixed16_muls - before.fixed16_muls;
  last_.acc_adds = after.acc_adds - before.acc_adds;
  last_.reg_write_bits = after.reg_writes - before.reg_writes;
  last_.toggles_weight = after.toggles_weight - before.toggles_weight;
  last_.toggles_act = after.toggles_act - before.toggles_act;
  last_.toggles_product = after.toggles_product - before.toggles_product;
  last_.toggles_psum = after.toggles_psum - before.toggles_psum;
  last_.weight_reads = wbuf_->counters().reads - wb0.reads;
  last_.weight_writes = wbuf_->counters().writes - wb0.writes;
  last_.input_reads = ibuf_->counters().reads - ib0.reads;
  last_.input_writes = ibuf_->counters().writes - ib0.writes;
  last_.output_reads = obuf_->counters().reads - ob0.reads;
  last_.output_writes = obuf_->counters().writes - ob0.writes;
}

}  // namespace brsim
