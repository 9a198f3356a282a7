"""What the wheel ships and how the code finds it, checked from the clone without building a wheel.

The files the code reads beside itself (the header, the shim's sources, the examples) are package
data located by ``ntddk_py.resources``; pyproject.toml's package-data patterns must cover each of
them, or an installed cmhook misses it (tools/wheel_check.sh, run by .ci/run, proves the wheel
itself). In a clone, ``include/`` and ``examples/`` are relative symlinks into the packages, so the
README's paths and ``-I include`` keep working. The suite stands on its own: no code, test or
script reads the specification folder that sits beside a developer's checkout.
"""

from __future__ import annotations

import ast
import fnmatch
import glob
import re
import tomllib
from pathlib import Path

import pytest

import harness
import ntddk_py
import registry_core
from harness import cli, shim
from ntddk_py import header_model, resources

REPO = header_model.REPO
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
PACKAGES = {"ntddk_py": ntddk_py, "registry_core": registry_core, "harness": harness}
SKIPPED_DIRECTORIES = {".git", ".venv", "build", "dist", "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache"}


def _package_directory(name: str) -> Path:
    return Path(str(PACKAGES[name].__file__)).resolve().parent


def _shipped(package: str) -> set[Path]:
    """The files setuptools adds to ``package`` as package data (its patterns, globbed as it globs them)."""
    data = SETUPTOOLS["package-data"]
    patterns = [*data.get("*", []), *data.get(package, [])]
    root = _package_directory(package)
    return {Path(p).resolve() for pattern in patterns for p in glob.glob(str(root / pattern), recursive=True)
            if Path(p).is_file()}


def _regular_packages(include: list[str], where: Path = REPO, prefix: str = "") -> list[str]:
    """What setuptools' packages.find with namespaces = false finds: directories with an __init__.py,
    reached through such directories, whose dotted name matches an include pattern."""
    found = []
    for child in sorted(where.iterdir()):
        if child.is_dir() and "." not in child.name and (child / "__init__.py").is_file():
            name = prefix + child.name
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in include):
                found.append(name)
            found += _regular_packages(include, child, name + ".")
    return found


def _repository_files(suffixes: tuple[str, ...]) -> list[Path]:
    found = []
    for path in REPO.rglob("*"):
        parts = set(path.relative_to(REPO).parts)
        if parts & SKIPPED_DIRECTORIES or any(part.endswith(".egg-info") for part in parts):
            continue
        if path.suffix in suffixes and path.is_file() and not path.is_symlink():
            found.append(path)
    return found


# --- where the code looks ---------------------------------------------------------------

def test_the_code_finds_its_files_through_resources_inside_the_packages():
    assert header_model.HEADER == resources.header() == _package_directory("ntddk_py") / "include" / "ntddk.h"
    assert shim.SHIM_DIRECTORY == resources.shim_directory() == _package_directory("harness") / "shim"
    assert resources.examples_directory() == _package_directory("harness") / "examples"
    assert cli.DEMO_FILTER.is_relative_to(resources.examples_directory())
    for path in [resources.header(), shim.SHIM_SOURCE, shim.SHIM_HEADER, cli.DEMO_FILTER, cli.DEMO_SCRIPT]:
        assert path.is_file(), path


def test_the_demo_names_its_files_as_the_readme_does():
    assert str(cli.DEMO_FILTER.relative_to(cli.ROOT)) == "examples/filters/run_blocker.c"
    assert str(cli.DEMO_SCRIPT.relative_to(cli.ROOT)) == "examples/scenarios/persistence.script"


@pytest.mark.parametrize("link,target", [("include", "ntddk_py/include"), ("examples", "harness/examples")])
def test_the_clone_keeps_its_top_level_paths_as_relative_symlinks(link, target):
    path = REPO / link
    assert path.is_symlink(), f"{link} should be a symlink to {target}"
    assert Path(path.readlink()) == Path(target)  # relative, so it survives a clone or a copy anywhere
    assert path.resolve() == (REPO / target).resolve()


# --- what the wheel ships -----------------------------------------------------------------

def test_package_data_covers_every_file_the_code_reads():
    shipped = _shipped("ntddk_py") | _shipped("harness")
    needed = [resources.header(), *shim._sources()]
    # The header set beside ntddk.h and include/variants/, whatever the case of their names (NTDDK.H).
    needed += [p.resolve() for p in resources.include_directory().rglob("*") if p.is_file()]
    needed += [p.resolve() for p in resources.examples_directory().rglob("*")
               if p.is_file() and p.suffix not in (".so", ".o") and "__pycache__" not in p.parts]
    assert len(needed) > 8
    assert [str(p.relative_to(REPO)) for p in needed if p not in shipped] == []


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_py_typed_ships(package):
    marker = _package_directory(package) / "py.typed"
    assert marker.is_file()
    assert marker in _shipped(package)


def test_packages_found_are_the_regular_packages_and_cmhook():
    find = SETUPTOOLS["packages"]["find"]
    assert "cmhook*" in find["include"]
    assert find.get("namespaces") is False  # data directories (shim, examples, include) are not packages
    found = _regular_packages(find["include"])
    assert {"ntddk_py", "registry_core", "harness"} <= set(found)
    assert not [name for name in found if name.split(".")[-1] in ("shim", "examples", "include")]
    assert ("cmhook" in found) == (REPO / "cmhook" / "__init__.py").is_file()


def test_metadata_is_complete_and_the_version_is_written_once():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    license_text = (REPO / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "Copyright (c) 2026 the cmhook authors" in license_text
    assert project["readme"] == "README.md" and project["description"]
    assert "Typing :: Typed" in project["classifiers"]
    assert "Programming Language :: Python :: 3.11" in project["classifiers"]
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]  # the expression says it
    assert "version" not in project and project["dynamic"] == ["version"]
    assert SETUPTOOLS["dynamic"]["version"] == {"attr": "harness.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", harness.__version__)
    assert project["scripts"]["cmhook"] == "harness.cli:main"
    assert project["entry-points"]["pytest11"]["cmhook"] == "harness.pytest_plugin"


# --- a suite that stands on its own -----------------------------------------------------------

_SHARED = re.compile(r"(^|[/\\])shared([/\\]|$)|^\.\./shared")


def _strings_outside_docstrings(tree: ast.AST) -> list[str]:
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_code_or_test_names_the_shared_folder_as_a_path():
    offenders = []
    for path in _repository_files((".py",)):
        if path == Path(__file__).resolve():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        offenders += [f"{path.relative_to(REPO)}: {text!r}" for text in _strings_outside_docstrings(tree)
                      if text == "shared" or _SHARED.search(text)]
    assert offenders == []


def test_no_script_of_ci_or_setup_names_the_shared_folder():
    scripts = [REPO / ".ci" / "run", *sorted((REPO / "tools").glob("*.sh")), REPO / "pyproject.toml"]
    assert [str(p.relative_to(REPO)) for p in scripts if re.search(r"\bshared/|/shared\b", p.read_text())] == []
