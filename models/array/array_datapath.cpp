#include "array_datapath.h"

#include <algorithm>
#include <string>

#include "errors.h"

namespace brsim {

namespace {
// The largest shift in [0, 2^shift_bits - 1] whose largest product fits the
// accumulator (BRSLOG.md section 6, datapath limits); -1 when not even
// shift 0 fits.
int largest_fitting_shift(const DatapathConfig& dp) {
  int s = -1;
  while (s + 1 <= (1 << dp.shift_bits) - 1 && min_acc_bits(s + 1, dp) <= dp.acc_bits) ++s;
  return s;
}
}  // namespace

WeightDecoderUnit::WeightDecoderUnit(const SegmentConfig& seg, const DatapathConfig& dp) {
  check_realizable(seg, dp);
  seg_ = seg;
  dp_ = dp;
}

void WeightDecoderUnit::configure(const SegmentConfig& seg, const DatapathConfig& dp) {
  check_realizable(seg, dp);
  seg_ = seg;
  dp_ = dp;
  ++reconfigurations_;
}

AeUnit::AeUnit(const DatapathConfig& dp, bool fixed16) {
  configure(dp, fixed16);
  reconfigurations_ = 0;
}

void AeUnit::configure(const DatapathConfig& dp, bool fixed16) {
  validate(dp);
  const Sqrt2Approx approx = sqrt2_approx(dp.sqrt2_terms);
  int limit = 0;
  if (fixed16) {
    if (dp.acc_bits < dp.act_bits + 16)
      throw ConfigError("invalid acc_bits " + std::to_string(dp.acc_bits) + " for the fixed16 AE with " +
                        std::to_string(dp.act_bits) + "-bit activations: acc_bits >= " +
                        std::to_string(dp.act_bits + 16) + " would hold its largest product");
  } else {
    limit = largest_fitting_shift(dp);
    if (limit < 0)
      throw ConfigError("datapath limit: a " + std::to_string(dp.acc_bits) +
                        "-bit accumulator cannot hold even a shift-0 product of " + std::to_string(dp.act_bits) +
                        "-bit activations (K = " + std::to_string(dp.sqrt2_terms) + "); acc_bits >= " +
                        std::to_string(min_acc_bits(0, dp)) + " would work");
  }
  dp_ = dp;
  fixed16_ = fixed16;
  approx_ = approx;
  shift_limit_ = limit;
  ++reconfigurations_;
}

ArrayDatapath::ArrayDatapath(const ArchConfig& arch)
    : decoders_(static_cast<size_t>(std::max(arch.rows, arch.cols))),
      dp_(arch.datapath),
      fixed16_(arch.pe == PeType::Fixed16) {
  tables_.resize(decoders_.size());
  if (fixed16_) ae_.configure(dp_, true), ae_set_ = true;
}

void ArrayDatapath::set_sqrt2_terms(int k) {
  if (fixed16_ || (ae_set_ && ae_.datapath().sqrt2_terms == k)) return;
  DatapathConfig dp = dp_;
  dp.sqrt2_terms = k;
  ae_.configure(dp, false);
  ae_set_ = true;
}

void ArrayDatapath::fill_table(const SegmentConfig& cfg, LaneTable* t) const {
  const uint32_t n = cfg.bits >= 1 && cfg.bits <= 16 ? 1u << cfg.bits : 0;
  t->d.resize(n);
  t->w.resize(n);
  for (uint32_t code = 0; code < n; ++code) {
    t->d[code] = brsim::decode(code, cfg);
    t->w[code] = ae_.weight(t->d[code]);
  }
  t->cfg = cfg;
  t->ae = ae_.reconfigurations();
}

uint64_t ArrayDatapath::decodes() const {
  uint64_t n = 0;
  for (const WeightDecoderUnit& u : decoders_) n += u.decodes();
  return n;
}

}  // namespace brsim
