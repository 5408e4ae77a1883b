#!/usr/bin/env python3
"""Latency and energy per image against buffer size from a buffer-size
sweep's sweep.csv (data/sweeps/buffer_sizes.yaml), as a dependency-free SVG:

    python3 data/sweeps/buffer_sizes_plot.py results/sweep/buffer_sizes/sweep.csv docs/buffer_sizes.svg
"""
import csv
import math
import sys


def main(src, dst):
    rows = [r for r in csv.DictReader(open(src)) if r["status"] == "ok"]
    rows.sort(key=lambda r: int(r["input_buffer_kib"]))
    kib = [int(r["input_buffer_kib"]) for r in rows]
    lat_ms = [float(r["latency_us"]) / 1000 for r in rows]
    en_mj = [float(r["energy_pj_per_image"]) / 1e9 for r in rows]
    W, H, L, R, T, B = 760, 300, 70, 20, 40, 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{2 * H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{2 * H}" fill="white"/>']
    x0, x1 = math.log2(kib[0]), math.log2(kib[-1])

    def panel(top, values, label, colour, title):
        lo, hi = 0.0, max(values) * 1.1
        px = lambda k: L + (math.log2(k) - x0) / (x1 - x0) * (W - L - R)
        py = lambda v: top + T + (1 - (v - lo) / (hi - lo)) * (H - T - B)
        out.append(f'<text x="{L}" y="{top + 24}" font-size="14" font-weight="bold">{title}</text>')
        out.append(f'<line x1="{L}" y1="{py(lo)}" x2="{W - R}" y2="{py(lo)}" stroke="black"/>')
        out.append(f'<line x1="{L}" y1="{py(lo)}" x2="{L}" y2="{py(hi)}" stroke="black"/>')
        step = 10 ** math.floor(math.log10(hi / 4))
        step *= 2 if hi / step > 8 else 1
        v = 0.0
        while v <= hi:
            out.append(f'<line x1="{L}" y1="{py(v)}" x2="{W - R}" y2="{py(v)}" stroke="#ddd"/>')
            out.append(f'<text x="{L - 6}" y="{py(v) + 4}" text-anchor="end">{v:g}</text>')
            v += step
        for k in kib:
            name = f"{k // 1024} MiB" if k >= 1024 else f"{k} KiB"
            out.append(f'<text x="{px(k)}" y="{py(lo) + 16}" text-anchor="middle">{name}</text>')
        out.append(f'<text x="{(L + W - R) / 2}" y="{top + H - 8}" text-anchor="middle">buffer size (weight = input = output buffer), log scale</text>')
        out.append(f'<text x="16" y="{top + (H + T - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {top + (H + T - B) / 2})">{label}</text>')
        pts = " ".join(f"{px(k):.1f},{py(v):.1f}" for k, v in zip(kib, values))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for k, v in zip(kib, values):
            out.append(f'<circle cx="{px(k):.1f}" cy="{py(v):.1f}" r="4" fill="{colour}"/>')
            out.append(f'<text x="{px(k):.1f}" y="{py(v) - 8:.1f}" text-anchor="middle" font-size="10">{v:.1f}</text>')

    panel(0, lat_ms, "latency per image (ms)", "#1f77b4",
          "AlexNet-shaped layers, 16x16 ws, 500 MHz, DRAM 16 B/cycle: latency per image")
    panel(H, en_mj, "energy per image (mJ)", "#d62728", "energy per image")
    out.append("</svg>")
    open(dst, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
