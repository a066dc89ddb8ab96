"""Settings are the only registry of knobs: console/settings.py reads the environment, once per
variable, with no later overrides; code reads `settings.X` (no repeated defaults, no environment
reads); README's settings table lists exactly the variables the settings read, with their
defaults."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "tests",
    "migrations",
    "node_modules",
    "var",
    # Harnesses that start servers with chosen environments, and gunicorn's own config file
    # (read by gunicorn before Django exists): neither is Modelgate's configuration.
    "bench",
    "deploy",
}
# Files that read the environment themselves: the settings and their readers, the test settings
# (test values, set explicitly), and the `make run` launcher with its var/dev.env loader.
READ_ENVIRONMENT = {
    "console/settings.py",
    "console/envconfig.py",
    "console/settings_test.py",
    "console/devrun.py",
    "console/devenv.py",
}
# Entry points that may only choose the settings module, as Django's own templates do.
SET_SETTINGS_MODULE = {"manage.py", "console/wsgi.py", "console/celery.py"}
# Read by the launcher, not the settings, and still documented in the table.
LAUNCHER_VARIABLES = {"MODELGATE_DEV_ENV", "PORT"}
ENV_READERS = {"envstr", "envbool", "envint", "envfloat", "envchoice", "envlist", "envsecret"}


def source_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts[:-1])
    )


def _is_os_attribute(node: ast.AST, names: set[str]) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr in names
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _sets_settings_module(node: ast.Attribute, parents: dict) -> bool:
    """`os.environ.setdefault("DJANGO_SETTINGS_MODULE", ...)`."""
    method, call = parents.get(node), parents.get(parents.get(node))
    return (
        isinstance(method, ast.Attribute)
        and method.attr == "setdefault"
        and isinstance(call, ast.Call)
        and bool(call.args)
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value == "DJANGO_SETTINGS_MODULE"
    )


def offences(source: str, relative: str) -> list[str]:
    """`line: what` for each repeated default or environment read outside the registry."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 3
            and ast.unparse(node.args[0]).split(".")[-1] == "settings"
        ):
            found.append(f"{node.lineno}: getattr(settings, ..., default)")
        if relative in READ_ENVIRONMENT:
            continue
        if _is_os_attribute(node, {"getenv", "putenv", "unsetenv", "environb"}):
            found.append(f"{node.lineno}: os.{node.attr}")
        elif _is_os_attribute(node, {"environ"}):
            if not (relative in SET_SETTINGS_MODULE and _sets_settings_module(node, parents)):
                found.append(f"{node.lineno}: os.environ")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {alias.name for alias in node.names} & {"environ", "getenv", "environb"}
        ):
            found.append(f"{node.lineno}: from os import environ/getenv")
    return found


def test_code_reads_settings_only():
    files = source_files()
    assert ROOT / "serving" / "gateway.py" in files  # the walk reaches the apps
    assert not any("migrations" in path.parts for path in files)
    problems = [
        f"{path.relative_to(ROOT)}:{offence}"
        for path in files
        for offence in offences(path.read_text(), path.relative_to(ROOT).as_posix())
    ]
    assert problems == [], "read settings.X (defined in console/settings.py) instead:\n" + (
        "\n".join(problems)
    )


@pytest.mark.parametrize(
    ("source", "relative", "expected"),
    [
        ('x = getattr(settings, "MODELGATE_X", 5)', "serving/x.py", ["1: getattr"]),
        ('x = getattr(django.conf.settings, "X", 5)', "serving/x.py", ["1: getattr"]),
        ('x = getattr(settings, "X", 5)', "console/settings_test.py", ["1: getattr"]),
        ('x = getattr(module, "X", 5)', "serving/x.py", []),
        ('import os\nx = os.environ.get("X")', "serving/x.py", ["2: os.environ"]),
        ('import os\nx = os.environ["X"]', "serving/x.py", ["2: os.environ"]),
        ('import os\nx = os.getenv("X")', "serving/x.py", ["2: os.getenv"]),
        ("from os import environ", "serving/x.py", ["1: from os import"]),
        ('x = environ.get("PATH_INFO")', "serving/x.py", []),  # a WSGI environ
        ('import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "s")', "manage.py", []),
        ('import os\nos.environ.setdefault("DEBUG", "1")', "manage.py", ["2: os.environ"]),
        (
            'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "s")',
            "serving/x.py",
            ["2: os.environ"],
        ),
        ('import os\nx = os.environ.get("X")', "console/devenv.py", []),
    ],
)
def test_the_walk_tells_offences_from_settings_reads(source, relative, expected):
    found = offences(source, relative)
    assert len(found) == len(expected)
    assert all(got.startswith(want) for got, want in zip(found, expected, strict=True))


