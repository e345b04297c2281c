"""Inline SVG charts drawn by our own code (no script, no CDN): grouped bars and a pie."""

import math
from decimal import Decimal
from html import escape

PALETTE = ("#2f6db5", "#e07b39", "#4a9a5b", "#b5483f", "#7d5ba6", "#8c6d31", "#5f8fa8", "#999999")
FONT = "font-family:'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC',sans-serif"


def _num(v) -> float:
    # Drawing coordinates only; the figures printed stay Decimal/int.
    return float(v) if isinstance(v, (int, float, Decimal)) else 0.0


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for step in (1, 2, 2.5, 5, 10):
        if v <= step * exp:
            return step * exp
    return 10 * exp


def _label(v: float) -> str:
    if v >= 1e8:
        return f"{v / 1e8:g}亿"
    if v >= 1e4:
        return f"{v / 1e4:g}万"
    return f"{v:g}"


def bar_chart(title: str, categories: list[str], series: list[tuple[str, list]], width: int = 960,
              height: int = 340, percent: bool = False) -> str:
    """Grouped vertical bars; one colour per series, a legend under the title, labels rotated."""
    left, right, top, bottom = 64, 16, 58, 100
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [_num(v) for _, vs in series for v in vs]
    vmax = _nice_max(max(values, default=0))
    n = max(len(categories), 1)
    group = plot_w / n
    bar = max(min(group * 0.8 / max(len(series), 1), 28), 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" style="{FONT}"><title>{escape(title)}</title>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">{escape(title)}</text>']
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        tick = vmax * i / 4
        text = f"{tick * 100:g}%" if percent else _label(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{text}</text>')
    for ci, cat in enumerate(categories):
        x0 = left + group * ci + (group - bar * len(series)) / 2
        for si, (_name, vs) in enumerate(series):
            v = _num(vs[ci]) if ci < len(vs) else 0.0
            h = plot_h * v / vmax
            out.append(f'<rect x="{x0 + bar * si:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                       f'height="{h:.1f}" fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(cat)}: '
                       f'{escape(str(vs[ci] if ci < len(vs) else 0))}</title></rect>')
        cx = left + group * (ci + 0.5)
        short = cat if len(cat) <= 9 else cat[:8] + "…"
        out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 14}" font-size="11" text-anchor="end" '
                   f'transform="rotate(-40 {cx:.1f} {top + plot_h + 14})">{escape(short)}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#333"/>')
    lx = left
    for si, (name, _vs) in enumerate(series):
        out.append(f'<rect x="{lx}" y="30" width="12" height="12" fill="{PALETTE[si % len(PALETTE)]}"/>'
                   f'<text x="{lx + 16}" y="40" font-size="12">{escape(name)}</text>')
        lx += 32 + 13 * len(name)
    out.append("</svg>")
    return "".join(out)


def pie_chart(title: str, categories: list[str], values: list, width: int = 460, height: int = 300) -> str:
    """A pie with a legend giving each slice's count and share."""
    nums = [_num(v) for v in values]
    total = sum(nums)
    cx, cy, r = 140, 160, 110
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" style="{FONT}"><title>{escape(title)}</title>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">{escape(title)}</text>']
    if total <= 0:
        out.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="#eee"/>'
                   f'<text x="{cx}" y="{cy}" text-anchor="middle" font-size="13">无数据</text>')
    angle = -math.pi / 2
    for i, v in enumerate(nums):
        if total <= 0 or v <= 0:
            continue
        sweep = 2 * math.pi * v / total
        colour = PALETTE[i % len(PALETTE)]
        if sweep >= 2 * math.pi - 1e-9:
            out.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{colour}"/>')
        else:
            x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
            x2, y2 = cx + r * math.cos(angle + sweep), cy + r * math.sin(angle + sweep)
            large = 1 if sweep > math.pi else 0
            out.append(f'<path d="M{cx},{cy} L{x1:.2f},{y1:.2f} A{r},{r} 0 {large} 1 {x2:.2f},{y2:.2f} Z" '
                       f'fill="{colour}" stroke="#fff"/>')
        angle += sweep
    for i, (cat, v) in enumerate(zip(categories, values, strict=True)):
        y = 60 + 24 * i
        share = f"{_num(v) / total * 100:.1f}%" if total else "—"
        out.append(f'<rect x="280" y="{y - 11}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="298" y="{y}" font-size="12">{escape(cat)}：{escape(str(v))}（{share}）</text>')
    out.append("</svg>")
    return "".join(out)
