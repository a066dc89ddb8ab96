"""The import contracts of pyproject.toml: the repository keeps them, and the no-cycles contract
really fails on a cycle inside an app, even one hidden in a function-local import."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
NO_CYCLES = "No import cycles inside an app"


def _lint(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(config)],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _no_cycles_contract() -> dict:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in contracts["contracts"] if c["name"] == NO_CYCLES)


def test_the_repository_keeps_its_import_contracts():
    result = _lint(ROOT / "pyproject.toml", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{NO_CYCLES} KEPT" in result.stdout


def test_the_no_cycles_contract_fails_on_a_cycle_inside_an_app(tmp_path):
    contract = _no_cycles_contract()
    app = tmp_path / "app"
    (app / "sub").mkdir(parents=True)
    for name in ("__init__.py", "sub/__init__.py", "sub/c.py"):
        (app / name).write_text("")
    (app / "a.py").write_text("from app import b\n")
    # b -> a only inside a function: still a cycle
    (app / "b.py").write_text("def f():\n    from app import a\n")
    (app / "sub" / "d.py").write_text("from app.sub import c\n")
    config = tmp_path / "importlinter.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["app"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        f'name = "{NO_CYCLES}"\ntype = "{contract["type"]}"\nancestors = ["app"]\n'
    )

    broken = _lint(config, tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"{NO_CYCLES} BROKEN" in broken.stdout
    assert "No cycles are allowed in app." in broken.stdout

    # a cycle one level down is found too
    (app / "b.py").write_text("")
    (app / "sub" / "c.py").write_text("import app.sub.d\n")
    assert "No cycles are allowed in app.sub." in _lint(config, tmp_path).stdout

    (app / "sub" / "c.py").write_text("")
    kept = _lint(config, tmp_path)
    assert kept.returncode == 0 and f"{NO_CYCLES} KEPT" in kept.stdout
