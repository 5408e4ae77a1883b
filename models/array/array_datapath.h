// The PE array's datapath blocks (BRSLOG.md sections 3, 6 and 8), pure C++:
// the weight decoder with its reconfiguration register, the arithmetic
// element (AE), and the array's set of them. The SystemC blocks
// WeightDecoder and ArithmeticElement (sc_weight_decoder.h,
// sc_arithmetic_element.h) clock these same units; the fold reference runs
// every weight through the array's column (is: row) decoders and forms
// every PE product with AeUnit::product; fast mode tabulates the same
// decoders' outputs per code.
#pragma once

#include <cstdint>
#include <vector>

#include "arch.h"
#include "brslog.h"
#include "datapath.h"
#include "sqrt2.h"

namespace brsim {

// The weight decoder: code word -> {zero, sign, shift, flag} under the
// segment configuration in its register.
class WeightDecoderUnit {
 public:
  // Unconfigured: the first decode() needs a configure().
  WeightDecoderUnit() { seg_.bits = 0; }
  // The register's reset value; ConfigError as for configure().
  WeightDecoderUnit(const SegmentConfig& seg, const DatapathConfig& dp);
  // The register write: ConfigError (register unchanged) when the segment
  // configuration is invalid or the datapath cannot realize it.
  void configure(const SegmentConfig& seg, const DatapathConfig& dp);
  bool fits(uint32_t code) const { return (code >> seg_.bits) == 0; }  // a code word of the configured width
  DecodedWeight decode(uint32_t code) {
    ++decodes_;
    return brsim::decode(code, seg_);
  }
  // A decode whose output the caller took from a table of decode()'s
  // outputs under the same configuration (ArrayDatapath::decode).
  void count_decode() { ++decodes_; }
  const SegmentConfig& segment() const { return seg_; }
  const DatapathConfig& datapath() const { return dp_; }
  uint64_t decodes() const { return decodes_; }
  uint64_t reconfigurations() const { return reconfigurations_; }

 private:
  SegmentConfig seg_;
  DatapathConfig dp_;
  uint64_t decodes_ = 0, reconfigurations_ = 0;
};

// The arithmetic element: P = zero ? 0 : (-1)^s ((a m) << shift), m = flag ?
// c_K : 2^q_K, formed as the activation times the decoded weight's
// effective value (weight()); the shift-add realization ae_product() gives
// the same P for every code and activation (tests). fixed16: P = a w_q.
class AeUnit {
 public:
  AeUnit() = default;  // unconfigured: configure() before use
  // The register's reset value; ConfigError as for configure().
  AeUnit(const DatapathConfig& dp, bool fixed16);
  // The register write: ConfigError (register unchanged) for an invalid
  // datapath, one whose accumulator cannot hold even a shift-0 product
  // (BRSLog), or acc_bits < act_bits + 16 (fixed16).
  void configure(const DatapathConfig& dp, bool fixed16);
  // The effective weight of a decoded code: (-1)^s m << shift (0 when zero).
  int64_t weight(const DecodedWeight& d) const { return ae_effective_weight(d, approx_); }
  // The product of an activation and an effective weight (or w_q).
  static int64_t product(int64_t a, int64_t weight) { return a * weight; }
  const DatapathConfig& datapath() const { return dp_; }
  bool fixed16() const { return fixed16_; }
  const Sqrt2Approx& approx() const { return approx_; }
  int shift_limit() const { return shift_limit_; }  // largest shift whose products the accumulator holds
  uint64_t reconfigurations() const { return reconfigurations_; }

 private:
  DatapathConfig dp_;
  bool fixed16_ = false;
  Sqrt2Approx approx_;
  int shift_limit_ = 0;
  uint64_t reconfigurations_ = 0;
};

// The array's decoders and AE configuration: one decoder per column (ws, os:
// weights enter from the top) or per row (is: from the left), configured
// per layer (and per output channel in per-channel mode) as folds need.
class ArrayDatapath {
 public:
  explicit ArrayDatapath(const ArchConfig& arch);
  // The layer's K (the AE's sqrt2 terms): reconfigures the AE when it
  // changes. The controller has checked the layer's configurations by then.
  void set_sqrt2_terms(int k);
  // The weight leaving decoder `lane` for code `code` of a column whose
  // segment configuration is `cfg`: its decoded fields and effective weight.
  // (Each lane's outputs for every code of its configuration are tabulated
  // once per configuration and AE configuration: the same fields and weights.)
  void decode(size_t lane, uint32_t code, const SegmentConfig& cfg, DecodedWeight* d, int64_t* w) {
    WeightDecoderUnit& u = decoders_[lane];
    if (u.segment() != cfg) u.configure(cfg, ae_.datapath());
    LaneTable& t = tables_[lane];
    if (t.cfg != cfg || t.ae != ae_.reconfigurations()) fill_table(cfg, &t);
    if (code >= t.d.size()) {  // not a code word of the configuration: the unit's error
      *d = u.decode(code);
      *w = ae_.weight(*d);
      return;
    }
    u.count_decode();
    *d = t.d[code];
    *w = t.w[code];
  }
  const AeUnit& ae() const { return ae_; }
  const std::vector<WeightDecoderUnit>& decoders() const { return decoders_; }
  uint64_t decodes() const;

 private:
  struct LaneTable {  // a decoder's outputs and their weights by code
    SegmentConfig cfg;
    uint64_t ae = ~uint64_t{0};  // the AE's configuration (its reconfiguration count) it was made under
    std::vector<DecodedWeight> d;
    std::vector<int64_t> w;
  };
  void fill_table(const SegmentConfig& cfg, LaneTable* t) const;
  std::vector<WeightDecoderUnit> decoders_;
  std::vector<LaneTable> tables_;
  DatapathConfig dp_;
  bool fixed16_ = false;
  AeUnit ae_;
  bool ae_set_ = false;
};

}  // namespace brsim
