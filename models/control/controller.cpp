#include "controller.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "dram_layout.h"
#include "fast_engine.h"
#include "errors.h"
#include "im2col.h"
#include "output_stage.h"
#include "trace_hooks.h"

namespace brsim {

using sc_core::sc_time;

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
      period_(period),
      queue_(&array->fast_engine()) {
  regs_[reg::kId / 4] = reg::kIdValue;
  reg_socket.register_b_transport(this, &Controller::b_transport);
  SC_THREAD(run);
}

Controller::~Controller() = default;

// Register accesses, decoded by the register map (registers.h): 32-bit and
// aligned; no wait states.
void Controller::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  const uint64_t a = t.get_address();
  const unsigned len = t.get_data_length();
  t.set_response_status(tlm::TLM_OK_RESPONSE);
  if (t.get_byte_enable_ptr()) return t.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  if (len != 4 || t.get_streaming_width() < 4) return t.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
  if (a % 4 != 0 || a >= reg::kMapBytes) return t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
  const reg::Register* r = reg::find_register(static_cast<uint32_t>(a));
  const reg::Access access = r ? r->access : reg::Access::RO;  // reserved words read 0
  const bool busy = regs_[reg::kStatus / 4] & reg::kStatusBusy;
  uint32_t v = 0;
  if (t.is_read()) {
    v = access == reg::Access::WO ? 0 : regs_[a / 4];
    std::memcpy(t.get_data_ptr(), &v, 4);
  } else if (t.is_write()) {
    std::memcpy(&v, t.get_data_ptr(), 4);
    if (access == reg::Access::RO) return t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
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

uint64_t Controller::timeline_cycle() const {
  return decoupled_ ? base_cycle_ + qk_.get_local_time().value() / period_.value() : now_cycle();
}

void Controller::advance(uint64_t n) {
  if (n == 0) return;
  if (decoupled_) qk_.inc(sc_time::from_value(period_.value() * n));
  else wait(period_ * static_cast<double>(n));
}

// ---- DMA ----

uint64_t Controller::dma_issue(bool write, uint64_t addr, std::vector<uint8_t> data) {
  (write ? last_.dram_bytes_written : last_.dram_bytes_read) += data.size();
  return dma_->issue(write, addr, std::move(data), timeline_cycle(), decoupled_);
}

// Stalls until transfer `id` is done.
void Controller::dma_wait(uint64_t id) {
  if (decoupled_) {
    const uint64_t done = dma_->done_cycle(id), now = timeline_cycle();
    if (done > now) {
      last_.cycles.stall += done - now;
      advance(done - now);
    }
  } else if (!dma_->done(id)) {
    set_state(1);
    const uint64_t t0 = now_cycle();
    while (!dma_->done(id)) wait(dma_->done_event());
    last_.cycles.stall += now_cycle() - t0;
  }
}

void Controller::dma_take(uint64_t id, std::vector<uint8_t>* data) {
  const std::string err = dma_->take(id, data);
  if (!err.empty()) throw DmaError(err);
}

void Controller::dma_drain(bool report_errors) {
  std::string err;
  for (uint64_t id : dma_->outstanding()) {
    dma_wait(id);
    const std::string e = dma_->take(id, nullptr);
    if (err.empty()) err = e;
  }
  if (decoupled_) {
    const uint64_t free = dma_->channels_free(), now = timeline_cycle();
    if (free > now) last_.cycles.stall += free - now, advance(free - now);
  }
  if (report_errors && !err.empty()) throw DmaError(err);
}

// ---- Folds ----

// One fold on the array: the controller waits for its last edge (decoupled:
// the array runs it now, or the queue takes it, and the local time advances
// by its edges).
void Controller::run_fold(const FoldJob& job) {
  ++fold_index_;
  set_state(2);
  if (queues_folds() && job.codes) {
    const uint64_t edges =
        fold_timing(arch_.dataflow, static_cast<uint64_t>(arch_.rows), static_cast<uint64_t>(arch_.cols), job.rows, job.cols, job.p)
            .edges();
    advance(edges);
    queue_.push(job, edges);
    return;
  }
  if (decoupled_) {
    advance(array_->run_fold_now(job));
    return;
  }
  array_->start(job);
  wait(array_->done());
}

// ---- A layer ----

// The layer's plan executed in SystemC time: transfers on the DMA's
// channels, folds on the array, the output stage; the buffers count their
// accesses as the data moves.
class Controller::LayerRun {
 public:
  using Ticket = uint64_t;  // a DMA request
  LayerRun(Controller& c, const LayerPlan& plan, int sqrt2_terms)
      : c_(c), p_(plan), a_(plan.a), d_(plan.d), s_(plan.s) {
    dp_ = a_.datapath;
    dp_.sqrt2_terms = sqrt2_terms;
    job_.sqrt2_terms = sqrt2_terms;
    stage_.relu = d_.relu;
    stage_.act_bits = a_.datapath.act_bits;
    pooled_ = d_.pool != PoolKind::None;
    // The tiles' im2col views, kept across m-tiles while they fit 256 MiB:
    // one per tile and input-channel chunk (a chunk's view holds its
    // channels' rows of K), one act_id per tile (its chunks' k-tiles differ).
    keep_views_ = s_.m_tiles > 1 && uint64_t{d_.out_h()} * d_.out_w() * d_.batch * s_.K * s_.chunks * sizeof(int32_t) <=
                                        (uint64_t{256} << 20);
    views_.resize(keep_views_ ? uint64_t{s_.bands} * s_.strips * s_.chunks : 1);
    view_act_ids_.assign(keep_views_ ? uint64_t{s_.bands} * s_.strips : 1, 0);
  }

  Ticket read(const Chunk& ch) { return c_.dma_issue(false, ch.addr, c_.dma_->buffer(ch.bytes)); }
  Ticket write(const Chunk& ch, uint64_t off) {
    return c_.dma_issue(true, ch.addr, std::vector<uint8_t>(out_bytes_.begin() + static_cast<std::ptrdiff_t>(off),
                                                            out_bytes_.begin() + static_cast<std::ptrdiff_t>(off + ch.bytes)));
  }
  void await(Ticket id) {
    c_.dma_wait(id);
    if (c_.dma_->is_write(id)) c_.dma_take(id, nullptr);  // a read's bytes are taken where they are used
  }

  // The m-tile's parameter table: bias, shift and segment split of each channel.
  void params(uint64_t mt, Ticket id) {
    c_.dma_take(id, &bytes_);
    const uint64_t cols = s_.tile_cols(mt);
    std::vector<ChannelParams> cp(cols);
    col_cfg_.assign(cols, SegmentConfig{});
    for (uint64_t c = 0; c < cols; ++c) {
      cp[c] = load_params(&bytes_[c * kParamBytes]);
      SegmentConfig cfg{a_.weight_bits, d_.per_channel ? cp[c].n2 : d_.n2, d_.per_channel ? cp[c].p : d_.p, 0};
      // (each distinct configuration once per layer: the check derives the sqrt2 constants)
      if (a_.pe == PeType::BrsLog && std::find(realizable_.begin(), realizable_.end(), cfg) == realizable_.end()) {
        check_realizable(cfg, dp_);
        realizable_.push_back(cfg);
      }
      col_cfg_[c] = cfg;
    }
    stage_.set_params(cp);
    if (pooled_) staging_.assign(cols * d_.out_h() * d_.out_w() * d_.batch, 0);  // image after image
  }

  // Chunk q of tile (b, st): its channels' input rows and halo columns (of
  // every image of the batch) into the input buffer, and the buffer's
  // address generator's view of them (im2col: image after image). Each m-tile receives the same bytes for a tile's
  // chunk: its view is built once while they stay the same (the transfers
  // still happen); the tile's chunks are named by one act_id.
  void input(uint32_t b, uint32_t st, uint64_t q, const std::vector<Ticket>& ids) {
    bytes_.clear();
    for (Ticket id : ids) {
      c_.dma_take(id, &part_);
      bytes_.insert(bytes_.end(), part_.begin(), part_.end());
    }
    c_.ibuf_->occupy((a_.double_buffer_activations ? 2 : 1) * bytes_.size());
    c_.ibuf_->write_bits(bytes_.size() * 8);
    const uint64_t tile = uint64_t{b} * s_.strips + st, key = tile * s_.chunks + q;
    BandView& view = views_[keep_views_ ? key : 0];
    uint64_t& act_id = view_act_ids_[keep_views_ ? tile : 0];
    if (!view.built || view.key != key || view.bytes != bytes_) {
      c_.queue_.flush();  // no queued fold reads the view any more
      TileBox box;
      band_input_rows(d_, p_.band_oy0(b), p_.band_oy1(b), &box.y0, &box.y1);
      if (s_.strips > 1) strip_input_cols(d_, p_.strip_ox0(st), p_.strip_ox1(st), &box.x0, &box.x1);
      else box.x0 = 0, box.x1 = d_.in_w;
      p_.chunk_channels(q, &box.c0, &box.c1);
      box.oy0 = p_.band_oy0(b), box.oy1 = p_.band_oy1(b), box.ox0 = p_.strip_ox0(st), box.ox1 = p_.strip_ox1(st);
      const int ab = act_bytes(a_);
      const size_t per_image = bytes_.size() / d_.batch / static_cast<size_t>(ab);
      band_.resize(per_image);
      view.im2col.clear();
      for (uint32_t i = 0; i < d_.batch; ++i) {
        const uint8_t* src = &bytes_[i * per_image * static_cast<size_t>(ab)];
        for (size_t v = 0; v < per_image; ++v) band_[v] = load_act(src + v * static_cast<size_t>(ab), ab);
        build_im2col(d_, band_, box, d_.batch == 1 ? &view.im2col : &image_view_);
        if (d_.batch > 1) view.im2col.insert(view.im2col.end(), image_view_.begin(), image_view_.end());
      }
      // A fresh act_id for another tile's view in the one slot, or for
      // values that changed (the tile's other chunks keep theirs, under the
      // new name); a kept tile's first view of another chunk keeps the
      // tile's (no fold read its k-tiles under it yet).
      if (!keep_views_ || view.built || act_id == 0) act_id = ++c_.act_ids_;
      view.bytes = bytes_;
      view.key = key;
      view.built = true;
    }
    view_ = &view;
    view_act_id_ = act_id;
  }

  // A tile's folds begin: its partial sums (every image's) clear in the output buffer.
  void tile(uint64_t mt, uint32_t b, uint32_t st) {
    const uint64_t pb = p_.batch_pixels(b, st), cols = s_.tile_cols(mt);
    const uint64_t ab = static_cast<uint64_t>(act_bytes(a_)), n = p_.band_oy1(b) - p_.band_oy0(b);
    psums_.assign(pb * cols, 0);
    const uint64_t ph = d_.pooled_h(), pw = d_.pooled_w();
    const uint64_t staging = !pooled_ ? 0
                             : s_.pool_by_rows ? std::min<uint64_t>(d_.out_h(), d_.pool_kh - 1 + n) * d_.out_w() * cols * ab * d_.batch
                                               : staging_.size() * ab;
    const uint64_t write_staging = !a_.double_buffer_activations ? 0
                                   : !pooled_        ? pb * s_.psum_width() * ab
                                   : s_.pool_by_rows ? std::min<uint64_t>(ph, n + d_.pool_kh) * pw * s_.psum_width() * ab * d_.batch
                                                     : ph * pw * s_.psum_width() * ab * d_.batch;
    c_.obuf_->occupy(pb * s_.psum_width() * static_cast<uint64_t>(acc_bytes(a_)) + staging + write_staging);
  }

  // Weight load j of the m-tile: K' x C' weights from its tiles (one
  // transfer per array m-tile) into the weight buffer; `prefetch`: the next
  // load's bytes, requested behind it.
  void weights(uint64_t mt, uint32_t, uint64_t j, const std::vector<Ticket>& ids, uint64_t prefetch) {
    wbytes_.clear();
    for (Ticket id : ids) {
      c_.dma_take(id, &part_);
      wbytes_.insert(wbytes_.end(), part_.begin(), part_.end());
    }
    if (prefetch) {
      c_.wbuf_->occupy(wbytes_.size() + prefetch);
      c_.wbuf_->write_bits(prefetch * 8);
    }
    if (!a_.double_buffer_weights || load_ == 0) c_.wbuf_->write_bits(wbytes_.size() * 8);
    ++load_;
    // The load's tiles as one K' x C' matrix (each tile is padded to a byte);
    // BRSLog codes, at most 8 bits, a byte each (straight into the fold
    // queue when it takes the fold), 16-bit weights as words.
    const uint64_t kt0 = s_.load_kt0(j), krows = s_.load_rows(j), cols = s_.tile_cols(mt);
    const int wb = stored_weight_bits(a_);
    const bool f16 = a_.pe == PeType::Fixed16;
    uint8_t* codes = nullptr;
    if (f16) {
      fixed_.resize(krows * cols);
    } else if (c_.queues_folds() && !s_.spill) {  // (spilling: the load's folds are queued tile by tile)
      codes = c_.queue_.stage(krows * cols);
    } else {
      codes_.resize(krows * cols);
      codes = codes_.data();
    }
    const uint64_t C = static_cast<uint64_t>(a_.cols);
    uint64_t boff = 0;
    if (cols <= C) {  // one array m-tile: its tiles, row-major, one after the other
      uint64_t coff = 0;
      for (uint64_t kt = kt0; kt < s_.load_kt1(j); ++kt) {
        const uint64_t n = s_.tile_rows(kt) * cols;
        if (f16) unpack_weights(wbytes_.data() + boff, wbytes_.size() - boff, n, wb, fixed_.data() + coff);
        else unpack_weights(wbytes_.data() + boff, wbytes_.size() - boff, n, wb, codes + coff);
        boff += weight_tile_bytes(s_.tile_rows(kt), cols, a_), coff += n;
      }
    } else {  // an is m-range (one k-tile): each array m-tile's tile into its C columns
      const uint64_t rows = s_.tile_rows(kt0);
      for (uint64_t c0 = 0; c0 < cols; c0 += C) {
        const uint64_t w = std::min(C, cols - c0), n = rows * w;
        if (f16) {
          tile16_.resize(n);
          unpack_weights(wbytes_.data() + boff, wbytes_.size() - boff, n, wb, tile16_.data());
          for (uint64_t r = 0; r < rows; ++r) std::copy_n(&tile16_[r * w], w, &fixed_[r * cols + c0]);
        } else {
          tile8_.resize(n);
          unpack_weights(wbytes_.data() + boff, wbytes_.size() - boff, n, wb, tile8_.data());
          for (uint64_t r = 0; r < rows; ++r) std::copy_n(&tile8_[r * w], w, &codes[r * cols + c0]);
        }
        boff += weight_tile_bytes(rows, w, a_);
      }
    }
    job_.rows = krows, job_.cols = cols;
    if (f16) {
      job_.fixed = fixed_.data();
    } else {
      job_.codes = codes;
      job_.col_cfg = col_cfg_.data();
    }
    job_.act_stride = s_.K, job_.k0 = kt0 * static_cast<uint64_t>(a_.rows);
    job_.load_id = ++c_.load_ids_;
    // The tile's values in every m-tile (a chunk's view not kept is read once).
    job_.act_reuse = s_.chunks > 1 && !keep_views_ ? 1 : s_.m_tiles - mt;
  }

  void fold(const PlanFold& f) {
    job_.act = view_->im2col.data(), job_.act_id = view_act_id_;  // the tile's input (spilling: fetched after the load)
    job_.out = psums_.data();
    job_.p0 = f.p0, job_.p = f.p;
    c_.run_fold(job_);
  }

  // Spilling: the tile's partial sums out of the output buffer into the
  // write's bytes (acc_bytes each, pixel after pixel), and back.
  void spill(uint64_t mt, uint32_t b, uint32_t st) {
    c_.queue_.flush();  // the tile's folds have accumulated
    const uint64_t n = p_.batch_pixels(b, st) * s_.tile_cols(mt), cb = static_cast<uint64_t>(acc_bytes(a_));
    out_bytes_.assign(n * cb, 0);
    for (uint64_t i = 0; i < n; ++i) store_psum(&out_bytes_[i * cb], psums_[i], static_cast<int>(cb));
    c_.obuf_->read_bits(n * static_cast<uint64_t>(a_.datapath.acc_bits));
    c_.last_.dram_psum_bytes_written += n * cb;
  }
  void refill(uint64_t mt, uint32_t b, uint32_t st, const std::vector<Ticket>& ids) {
    bytes_.clear();
    for (Ticket id : ids) {
      c_.dma_take(id, &part_);
      bytes_.insert(bytes_.end(), part_.begin(), part_.end());
    }
    tile(mt, b, st);  // the tile's place in the output buffer
    const uint64_t n = psums_.size(), cb = static_cast<uint64_t>(acc_bytes(a_));
    for (uint64_t i = 0; i < n; ++i) psums_[i] = load_psum(&bytes_[i * cb], static_cast<int>(cb));
    c_.obuf_->write_bits(n * static_cast<uint64_t>(a_.datapath.acc_bits));
    c_.last_.dram_psum_bytes_read += n * cb;
  }

  void tile_done(uint64_t, uint32_t, uint32_t) { c_.queue_.flush(); }  // the tile's sums are complete

  // One pixel (C' lanes) per cycle: requantize, ReLU, saturate; staged for
  // pooling, or written back (image after image).
  void output_stage(uint64_t mt, uint32_t b, uint32_t st) {
    c_.set_state(3);
    const uint64_t pi = p_.tile_pixels(b, st), pb = p_.batch_pixels(b, st), cols = s_.tile_cols(mt);
    const int A = a_.datapath.act_bits;
    if (pooled_) {  // the tile's rows into the staged conv output (channel after channel)
      const uint64_t plane = uint64_t{d_.out_h()} * d_.out_w(), w = p_.strip_ox1(st) - p_.strip_ox0(st);
      for (uint32_t i = 0; i < d_.batch; ++i)
        for (uint32_t oy = p_.band_oy0(b); oy < p_.band_oy1(b); ++oy)
          stage_.requantize(psums_.data() + (i * pi + (oy - p_.band_oy0(b)) * w) * cols, w,
                            staging_.data() + i * cols * plane + uint64_t{oy} * d_.out_w() + p_.strip_ox0(st), plane,
                            &c_.last_.requant);
    } else {
      outv_.assign(cols * pb, 0);
      for (uint32_t i = 0; i < d_.batch; ++i)
        stage_.requantize(psums_.data() + i * pi * cols, pi, outv_.data() + i * pi * cols, pi, &c_.last_.requant);
    }
    c_.obuf_->read_bits(pb * cols * static_cast<uint64_t>(a_.datapath.acc_bits));
    const uint64_t cyc = output_stage_cycles(pb, s_.lane_groups(mt));
    c_.advance(cyc);
    c_.last_.cycles.output += cyc;
    if (pooled_) c_.obuf_->write_bits(pb * cols * static_cast<uint64_t>(A));
    else encode_outputs();
  }

  // Pooling pooled rows [py0, py1) of the staged m-tile: one window element per cycle, C' lanes.
  void pool_stage(uint64_t mt, uint32_t py0, uint32_t py1) {
    c_.set_state(3);
    const uint64_t cols = s_.tile_cols(mt);
    const uint64_t out = cols * (py1 - py0) * d_.pooled_w(), staged = cols * d_.out_h() * d_.out_w();
    outv_.assign(out * d_.batch, 0);
    for (uint32_t i = 0; i < d_.batch; ++i) pool_tile(d_, staging_.data() + i * staged, cols, outv_.data() + i * out, py0, py1);
    const uint64_t cyc = pool_stage_cycles(d_, s_.lane_groups(mt), py1 - py0);
    c_.obuf_->read_bits(pool_stage_cycles(d_, 1, py1 - py0) * cols * static_cast<uint64_t>(a_.datapath.act_bits));
    c_.advance(cyc);
    c_.last_.cycles.output += cyc;
    encode_outputs();
  }

  void done() { c_.dma_drain(true); }

  // A fully connected layer at batch 1 in fast mode (LayerPlan::one_pixel,
  // BRSLog codes): the plan's walk_one_pixel(), each weight load's DMA read
  // booked on the read channel's timeline (Dma::book_read: the transfer
  // issue() would run, in the same order among the other transfers), its
  // codes unpacked straight from DRAM (TLM DMI), and each m-tile's folds
  // handed to the engine as one run (FastEngine::run_one_pixel). False
  // (nothing done) for other layers, or when the DRAM grants no direct
  // access (back-pressure): walk() then.
  bool walk_one_pixel() {
    if (!c_.queues_folds() || a_.pe != PeType::BrsLog || !p_.one_pixel() || s_.m_cols > static_cast<uint64_t>(a_.cols))
      return false;
    const uint64_t last_mt = s_.m_tiles - 1, last_kt = s_.k_tiles - 1;
    const uint64_t end = weight_tile_offset(d_, a_, last_mt, last_kt) +
                         weight_tile_bytes(s_.tile_rows(last_kt), s_.tile_cols(last_mt), a_);
    direct_ = c_.dma_->direct_read(d_.w_addr, end);
    if (!direct_) return false;
    p_.walk_one_pixel(*this);
    return true;
  }
  // walk_one_pixel()'s calls (layer_plan.h).
  uint64_t now() const { return c_.timeline_cycle(); }
  void catch_up(uint64_t t, uint64_t stall) {
    c_.last_.cycles.stall += stall;
    c_.advance(t - c_.timeline_cycle());
  }
  uint64_t book_load(uint64_t bytes, uint64_t t) {
    c_.last_.dram_bytes_read += bytes;
    return c_.dma_->book_read(bytes, t);
  }
  void load(uint64_t mt, uint64_t j, uint64_t bytes, uint64_t prefetch) {
    const uint64_t R = static_cast<uint64_t>(a_.rows), cols = s_.tile_cols(mt);
    if (j == 0) {  // the m-tile's folds (fold i: load i's codes, k-tile i)
      direct_src_ = direct_ + weight_tile_offset(d_, a_, mt, 0);
      run_codes_.resize(s_.K * cols);
      job_.cols = cols, job_.col_cfg = col_cfg_.data(), job_.fixed = nullptr, job_.codes = run_codes_.data();
      job_.act = view_->im2col.data(), job_.act_stride = s_.K, job_.k0 = 0, job_.p0 = 0, job_.p = 1;
      job_.out = psums_.data(), job_.load_id = c_.load_ids_ + 1;
      job_.act_id = view_act_id_, job_.act_reuse = s_.m_tiles - mt;
    }
    // weights()'s traffic in the weight buffer
    if (prefetch) {
      c_.wbuf_->occupy(bytes + prefetch);
      c_.wbuf_->write_bits(prefetch * 8);
    }
    if (!a_.double_buffer_weights || load_ == 0) c_.wbuf_->write_bits(bytes * 8);
    ++load_;
    unpack_weights(direct_src_, bytes, s_.tile_rows(j) * cols, stored_weight_bits(a_), run_codes_.data() + j * R * cols);
    direct_src_ += bytes;
    ++c_.load_ids_;
    ++c_.fold_index_;  // (run_fold's)
    c_.state_ = 2;
  }
  void folds(uint64_t mt, uint64_t j0, uint64_t j1) {
    const uint64_t R = static_cast<uint64_t>(a_.rows), C = static_cast<uint64_t>(a_.cols), cols = s_.tile_cols(mt);
    const uint64_t full = std::min(j1, s_.K / R);  // loads of R rows
    FastEngine& engine = c_.array_->fast_engine();
    FoldJob f = job_;
    uint64_t ran = 0, want = 0;
    for (uint64_t j = j0; j < j1; ++j) want += fold_timing(Dataflow::WeightStationary, R, C, s_.tile_rows(j), cols, 1).edges();
    if (j0 < full) {
      f.rows = R, f.codes = run_codes_.data() + j0 * R * cols, f.k0 = j0 * R, f.load_id = job_.load_id + j0;
      ran += engine.run_one_pixel(f, full - j0);
    }
    for (uint64_t j = std::max(j0, full); j < j1; ++j) {  // a last k-tile of fewer rows
      f.rows = s_.tile_rows(j), f.codes = run_codes_.data() + j * R * cols, f.k0 = j * R, f.load_id = job_.load_id + j;
      ran += engine.run(f);
    }
    if (ran != want)
      throw std::logic_error("internal: the m-tile's folds took " + std::to_string(ran) + " edges, not " +
                             std::to_string(want));
  }

 private:
  void encode_outputs() {
    const int ab = act_bytes(a_);
    out_bytes_.assign(outv_.size() * static_cast<uint64_t>(ab), 0);
    for (size_t i = 0; i < outv_.size(); ++i) store_act(&out_bytes_[i * static_cast<size_t>(ab)], outv_[i], ab);
  }
  struct BandView {
    std::vector<uint8_t> bytes;   // the band's input bytes
    std::vector<int32_t> im2col;  // their im2col view
    uint64_t key = 0;             // the tile and chunk
    bool built = false;
  };

  Controller& c_;
  const LayerPlan& p_;
  const ArchConfig& a_;
  const LayerDescriptor& d_;
  const Schedule& s_;
  DatapathConfig dp_;
  bool pooled_ = false, keep_views_ = false;
  std::vector<BandView> views_;
  const BandView* view_ = nullptr;
  std::vector<uint64_t> view_act_ids_;  // per kept tile (or the one slot): its views' act_id (0: none yet)
  uint64_t view_act_id_ = 0;            // view_'s
  std::vector<SegmentConfig> col_cfg_, realizable_;  // the m-tile's columns; configurations checked
  OutputStage stage_;
  std::vector<uint8_t> bytes_, part_, wbytes_, out_bytes_, codes_, tile8_;
  // walk_one_pixel: the weights in DRAM (direct access), the next load's, the m-tile's codes
  const uint8_t *direct_ = nullptr, *direct_src_ = nullptr;
  std::vector<uint8_t> run_codes_;
  std::vector<int16_t> fixed_, tile16_;
  std::vector<int32_t> band_, image_view_, staging_, outv_;
  std::vector<int64_t> psums_;
  uint64_t load_ = 0;
  FoldJob job_;  // each load's (every field set there)
};

void Controller::run_layer(const LayerDescriptor& d, int sqrt2_terms) {
  const ArchConfig& a = arch_;
  if (a.pe == PeType::BrsLog && (sqrt2_terms < kMinSqrt2Terms || sqrt2_terms > kMaxSqrt2Terms))
    throw ConfigError("SEG_CFG: sqrt2 terms K = " + std::to_string(sqrt2_terms) + ", expected [1, 7]");
  const Schedule s = make_schedule(d, a);
  check_psum_scratch(d, a, s);
  const FoldCounters before = array_->counters();
  const SramCounters wb0 = wbuf_->counters(), ib0 = ibuf_->counters(), ob0 = obuf_->counters();
  for (uint32_t p = 0; p < s.passes; ++p) {  // a batch's passes, one after the other (docs/cycle-model.md "Batches")
    const LayerDescriptor dp = s.passes > 1 ? pass_descriptor(d, a, s, p) : d;
    const LayerPlan plan(dp, a, s.passes > 1 ? schedule_of_pass(dp, a, s) : s);
    LayerRun x(*this, plan, sqrt2_terms);
    if (!x.walk_one_pixel()) plan.walk(x);
  }
  const FoldCounters f = array_->counters() - before;
  last_.take_fold_counters(f);
  last_.weight_reads = wbuf_->counters().reads - wb0.reads;
  last_.weight_writes = wbuf_->counters().writes - wb0.writes;
  last_.input_reads = ibuf_->counters().reads - ib0.reads;
  last_.input_writes = ibuf_->counters().writes - ib0.writes;
  last_.output_reads = obuf_->counters().reads - ob0.reads;
  last_.output_writes = obuf_->counters().writes - ob0.writes;
}

void Controller::run() {
  // Decoupled layers run within one quantum: the kernel catches up at their end.
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time::from_value(~sc_core::sc_time::value_type{0} / 2));
  for (;;) {
    wait(start_);
    // The layer starts on the next rising edge.
    const sc_time now = sc_core::sc_time_stamp();
    wait(period_ * static_cast<double>(static_cast<uint64_t>(now / period_) + 1) - now);
    const sc_time t0 = sc_core::sc_time_stamp();
    // Fixed for the layer: the array's fields share cache lines with what
    // the fold queue's worker writes on every fold, so they are not read per transfer.
    decoupled_ = array_->fast() && tracer_ == nullptr;
    base_cycle_ = now_cycle();
    qk_.reset();
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
        queue_.flush();
      } catch (...) {
      }
      dma_drain(false);  // nothing of a failed layer stays queued
    }
    // A decoupled layer's time passes now (an error's too, as it would have).
    if (decoupled_ && qk_.get_local_time() != sc_core::SC_ZERO_TIME) qk_.sync();
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

}  // namespace brsim
