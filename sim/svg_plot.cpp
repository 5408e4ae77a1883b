#include "svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "errors.h"
#include "file_io.h"
#include "sweep.h"
#include "text_table.h"

namespace brsim {

namespace {

const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
const char* kMono = "DejaVu Sans Mono, Menlo, Consolas, monospace";
// Tableau 10: distinguishable, print- and colour-blind-friendly enough.
const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
constexpr int kPaletteSize = 10;

std::string num(double v) {  // coordinates: 2 decimals are plenty
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  std::string s = b;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

double text_width(const std::string& s, double font_px) { return 0.58 * font_px * static_cast<double>(s.size()); }

class Svg {
 public:
  Svg(double w, double h) : w_(w), h_(h) {}
  void rect(double x, double y, double w, double h, const std::string& style) {
    o_ << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w) << "\" height=\"" << num(h) << "\" "
       << style << "/>\n";
  }
  void line(double x1, double y1, double x2, double y2, const std::string& style) {
    o_ << "<line x1=\"" << num(x1) << "\" y1=\"" << num(y1) << "\" x2=\"" << num(x2) << "\" y2=\"" << num(y2) << "\" "
       << style << "/>\n";
  }
  void circle(double x, double y, double r, const std::string& style) {
    o_ << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"" << num(r) << "\" " << style << "/>\n";
  }
  // A marker of equal visual weight: 0 circle, 1 square, 2 triangle, 3 diamond,
  // 4 triangle pointing down, 5 hexagon.
  void marker(double x, double y, double r, int shape, const std::string& style) {
    if (shape == 0) return circle(x, y, r, style);
    std::vector<std::pair<double, double>> p;
    if (shape == 1) {
      const double h = r * 0.89;
      p = {{x - h, y - h}, {x + h, y - h}, {x + h, y + h}, {x - h, y + h}};
    } else if (shape == 2) {
      const double h = r * 1.25;
      p = {{x, y - h}, {x + h * 0.87, y + h * 0.5}, {x - h * 0.87, y + h * 0.5}};
    } else if (shape == 4) {
      const double h = r * 1.25;
      p = {{x, y + h}, {x + h * 0.87, y - h * 0.5}, {x - h * 0.87, y - h * 0.5}};
    } else if (shape == 5) {
      const double h = r * 1.05;
      for (int k = 0; k < 6; ++k) p.emplace_back(x + h * std::cos(k * M_PI / 3), y + h * std::sin(k * M_PI / 3));
    } else {
      const double h = r * 1.2;
      p = {{x, y - h}, {x + h, y}, {x, y + h}, {x - h, y}};
    }
    o_ << "<polygon points=\"";
    for (size_t i = 0; i < p.size(); ++i) o_ << (i ? " " : "") << num(p[i].first) << "," << num(p[i].second);
    o_ << "\" " << style << "/>\n";
  }
  void polyline(const std::vector<std::pair<double, double>>& pts, const std::string& style) {
    o_ << "<polyline points=\"";
    for (size_t i = 0; i < pts.size(); ++i) o_ << (i ? " " : "") << num(pts[i].first) << "," << num(pts[i].second);
    o_ << "\" fill=\"none\" " << style << "/>\n";
  }
  // anchor: start | middle | end; rotate in degrees about (x, y).
  void text(double x, double y, const std::string& s, double size, const std::string& anchor = "start",
            const std::string& extra = "", double rotate = 0) {
    o_ << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\"" << num(size) << "\" text-anchor=\""
       << anchor << "\"";
    if (rotate != 0) o_ << " transform=\"rotate(" << num(rotate) << " " << num(x) << " " << num(y) << ")\"";
    if (!extra.empty()) o_ << " " << extra;
    o_ << ">" << svg_escape(s) << "</text>\n";
  }
  std::string str() const {
    std::ostringstream s;
    s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(w_) << "\" height=\"" << num(h_)
      << "\" viewBox=\"0 0 " << num(w_) << " " << num(h_) << "\" font-family=\"" << kFont << "\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
      << o_.str() << "</svg>\n";
    return s.str();
  }

 private:
  double w_, h_;
  std::ostringstream o_;
};

// A numeric axis mapped onto pixels [p0, p1] (p1 < p0 for a y axis).
struct Axis {
  double lo = 0, hi = 1, p0 = 0, p1 = 1;
  bool log = false;
  double map(double v) const {
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return p0 + t * (p1 - p0);
  }
  std::vector<double> ticks;
  double step = 1;  // linear tick step (label decimals)
  std::string label(double v) const {
    char b[32];
    if (log) {
      std::snprintf(b, sizeof b, "%g", v);
    } else {
      int dec = 0;  // as many decimals as the step needs (2.5 needs one more than 2)
      while (dec < 9 && std::fabs(step * std::pow(10.0, dec) - std::round(step * std::pow(10.0, dec))) > 1e-6) ++dec;
      std::snprintf(b, sizeof b, "%.*f", dec, v);
    }
    return b;
  }
};

double nice_step(double raw) {
  const double e = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
}

// Log10 when every value is positive and they span more than 10x.
Axis make_axis(double mn, double mx, double p0, double p1, bool allow_log, bool from_zero = false, double cap = 0) {
  Axis a;
  a.p0 = p0, a.p1 = p1;
  if (!(mx >= mn)) mn = 0, mx = 1;
  if (allow_log && mn > 0 && mx / mn > 10) {
    a.log = true;
    const double l0 = std::floor(std::log10(mn)), l1 = std::ceil(std::log10(mx));
    a.lo = std::pow(10.0, l0), a.hi = std::pow(10.0, std::max(l1, l0 + 1));
    const bool dense = l1 - l0 <= 2;
    for (double d = l0; d <= l1 + 1e-9; ++d)
      for (double m : dense ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double v = m * std::pow(10.0, d);
        if (v >= a.lo * (1 - 1e-9) && v <= a.hi * (1 + 1e-9)) a.ticks.push_back(v);
      }
    return a;
  }
  if (from_zero) mn = 0;
  double span = mx - mn;
  if (span <= 0) span = std::fabs(mx) > 0 ? std::fabs(mx) * 0.2 : 1.0, mn -= span / 2, mx += span / 2;
  if (!from_zero) mn -= span * 0.06, mx += span * 0.06;
  a.step = nice_step((mx - mn) / 5);
  a.lo = from_zero ? 0 : std::floor(mn / a.step) * a.step;
  a.hi = std::ceil(mx / a.step - 1e-9) * a.step;
  if (cap > 0 && a.hi > cap) a.hi = cap;
  if (a.hi <= a.lo) a.hi = a.lo + a.step;
  for (double v = a.lo; v <= a.hi + a.step * 1e-6; v += a.step) a.ticks.push_back(std::fabs(v) < a.step * 1e-9 ? 0 : v);
  return a;
}

void frame(Svg& s, const Axis& x, const Axis& y, const std::string& xl, const std::string& yl, bool x_ticks = true) {
  const double left = x.p0, right = x.p1, top = y.p1, bottom = y.p0;
  s.rect(left, top, right - left, bottom - top, "fill=\"#fbfbfd\" stroke=\"none\"");
  for (double v : y.ticks) {
    const double py = y.map(v);
    s.line(left, py, right, py, "stroke=\"#e3e3ea\" stroke-width=\"1\"");
    s.text(left - 8, py + 4, y.label(v), 12, "end", "fill=\"#444\"");
  }
  if (x_ticks)
    for (double v : x.ticks) {
      const double px = x.map(v);
      s.line(px, top, px, bottom, "stroke=\"#e3e3ea\" stroke-width=\"1\"");
      s.text(px, bottom + 18, x.label(v), 12, "middle", "fill=\"#444\"");
    }
  s.line(left, bottom, right, bottom, "stroke=\"#555\" stroke-width=\"1.2\"");
  s.line(left, top, left, bottom, "stroke=\"#555\" stroke-width=\"1.2\"");
  if (!xl.empty()) s.text((left + right) / 2, bottom + 42, xl, 13, "middle", "fill=\"#222\"");
  s.text(left - 58, (top + bottom) / 2, yl, 13, "middle", "fill=\"#222\"", -90);
}

struct Box {
  double x0, y0, x1, y1;
  bool hits(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

}  // namespace

std::string svg_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string scatter_svg(const ScatterPlot& p) {
  const double plot_l = 90, plot_t = 72, plot_w = 640, plot_h = 430, legend_x = plot_l + plot_w + 28;
  const double table_row = 19;
  const size_t trows = p.table_rows.size();
  std::vector<double> col_w;
  for (size_t c = 0; c < p.table_header.size(); ++c) {
    double w = text_width(p.table_header[c], 12);
    for (const auto& r : p.table_rows)
      if (c < r.size()) w = std::max(w, text_width(r[c], 12) * 1.04);
    col_w.push_back(w + 18);
  }
  double table_w = 0;
  for (double w : col_w) table_w += w;
  double legend_w = 200;
  for (const std::string& n : {p.highlight_name, p.front_name, p.other_name}) legend_w = std::max(legend_w, text_width(n, 12) + 30);
  for (const std::string& n : p.groups) legend_w = std::max(legend_w, text_width(n, 12) + 30);
  for (const std::string& n : p.shapes) legend_w = std::max(legend_w, text_width(n, 12) + 30);
  for (const std::string& n : p.notes) legend_w = std::max(legend_w, text_width(n, 12) + 10);
  const double width = std::max(legend_x + legend_w + 16, plot_l + table_w + 20);
  const double table_top = plot_t + plot_h + 80;
  const double height = trows ? table_top + 30 + table_row * (static_cast<double>(trows) + 1) + 16 : plot_t + plot_h + 70;
  Svg s(width, height);
  s.text(20, 30, p.title, 19, "start", "font-weight=\"bold\" fill=\"#111\"");
  s.text(20, 52, p.subtitle, 13, "start", "fill=\"#555\"");

  double xmn = INFINITY, xmx = -INFINITY, ymn = INFINITY, ymx = -INFINITY;
  for (const auto& q : p.points) {
    xmn = std::min(xmn, q.x), xmx = std::max(xmx, q.x), ymn = std::min(ymn, q.y), ymx = std::max(ymx, q.y);
  }
  const bool any = !p.points.empty();
  Axis x = make_axis(any ? xmn : 0, any ? xmx : 1, plot_l, plot_l + plot_w, true);
  Axis y = make_axis(any ? ymn : 0, any ? ymx : 1, plot_t + plot_h, plot_t, true);
  frame(s, x, y, p.x_label + (x.log ? "  (log scale)" : ""), p.y_label + (y.log ? "  (log scale)" : ""));
  if (!any) s.text(plot_l + plot_w / 2, plot_t + plot_h / 2, "no successful points to plot", 16, "middle", "fill=\"#888\"");

  const bool coloured = !p.groups.empty() && p.groups.size() <= static_cast<size_t>(kPaletteSize);
  auto colour = [&](int g) { return coloured ? kPalette[g % kPaletteSize] : kPalette[0]; };
  const bool shaped = p.shapes.size() >= 2 && p.shapes.size() <= 6;
  auto shape = [&](int k) { return shaped ? k % 6 : 0; };

  std::vector<std::pair<double, double>> front;
  for (const auto& q : p.points)
    if (q.on_front) front.emplace_back(x.map(q.x), y.map(q.y));
  std::sort(front.begin(), front.end());
  if (front.size() >= 2) s.polyline(front, "stroke=\"#222\" stroke-width=\"1.6\" stroke-opacity=\"0.75\"");

  std::vector<Box> placed;
  for (const auto& q : p.points) {  // markers: others first, highlighted on top
    const double px = x.map(q.x), py = y.map(q.y);
    placed.push_back({px - 6, py - 6, px + 6, py + 6});
    if (!q.highlight)
      s.marker(px, py, 4.5, shape(q.shape), std::string("fill=\"") + colour(q.group) + "\" fill-opacity=\"0.55\" stroke=\"" +
                                colour(q.group) + "\" stroke-width=\"1\"");
  }
  for (const auto& q : p.points)
    if (q.highlight)
      s.marker(x.map(q.x), y.map(q.y), 6.5, shape(q.shape),
               std::string("fill=\"") + colour(q.group) + "\" stroke=\"#111\" stroke-width=\"2\"");
  // Labels: highlighted points first, at the first free spot around the marker.
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& q : p.points) {
      if (q.label.empty() || q.highlight != (pass == 0)) continue;
      const double px = x.map(q.x), py = y.map(q.y), tw = text_width(q.label, 11);
      const double cand[][2] = {{9, -7}, {9, 13}, {-9 - tw, -7}, {-9 - tw, 13}, {-tw / 2, -12}, {-tw / 2, 21}};
      for (const auto& c : cand) {
        const Box b{px + c[0], py + c[1] - 10, px + c[0] + tw, py + c[1] + 2};
        if (b.x0 < plot_l || b.x1 > plot_l + plot_w || b.y0 < plot_t || b.y1 > plot_t + plot_h) continue;
        if (std::any_of(placed.begin(), placed.end(), [&](const Box& o) { return o.hits(b); })) continue;
        placed.push_back(b);
        s.text(b.x0, py + c[1], q.label, 11, "start", q.highlight ? "fill=\"#111\" font-weight=\"bold\"" : "fill=\"#666\"");
        break;
      }
    }

