"""The one-line progress bar: drawn on a terminal for long runs, never into files or pipes."""

from __future__ import annotations

import io

import numpy as np

from glassnet.cli.progress import EpochBar
from glassnet.layers import Dense
from glassnet.models import Sequential


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fit_with(bar: EpochBar) -> None:
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 2))
    model.fit(x, x[:, :1], epochs=4, verbose=0, callbacks=[bar], validation_split=0.25)


def test_the_bar_is_drawn_in_place_on_a_terminal():
    terminal = FakeTerminal()
    fit_with(EpochBar(stream=terminal, delay=0, interval=0))
    text = terminal.getvalue()
    assert "\r  epoch 1/4 " in text and "\r  epoch 4/4 " in text
    assert "val_loss" in text
    assert "\n" not in text
    assert text.endswith("\r\033[K")  # the line is cleared at the end


def test_no_bar_for_short_runs_or_outside_a_terminal():
    terminal = FakeTerminal()
    fit_with(EpochBar(stream=terminal, delay=60))
    assert terminal.getvalue() == ""
    pipe = io.StringIO()
    fit_with(EpochBar(stream=pipe, delay=0, interval=0))
    assert pipe.getvalue() == ""
