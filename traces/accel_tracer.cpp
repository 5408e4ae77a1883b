#include "accel_tracer.h"

#include <cmath>
#include <cstdio>

#include "errors.h"
#include "gtkw_writer.h"
#include "pe_array.h"

namespace brsim {

namespace {
const std::vector<std::string> kCtrl{"accelerator", "controller"};
const std::vector<std::string> kDma{"accelerator", "dma"};
std::vector<std::string> array_scope(const std::string& leaf) { return {"accelerator", "array", leaf}; }
std::string pe_name(int r, int c) { return "pe_r" + std::to_string(r) + "_c" + std::to_string(c); }
}  // namespace

AccelTracer::AccelTracer(const TraceOptions& opt, const ArchConfig& arch, const std::vector<std::string>& layer_names)
    : opt_(opt), arch_(arch), layers_(layer_names) {
  period_ps_ = static_cast<uint64_t>(std::llround(1e6 / arch.clock_mhz));
  const TraceSelection& sel = opt_.select;
  sel.check_array(arch.rows, arch.cols);
  sel.resolve_layer(layer_names);
  const int A = arch.datapath.act_bits, acc = arch.datapath.acc_bits, sb = arch.datapath.shift_bits;
  const bool fixed = arch.pe == PeType::Fixed16;
  if (!opt_.vcd_path.empty()) {
    vcd_ = std::make_unique<VcdWriter>();
    vcd_->open(opt_.vcd_path, period_ps_);
    VcdWriter& v = *vcd_;
    if (sel.block_selected(TraceBlock::Controller)) {
      ctrl_state_ = v.add_signal(kCtrl, "state", 2, TraceRadix::Dec);
      ctrl_layer_ = v.add_signal(kCtrl, "layer", 16, TraceRadix::Dec);
      ctrl_fold_ = v.add_signal(kCtrl, "fold", 32, TraceRadix::Dec);
    }
    if (sel.block_selected(TraceBlock::Dma)) {
      dma_busy_ = v.add_signal(kDma, "busy", 1);
      dma_write_ = v.add_signal(kDma, "write", 1);
      dma_addr_ = v.add_signal(kDma, "addr", 32, TraceRadix::Hex);
      dma_bytes_ = v.add_signal(kDma, "bytes", 32, TraceRadix::Dec);
    }
    if (sel.block_selected(TraceBlock::Decoder) && !fixed)
      for (int c = 0; c < arch.cols; ++c) {
        const auto s = array_scope("decoder_c" + std::to_string(c));
        dec_zero_.push_back(v.add_signal(s, "zero", 1));
        dec_sign_.push_back(v.add_signal(s, "sign", 1));
        dec_flag_.push_back(v.add_signal(s, "flag", 1));
        dec_shift_.push_back(v.add_signal(s, "shift", sb, TraceRadix::Dec));
      }
    if (sel.block_selected(TraceBlock::Array)) {
      for (int r = 0; r < arch.rows; ++r)
        act_in_.push_back(v.add_signal({"accelerator", "array", "boundary"}, "act_in_r" + std::to_string(r), A,
                                       TraceRadix::Signed));
      for (int c = 0; c < arch.cols; ++c)
        psum_out_.push_back(v.add_signal({"accelerator", "array", "boundary"}, "psum_out_c" + std::to_string(c), acc,
                                         TraceRadix::Signed));
    }
    for (int r = 0; r < arch.rows; ++r)
      for (int c = 0; c < arch.cols; ++c) {
        if (!sel.pe_selected(r, c)) continue;
        const auto s = array_scope(pe_name(r, c));
        PeIds p{r, c, -1, -1, -1, -1, -1, -1, -1};
        if (fixed) {
          p.shift = v.add_signal(s, "w_q", 16, TraceRadix::Signed);
        } else {
          p.zero = v.add_signal(s, "w_zero", 1);
          p.sign = v.add_signal(s, "w_sign", 1);
          p.flag = v.add_signal(s, "w_flag", 1);
          p.shift = v.add_signal(s, "w_shift", sb, TraceRadix::Dec);
        }
        p.act = v.add_signal(s, "act", A, TraceRadix::Signed);
        p.product = v.add_signal(s, "product", acc, TraceRadix::Signed);
        p.psum = v.add_signal(s, "psum", acc, TraceRadix::Signed);
        pes_.push_back(p);
      }
    // The traced cycles: the window (within the selected layer, if any).
    const uint64_t cycles = sel.cycles.cycles_within(opt_.expected_cycles ? opt_.expected_cycles : 1);
    estimate_ = estimate_vcd_bytes(v.signals(), cycles);
    try {
      check_vcd_size(estimate_, v.signals().size(), cycles, opt_.limit);
    } catch (const ConfigError&) {
      vcd_.reset();
      std::remove(opt_.vcd_path.c_str());
      throw;
    }
  }
  if (!opt_.saif_path.empty()) {
    saif_ = std::make_unique<SaifRecorder>(period_ps_);
    for (int r = 0; r < arch.rows; ++r)
      for (int c = 0; c < arch.cols; ++c) {
        const auto s = array_scope(pe_name(r, c));
        SaifPe p{r, c, saif_->add_signal(s, "weight", fixed ? 16 : 3 + sb), saif_->add_signal(s, "act", A),
                 saif_->add_signal(s, "product", acc), saif_->add_signal(s, "psum", acc)};
        saif_pes_.push_back(p);
      }
  }
}

AccelTracer::~AccelTracer() {
  if (!finished_) {
    try {
      finish(last_cycle_);
    } catch (...) {
    }
  }
}

std::string AccelTracer::describe_estimate() const {
  if (!vcd_) return "";
  const uint64_t cycles = opt_.select.cycles.cycles_within(opt_.expected_cycles ? opt_.expected_cycles : 1);
  return describe_vcd_size(estimate_, vcd_->signals().size(), cycles);
}

bool AccelTracer::vcd_on(uint64_t cycle) const {
  if (!vcd_) return false;
  const TraceSelection& sel = opt_.select;
  if (!sel.layer.all) {
    if (layer_ < 0 || !sel.layer_selected(layer_, layers_[static_cast<size_t>(layer_)])) return false;
    return sel.cycle_selected(cycle - layer_start_);
  }
  return sel.cycle_selected(cycle);
}

void AccelTracer::begin(uint64_t cycle) {
  if (!started_ || cycle > last_cycle_) vcd_->begin_cycle(cycle);
  started_ = true;
  last_cycle_ = cycle;
}

void AccelTracer::begin_layer(int started, uint64_t cycle) {
  // The host runs the program's layers in order, image after image.
  const int index = layers_.empty() ? started : started % static_cast<int>(layers_.size());
  layer_ = index;
  layer_start_ = cycle;
  if (ctrl_layer_ >= 0 && vcd_on(cycle)) {
    begin(cycle);
    vcd_->set(ctrl_layer_, static_cast<uint64_t>(index));
  }
}

void AccelTracer::controller(uint64_t cycle, int state, uint64_t fold) {
  if (ctrl_state_ < 0 || !vcd_on(cycle)) return;
  begin(cycle);
  vcd_->set(ctrl_state_, static_cast<uint64_t>(state));
  vcd_->set(ctrl_fold_, fold);
  if (layer_ >= 0) vcd_->set(ctrl_layer_, static_cast<uint64_t>(layer_));
}

void AccelTracer::dma(uint64_t cycle, bool busy, bool write, uint64_t addr, uint64_t bytes) {
  if (dma_busy_ < 0 || !vcd_on(cycle)) return;
  begin(cycle);
  vcd_->set(dma_busy_, busy);
  vcd_->set(dma_write_, write);
  vcd_->set(dma_addr_, addr);
  vcd_->set(dma_bytes_, bytes);
}

void AccelTracer::initial_state(const PeArray& a) {
  if (saif_) {
    saif_->begin_cycle(0);
    const bool fixed = arch_.pe == PeType::Fixed16;
    for (const SaifPe& p : saif_pes_) {
      const size_t i = static_cast<size_t>(p.r * a.cols() + p.c);
      saif_->sample(p.weight, fixed ? static_cast<uint64_t>(a.weights()[i]) & 0xFFFFu : register_bits(a.decoded()[i]));
      saif_->sample(p.act, static_cast<uint64_t>(a.act_at(p.r, p.c)));
      saif_->sample(p.product, static_cast<uint64_t>(a.products()[i]));
      saif_->sample(p.psum, static_cast<uint64_t>(a.psum()[i]));
    }
  }
}

void AccelTracer::array_edge(uint64_t cycle, const PeArray& a, const int64_t* feed) {
  const int C = a.cols();
  const bool fixed = arch_.pe == PeType::Fixed16;
  if (saif_) {
    saif_->begin_cycle(cycle);
    for (const SaifPe& p : saif_pes_) {
      const size_t i = static_cast<size_t>(p.r * C + p.c);
      saif_->sample(p.weight, fixed ? static_cast<uint64_t>(a.weights()[i]) & 0xFFFFu : register_bits(a.decoded()[i]));
      saif_->sample(p.act, static_cast<uint64_t>(a.act_at(p.r, p.c)));
      saif_->sample(p.product, static_cast<uint64_t>(a.products()[i]));
      saif_->sample(p.psum, static_cast<uint64_t>(a.psum()[i]));
    }
  }
  if (!vcd_on(cycle)) return;
  begin(cycle);
  VcdWriter& v = *vcd_;
  for (size_t c = 0; c < dec_zero_.size(); ++c) {
    const DecodedWeight& d = a.decoded()[c];  // row 0 holds what the decoder just produced
    v.set(dec_zero_[c], d.zero);
    v.set(dec_sign_[c], d.sign);
    v.set(dec_flag_[c], d.flag);
    v.set(dec_shift_[c], d.shift);
  }
  for (size_t r = 0; r < act_in_.size(); ++r) v.set_signed(act_in_[r], feed[r]);
  for (size_t c = 0; c < psum_out_.size(); ++c)
    v.set_signed(psum_out_[c], a.psum()[static_cast<size_t>((a.rows() - 1) * C) + c]);
  for (const PeIds& p : pes_) {
    const size_t i = static_cast<size_t>(p.r * C + p.c);
    if (fixed) {
      v.set_signed(p.shift, a.weights()[i]);
    } else {
      const DecodedWeight& d = a.decoded()[i];
      v.set(p.zero, d.zero);
      v.set(p.sign, d.sign);
      v.set(p.flag, d.flag);
      v.set(p.shift, d.shift);
    }
    v.set_signed(p.act, a.act_at(p.r, p.c));
    v.set_signed(p.product, a.products()[i]);
    v.set_signed(p.psum, a.psum()[i]);
  }
}

void AccelTracer::finish(uint64_t end_cycle) {
  if (finished_) return;
  finished_ = true;
  if (vcd_) {
    vcd_->close();
    const std::string gtkw = opt_.vcd_path.substr(0, opt_.vcd_path.rfind('.')) + ".gtkw";
    write_gtkw(gtkw, opt_.vcd_path, vcd_->signals());
  }
  if (saif_) {
    saif_->finish(end_cycle);
    saif_->write(opt_.saif_path);
  }
}

uint64_t AccelTracer::saif_toggles() const {
  if (!saif_) return 0;
  uint64_t t = 0;
  for (const SaifPe& p : saif_pes_)
    t += saif_->toggles(p.weight) + saif_->toggles(p.act) + saif_->toggles(p.product) + saif_->toggles(p.psum);
  return t;
}

}  // namespace brsim