  // Legend, right of the chart.
  double ly = plot_t + 8;
  if (coloured && !p.groups.empty()) {
    s.text(legend_x, ly, p.group_title, 13, "start", "font-weight=\"bold\" fill=\"#222\"");
    ly += 20;
    for (size_t g = 0; g < p.groups.size(); ++g, ly += 19) {
      s.circle(legend_x + 7, ly - 4, 5.5, std::string("fill=\"") + kPalette[g] + "\"");
      s.text(legend_x + 20, ly, p.groups[g], 12, "start", "fill=\"#222\"");
    }
    ly += 10;
  }
  if (shaped) {
    s.text(legend_x, ly, p.shape_title, 13, "start", "font-weight=\"bold\" fill=\"#222\"");
    ly += 20;
    for (size_t k = 0; k < p.shapes.size(); ++k, ly += 19) {
      s.marker(legend_x + 7, ly - 4, 5.5, static_cast<int>(k), "fill=\"#888\"");
      s.text(legend_x + 20, ly, p.shapes[k], 12, "start", "fill=\"#222\"");
    }
    ly += 10;
  }
  s.text(legend_x, ly, "markers", 13, "start", "font-weight=\"bold\" fill=\"#222\"");
  ly += 20;
  s.circle(legend_x + 7, ly - 4, 6.5, "fill=\"#ddd\" stroke=\"#111\" stroke-width=\"2\"");
  s.text(legend_x + 20, ly, p.highlight_name, 12, "start", "fill=\"#222\"");
  ly += 20;
  s.line(legend_x, ly - 4, legend_x + 14, ly - 4, "stroke=\"#222\" stroke-width=\"1.6\"");
  s.text(legend_x + 20, ly, p.front_name, 12, "start", "fill=\"#222\"");
  ly += 20;
  s.circle(legend_x + 7, ly - 4, 4.5, "fill=\"#ccc\" fill-opacity=\"0.8\" stroke=\"#aaa\"");
  s.text(legend_x + 20, ly, p.other_name, 12, "start", "fill=\"#222\"");
  ly += 26;
  for (const std::string& n : p.notes) {
    s.text(legend_x, ly, n, 12, "start", "fill=\"#555\"");
    ly += 18;
  }

