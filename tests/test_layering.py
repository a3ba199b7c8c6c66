"""The import rules that keep the package laid out along the data path (README, Architecture).

1. A stage imports only itself and the stages before it (``STAGES``); the core modules
   (errors, io_utils, progress, lazy) import no stage.
2. No private name crosses a module boundary (``from eventstudy.x import _y``, ``x._y``).
3. The library never imports a study and holds none of its specifics: no module other than
   ``inputs/study.py`` names the bundled study's folder, and no string constant in the library
   is one of the bundled study's group ids or timeline tickers.
4. Only the file layers write files: ``outputs/``, ``io_utils``, ``data/`` (the price cache)
   and ``cli``.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PKG = Path(__file__).resolve().parents[1] / "eventstudy"

#: stage of each top-level name under eventstudy/, in data-path order
STAGES = {
    "errors": 0, "io_utils": 0, "progress": 0, "lazy": 0, "content": 0,
    "inputs": 1, "data": 2, "calendars": 3, "returns": 4, "estimation": 5, "inference": 6,
    "engine": 7, "pipeline": 8, "present": 9, "outputs": 10, "cli": 11,
}
WRITERS = {"outputs", "io_utils", "data", "cli"}
WRITE_CALLS = {"atomic_write_bytes", "atomic_write_with", "atomic_write_text", "ensure_out_dir", "write_text", "write_bytes",
               "mkdir", "makedirs", "to_csv", "to_parquet"}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        if rel.parts[0] in ("study",) or rel.name == "__init__.py" and len(rel.parts) == 1:
            continue
        dotted = "eventstudy." + ".".join(rel.with_suffix("").parts)
        yield path, rel, dotted.removesuffix(".__init__")


MODULES = list(_modules())


#: Modules allowed to hold names that also happen to be study specifics, with the reason.
SPECIFICS_EXEMPT = {
    "inputs/exchanges.py": "exchange knowledge: Tokyo indices such as ^N225 trade on XTKS",
    "inputs/instruments.py": "'futures' is an instrument kind (kind=future|futures), not a group",
}



def _stage_of(dotted: str) -> str:
    return dotted.split(".")[1]


def _imports(tree: ast.AST, dotted: str):
    """(line, imported module, imported names) of every eventstudy import, at any depth."""
    pkg = dotted.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("eventstudy"):
                    yield node.lineno, a.name, ()
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([mod] if mod else []))
            if mod.startswith("eventstudy"):
                yield node.lineno, mod, tuple(a.name for a in node.names)


def _targets(mod: str, names) -> list[str]:
    """The modules an import statement reaches (``from eventstudy.x import y`` may name a submodule)."""
    if mod == "eventstudy":
        return ["eventstudy." + n for n in names if n != "__version__"]
    return [mod]


@pytest.mark.parametrize("path,rel,dotted", MODULES, ids=[str(m[1]) for m in MODULES])
def test_stages_import_only_upward(path, rel, dotted):
    own = STAGES.get(_stage_of(dotted))
    assert own is not None, f"{rel}: not in a stage; add its folder to STAGES (tests/test_layering.py) and the README"
    bad = []
    for line, mod, names in _imports(ast.parse(path.read_text()), dotted):
        for target in _targets(mod, names):
            if target.count(".") < 1:
                continue
            st = STAGES.get(_stage_of(target))
            if st is None:
                bad.append(f"line {line}: imports {target}, which is in no stage")
            elif st > own:
                bad.append(f"line {line}: {_stage_of(dotted)} (stage {own}) imports {target} (stage {st})")
    assert not bad, f"{rel}:\n" + "\n".join(bad)


@pytest.mark.parametrize("path,rel,dotted", MODULES, ids=[str(m[1]) for m in MODULES])
def test_no_private_names_across_modules(path, rel, dotted):
    tree = ast.parse(path.read_text())
    bad = []
    for line, mod, names in _imports(tree, dotted):
        if mod != dotted:
            bad += [f"line {line}: from {mod} import {n}" for n in names if n.startswith("_") and not n.startswith("__")]
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("eventstudy"):
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("eventstudy"):
                    aliases[a.asname or a.name] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in aliases):
            bad.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    assert not bad, f"{rel} uses private names of other modules:\n" + "\n".join(bad)


def _study_specifics() -> set[str]:
    cfg = tomllib.loads((PKG / "study" / "china_japan" / "study.toml").read_text(encoding="utf-8"))
    ids = set(cfg["labels"]["order"]) | set(cfg["defaults"].get("timeline", ())) | {cfg["name"]}
    return ids



@pytest.mark.parametrize("path,rel,dotted", MODULES, ids=[str(m[1]) for m in MODULES])
def test_library_holds_no_study_specifics(path, rel, dotted):
    if rel.as_posix() == "inputs/study.py":
        pytest.skip("the study loader names the bundled study's folder")
    if rel.as_posix() in SPECIFICS_EXEMPT:
        pytest.skip(SPECIFICS_EXEMPT[rel.as_posix()])
    specifics = _study_specifics()
    tree = ast.parse(path.read_text())
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    bad = [f"line {n.lineno}: {n.value!r}" for n in ast.walk(tree)
           if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in specifics
           and id(n) not in docstrings]
    for line, mod, _ in _imports(tree, dotted):
        if mod.startswith("eventstudy.study"):
            bad.append(f"line {line}: imports {mod}")
    assert not bad, f"{rel} holds the study's specifics (take them from a Study / Labels argument):\n" + "\n".join(bad)


@pytest.mark.parametrize("path,rel,dotted", MODULES, ids=[str(m[1]) for m in MODULES])
def test_only_file_layers_write_files(path, rel, dotted):
    if _stage_of(dotted) in WRITERS:
        pytest.skip("a file layer")
    tree = ast.parse(path.read_text())
    bad = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            f = n.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in WRITE_CALLS:
                bad.append(f"line {n.lineno}: {name}(...)")
            if name == "savefig" and n.args and not (isinstance(n.args[0], ast.Name) and n.args[0].id in ("buf", "buffer", "bio")):
                bad.append(f"line {n.lineno}: savefig(...) to a path")
            if name == "open" and len(n.args) >= 2 and isinstance(n.args[1], ast.Constant) and "w" in str(n.args[1].value):
                bad.append(f"line {n.lineno}: open(..., 'w')")
    assert not bad, f"{rel} writes files; only {', '.join(sorted(WRITERS))} do:\n" + "\n".join(bad)


def test_ruff_is_clean():
    """The code passes the project's ruff configuration (pyproject.toml [tool.ruff])."""
    import shutil
    import subprocess

    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff not installed (it is in the dev extra)")
    root = PKG.parent
    proc = subprocess.run([ruff, "check", "eventstudy", "tests", "benchmarks", "scripts"], cwd=root,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_public_names_resolve():
    """Every name of ``from eventstudy import ...`` resolves (the 0.1 names kept through the move)."""
    import eventstudy

    kept = {"EventStudy", "EventStudyResult", "EventStudyError", "StudyRun", "load_events", "map_day0",
            "run_event_study", "run_study", "load_firm_events", "map_day0_pairs", "run_firm_study",
            "load_instruments"}
    assert kept <= set(eventstudy.__all__)
    for name in eventstudy.__all__:
        assert getattr(eventstudy, name) is not None, name
