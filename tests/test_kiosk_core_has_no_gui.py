"""The kiosk's core imports no Kivy, so its rules run (and are tested) without a screen."""

import pkgutil
import subprocess
import sys

import kiosk.core


def test_importing_every_core_module_loads_no_kivy():
    modules = [f"kiosk.core.{m.name}" for m in pkgutil.iter_modules(kiosk.core.__path__)]
    modules.append("kiosk.runtime")
    assert len(modules) >= 8
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'kivy' or m.startswith('kivy.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