def test_every_variable_is_read_once_and_nothing_is_overridden_later():
    tree = ast.parse((ROOT / "console" / "settings.py").read_text())
    read = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ENV_READERS
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    assert len(read) > 50
    assert sorted({name for name in read if read.count(name) > 1}) == []
    assigned, patched = [], []
    for statement in tree.body:  # top level: a setting assigned again, or a piece of it replaced
        if isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            assigned += [t.id for t in targets if isinstance(t, ast.Name)]
            patched += [ast.unparse(t) for t in targets if isinstance(t, ast.Subscript)]
    assert sorted({name for name in assigned if assigned.count(name) > 1}) == []
    assert patched == []


@pytest.fixture(scope="module")
def declared() -> dict:
    """The variables console/settings.py reads and their defaults, in production mode (DEBUG off)
    with nothing else set; in a fresh process, so the test settings cannot colour them."""
    code = (
        "import json, console.settings; from console.envconfig import DECLARED; "
        "print(json.dumps(DECLARED))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "example.com",
        "MODELGATE_DEV_ENV": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def readme_table() -> dict[str, str]:
    """`{variable: default cell}` of README's settings table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n### Settings\n", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|", line)
        if match:
            assert match.group(1) not in rows, f"{match.group(1)} is listed twice"
            rows[match.group(1)] = match.group(2).strip()
    return rows


def _documented(cell: str) -> str | None:
    """The default a cell states as a leading `literal`, else None (prose such as 'empty')."""
    match = re.match(r"^`([^`]*)`", cell)
    return match.group(1) if match else None


def test_the_readme_table_lists_every_variable_the_settings_read(declared):
    table = readme_table()
    assert len(table) > 50
    assert "MODELGATE_WORKER_HEARTBEAT_SECONDS" in declared  # the knob nothing used to read
    assert sorted(set(declared) - set(table)) == [], "add these to README's settings table"
    assert sorted(set(table) - set(declared) - LAUNCHER_VARIABLES) == [], "no setting reads these"


def _agrees(stated: str | None, default) -> bool:
    """Booleans and numbers must be stated; a string when the cell states one (paths under the
    checkout are described, not stated)."""
    if isinstance(default, bool):
        return stated in {"on", "off"} and (stated == "on") == default
    if isinstance(default, int | float):
        return stated is not None and float(stated) == float(default)
    if isinstance(default, str) and stated is not None and str(ROOT) not in default:
        return stated == default
    return True


def test_the_readme_table_states_the_defaults(declared):
    table = readme_table()
    wrong = [
        f"{name}: README {_documented(table.get(name, ''))!r}, settings {default!r}"
        for name, default in declared.items()
        if not _agrees(_documented(table.get(name, "")), default)
    ]
    assert wrong == []


def test_a_knob_set_in_the_environment_reaches_the_settings():
    """The heartbeat the worker-kill test sets now means something, and the stale bound
    follows it."""
    code = (
        "import console.settings as s; "
        "print(s.MODELGATE_WORKER_HEARTBEAT_SECONDS, s.MODELGATE_WORKER_STALE_SECONDS)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "1",
        "MODELGATE_DEV_ENV": "",
        "MODELGATE_WORKER_HEARTBEAT_SECONDS": "0.5",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["0.5", "6.5"], result.stderr
