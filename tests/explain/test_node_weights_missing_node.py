"""``from_node_weights`` names a node left out of the dict before the length it upsets."""

from __future__ import annotations

import pytest

from glassnet.explain import from_node_weights


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        # The course's first network with node_1 forgotten: 'output' still has 2 weights.
        (
            {"node_0": [1, 1], "output": [2, -1]},
            "no weights for node_1; weights['output'] has 2 weights, but it needs 1, one per "
            "node of layer 'hidden'",
        ),
        (
            {"node_0": [1, 1], "output": [2, -1, 3]},
            "no weights for node_1 and node_2; weights['output'] has 3 weights, but it needs 1",
        ),
        # Two hidden layers, node_0_1 forgotten: the second layer's nodes still have 2 weights.
        (
            {"node_0_0": [2, 4], "node_1_0": [-1, 2], "node_1_1": [1, 2], "output": [2, 7]},
            "no weights for node_0_1; weights['node_1_0'] has 2 weights, but the nodes of layer "
            "'hidden_1' need 1",
        ),
        (
            {"node_0_0": [2, 4], "node_0_1": [4, -5], "node_1_0": [-1, 2], "output": [2, 7]},
            "no weights for node_1_1; weights['output'] has 2 weights, but it needs 1",
        ),
    ],
)
def test_a_missing_last_node_is_named_first(weights, message):
    with pytest.raises(ValueError) as caught:
        from_node_weights(weights)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "weights",
    [
        {"node_0": [1, 1], "node_1": [1, 1], "output": [1]},  # too few weights: none missing
        # the second layer's nodes disagree, so no node of the first is clearly missing
        {"node_0_0": [1, 1], "node_1_0": [1, 1], "node_1_1": [1, 1, 1], "output": [1, 1]},
    ],
)
def test_no_node_is_named_when_none_is_missing(weights):
    with pytest.raises(ValueError, match=r"^weights\[") as caught:
        from_node_weights(weights)
    assert "no weights for" not in str(caught.value)
