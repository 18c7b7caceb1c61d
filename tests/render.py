"""Screenshots of HTML pages with Debian's headless Chromium, and a blank-page check.

Used by tests that look at what a person would see (e.g. the Snakemake report):
`ensure_chromium()` once, then `screenshot(html, png)` and `is_blank(png)`.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

CHROMIUM = "/usr/bin/chromium"
APT_TIMEOUT = 900  # seconds for apt-get update + install


def ensure_chromium():
    """Path of Debian's chromium; installs it with apt-get when missing (root only), else skips the test."""
    import pytest

    if Path(CHROMIUM).is_file():
        return CHROMIUM
    if os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and installing Debian's chromium needs root")
    if shutil.which("apt-get") is None:
        pytest.skip(f"{CHROMIUM} is missing and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    for cmd in (["apt-get", *lock, "update", "-q"],
                ["apt-get", *lock, "install", "-y", "-q", "--no-install-recommends", "chromium"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    if not Path(CHROMIUM).is_file():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} does not exist")
    return CHROMIUM


def screenshot(html_path, png_path, width=1280, height=2000, budget_ms=5000, timeout=120):
    """Render html_path in headless Chromium and save a width x height PNG to png_path.

    budget_ms is Chromium's virtual-time budget: time the page gets to load its
    images and run its scripts before the picture is taken.
    """
    html = Path(html_path).resolve()
    if not html.is_file():
        raise ValueError(f"html_path: no such file: {html_path}")
    for name, value in (("width", width), ("height", height), ("budget_ms", budget_ms)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    png = Path(png_path).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        cmd = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
            f"--user-data-dir={profile}", f"--window-size={width},{height}",
            f"--virtual-time-budget={budget_ms}", f"--screenshot={png}", html.as_uri(),
        ]
        # Chromium also writes caches and settings under HOME and XDG dirs: keep them in the profile.
        env = {**os.environ, "HOME": profile, "XDG_CONFIG_HOME": profile, "XDG_CACHE_HOME": profile}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0 or not png.is_file():
        raise RuntimeError(f"chromium could not screenshot {html} (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return png


def ink_fraction(png_path, tolerance=8 / 255):
    """Fraction of pixels whose colour differs from the background (the most common colour).

    A pixel differs when any of its RGB channels is more than `tolerance` (0..1) away.
    """
    from matplotlib.image import imread

    path = Path(png_path)
    if not path.is_file():
        raise ValueError(f"png_path: no such file: {png_path}")
    img = imread(path)
    if img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f"png_path: expected an RGB(A) image, got shape {img.shape}")
    rgb = img[..., :3].reshape(-1, 3).astype(np.float64)
    if rgb.size == 0:
        raise ValueError(f"png_path: empty image {png_path}")
    if img.dtype.kind == "u":  # imread gives uint8/uint16 for some PNGs and floats in 0..1 for others
        rgb /= np.iinfo(img.dtype).max
    codes = np.round(rgb * 255).astype(np.int64) @ np.array([65536, 256, 1])
    values, counts = np.unique(codes, return_counts=True)
    mode = values[np.argmax(counts)]
    background = np.array([mode >> 16, (mode >> 8) & 255, mode & 255]) / 255
    differs = np.abs(rgb - background).max(axis=1) > tolerance
    return float(differs.mean())


def is_blank(png_path, min_fraction=1e-3, tolerance=8 / 255):
    """True when fewer than `min_fraction` of the pixels differ from the background colour."""
    if not 0 < min_fraction < 1:
        raise ValueError(f"min_fraction must be in (0, 1), got {min_fraction!r}")
    return ink_fraction(png_path, tolerance) < min_fraction
