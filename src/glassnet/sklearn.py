"""scikit-learn estimators around a glassnet model: ``GlassRegressor``, ``GlassClassifier``.

They follow scikit-learn's rules, so they work in ``Pipeline``, ``cross_val_score`` and
``GridSearchCV``: ``__init__`` only stores its arguments, ``fit`` builds and trains a new
model every time, and what ``fit`` learns ends with an underscore (``model_``,
``history_``, ``classes_``, ``n_features_in_``)::

    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from glassnet.sklearn import GlassRegressor

    pipe = make_pipeline(StandardScaler(), GlassRegressor(epochs=50, random_state=0))
    search = GridSearchCV(pipe, {"glassregressor__hidden_layer_sizes": [(50,), (100, 100)]})

The network is ``glassnet.experiments.dense_network``: ``Dense`` hidden layers of
``hidden_layer_sizes`` and a linear output (regression) or softmax output with sparse
categorical cross-entropy (classification). ``build_fn`` replaces it with your own.

Both pass scikit-learn's ``check_estimator`` except the checks listed, with the reason,
in the dict ``expected_failed_checks``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import DataConversionWarning
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as _err:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "glassnet.sklearn needs scikit-learn 1.6 or newer: pip install 'scikit-learn>=1.6'"
    ) from _err

from glassnet.callbacks import EarlyStopping
from glassnet.experiments._build import call_build_fn, dense_network, seeded

__all__ = ["GlassClassifier", "GlassRegressor", "expected_failed_checks"]

_SAMPLE_WEIGHT_REASON = (
    "training is stochastic gradient descent over shuffled mini-batches: a row with weight 2 "
    "and the same row twice land in different batches, and a weight of 0 still changes how "
    "rows are cut into batches, so the fitted weights differ"
)

class _ExpectedFailures(dict):
    """A dict ``{check name: reason}`` that can also be called with an estimator.

    ``check_estimator(..., expected_failed_checks=...)`` wants the dict,
    ``parametrize_with_checks(..., expected_failed_checks=...)`` a function of the
    estimator returning it: this object is both.
    """

    def __call__(self, estimator=None) -> dict[str, str]:
        return dict(self)


#: The scikit-learn checks that glassnet's estimators are known to fail, with the reason.
#: Pass it as ``expected_failed_checks=expected_failed_checks`` to ``check_estimator`` or
#: to ``parametrize_with_checks``.
expected_failed_checks = _ExpectedFailures({
    "check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT_REASON,
})


def _seed_from(random_state) -> int | None:
    """``None`` for fresh randomness, else an integer seed (a generator gives one draw)."""
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _check_params(est) -> None:
    """Validates the constructor arguments (at ``fit``, as scikit-learn asks)."""
    for name in ("epochs", "batch_size"):
        value = getattr(est, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    if not 0.0 <= est.validation_split < 1.0:
        raise ValueError("`validation_split` must be in [0, 1). "
                         f"Received: validation_split={est.validation_split!r}")
    if est.patience is not None and (
        isinstance(est.patience, bool) or not isinstance(est.patience, numbers.Integral)
        or est.patience < 0
    ):
        raise ValueError("`patience` must be None or a non-negative integer. "
                         f"Received: patience={est.patience!r}")
    if est.build_fn is not None and not callable(est.build_fn):
        raise TypeError(f"`build_fn` must be callable or None. Received: {est.build_fn!r}")


class _GlassEstimator(BaseEstimator):
    """What both estimators share: parameters, building, training, predicting."""

    _loss: str = "mean_squared_error"
    _output_activation: str | None = None

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        optimizer="adam",
        learning_rate: float | None = None,
        epochs: int = 200,
        batch_size: int = 32,
        validation_split: float = 0.0,
        patience: int | None = None,
        shuffle: bool = True,
        random_state=None,
        verbose: int = 0,
        build_fn: Callable | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.patience = patience
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.build_fn = build_fn

    def _build(self, n_features: int, n_outputs: int):
        if self.build_fn is not None:
            return call_build_fn(self.build_fn, n_features=n_features, n_outputs=n_outputs)
        return dense_network(n_features, tuple(self.hidden_layer_sizes), n_outputs,
                             activation=self.activation, output_activation=self._output_activation,
                             optimizer=self.optimizer, learning_rate=self.learning_rate,
                             loss=self._loss)

    def _train(self, X: np.ndarray, y: np.ndarray, n_outputs: int, sample_weight) -> None:
        _check_params(self)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        callbacks = []
        if self.patience is not None:
            monitor = "val_loss" if self.validation_split else "loss"
            callbacks.append(EarlyStopping(monitor=monitor, patience=self.patience,
                                           restore_best_weights=True))
        with seeded(_seed_from(self.random_state)):
            model = self._build(X.shape[1], n_outputs)
            history = model.fit(X, y, epochs=self.epochs, batch_size=self.batch_size,
                                 validation_split=self.validation_split, shuffle=self.shuffle,
                                 sample_weight=sample_weight, callbacks=callbacks,
                                 verbose=self.verbose)
        self.model_ = model
        self.history_ = {k: [float(v) for v in vs] for k, vs in history.history.items()}
        self.n_iter_ = len(self.history_.get("loss", []))

    def _forward(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        # One pass over all rows, so that a row's output never depends on its batch.
        return self.model_.predict(X, batch_size=max(len(X), 1), verbose=0).astype(np.float64)


class GlassRegressor(RegressorMixin, _GlassEstimator):
    """A glassnet network as a scikit-learn regressor.

    Args:
        hidden_layer_sizes: units of each hidden ``Dense`` layer, e.g. ``(100,)`` (the
            course's first model) or ``(250, 250)``.
        activation: activation of the hidden layers (``"relu"``, ``"tanh"``...).
        optimizer: optimizer name (``"adam"``, ``"sgd"``...) or object (copied at fit).
        learning_rate: overrides the optimizer's default step size.
        epochs: passes over the data.
        batch_size: rows per gradient step.
        validation_split: last fraction of the rows held out to watch ``val_loss``.
        patience: early stopping after this many epochs without improvement of
            ``val_loss`` (or ``loss`` without validation), keeping the best epoch's
            weights; ``None`` trains every epoch.
        shuffle: shuffle rows before each epoch.
        random_state: an integer makes ``fit`` reproducible (weights and shuffling);
            ``None`` draws from glassnet's random state.
        verbose: 0 silent, 1 progress bar, 2 one line per epoch.
        build_fn: a function returning a compiled model, used instead of the options
            above; it may take ``n_features`` and ``n_outputs``.
        loss: the regression loss (``"mean_squared_error"``, ``"mae"``, ``"huber"``...).

    Attributes:
        model_: the trained glassnet ``Sequential`` (inspect it with ``glassnet.explain``).
        history_: ``History.history`` of the training: ``{"loss": [...], ...}``.
        n_iter_: epochs trained.
        n_features_in_: number of input columns.
        n_outputs_: number of targets.

    Example:
        >>> import numpy as np
        >>> from glassnet.sklearn import GlassRegressor
        >>> x = np.random.default_rng(0).normal(size=(100, 3)); y = x @ [1.0, -2.0, 0.5]
        >>> reg = GlassRegressor(hidden_layer_sizes=(16,), epochs=100, random_state=0)
        >>> reg.fit(x, y).score(x, y) > 0.9
        True
    """

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        optimizer="adam",
        learning_rate: float | None = None,
        epochs: int = 200,
        batch_size: int = 32,
        validation_split: float = 0.0,
        patience: int | None = None,
        shuffle: bool = True,
        random_state=None,
        verbose: int = 0,
        build_fn: Callable | None = None,
        loss="mean_squared_error",
    ) -> None:
        super().__init__(hidden_layer_sizes, activation, optimizer, learning_rate, epochs,
                         batch_size, validation_split, patience, shuffle, random_state, verbose,
                         build_fn)
        self.loss = loss

    @property
    def _loss(self):  # noqa: D401 - the loss dense_network compiles with
        return self.loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None) -> GlassRegressor:
        """Builds a new network and trains it on ``X``, ``y``.

        Args:
            X: array-like of shape ``(rows, features)``.
            y: array-like of shape ``(rows,)`` or ``(rows, targets)``.
            sample_weight: optional weight per row.

        Returns:
            ``self``.
        """
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), y_numeric=True,
                             multi_output=True)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                          "change the shape of y to (n_samples,), for example using ravel().",
                          DataConversionWarning, stacklevel=2)
            y = y.ravel()
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self._train(X, y, self.n_outputs_, sample_weight)
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions, shape ``(rows,)`` for one target, ``(rows, targets)`` for several."""
        out = self._forward(X)
        return out.ravel() if self.n_outputs_ == 1 else out


class GlassClassifier(ClassifierMixin, _GlassEstimator):
    """A glassnet network as a scikit-learn classifier.

    The output layer has one softmax unit per class and the loss is sparse categorical
    cross-entropy (the course's ``Dense(2, activation='softmax')`` with
    ``categorical_crossentropy``, without one-hot encoding). Labels may be any values
    scikit-learn accepts (strings, integers); ``classes_`` lists them.

    Args:
        hidden_layer_sizes, activation, optimizer, learning_rate, epochs, batch_size,
            validation_split, patience, shuffle, random_state, verbose, build_fn: as in
            ``GlassRegressor``. A ``build_fn`` gets ``n_outputs`` = the number of classes
            and must compile with ``sparse_categorical_crossentropy`` (labels arrive as
            0, 1, ...) and end in a softmax.

    Attributes:
        classes_: the class labels, sorted.
        model_, history_, n_iter_, n_features_in_: as in ``GlassRegressor``.

    Example:
        >>> import numpy as np
        >>> from glassnet.sklearn import GlassClassifier
        >>> x = np.random.default_rng(0).normal(size=(100, 2)); y = np.where(x[:, 0] > 0, "a", "b")
        >>> clf = GlassClassifier(hidden_layer_sizes=(8,), epochs=50, random_state=0).fit(x, y)
        >>> clf.predict_proba(x[:2]).shape, clf.classes_.tolist()
        ((2, 2), ['a', 'b'])
    """

    _loss = "sparse_categorical_crossentropy"
    _output_activation = "softmax"

    def fit(self, X, y, sample_weight=None) -> GlassClassifier:
        """Builds a new network and trains it on ``X`` and the class labels ``y``.

        Returns:
            ``self``.
        """
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        encoder = LabelEncoder()
        labels = encoder.fit_transform(y)
        self.classes_ = encoder.classes_
        self._train(X, labels, len(self.classes_), sample_weight)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each class, shape ``(rows, classes)``, rows summing to 1."""
        out = self._forward(X)
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        proba = self.predict_proba(X)  # raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]
