"""Both analysis notebooks execute headless: with results for all six domains every
section shows its tables and figures; with nothing present every section skips cleanly."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.notebook_fixtures import write_all_domains

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = {"analysis.ipynb": {"fairface": True, "imagenet": True, "xray": True,
                              "movielens": True},
           "analysis_nlp.ipynb": {"amazon": False, "squad": False}}  # True: has figures


def _execute(name: str, monkeypatch, results: Path, outputs: Path, data: Path):
    monkeypatch.setenv("SPOTLIGHT_RESULTS_DIR", str(results))
    monkeypatch.setenv("SPOTLIGHT_OUTPUTS_DIR", str(outputs))
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setenv("MPLBACKEND", "agg")
    notebook = nbformat.read(ROOT / name, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    return notebook


def _outputs_by_tag(notebook) -> dict[str, list]:
    found: dict[str, list] = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for tag in cell.metadata.get("tags", []):
                found.setdefault(tag, []).extend(cell.outputs)
    return found


def _text(outputs) -> str:
    return "".join(output.get("text", "") for output in outputs)


@pytest.fixture(scope="module")
def all_domains(tmp_path_factory):
    root = tmp_path_factory.mktemp("notebooks")
    write_all_domains(root / "results", root / "outputs", root / "data")
    return root


@pytest.mark.parametrize("name", DOMAINS)
def test_notebook_shows_every_domain(name, all_domains, monkeypatch):
    root = all_domains
    notebook = _execute(name, monkeypatch, root / "results", root / "outputs", root / "data")
    outputs = _outputs_by_tag(notebook)
    for domain, has_figures in DOMAINS[name].items():
        kinds = {kind for output in outputs[domain] for kind in output.get("data", {})}
        assert "text/html" in kinds, f"{domain}: no table"
        if has_figures:
            assert "image/png" in kinds, f"{domain}: no figure"
        assert "skipped" not in _text(outputs[domain]), _text(outputs[domain])
        assert "not found" not in _text(outputs[domain]), _text(outputs[domain])


@pytest.mark.parametrize("name", DOMAINS)
def test_notebook_skips_absent_domains(name, tmp_path, monkeypatch):
    notebook = _execute(name, monkeypatch, tmp_path / "results", tmp_path / "outputs",
                        tmp_path / "data")
    outputs = _outputs_by_tag(notebook)
    for domain in DOMAINS[name]:
        text = _text(outputs[domain])
        assert text.count("skipped:") == 1, text
        assert not any("data" in output for output in outputs[domain])
