// Small, dependency-free SVG charts for the sweep reports (docs/sweeps.md):
// a scatter plot with highlighted points, a front line, a legend and a table
// underneath, and a grouped bar chart; linear or log10 axes with round ticks.
#pragma once

#include <string>
#include <vector>

namespace brsim {

struct ScatterPlot {
  struct Point {
    double x = 0, y = 0;
    std::string label;       // drawn next to the point (empty: none)
    int group = 0;           // colour index into `groups`
    int shape = 0;           // marker index into `shapes`: circle, square, triangle, diamond
    bool highlight = false;  // larger, outlined marker
    bool on_front = false;   // joined by the front line (sorted by x)
  };
  std::string title, subtitle, x_label, y_label;
  std::vector<Point> points;
  std::string group_title;          // legend heading of the colours, e.g. "array"
  std::vector<std::string> groups;  // one colour each (empty or > 10: one colour)
  std::string shape_title;          // legend heading of the marker shapes, e.g. "pe"
  std::vector<std::string> shapes;  // one marker shape each (2..4; else all circles)
  std::string highlight_name, front_name, other_name;
  std::vector<std::string> notes;   // extra legend lines
  std::vector<std::string> table_header;               // a table below the chart
  std::vector<std::vector<std::string>> table_rows;
  std::string table_title;
};
std::string scatter_svg(const ScatterPlot& p);

struct BarPlot {
  std::string title, subtitle, y_label;
  std::vector<std::string> categories;    // groups along x
  std::vector<std::string> series_names;  // bars within a group (legend)
  std::vector<std::vector<double>> values;  // [series][category]; NaN: no bar
  double y_max_cap = 0;                   // > 0: the axis never goes above this
  int value_decimals = 1;                 // labels above the bars
};
std::string bar_svg(const BarPlot& p);

// The sweep's plots in `dir`: energy_vs_latency.svg (every ok point, the
// Pareto points outlined and joined, a table of them) and
// utilization_per_layer.svg (grouped bars, at most 8 series).
struct SweepTable;
void write_sweep_plots(const std::string& dir, const SweepTable& t);

// XML text escaping (&, <, >, ").
std::string svg_escape(const std::string& s);

}  // namespace brsim
