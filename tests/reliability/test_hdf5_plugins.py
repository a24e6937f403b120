"""No native code from a model file: HDF5's plugin search is off whenever glassnet reads one.

A dataset whose filter pipeline names a filter HDF5 does not know makes HDF5 search its
plugin folders (``HDF5_PLUGIN_PATH``, or a system default) and load every shared library
there, running its constructor, before it gives up. These tests build such a library (its
constructor writes a marker file), put it on ``HDF5_PLUGIN_PATH``, plant a dataset with an
unknown filter in files glassnet and Keras write, and load them in a fresh process: the
file is refused and the library never runs. A control shows the planted file does load the
library when read with plain h5py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from ci_tools import require_tool

from glassnet.layers import Dense
from glassnet.models import Sequential

UNKNOWN_FILTER = 32123
PLUGIN_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void glassnet_marker(void) {
    const char *path = getenv("GLASSNET_PLUGIN_MARKER");
    if (path) { FILE *f = fopen(path, "w"); if (f) { fputs("loaded\n", f); fclose(f); } }
}
"""


@pytest.fixture(scope="module")
def plugin_folder(tmp_path_factory) -> Path:
    """A folder holding one HDF5 'plugin': a library whose constructor writes a marker."""
    require_tool("gcc", "builds the test's plugin library: apt-get install gcc", program=True)
    folder = tmp_path_factory.mktemp("plugins")
    source = folder / "marker.c"
    source.write_text(PLUGIN_SOURCE)
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(folder / "libmarker.so"), str(source)],
        check=True,
        capture_output=True,
    )
    source.unlink()
    return folder


def _plant_unknown_filter(group: h5py.Group) -> str:
    """Replaces the first 2-D dataset under ``group`` by one whose only chunk claims to be
    encoded with a filter HDF5 does not know; returns its path."""
    found = []
    group.visititems(lambda name, obj: found.append(name) if getattr(obj, "ndim", 0) == 2 else None)
    name = found[0]
    values = np.asarray(group[name], dtype=np.float32)
    del group[name]
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk(values.shape)
    dcpl.set_filter(UNKNOWN_FILTER, h5py.h5z.FLAG_OPTIONAL, ())
    space = h5py.h5s.create_simple(values.shape)
    dataset = h5py.h5d.create(group.id, name.encode(), h5py.h5t.NATIVE_FLOAT, space, dcpl=dcpl)
    dataset.write_direct_chunk((0,) * values.ndim, values.tobytes(), filter_mask=0)
    return name


def _model() -> Sequential:
    model = Sequential([Dense(3, activation="relu", input_shape=(2,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _planted(tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"model{suffix}"
    model = _model()
    if suffix == ".weights.h5":
        model.save_weights(path)
    else:
        model.save(path)
    if suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        buffer = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buffer, "r+") as f:
            _plant_unknown_filter(f)
        members["model.weights.h5"] = buffer.getvalue()
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    else:
        with h5py.File(path, "r+") as f:
            _plant_unknown_filter(f)
    return path


def _run(code: str, plugin_folder: Path, marker: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HDF5_PLUGIN_PATH": str(plugin_folder),
        "GLASSNET_PLUGIN_MARKER": str(marker),
    }
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


def test_the_planted_file_loads_the_plugin_when_read_with_plain_h5py(plugin_folder, tmp_path):
    path = _planted(tmp_path, ".h5")
    marker = tmp_path / "marker"
    code = (
        "import h5py\n"
        f"f = h5py.File({str(path)!r}, 'r')\n"
        "names = []\n"
        "f.visititems(lambda n, o: names.append(n) if hasattr(o, 'shape') else None)\n"
        "for name in names:\n"
        "    try:\n"
        "        f[name][()]\n"
        "    except OSError as error:\n"
        "        print('refused:', error)\n"
    )
    result = _run(code, plugin_folder, marker)
    assert "can't find plugin" in result.stdout + result.stderr
    assert marker.exists(), "the control should load the plugin library"


@pytest.mark.parametrize("suffix", [".h5", ".keras", ".weights.h5"])
def test_loading_a_file_with_an_unknown_filter_runs_no_plugin(plugin_folder, tmp_path, suffix):
    path = _planted(tmp_path, suffix)
    marker = tmp_path / "marker"
    load = (
        "model = build(); model.load_weights(path)"
        if suffix == ".weights.h5"
        else "load_model(path)"
    )
    code = (
        "import sys\n"
        "from glassnet.layers import Dense\n"
        "from glassnet.models import Sequential, load_model\n"
        "from glassnet.saving import ModelFileError\n"
        f"path = {str(path)!r}\n"
        "def build():\n"
        "    m = Sequential([Dense(3, activation='relu', input_shape=(2,)), Dense(1)])\n"
        "    m.build()\n"
        "    return m\n"
        "try:\n"
        f"    {load}\n"
        "except ModelFileError as error:\n"
        "    print('refused:', error)\n"
        "else:\n"
        "    sys.exit('loaded a file whose weights cannot be decoded')\n"
    )
    result = _run(code, plugin_folder, marker)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "refused:" in result.stdout
    assert not marker.exists(), "HDF5 loaded a plugin library while glassnet read the file"


def test_the_plugin_path_is_given_back_after_a_load(plugin_folder, tmp_path):
    """glassnet empties HDF5's plugin path only while it reads a file of its own."""
    path = tmp_path / "model.h5"
    _model().save(path)
    code = (
        "import h5py.h5pl as pl\n"
        "from glassnet.models import load_model\n"
        f"load_model({str(path)!r})\n"
        "print([pl.get(i).decode() for i in range(pl.size())])\n"
    )
    result = _run(code, plugin_folder, tmp_path / "marker")
    assert result.returncode == 0, result.stderr
    assert str(plugin_folder) in result.stdout
