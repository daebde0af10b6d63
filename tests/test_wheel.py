"""The package as a town installs it: a wheel, into a fresh virtual environment, used from
another folder. Surveys, the demo town, fonts, templates and catalogues must travel with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("qualivilles", "kiosk", "sync_server")
# Files beside the code that the running product reads.
DATA_SUFFIXES = {".json", ".ttf", ".kv", ".po", ".html", ".css"}


def source_files() -> set[str]:
    """Every file of the three packages in the checkout, as a wheel names it."""
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            wanted = path.suffix == ".py" or path.suffix in DATA_SUFFIXES
            if path.is_file() and wanted and "__pycache__" not in path.parts:
                names.add(path.relative_to(ROOT).as_posix())
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheel; its dependencies are borrowed from the
    test environment's site-packages (no network), never the checkout's own packages."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # A plain path line: the test environment's editable-install hooks are not run from it.
    Path(site, "borrowed-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    # Without PYTHONPATH: naming the checkout, it shows pip the build's egg-info there as the
    # package already installed, and pip would install nothing.
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )  # fmt: skip
    return venv


def clean_env(elsewhere: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("PYTHONPATH", None)
    env["HOME"] = str(elsewhere)
    env["KIVY_HOME"] = str(elsewhere / "kivy")
    return env


def test_the_wheel_carries_every_module_and_data_file(wheel):
    with zipfile.ZipFile(wheel) as archive:
        inside = {name for name in archive.namelist() if name.split("/")[0] in PACKAGES}
    missing = sorted(source_files() - inside)
    assert missing == []
    assert "qualivilles/assets/surveys/qualivilles-accueil.v2.json" in inside
    assert "qualivilles/assets/demo/town.json" in inside
    assert "qualivilles/assets/fonts/DejaVuSans.ttf" in inside


def test_the_installed_package_is_not_the_checkout(installed, tmp_path):
    code = (
        "import qualivilles, kiosk, sync_server; print(qualivilles.__file__, sync_server.__file__)"
    )
    result = subprocess.run(
        [str(installed / "bin" / "python"), "-c", code],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        check=True,
        capture_output=True,
        text=True,
    )
    assert str(ROOT) not in result.stdout
    assert str(installed) in result.stdout


def test_kiosk_help_runs_from_the_wheel(installed, tmp_path):
    result = subprocess.run(
        [str(installed / "bin" / "kiosk"), "--help"],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "--server" in result.stdout


def test_the_demo_runs_from_the_wheel(installed, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(installed / "bin" / "sync-server"), "demo", "--no-kiosk", "--port", str(port),
               "--data-dir", str(tmp_path / "demo")]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, env=clean_env(tmp_path), stdout=subprocess.PIPE, text=True
    )
    lines = []
    try:
        for line in process.stdout:  # the banner ends once the server is serving
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        assert f"Dashboard:     http://127.0.0.1:{port}/" in "".join(lines)
        survey = requests.get(f"http://127.0.0.1:{port}/s/centre-administratif/iris", timeout=10)
        assert survey.status_code == 200
        assert "<form" in survey.text  # the survey came from the packaged definitions
        login = requests.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
