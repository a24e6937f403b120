"""The examples in docs/model-files.md run, in order, as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "model-files.md"


def test_model_files_doc_examples_run(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_example"}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"{DOC.name} example {number}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "Total params: 114" in printed
    assert "is not an HDF5 file" in printed
    assert {"model_file.h5", "model_file.keras", "checkpoint_2.keras", "model.weights.h5"} <= {
        p.name for p in tmp_path.iterdir()}


def test_docstring_examples_run():
    import doctest

    from glassnet.saving import api, files

    for module in (api, files):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0, module.__name__
