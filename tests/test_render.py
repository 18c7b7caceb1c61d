"""The headless-Chromium screenshot helper and the blank-page check of tests/render.py."""

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.image import imread, imsave  # noqa: E402

from render import ensure_chromium, ink_fraction, is_blank, screenshot  # noqa: E402

WIDTH, HEIGHT = 800, 600


def red_pixels(img):
    rgb = img[..., :3].astype(float) / (255 if img.dtype.kind == "u" else 1)
    return int(((rgb[..., 0] > 0.9) & (rgb[..., 1] < 0.1) & (rgb[..., 2] < 0.1)).sum())


@pytest.fixture(scope="module")
def chromium():
    return ensure_chromium()


@pytest.fixture(scope="module")
def plot_png():
    """A matplotlib plot with a solid red band, as PNG bytes."""
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.plot(np.linspace(0, 1, 50), np.sin(np.linspace(0, 6, 50)), color="black")
    ax.axvspan(0.2, 0.5, color="#ff0000")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def write_page(path, body, style=""):
    path.write_text(f"<!DOCTYPE html><html><head><style>{style}</style></head><body>{body}</body></html>")
    return path


def test_page_with_an_embedded_plot_is_not_blank_and_shows_the_plot_at_full_size(chromium, plot_png, tmp_path):
    data = base64.b64encode(plot_png).decode()
    html = write_page(tmp_path / "plot.html", f'<h1>Training</h1><img src="data:image/png;base64,{data}">')
    png = screenshot(html, tmp_path / "plot.png", width=WIDTH, height=HEIGHT)
    shot = imread(png)
    assert shot.shape[:2] == (HEIGHT, WIDTH)
    assert not is_blank(png)
    # The red band of the source image appears unscaled: as many red pixels as in the source.
    expected = red_pixels(imread(io.BytesIO(plot_png)))
    assert expected > 5000
    assert abs(red_pixels(shot) - expected) <= 0.02 * expected


@pytest.mark.parametrize("style", ["", "body { background: #123456; }"])
def test_page_with_an_empty_body_is_blank(chromium, tmp_path, style):
    html = write_page(tmp_path / "empty.html", "", style)
    png = screenshot(html, tmp_path / "empty.png", width=WIDTH, height=HEIGHT)
    assert imread(png).shape[:2] == (HEIGHT, WIDTH)
    assert ink_fraction(png) == 0.0
    assert is_blank(png)


def test_ink_fraction_counts_pixels_off_the_most_common_colour(tmp_path):
    img = np.zeros((100, 200, 3))
    img[...] = (0.1, 0.2, 0.8)  # background: the most common colour, not necessarily white
    img[10:20, 30:40] = 1.0  # 100 white pixels
    img[50:52, :] += 4 / 255  # 400 pixels within the tolerance
    imsave(tmp_path / "a.png", img)
    assert ink_fraction(tmp_path / "a.png") == pytest.approx(100 / 20000)
    assert not is_blank(tmp_path / "a.png", min_fraction=0.004)
    assert is_blank(tmp_path / "a.png", min_fraction=0.006)
    assert ink_fraction(tmp_path / "a.png", tolerance=1 / 255) == pytest.approx(500 / 20000)


def test_bad_arguments_name_themselves(tmp_path):
    with pytest.raises(ValueError, match="html_path"):
        screenshot(tmp_path / "missing.html", tmp_path / "x.png")
    with pytest.raises(ValueError, match="width"):
        screenshot(write_page(tmp_path / "p.html", ""), tmp_path / "x.png", width=0)
    with pytest.raises(ValueError, match="png_path"):
        is_blank(tmp_path / "missing.png")
    imsave(tmp_path / "w.png", np.ones((4, 4, 3)))
    with pytest.raises(ValueError, match="min_fraction"):
        is_blank(tmp_path / "w.png", min_fraction=0)
