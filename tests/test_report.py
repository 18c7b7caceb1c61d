"""`snakemake --report` of the tiny workflow: self-contained, every figure with its caption, rendered by Chromium."""

import base64
import html
import json
import re

import pytest
from render import ensure_chromium, is_blank, screenshot
from tiny import TINY, snakemake

PANELS = ["training", "predictability", "ood", "fixed_points", "manifolds", "dsa_mds"]


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    snakemake(tiny_run, "--report", str(out))
    return out, out.read_text()


def embedded_pngs(page):
    """filename -> (caption html, PNG bytes) of every PNG the report embeds."""
    out = {}
    for m in re.finditer(r'"filename": "([^"]+\.png)".*?"caption": (".*?(?<!\\)").*?"data_uri": "(data:image/png[^"]+)"',
                         page):
        caption = json.loads(m[2])
        out[m[1]] = (caption, base64.b64decode(m[3].split("base64,", 1)[1]))
    return out


def test_report_embeds_every_figure_with_a_caption(report):
    _, page = report
    pngs = embedded_pngs(page)
    expected = {f"{task}_{panel}.png" for task in TINY["tasks"] for panel in PANELS} | {"degeneracy.png"}
    assert expected <= set(pngs), sorted(expected - set(pngs))
    for name, (caption, data) in pngs.items():
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(re.sub("<[^>]+>", "", caption).strip()) > 40, name
    assert 'src="http' not in page and "src='http" not in page  # self-contained: nothing fetched


def test_report_and_its_figures_render_in_chromium(report, tmp_path):
    ensure_chromium()
    path, page = report
    screenshot(path, tmp_path / "report.png", width=1280, height=900)
    assert not is_blank(tmp_path / "report.png"), "the report's page rendered blank"
    # Every embedded figure, shown by the browser from the report's own data URIs.
    uris = re.findall(r'"data_uri": "(data:image/png[^"]+)"', page)
    gallery = "".join(f'<img src="{html.escape(u)}" style="width:600px;display:block">' for u in uris)
    (tmp_path / "figures.html").write_text(f"<html><body style='margin:0'>{gallery}</body></html>")
    for i, u in enumerate(uris):
        one = tmp_path / f"figure{i}.html"
        one.write_text(f"<html><body style='margin:0'><img src=\"{html.escape(u)}\" style='width:800px'></body></html>")
        screenshot(one, tmp_path / f"figure{i}.png", width=800, height=600)
        assert not is_blank(tmp_path / f"figure{i}.png"), f"embedded figure {i} rendered blank"
