"""The layout's promises, read from the source: who may import whom.

`qualivilles` is what kiosk, tablet and server agree on: it imports no GUI, web framework,
database or HTTP library. `kiosk` and `sync_server` import it and never each other. Inside
the server, only `storage/` speaks SQL; inside the kiosk, only the screens and the app load Kivy.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Libraries the shared core must never need: one side's GUI, web stack, database or HTTP client.
SIDE_LIBRARIES = {
    "kivy",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "sqlalchemy",
    "sqlite_utils",
    "sqlite3",
    "psycopg",
    "requests",
    "httpx",
    "matplotlib",
    "weasyprint",
}
# Kivy-free parts of the kiosk: its rules, tested without a screen.
KIOSK_WITHOUT_GUI = ("kiosk/core", "kiosk/runtime.py", "kiosk/platform")
SQL_LIBRARIES = {"sqlalchemy", "sqlite3", "sqlite_utils", "psycopg"}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name `path` imports, at any depth (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def top_level(module: str) -> str:
    return module.split(".")[0]


def python_files(*parts: str) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        path = ROOT / part
        files.extend([path] if path.suffix == ".py" else sorted(path.rglob("*.py")))
    return files


def crossings(files: list[Path], forbidden: set[str]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in imported_modules(path)
        if top_level(module) in forbidden
    )


def test_the_files_are_where_the_layout_says():
    # Guards the test itself: an empty glob would pass every check below.
    assert len(python_files("qualivilles")) >= 8
    assert len(python_files("kiosk")) >= 20
    assert len(python_files("sync_server")) >= 40


def test_the_shared_core_imports_neither_side_nor_their_libraries():
    forbidden = SIDE_LIBRARIES | {"kiosk", "sync_server", "tests"}
    assert crossings(python_files("qualivilles"), forbidden) == []


def test_the_kiosk_never_imports_the_server():
    assert crossings(python_files("kiosk"), {"sync_server"}) == []


def test_the_server_never_imports_the_kiosk():
    assert crossings(python_files("sync_server"), {"kiosk"}) == []


def test_the_kiosk_rules_load_no_kivy():
    assert crossings(python_files(*KIOSK_WITHOUT_GUI), {"kivy"}) == []


def test_only_the_servers_storage_speaks_sql():
    outside = [
        path
        for path in python_files("sync_server")
        if "storage" not in path.relative_to(ROOT / "sync_server").parts
    ]
    assert crossings(outside, SQL_LIBRARIES) == []


def test_no_test_module_imports_another():
    # Shared helpers live in tests/fixtures/ and tests/tools/; a test module is never a library.
    tests = [path for path in python_files("tests") if path.name.startswith("test_")]
    imports = sorted(
        f"{path.name} imports {module}"
        for path in tests
        for module in imported_modules(path)
        if module.startswith("tests.test_")
    )
    assert imports == []


def function_sizes(path: Path) -> list[tuple[str, int, int]]:
    """(name, lines, parameters) of every function in `path`, methods' self/cls left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    sizes = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            named = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            params = len(named) + bool(args.vararg) + bool(args.kwarg)
            params -= bool(named) and named[0].arg in ("self", "cls")
            sizes.append((node.name, node.end_lineno - node.lineno + 1, params))
    return sizes


def test_indicator_functions_stay_small():
    # One pipeline of small named steps: a function that grows past this is doing two things.
    too_big = [
        f"{path.name}:{name} ({lines} lines, {params} parameters)"
        for path in python_files("sync_server/indicators")
        for name, lines, params in function_sizes(path)
        if lines > 40 or params > 6
    ]
    assert too_big == []


def test_the_size_reader_counts_lines_and_parameters(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(
        "class A:\n    def m(self, a, *b, c, **d):\n        return 1\n", encoding="utf-8"
    )
    assert function_sizes(path) == [("m", 2, 4)]


@pytest.mark.parametrize(
    ("source", "module", "forbidden"),
    [
        ("import kivy.app\n", "kivy.app", "kivy"),
        (
            "def f():\n    from sync_server.storage import db\n",
            "sync_server.storage",
            "sync_server",
        ),
    ],
)
def test_the_reader_sees_imports_at_any_depth(tmp_path, source, module, forbidden):
    path = tmp_path / "sample.py"
    path.write_text(source, encoding="utf-8")
    assert module in imported_modules(path)
    assert top_level(module) == forbidden


def test_the_shipped_assets_are_read_from_the_package_never_from_a_checkout():
    """A wheel installed anywhere carries `assets/` as `qualivilles/assets`: every module reads
    those files through `qualivilles.bundled`, never by a path climbing out of its own folder to
    the repository's `assets/` (it works from a checkout and fails once installed)."""
    climbing = re.compile(r"parents\[\d\]\s*/\s*[\"']assets[\"']|\.\./assets")
    found = [
        str(path.relative_to(ROOT))
        for package in ("qualivilles", "sync_server", "kiosk")
        for path in (ROOT / package).rglob("*.py")
        if climbing.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
