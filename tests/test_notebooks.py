"""The notebooks run from top to bottom offline (a broken notebook fails CI), are stored without
outputs, and show their figures. Deselect with ``-m "not notebooks"``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


@pytest.fixture(scope="module")
def kernel_dirs(tmp_path_factory) -> list[str]:
    """A ``python3`` kernel spec that starts THIS interpreter (the venv running the tests)."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "python3"
    spec.mkdir()
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (eventstudy tests)", "language": "python",
    }), encoding="utf-8")
    return [str(root)]


#: notebooks that read the real market data of ../shared (skipped cleanly without it)
NEEDS_SHARED = {"03_firm_events": Path(__file__).resolve().parents[2] / "shared" / "data" / "market"
                / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"}


def test_all_notebooks_present():
    assert [p.name for p in NOTEBOOKS] == ["01_china_japan_study.ipynb", "02_library_tutorial.ipynb",
                                           "03_firm_events.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_stored_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs stored in {cell.id}"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, kernel_dirs, tmp_path):
    need = NEEDS_SHARED.get(path.stem)
    if need is not None and not need.exists():
        pytest.skip(f"{path.name} needs {need.name} from ../shared")
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
    client = nbclient.NotebookClient(nb, km=km, timeout=300, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()   # raises CellExecutionError naming the cell on any exception
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"]
        # every cell that ends with a figure shows it as an image
        last = cell.source.strip().splitlines()[-1]
        if last.startswith("plots.plot_"):
            kinds = [k for o in cell.outputs for k in o.get("data", {})]
            assert "image/png" in kinds, f"{path.name}: figure of `{last}` not displayed"