  if (trows) {  // the table below: one row per highlighted point
    s.text(20, table_top, p.table_title, 14, "start", "font-weight=\"bold\" fill=\"#111\"");
    double ty = table_top + 26;
    double cx = plot_l;
    s.rect(plot_l - 6, ty - 14, table_w + 6, table_row, "fill=\"#e9ecf3\"");
    for (size_t c = 0; c < p.table_header.size(); ++c) {
      s.text(cx, ty, p.table_header[c], 12, "start", std::string("font-weight=\"bold\" fill=\"#222\""));
      cx += col_w[c];
    }
    for (size_t r = 0; r < trows; ++r) {
      ty += table_row;
      if (r % 2) s.rect(plot_l - 6, ty - 14, table_w + 6, table_row, "fill=\"#f5f6f9\"");
      cx = plot_l;
      for (size_t c = 0; c < p.table_rows[r].size() && c < col_w.size(); ++c) {
        s.text(cx, ty, p.table_rows[r][c], 12, "start", std::string("fill=\"#222\" font-family=\"") + kMono + "\"");
        cx += col_w[c];
      }
    }
  }
  return s.str();
}

std::string bar_svg(const BarPlot& p) {
  const size_t ncat = p.categories.size(), nser = p.series_names.size();
  // Bars as wide as fit (4..40 px) in a chart of 560..1500 px.
  const double gap = 26, n_c = static_cast<double>(std::max<size_t>(ncat, 1)), n_s = static_cast<double>(std::max<size_t>(nser, 1));
  const double bw = std::clamp((std::clamp(n_c * (n_s * 18 + gap), 560.0, 1500.0) / n_c - gap) / n_s, 4.0, 40.0);
  const double group_w = n_s * bw + gap;
  const double plot_l = 90, plot_w = std::max(560.0, n_c * group_w);
  double longest = 0;
  for (const std::string& c : p.categories) longest = std::max(longest, text_width(c, 12));
  const bool rotate = longest > group_w - 6;
  const double legend_rows = static_cast<double>(nser);
  const double plot_t = 70 + 19 * legend_rows + 14, plot_h = 340;
  const double bottom_pad = rotate ? longest * 0.62 + 60 : 64;
  double legend_w = 0;
  for (const std::string& n : p.series_names) legend_w = std::max(legend_w, text_width(n, 12) + 40);
  const double width = std::max(plot_l + plot_w + 30, plot_l + legend_w + 20);
  Svg s(width, plot_t + plot_h + bottom_pad);
  s.text(20, 30, p.title, 19, "start", "font-weight=\"bold\" fill=\"#111\"");
  s.text(20, 52, p.subtitle, 13, "start", "fill=\"#555\"");
  for (size_t k = 0; k < nser; ++k) {
    const double ly = 78 + 19 * static_cast<double>(k);
    s.rect(plot_l, ly - 11, 14, 12, std::string("fill=\"") + kPalette[k % kPaletteSize] + "\"");
    s.text(plot_l + 22, ly, p.series_names[k], 12, "start", "fill=\"#222\"");
  }
  double mx = 0;
  for (const auto& v : p.values)
    for (double d : v)
      if (std::isfinite(d)) mx = std::max(mx, d);
  const Axis y = make_axis(0, mx > 0 ? mx * 1.08 : 1, plot_t + plot_h, plot_t, false, true, p.y_max_cap);
  Axis x;
  x.p0 = plot_l, x.p1 = plot_l + plot_w;
  frame(s, x, y, "", p.y_label, false);
  const double x0 = plot_l + (plot_w - static_cast<double>(ncat) * group_w) / 2;
  for (size_t c = 0; c < ncat; ++c) {
    const double gx = x0 + static_cast<double>(c) * group_w + gap / 2;
    if (c) s.line(gx - gap / 2, plot_t, gx - gap / 2, plot_t + plot_h, "stroke=\"#eeeeee\" stroke-width=\"1\"");
    for (size_t k = 0; k < nser; ++k) {
      const double v = c < p.values[k].size() ? p.values[k][c] : NAN;
      if (!std::isfinite(v)) continue;
      const double bx = gx + static_cast<double>(k) * bw, by = y.map(std::min(v, y.hi));
      s.rect(bx + 0.5, by, bw - 1, plot_t + plot_h - by, std::string("fill=\"") + kPalette[k % kPaletteSize] + "\"");
      const int dec = bw >= 24 ? p.value_decimals : 0;  // labels only where they fit
      if (bw >= 14) {
        char b[32];
        std::snprintf(b, sizeof b, "%.*f", dec, v);
        s.text(bx + bw / 2, by - 4, b, 9, "middle", "fill=\"#333\"");
      }
    }
    const double cx = gx + static_cast<double>(nser) * bw / 2, ly = plot_t + plot_h + 18;
    if (rotate)
      s.text(cx, ly, p.categories[c], 12, "end", "fill=\"#222\"", -35);
    else
      s.text(cx, ly, p.categories[c], 12, "middle", "fill=\"#222\"");
  }
  return s.str();
}

// ---------------------------------------------------------------- the sweep plots

void write_sweep_plots(const std::string& dir, const SweepTable& t) {
  const std::vector<bool> pareto = pareto_of_results(t.results);
  const std::vector<size_t> vary = varying_params(t);
  std::vector<size_t> ok;
  for (size_t i = 0; i < t.results.size(); ++i)
    if (t.results[i].ok) ok.push_back(i);
  const size_t failed = t.results.size() - ok.size();
  double emax = 0, lmax = 0;
  for (size_t i : ok) emax = std::max(emax, t.results[i].energy_pj_per_image), lmax = std::max(lmax, t.results[i].latency_us);
  const std::pair<double, const char*> unit = emax >= 1e9 ? std::make_pair(1e9, "mJ")
                                              : emax >= 1e6 ? std::make_pair(1e6, "uJ")
                                              : emax >= 1e3 ? std::make_pair(1e3, "nJ")
                                                            : std::make_pair(1.0, "pJ");
  const std::pair<double, const char*> lunit = lmax >= 1e7 ? std::make_pair(1e6, "s")
                                               : lmax >= 1e4 ? std::make_pair(1e3, "ms")
                                                             : std::make_pair(1.0, "us");
  auto table_num = [](double v) { return std::fabs(v) >= 1e5 ? fmt_fixed(v, 0) : fmt_general(v, 5); };

  // Colour by the first varying parameter (array counts as one) if it has <= 10 values.
  ScatterPlot sp;
  std::vector<std::string> gkey(t.params.size());
  if (!vary.empty()) {
    const size_t c = vary[0];
    const bool arr = c <= 1;
    sp.group_title = arr ? "array" : sweep_param_names()[c];
    for (size_t i = 0; i < t.params.size(); ++i)  // columns 0, 1: rows, cols
      gkey[i] = arr ? t.params[i][0] + "x" + t.params[i][1] : t.params[i][c].empty() ? "none (fixed16)" : t.params[i][c];
    for (size_t i : ok) {
      const std::string& g = gkey[static_cast<size_t>(t.results[i].point)];
      if (std::find(sp.groups.begin(), sp.groups.end(), g) == sp.groups.end()) sp.groups.push_back(g);
    }
    if (sp.groups.size() < 2 || sp.groups.size() > 10) sp.groups.clear();
  }
  // Shape by a second varying parameter with 2..4 values, the PE type (policy) first.
  std::vector<std::string> skey(t.params.size());
  std::vector<size_t> cand;
  for (size_t c : vary)
    if (c > 1 && (sp.groups.empty() || c != vary[0])) cand.push_back(c);
  std::stable_sort(cand.begin(), cand.end(), [](size_t a, size_t b) {
    const auto rank = [](size_t c) { return sweep_param_names()[c] == "policy" ? 0 : sweep_param_names()[c] == "pe" ? 1 : 2; };
    return rank(a) < rank(b);
  });
  for (size_t c : cand) {
    std::vector<std::string> values;
    for (size_t i : ok) {
      const std::string& v = t.params[static_cast<size_t>(t.results[i].point)][c];
      if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
    }
    for (size_t i = 0; i < t.params.size(); ++i) skey[i] = t.params[i][c];
    for (std::string& v : values) {  // sqrt2_terms of fixed16 points
      if (!v.empty()) continue;
      v = "none (fixed16)";
      for (std::string& k : skey)
        if (k.empty()) k = v;
    }
    if (values.size() < 2 || values.size() > 4) continue;
    std::set<std::pair<std::string, std::string>> pairs;  // same split as the colours (pe and policy): skip
    for (size_t i : ok) {
      const size_t q = static_cast<size_t>(t.results[i].point);
      pairs.emplace(gkey[q], t.params[q][c]);
    }
    if (!sp.groups.empty() && pairs.size() == values.size() && pairs.size() == sp.groups.size()) continue;
    sp.shape_title = sweep_param_names()[c];
    sp.shapes = values;
    // A second parameter with few values (the dataflow, say) joins the shape
    // key when the pairs seen number at most 6.
    for (size_t c2 : cand) {
      if (c2 == c) continue;
      std::vector<std::string> both;
      for (size_t i : ok) {
        const size_t q = static_cast<size_t>(t.results[i].point);
        const std::string v = skey[q] + ", " + t.params[q][c2];
        if (std::find(both.begin(), both.end(), v) == both.end()) both.push_back(v);
      }
      if (both.size() <= values.size() || both.size() > 6) continue;
      for (size_t i = 0; i < t.params.size(); ++i) skey[i] += ", " + t.params[i][c2];
      sp.shape_title += ", " + sweep_param_names()[c2];
      sp.shapes = both;
      break;
    }
    break;
  }
  const bool label_all = ok.size() <= 16;
  for (size_t i : ok) {
    const PointResult& r = t.results[i];
    ScatterPlot::Point q;
    q.x = r.latency_us / lunit.first, q.y = r.energy_pj_per_image / unit.first;
    q.highlight = pareto[i];
    const auto g = std::find(sp.groups.begin(), sp.groups.end(), gkey[static_cast<size_t>(r.point)]);
    q.group = g == sp.groups.end() ? 0 : static_cast<int>(g - sp.groups.begin());
    const auto sh = std::find(sp.shapes.begin(), sp.shapes.end(), skey[static_cast<size_t>(r.point)]);
    q.shape = sh == sp.shapes.end() ? 0 : static_cast<int>(sh - sp.shapes.begin());
    if (pareto[i] || label_all) q.label = "#" + std::to_string(r.point);
    q.on_front = pareto[i];
    sp.points.push_back(q);
  }
  size_t npareto = 0;
  for (size_t i : ok) npareto += pareto[i];
  sp.title = "Energy vs latency: sweep " + t.name;
  sp.subtitle = std::to_string(ok.size()) + " points, " + std::to_string(npareto) +
                " Pareto-optimal (none is at least as good in latency, energy and area, and better in one)";
  sp.x_label = std::string("latency per image (") + lunit.second + ")";
  sp.y_label = std::string("energy per image (") + unit.second + ")";
  sp.highlight_name = "Pareto-optimal (latency, energy, area)";
  sp.front_name = "Pareto points joined in latency order";
  sp.other_name = "dominated point";
  if (failed) sp.notes.push_back(std::to_string(failed) + " failed point" + (failed > 1 ? "s" : "") + " not shown");
  sp.notes.push_back("labels: point index (sweep.csv)");
  sp.table_title = "Pareto-optimal points";
  sp.table_header = {"point", "configuration", std::string("latency (") + lunit.second + ")",
                     std::string("energy (") + unit.second + ")",
                     "area (mm^2)", "utilization (%)"};
  bool top1 = false;
  for (size_t i : ok) top1 = top1 || t.results[i].top1.has_value();
  if (top1) sp.table_header.push_back("top-1 (%)");
  size_t shown = 0;
  for (size_t i : ok) {
    if (!pareto[i]) continue;
    if (++shown > 24) {
      sp.table_rows.push_back({"...", "and " + std::to_string(npareto - 24) + " more in sweep.csv"});
      break;
    }
    const PointResult& r = t.results[i];
    std::vector<std::string> row = {"#" + std::to_string(r.point), point_label(t, r.point, vary),
                                    table_num(r.latency_us / lunit.first), table_num(r.energy_pj_per_image / unit.first),
                                    fmt_general(r.area_um2 / 1e6, 4),
                                    fmt_fixed(100 * r.utilization, 1)};
    if (top1) row.push_back(r.top1 ? fmt_fixed(100 * *r.top1, 2) : "");
    sp.table_rows.push_back(row);
  }
  write_file(dir + "/energy_vs_latency.svg", scatter_svg(sp));

  // Utilization per layer: every ok point if <= 8, else the Pareto points (<= 8,
  // spread by latency). Points with identical results share one bar ("#1 = #3").
  auto same = [&](size_t a, size_t b) {
    const PointResult &x = t.results[a], &y = t.results[b];
    return x.latency_us == y.latency_us && x.energy_pj_per_image == y.energy_pj_per_image &&
           x.area_um2 == y.area_um2 && x.layer_utilization == y.layer_utilization;
  };
  std::vector<std::vector<size_t>> classes;  // identical results, first index first
  const bool all = ok.size() <= 8;
  for (size_t i : ok) {
    if (!all && !pareto[i]) continue;
    auto c = std::find_if(classes.begin(), classes.end(), [&](const std::vector<size_t>& v) { return same(v[0], i); });
    if (c == classes.end()) classes.push_back({i});
    else c->push_back(i);
  }
  std::vector<std::vector<size_t>> series;
  std::string which;
  if (all) {
    series = classes;
    which = ok.size() == 1 ? "the one point" : "all " + std::to_string(ok.size()) + " points";
  } else {
    std::stable_sort(classes.begin(), classes.end(), [&](const auto& a, const auto& b) {
      return t.results[a[0]].latency_us < t.results[b[0]].latency_us;
    });
    size_t npf = 0;
    for (const auto& c : classes) npf += c.size();
    if (classes.size() <= 8) {
      series = classes;
      which = "the " + std::to_string(npf) + " Pareto-optimal points of " + std::to_string(ok.size());
    } else {
      for (size_t k = 0; k < 8; ++k) series.push_back(classes[(k * (classes.size() - 1) + 3) / 7]);
      which = std::to_string(series.size()) + " of the " + std::to_string(classes.size()) +
              " distinct Pareto-optimal results, spread from fastest to slowest";
    }
    std::sort(series.begin(), series.end());
  }
  BarPlot bp;
  bp.title = "Utilization per layer: sweep " + t.name;
  bp.subtitle = "MACs / (rows x cols x cycles); showing " + which;
  bp.y_label = "PE utilization (%)";
  bp.y_max_cap = 100;
  for (const auto& c : series)
    for (const auto& l : t.results[c[0]].layer_utilization)
      if (std::find(bp.categories.begin(), bp.categories.end(), l.first) == bp.categories.end())
        bp.categories.push_back(l.first);
  if (bp.categories.size() > 1) bp.categories.push_back("whole network");
  for (const auto& c : series) {
    const size_t i = c[0];
    const PointResult& r = t.results[i];
    std::string name;
    for (size_t k = 0; k < c.size() && k < 4; ++k) name += (k ? " = #" : "#") + std::to_string(t.results[c[k]].point);
    if (c.size() > 4) name += " = ...";
    bp.series_names.push_back(name + "  " + point_label(t, r.point, vary) + (all && pareto[i] ? "  (Pareto)" : ""));
    std::vector<double> v(bp.categories.size(), NAN);
    for (const auto& l : r.layer_utilization)
      v[static_cast<size_t>(std::find(bp.categories.begin(), bp.categories.end(), l.first) - bp.categories.begin())] =
          100 * l.second;
    if (bp.categories.size() > 1) v.back() = 100 * r.utilization;
    bp.values.push_back(v);
  }
  if (series.empty()) bp.subtitle = "no successful points";
  else if (std::any_of(series.begin(), series.end(), [](const auto& c) { return c.size() > 1; }))
    bp.subtitle += "; '#a = #b': identical results";
  write_file(dir + "/utilization_per_layer.svg", bar_svg(bp));
}

}  // namespace brsim
