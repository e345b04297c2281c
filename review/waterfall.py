"""Match-weight waterfall of one match edge as inline, accessible SVG (no script, no fonts)."""

import math
from xml.sax.saxutils import escape, quoteattr

from entity_resolution.explain import COMPARISON_NAMES, PRIOR, MatchEdge

# Colours with at least 4.5:1 contrast on white (WCAG 2.1 AA for text and bars alike).
POSITIVE = "#116329"  # green, 7.4:1
NEGATIVE = "#a40e26"  # red, 7.6:1
TOTAL_POSITIVE = "#0a3069"  # dark blue, 12:1
TOTAL_NEGATIVE = "#6e1423"
TEXT = "#1f2328"
AXIS = "#57606a"
BADGE = "#0a3069"

KIND_LABELS = {
    "exact_id": "证件号一致", "uscc": "统一社会信用代码一致", "org_code": "组织机构代码一致",
    "repair": "确定性修复", "relational": "关联证据", "context": "上下文证据",
    "must_link": "人工关联", "splink": "模型匹配",
}
_WIDTH = 720
_LABEL_W = 250
_VALUE_W = 70
_ROW_H = 26
_BAR_H = 16
_TOP = 34
_FONT = 'font-family="sans-serif" font-size="13"'


def _fmt(weight: float) -> str:
    return f"{weight:+.2f}"


def _is_prior(name: str) -> bool:
    return name in (PRIOR, COMPARISON_NAMES[PRIOR])


def _badge(edge: MatchEdge, title: str) -> str:
    label = KIND_LABELS.get(edge.link_kind, edge.link_kind)
    text = f"{label}：{edge.reason}"
    width = min(_WIDTH, 40 + 14 * len(text))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="40" '
        f'viewBox="0 0 {width} 40" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>"
        f'<rect class="badge" x="1" y="1" width="{width - 2}" height="38" rx="6" '
        f'fill="#ffffff" stroke="{BADGE}" stroke-width="2"/>'
        f'<text x="14" y="25" fill="{BADGE}" {_FONT}>{escape(text)}</text></svg>')


def waterfall_svg(edge: MatchEdge) -> str:
    """The match weight of a Splink pair built up bar by bar: the prior, each comparison's
    weight (log2 Bayes factor) from where the previous one ended, then the total. A link
    that is not the model's (same ID, credit code, repair, context, auditor) is a badge."""
    pair = f"{edge.source_l} 与 {edge.source_r} 的记录"
    if edge.link_kind != "splink" or not edge.comparisons:
        return _badge(edge, f"关联说明：{pair}，{KIND_LABELS.get(edge.link_kind, edge.link_kind)}")
    items = list(edge.comparisons)
    total = edge.match_weight if edge.match_weight is not None else sum(c.weight for c in items)
    prob = (f"，匹配概率 {edge.match_probability:.4f}"
            if edge.match_probability is not None else "")
    title = f"匹配权重瀑布图：{pair}，合计匹配权重 {total:.2f}{prob}"
    # Running sums: bar i spans [start_i, start_i + weight_i].
    starts, running = [], 0.0
    for c in items:
        starts.append(running)
        running += c.weight
    ends = [s + c.weight for s, c in zip(starts, items, strict=True)]
    lo = min(0.0, total, *starts, *ends)
    hi = max(0.0, total, *starts, *ends)
    if math.isclose(lo, hi):
        hi = lo + 1.0
    plot_x0, plot_x1 = _LABEL_W, _WIDTH - _VALUE_W

    def x(v: float) -> float:
        return plot_x0 + (v - lo) / (hi - lo) * (plot_x1 - plot_x0)

    rows = len(items) + 1
    height = _TOP + rows * _ROW_H + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape('；'.join(f'{c.name}（{c.label}）{_fmt(c.weight)}' for c in items))}"
        f"；合计 {total:.2f}</desc>",
        f'<text x="8" y="20" fill="{TEXT}" {_FONT} font-weight="bold">'
        f"{escape(f'匹配权重（对数贝叶斯因子，位）合计 {total:.2f}{prob}')}</text>",
    ]
    zero = x(0.0)
    parts.append(f'<line x1="{zero:.1f}" y1="{_TOP - 4}" x2="{zero:.1f}" '
                 f'y2="{_TOP + rows * _ROW_H}" stroke="{AXIS}" stroke-width="1"/>')

    def bar(i: int, a: float, b: float, fill: str, cls: str, label: str, value: float) -> None:
        y = _TOP + i * _ROW_H
        left, right = sorted((x(a), x(b)))
        width = max(right - left, 1.0)
        parts.append(f'<text x="{_LABEL_W - 8}" y="{y + 13}" text-anchor="end" fill="{TEXT}" '
                     f"{_FONT}>{escape(label)}</text>")
        parts.append(f'<rect class="bar {cls}" x="{left:.1f}" y="{y}" width="{width:.1f}" '
                     f'height="{_BAR_H}" fill="{fill}" data-weight="{value:.6f}">'
                     f"<title>{escape(f'{label}：{_fmt(value)}')}</title></rect>")
        parts.append(f'<text x="{plot_x1 + 6}" y="{y + 13}" fill="{TEXT}" {_FONT}>'
                     f"{escape(_fmt(value))}</text>")

    for i, (c, s) in enumerate(zip(items, starts, strict=True)):
        cls = "bar-prior" if i == 0 and _is_prior(c.name) else "bar-comparison"
        label = c.name if cls == "bar-prior" else f"{c.name}：{c.label}"
        bar(i, s, s + c.weight, POSITIVE if c.weight >= 0 else NEGATIVE, cls, label, c.weight)
    bar(len(items), 0.0, total, TOTAL_POSITIVE if total >= 0 else TOTAL_NEGATIVE, "bar-total",
        "合计", total)
    axis_y = _TOP + rows * _ROW_H + 18
    for v in sorted({lo, 0.0, hi}):
        parts.append(f'<text x="{x(v):.1f}" y="{axis_y}" text-anchor="middle" fill="{AXIS}" '
                     f'font-family="sans-serif" font-size="11">{v:.0f}</text>')
    parts.append("</svg>")
    return "".join(parts)
