"""The match-weight waterfall: one bar per term and the total, labelled, accessible, no script."""

import xml.etree.ElementTree as ET

import pytest

from entity_resolution.explain import Comparison, MatchEdge
from review.waterfall import NEGATIVE, POSITIVE, waterfall_svg

NS = {"s": "http://www.w3.org/2000/svg"}


def _edge(**kw) -> MatchEdge:
    items = [Comparison("先验", "先验", -14.35), Comparison("姓名", "完全相同", 9.5),
             Comparison("身份证号", "缺值（不计）", 0.0), Comparison("电话", "相同", 12.25),
             Comparison("性别", "其他（不同）", -3.1)]
    base = dict(entity="person", golden_id="P1", source_l="disability_registry", key_l="K1",
                source_r="training", key_r="PX1", link_kind="splink", reason="模型",
                match_weight=sum(c.weight for c in items), match_probability=0.98,
                comparisons=items)
    return MatchEdge(**{**base, **kw})


def _bars(root):
    return [r for r in root.iter("{http://www.w3.org/2000/svg}rect")
            if "bar" in r.get("class", "").split()]


def test_bars_for_prior_each_comparison_and_total():
    edge = _edge()
    root = ET.fromstring(waterfall_svg(edge))
    assert root.get("role") == "img"
    title = root.find("s:title", NS).text
    assert "匹配权重" in title and "合计" in root.get("aria-label")
    bars = _bars(root)
    assert len(bars) == len(edge.comparisons) + 1
    classes = [b.get("class") for b in bars]
    assert classes[0] == "bar bar-prior" and classes[-1] == "bar bar-total"
    weights = [float(b.get("data-weight")) for b in bars]
    assert weights[-1] == pytest.approx(edge.match_weight, abs=1e-6)
    assert sum(weights[:-1]) == pytest.approx(weights[-1], abs=1e-6)
    # sign colours; every bar has a text label and its value beside it
    assert bars[1].get("fill") == POSITIVE and bars[4].get("fill") == NEGATIVE
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "姓名：完全相同" in texts and "合计" in texts and "+12.25" in texts


def test_waterfall_bars_add_up_geometrically():
    root = ET.fromstring(waterfall_svg(_edge()))
    bars = _bars(root)
    # each comparison bar starts where the previous (non-empty) one ended: a running sum
    previous_end = None
    for b in bars[:-1]:
        x, w, wt = float(b.get("x")), float(b.get("width")), float(b.get("data-weight"))
        if abs(wt) < 0.05:
            continue
        start, end = (x, x + w) if wt >= 0 else (x + w, x)
        if previous_end is not None:
            assert start == pytest.approx(previous_end, abs=0.2)
        previous_end = end


def test_no_script_no_external_resources():
    svg = waterfall_svg(_edge())
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "@font-face" not in svg and "href" not in svg


def test_exact_link_is_a_labelled_badge():
    edge = _edge(link_kind="exact_id", reason="两条记录的有效身份证号相同", match_weight=None,
                 match_probability=None, comparisons=[])
    root = ET.fromstring(waterfall_svg(edge))
    assert root.get("role") == "img" and root.find("s:title", NS).text
    assert _bars(root) == []
    text = "".join(t.text for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "证件号一致" in text and "两条记录的有效身份证号相同" in text


def test_text_is_escaped():
    edge = _edge(source_l="a<b&c")
    ET.fromstring(waterfall_svg(edge))  # still well-formed
