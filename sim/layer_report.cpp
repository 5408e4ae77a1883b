#include "layer_report.h"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "arch_yaml.h"
#include "energy_report.h"
#include "errors.h"
#include "layer_schedule.h"
#include "results_dir.h"
#include "text_table.h"

namespace brsim {

namespace {
uint64_t per_image(uint64_t v, uint64_t images) { return images ? v / images : 0; }
const char* pool_name(PoolKind p) { return p == PoolKind::Max ? "max" : p == PoolKind::Avg ? "avg" : "none"; }
std::string gemm_shape(const LayerDescriptor& d) {
  return std::to_string(d.gemm_p()) + "x" + std::to_string(d.gemm_k()) + "x" + std::to_string(d.gemm_m());
}
// The GEMM column: "-" for a vector-unit layer, "PxKxM x G" for G groups.
std::string gemm_column(const LayerRunStats& l) {
  if (l.vector) return "- (vector)";
  return gemm_shape(l.desc) + (l.groups > 1 ? " x" + std::to_string(l.groups) : "");
}
std::string kind_of(const LayerRunStats& l) { return l.op.empty() ? (l.desc.fc ? "fc" : "conv") : l.op; }
}  // namespace

double utilization(const LayerRunStats& l, const ArchConfig& a) {
  const double cyc = static_cast<double>(l.stats.cycles.total());
  return cyc > 0 ? static_cast<double>(l.stats.macs) / (static_cast<double>(a.rows) * a.cols * cyc) : 0.0;
}

void print_layer_table(const AccelRunResult& r, const ArchConfig& a, const std::vector<EnergyBreakdown>& energy,
                       std::ostream& os) {
  // Batches (docs/cycle-model.md "Batches"): cycles per image beside cycles per batch.
  const bool batched = a.batch > 1;
  std::vector<std::string> head = {"layer", "GEMM PxKxM", "MACs", "cycles", "w-load", "compute", "drain", "stall",
                                   "output", "util (%)", "energy (nJ)", "pJ/MAC", "power (mW)", "overflows", "saturated"};
  std::vector<bool> left(head.size(), false);
  left[0] = left[1] = true;
  if (batched) {
    head[3] = "cycles/image";
    head.insert(head.begin() + 4, "cycles/batch");
    left.push_back(false);
  }
  TextTable t(head, left);
  uint64_t macs = 0, cycles = 0, batch_cycles = 0;
  double nj = 0;
  for (size_t li = 0; li < r.layers.size(); ++li) {
    const LayerRunStats& l = r.layers[li];
    const EnergyBreakdown& e = energy[li];
    const double layer_nj = e.total_pj / 1000.0 / static_cast<double>(l.images ? l.images : 1);
    nj += layer_nj;
    const uint64_t n = l.images;
    const LayerCycles& c = l.stats.cycles;
    macs += per_image(l.stats.macs, n);
    cycles += per_image(c.total(), n);
    batch_cycles += per_image(c.total(), l.batches);
    std::vector<std::string> row = {
        l.name, gemm_column(l), std::to_string(per_image(l.stats.macs, n)), std::to_string(per_image(c.total(), n)),
        std::to_string(per_image(c.weight_load, n)), std::to_string(per_image(c.compute, n)),
        std::to_string(per_image(c.drain, n)), std::to_string(per_image(c.stall, n)),
        std::to_string(per_image(c.output, n)), fmt_fixed(100.0 * utilization(l, a), 2), fmt_fixed(layer_nj, 2),
        fmt_fixed(e.pj_per_mac, 3), fmt_fixed(e.avg_power_mw, 2),
        std::to_string(l.stats.array_overflows + l.stats.output_overflows), std::to_string(l.stats.requant.saturated())};
    if (batched) row.insert(row.begin() + 4, std::to_string(per_image(c.total(), l.batches)));
    t.add_row(row);
  }
  const double util = cycles ? static_cast<double>(macs) / (static_cast<double>(a.rows) * a.cols * cycles) : 0;
  const double us = static_cast<double>(cycles) / a.clock_mhz;
  std::vector<std::string> total = {"total", "", std::to_string(macs), std::to_string(cycles), "", "", "", "", "",
                                    fmt_fixed(100.0 * util, 2), fmt_fixed(nj, 2),
                                    macs ? fmt_fixed(nj * 1000.0 / static_cast<double>(macs), 3) : "-",
                                    us > 0 ? fmt_fixed(nj / us, 2) : "-", "", ""};
  if (batched) total.insert(total.begin() + 4, std::to_string(batch_cycles));
  t.add_row(total);
  if (batched)
    os << "batches of " << a.batch << " images (weights loaded once per batch; docs/cycle-model.md \"Batches\"): "
       << "cycles/batch per batch run (a last, partial batch counts as one), everything else per image\n";
  os << "cycles, MACs and energy per image; power averaged over the layer; overflows (accumulator wraps) and "
        "saturated (requantization clips) over all images\n";
  t.print(os);
  // Layers tiled below bands of whole rows with every input channel (docs/tiling.md).
  for (const LayerRunStats& l : r.layers) {
    if (l.vector) continue;
    const Schedule sc = make_schedule(l.desc, a);
    if (sc.passes > 1)
      os << "note: " << l.name << ": the batch runs in " << sc.passes << " passes of " << sc.pass_images
         << (sc.pass_images == 1 ? " image" : " images")
         << " (fewer cycles than one pass: the buffers hold too little of the whole batch's tiles; "
            "docs/cycle-model.md \"Batches\")\n";
    if (sc.strips == 1 && sc.chunks == 1 && !sc.pool_by_rows) continue;
    os << "note: " << l.name << ": tiled: " << sc.bands << " band(s) of " << sc.band_rows << " output row(s)";
    if (sc.strips > 1) os << ", " << sc.strips << " strips of " << sc.strip_cols << " columns";
    if (sc.chunks > 1) os << ", " << sc.chunks << " input-channel chunks of " << sc.chunk_ktiles << " k-tiles";
    if (sc.pool_by_rows) os << ", pooling staged by rows";
    if (sc.spill)
      os << ", spill: each weight load fetched once per m-tile for every tile, partial sums spilled to DRAM between loads ("
         << per_image(l.stats.dram_psum_bytes_written, l.images) << " bytes written and "
         << per_image(l.stats.dram_psum_bytes_read, l.images) << " read per image)";
    os << " (docs/tiling.md)\n";
  }
  // Input stationary splits a layer's filters into m-ranges only where the buffers cannot hold them all.
  for (const LayerRunStats& l : r.layers) {
    if (a.dataflow != Dataflow::InputStationary) break;
    const Schedule sc = make_schedule(l.desc, a);
    if (!sc.m_split()) continue;
    os << "note: " << l.name << ": input stationary m-range split: the weight buffer (" << a.rows << " x m weights) "
       << "and the output buffer (an output row of m partial sums) hold m = " << sc.m_cols << " of its "
       << l.desc.gemm_m() << " filters, so it runs as " << sc.m_tiles
       << " m-ranges, each loading every activation tile and reading the input again\n";
  }
}

nlohmann::json layer_json(const LayerRunStats& l, const ArchConfig& a, const EnergyBreakdown& e) {
  const uint64_t n = l.images;
  const LayerCycles& c = l.stats.cycles;
  const LayerDescriptor& d = l.desc;
  nlohmann::json j;
  j["name"] = l.name;
  j["kind"] = kind_of(l);
  if (l.vector) {
    j["unit"] = "vector";
    j["shape"] = {{"out_c", l.vec.c}, {"out_h", l.vec.h}, {"out_w", l.vec.w}, {"operands", l.vec.in.size()},
                  {"relu", l.vec.relu}};
  } else {
    j["shape"] = {{"in_c", d.in_c}, {"in_h", d.in_h}, {"in_w", d.in_w}, {"out_m", d.out_m}, {"out_h", d.out_h()},
                  {"out_w", d.out_w()}, {"kh", d.kh}, {"kw", d.kw}, {"stride", d.stride_h}, {"pad", d.pad_t},
                  {"pool", pool_name(d.pool)}, {"relu", d.relu}};
    j["gemm"] = {{"P", d.gemm_p()}, {"K", d.gemm_k()}, {"M", d.gemm_m()}};
    if (l.groups > 1) j["groups"] = l.groups;  // one GEMM of this shape per group
  }
  j["macs"] = per_image(l.stats.macs, n);
  j["cycles"] = {{"total", per_image(c.total(), n)},     {"weight_load", per_image(c.weight_load, n)},
                 {"compute", per_image(c.compute, n)},   {"drain", per_image(c.drain, n)},
                 {"stall", per_image(c.stall, n)},       {"output", per_image(c.output, n)}};
  j["closed_form_cycles"] = l.closed_form.total();
  j["utilization"] = utilization(l, a);
  j["folds"] = per_image(l.stats.folds, n);
  if (a.dataflow == Dataflow::InputStationary) {  // the filters streamed per activation tile (docs/dataflows.md)
    const Schedule sc = make_schedule(d, a);
    j["m_ranges"] = {{"count", sc.m_tiles}, {"filters", sc.m_cols}, {"split", sc.m_split()}};
  }
  if (!l.vector) {  // the tiling (docs/tiling.md)
    const Schedule sc = make_schedule(d, a);
    j["schedule"] = {{"bands", sc.bands},         {"band_rows", sc.band_rows},     {"strips", sc.strips},
                     {"strip_cols", sc.strip_cols}, {"chunks", sc.chunks},       {"chunk_k_tiles", sc.chunk_ktiles},
                     {"pool_by_rows", sc.pool_by_rows}};
    if (d.batch > 1) j["schedule"]["passes"] = sc.passes, j["schedule"]["pass_images"] = sc.pass_images;
    if (sc.spill) j["schedule"]["spill"] = true;  // (only where it spills: docs/tiling.md)
  }
  j["dram_bytes"] = {{"read", per_image(l.stats.dram_bytes_read, n)}, {"written", per_image(l.stats.dram_bytes_written, n)}};
  if (l.stats.dram_psum_bytes_read + l.stats.dram_psum_bytes_written) {  // of them: spilled partial sums
    j["dram_bytes"]["psum_read"] = per_image(l.stats.dram_psum_bytes_read, n);
    j["dram_bytes"]["psum_written"] = per_image(l.stats.dram_psum_bytes_written, n);
  }
  j["buffer_words"] = {{"weight_reads", per_image(l.stats.weight_reads, n)},
                       {"weight_writes", per_image(l.stats.weight_writes, n)},
                       {"input_reads", per_image(l.stats.input_reads, n)},
                       {"input_writes", per_image(l.stats.input_writes, n)},
                       {"output_reads", per_image(l.stats.output_reads, n)},
                       {"output_writes", per_image(l.stats.output_writes, n)}};
  j["weight_decodes"] = per_image(l.stats.decodes, n);
  j["images"] = n;
  if (a.batch > 1)  // per batch (docs/outputs.md); the fields above are per image
    j["batch"] = {{"images_per_batch", a.batch},
                  {"batches", l.batches},
                  {"cycles_per_batch", per_image(c.total(), l.batches)},
                  {"macs_per_batch", per_image(l.stats.macs, l.batches)},
                  {"dram_bytes_per_batch",
                   {{"read", per_image(l.stats.dram_bytes_read, l.batches)},
                    {"written", per_image(l.stats.dram_bytes_written, l.batches)}}}};
  j["acc_overflows"] = l.stats.array_overflows + l.stats.output_overflows;
  j["saturations"] = l.stats.requant.saturated();
  j["energy"] = energy_json(e, n);
  const double img = n ? static_cast<double>(n) : 1.0;
  j["activity"] = {{"toggles_per_image",
                    {{"weight", static_cast<double>(l.stats.toggles_weight) / img},
                     {"activation", static_cast<double>(l.stats.toggles_act) / img},
                     {"product", static_cast<double>(l.stats.toggles_product) / img},
                     {"psum", static_cast<double>(l.stats.toggles_psum) / img}}},
                   {"ae_ops_per_image",
                    {{"sqrt2", per_image(l.stats.ae_sqrt2, n)}, {"pow2", per_image(l.stats.ae_pow2, n)},
                     {"zero", per_image(l.stats.ae_zero, n)}, {"fixed16_mul", per_image(l.stats.fixed16_muls, n)}}}};
  return j;
}

nlohmann::json totals_json(const AccelRunResult& r, const ArchConfig& a) {
  uint64_t macs = 0, cycles = 0, all_macs = 0, all_cycles = 0, batch_cycles = 0;
  for (const LayerRunStats& l : r.layers) {
    macs += per_image(l.stats.macs, l.images);
    cycles += per_image(l.stats.cycles.total(), l.images);
    batch_cycles += per_image(l.stats.cycles.total(), l.batches);
    all_macs += l.stats.macs;
    all_cycles += l.stats.cycles.total();
  }
  nlohmann::json j = {{"macs_per_image", macs},
          {"cycles_per_image", cycles},
          {"latency_us_per_image", static_cast<double>(cycles) / a.clock_mhz},
          {"utilization", cycles ? static_cast<double>(macs) / (static_cast<double>(a.rows) * a.cols * cycles) : 0.0},
          {"simulated_macs", all_macs},
          {"simulated_cycles", all_cycles}};
  if (a.batch > 1) {
    j["batch"] = a.batch;  // images per batch
    j["cycles_per_batch"] = batch_cycles;
    j["latency_us_per_batch"] = static_cast<double>(batch_cycles) / a.clock_mhz;
  }
  return j;
}

nlohmann::json timing_json(const AccelRunResult& r, double golden_seconds) {
  uint64_t macs = 0, cycles = 0;
  for (const LayerRunStats& l : r.layers) {
    macs += l.stats.macs;
    cycles += l.stats.cycles.total();
  }
  const double hs = r.host_seconds > 0 ? r.host_seconds : 1e-9;
  return {{"host_seconds", r.host_seconds},
          {"golden_host_seconds", golden_seconds},
          {"simulated_macs_per_host_second", static_cast<double>(macs) / hs},
          {"simulated_cycles_per_host_second", static_cast<double>(cycles) / hs}};
}

std::string layers_csv(const AccelRunResult& r, const ArchConfig& a, const std::vector<EnergyBreakdown>& energy) {
  std::ostringstream o;
  o << "layer,kind,in_c,in_h,in_w,out_m,kh,kw,stride,pad,pool,P,K,M,images,macs,cycles_total,cycles_weight_load,"
       "cycles_compute,cycles_drain,cycles_stall,cycles_output,closed_form_cycles,utilization,folds,"
       "dram_bytes_read,dram_bytes_written,weight_buffer_reads,weight_buffer_writes,input_buffer_reads,"
       "input_buffer_writes,output_buffer_reads,output_buffer_writes,weight_decodes,acc_overflows_total,"
       "saturations_total,energy_pj,energy_per_mac_pj,avg_power_mw,toggles_weight_total,toggles_act_total,"
       "toggles_product_total,toggles_psum_total,bands,strips,chunks,pool_by_rows";
  // Batches: per-batch columns at the end (docs/outputs.md), only when batch > 1.
  const bool batched = a.batch > 1;
  if (batched)
    o << ",batch,batches,cycles_per_batch,macs_per_batch,dram_bytes_read_per_batch,dram_bytes_written_per_batch";
  o << ",spill,dram_psum_bytes_read,dram_psum_bytes_written";  // spilling partial sums (docs/outputs.md)
  o << '\n';
  for (size_t li = 0; li < r.layers.size(); ++li) {
    const LayerRunStats& l = r.layers[li];
    const EnergyBreakdown& e = energy[li];
    const uint64_t n = l.images;
    const LayerDescriptor& d = l.desc;
    const LayerCycles& c = l.stats.cycles;
    const LayerStats& s = l.stats;
    o << l.name << ',' << kind_of(l) << ',' << d.in_c << ',' << d.in_h << ',' << d.in_w << ',' << d.out_m
      << ',' << d.kh << ',' << d.kw << ',' << d.stride_h << ',' << d.pad_t << ',' << pool_name(d.pool) << ','
      << d.gemm_p() << ',' << d.gemm_k() << ',' << d.gemm_m() << ',' << n << ',' << per_image(s.macs, n) << ','
      << per_image(c.total(), n) << ',' << per_image(c.weight_load, n) << ',' << per_image(c.compute, n) << ','
      << per_image(c.drain, n) << ',' << per_image(c.stall, n) << ',' << per_image(c.output, n) << ','
      << l.closed_form.total() << ',' << fmt_general(utilization(l, a), 6) << ',' << per_image(s.folds, n) << ','
      << per_image(s.dram_bytes_read, n) << ',' << per_image(s.dram_bytes_written, n) << ','
      << per_image(s.weight_reads, n) << ',' << per_image(s.weight_writes, n) << ',' << per_image(s.input_reads, n)
      << ',' << per_image(s.input_writes, n) << ',' << per_image(s.output_reads, n) << ','
      << per_image(s.output_writes, n) << ',' << per_image(s.decodes, n) << ','
      << s.array_overflows + s.output_overflows << ',' << s.requant.saturated() << ','
      << fmt_general(e.total_pj / static_cast<double>(n ? n : 1), 9) << ',' << fmt_general(e.pj_per_mac, 6) << ','
      << fmt_general(e.avg_power_mw, 6) << ',' << s.toggles_weight << ',' << s.toggles_act << ','
      << s.toggles_product << ',' << s.toggles_psum;
    const Schedule sc = l.vector ? Schedule{} : make_schedule(d, a);
    if (l.vector) {
      o << ",,,,";
    } else {  // the tiling (docs/tiling.md)
      o << ',' << sc.bands << ',' << sc.strips << ',' << sc.chunks << ',' << (sc.pool_by_rows ? 1 : 0);
    }
    if (batched)
      o << ',' << a.batch << ',' << l.batches << ',' << per_image(c.total(), l.batches) << ','
        << per_image(s.macs, l.batches) << ',' << per_image(s.dram_bytes_read, l.batches) << ','
        << per_image(s.dram_bytes_written, l.batches);
    o << ',';
    if (!l.vector) o << (sc.spill ? 1 : 0);
    o << ',' << per_image(s.dram_psum_bytes_read, n) << ',' << per_image(s.dram_psum_bytes_written, n);
    o << '\n';
  }
  return o.str();
}

std::string stats_txt(const AccelRunResult& r) {
  const StatSet<LayerStats>& set = layer_stats();
  struct Block {
    std::string name;
    const LayerStats* stats;
    uint64_t images;
  };
  std::vector<Block> blocks;
  LayerStats all;
  for (const LayerRunStats& l : r.layers) {
    blocks.push_back({l.name, &l.stats, l.images});
    all.add(l.stats);
  }
  blocks.push_back({"total", &all, 0});
  size_t width = 0;
  for (const Block& b : blocks)
    for (const StatDef<LayerStats>& d : set) width = std::max(width, b.name.size() + 1 + std::string(d.name).size());
  std::ostringstream o;
  auto line = [&](const std::string& key, uint64_t v, const char* unit, const char* desc) {
    o << key << std::string(width + 2 - std::min(width, key.size()), ' ') << std::setw(20) << v << ' ' << unit
      << " # " << desc << '\n';
  };
  o << "# brsim stats: counter, value (a total over the images run), unit # description\n";
  for (const Block& b : blocks) {
    o << '\n';
    if (b.images) line(b.name + ".images", b.images, "images", "images run through the layer");
    for (const StatDef<LayerStats>& d : set) line(b.name + "." + d.name, d.get(*b.stats), d.unit, d.desc);
  }
  return o.str();
}

void write_results(const std::string& dir, const ArchConfig& a, const nlohmann::json& summary, const AccelRunResult& r,
                   const std::vector<EnergyBreakdown>& energy, const nlohmann::json& timing) {
  ResultsDir out(dir);  // atomic: a temporary folder renamed into place at the end
  auto write = [&](const std::string& name, const std::string& text) { out.write(name, text); };
  write("config.yaml", "# resolved architecture of this run\n" + arch_to_yaml(a));
  write("summary.json", summary.dump(2) + "\n");
  write("timing.json", timing.dump(2) + "\n");
  write("layers.csv", layers_csv(r, a, energy));
  std::vector<std::pair<std::string, EnergyBreakdown>> named;
  for (size_t i = 0; i < r.layers.size(); ++i) named.emplace_back(r.layers[i].name, energy[i]);
  write("energy.csv", energy_csv(named));
  write("stats.txt", stats_txt(r));
  out.commit();
}

}  // namespace brsim
