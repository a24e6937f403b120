"""Learning-rate schedules: Keras's own test cases
(``keras/src/optimizers/schedules/learning_rate_schedule_test.py``) worked by hand, configs,
bad arguments, and a schedule inside an optimizer (read at each step, checked, refused
where a number is set). Real Keras is compared in tests/optimizers/test_optimizers_keras.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import optimizers
from glassnet.optimizers import SGD, Adam, schedules


def test_exponential_decay_continuous_and_staircase():
    assert schedules.ExponentialDecay(0.05, 10, 0.96)(5) == pytest.approx(0.05 * 0.96**0.5)
    staircase = schedules.ExponentialDecay(0.1, 3, 0.96, staircase=True)
    assert staircase(1) == pytest.approx(0.1)
    assert staircase(2) == pytest.approx(0.1)
    assert staircase(100) == pytest.approx(0.1 * 0.96 ** (100 // 3))


def test_piecewise_constant_values_and_boundaries():
    decay = schedules.PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    for step, expected in [
        (-999, 1.0),
        (100, 1.0),
        (105, 0.1),
        (110, 0.1),
        (120, 0.01),
        (999, 0.001),
    ]:
        assert decay(step) == pytest.approx(expected), step
    boundary = schedules.PiecewiseConstantDecay([1, 2, 3], [0.4, 0.5, 0.6, 0.7])
    assert [boundary(s) for s in range(5)] == pytest.approx([0.4, 0.4, 0.5, 0.6, 0.7])


@pytest.mark.parametrize("power", [1.0, 0.5])
def test_polynomial_decay_halfway_end_beyond_and_cycle(power):
    lr, end = 0.05, 0.001
    decay = schedules.PolynomialDecay(lr, 10, end, power=power)
    assert decay(5) == pytest.approx((lr - end) * 0.5**power + end)
    assert decay(10) == pytest.approx(end)
    assert decay(15) == pytest.approx(end)
    cycle = schedules.PolynomialDecay(lr, 10, end, power=power, cycle=True)
    assert cycle(15) == pytest.approx((lr - end) * 0.25**power + end)
    assert cycle(0) == pytest.approx(lr)


def test_polynomial_decay_defaults_are_keras():
    config = schedules.PolynomialDecay(0.1, 100).get_config()
    assert config == {
        "initial_learning_rate": 0.1,
        "decay_steps": 100,
        "end_learning_rate": 0.0001,
        "power": 1.0,
        "cycle": False,
        "name": "PolynomialDecay",
    }


def test_inverse_time_decay():
    decay = schedules.InverseTimeDecay(0.1, 1, 0.5)
    assert [decay(s) for s in range(3)] == pytest.approx([0.1, 0.1 / 1.5, 0.1 / 2.0])
    stair = schedules.InverseTimeDecay(0.1, 2, 0.5, staircase=True)
    assert stair(3) == pytest.approx(0.1 / 1.5)


def test_cosine_decay_alpha_and_warmup():
    decay = schedules.CosineDecay(0.1, 10, alpha=0.2)
    for step in range(0, 15):
        fraction = min(step, 10) / 10
        expected = 0.1 * ((1 - 0.2) * 0.5 * (1 + math.cos(math.pi * fraction)) + 0.2)
        assert decay(step) == pytest.approx(expected), step
    warm = schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert [warm(s) for s in (0, 2, 4)] == pytest.approx([0.0, 0.5, 1.0])
    assert warm(9) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert warm(100) == pytest.approx(0.0)


def test_cosine_decay_restarts():
    same = schedules.CosineDecayRestarts(1.0, 4, t_mul=1.0, m_mul=0.5)
    assert same(0) == pytest.approx(1.0)
    assert same(4) == pytest.approx(0.5)  # the second period starts at half
    assert same(2) == pytest.approx(0.5)
    longer = schedules.CosineDecayRestarts(1.0, 2, t_mul=2.0)
    assert longer(2) == pytest.approx(1.0)  # periods of 2, 4, 8... steps
    assert longer(4) == pytest.approx(0.5)
    assert longer(6) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.05, 10, 0.96, staircase=True, name="my_ed"),
        schedules.PiecewiseConstantDecay([10, 20], [1, 2, 3], name="my_pcd"),
        schedules.PolynomialDecay(0.1, 100, 0.005, power=1.0, cycle=False, name="my_ld"),
        schedules.InverseTimeDecay(0.05, 10, 0.96, staircase=True, name="my_itd"),
        schedules.CosineDecay(0.05, 10, alpha=0.1, warmup_target=0.2, warmup_steps=3),
        schedules.CosineDecayRestarts(0.05, 10, t_mul=3.0, m_mul=4.0, alpha=0.1, name="r"),
    ],
)
def test_config_round_trip(schedule):
    again = type(schedule).from_config(schedule.get_config())
    assert again.get_config() == schedule.get_config()
    back = schedules.deserialize(schedules.serialize(schedule))
    assert type(back) is type(schedule)
    assert [back(s) for s in range(0, 30, 7)] == [schedule(s) for s in range(0, 30, 7)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "`decay_steps` must be > 0"),
        (lambda: schedules.PolynomialDecay(0.1, -1), "`decay_steps` must be > 0"),
        (lambda: schedules.CosineDecay(0.1, 0), "`decay_steps` must be > 0"),
        (lambda: schedules.CosineDecayRestarts(0.1, 0), "`first_decay_steps` must be > 0"),
        (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1]), "1 less than the length"),
        (lambda: schedules.PiecewiseConstantDecay([2, 1], [0.1, 0.2, 0.3]), "increasing"),
        (lambda: schedules.ExponentialDecay("0.1", 10, 0.5), "initial_learning_rate"),
        (lambda: schedules.InverseTimeDecay(0.1, 10, float("nan")), "decay_rate"),
    ],
)
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_unknown_schedule_name_is_refused_with_the_known_ones():
    with pytest.raises(
        ValueError, match="Unknown learning rate schedule: 'CosineDcay'.*Did you mean 'CosineDecay'"
    ):
        schedules.deserialize({"class_name": "CosineDcay", "config": {}})


def test_the_base_class_asks_for_call_and_get_config():
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        schedules.LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        schedules.LearningRateSchedule().get_config()


class Halving(schedules.LearningRateSchedule):
    def __init__(self, rate):
        self.rate = rate

    def __call__(self, step):
        return self.rate / 2**step

    def get_config(self):
        return {"rate": self.rate}


def test_an_optimizer_reads_its_schedule_at_its_step_count():
    opt = SGD(learning_rate=Halving(1.0))
    params = np.zeros(1)
    for _ in range(3):
        opt.apply(params, np.ones(1))
    assert params[0] == pytest.approx(-(1 + 0.5 + 0.25))
    assert opt.learning_rate == pytest.approx(0.125)


def test_a_custom_schedule_travels_in_the_config_with_custom_objects():
    config = optimizers.serialize(Adam(learning_rate=Halving(0.5)))
    assert config["config"]["learning_rate"]["registered_name"] == "Halving"
    again = optimizers.deserialize(config, custom_objects={"Halving": Halving})
    assert again.learning_rate == 0.5


class Bad(schedules.LearningRateSchedule):
    def __init__(self, value):
        self.value = value

    def __call__(self, step):
        return self.value if step >= 2 else 0.1

    def get_config(self):
        return {"value": self.value}


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf")])
def test_a_negative_or_non_finite_rate_is_refused_before_any_change(value):
    opt = Adam(learning_rate=Bad(value))
    params = np.ones(3)
    for _ in range(2):
        opt.apply(params, np.ones(3))
    before = (params.copy(), {k: v.copy() for k, v in opt.slots.items()}, opt.iterations)
    with pytest.raises(
        ValueError,
        match=r"schedule Bad\(value=.*\) gave learning_rate=.* at "
        r"step 2; a learning rate must be a finite number",
    ):
        opt.apply(params, np.ones(3))
    np.testing.assert_array_equal(params, before[0])
    for name, slot in opt.slots.items():
        np.testing.assert_array_equal(slot, before[1][name])
    assert opt.iterations == before[2]


def test_setting_a_number_over_a_schedule_is_a_type_error():
    opt = SGD(learning_rate=Halving(1.0))
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    opt.learning_rate = Halving(2.0)  # a schedule may replace a schedule
    assert opt.learning_rate == 2.0
