"""Experiments: cross-validation, model comparisons, learning-rate sweeps, capacity search.

The course's last chapter is about finding the right model by its validation score. Each
study here is one call that trains many models, in parallel, and returns a table of plain
numbers with a learning-curve picture:

- ``cross_validate(build_fn, x, y, folds=5)``: k-fold cross-validation of one model;
- ``compare({"1 layer": build_1, "2 layers": build_2}, x, y)``: several models, same data;
- ``learning_rate_sweep(build_fn, x, y)``: the course's SGD with rates 1e-6, 0.01 and 1;
- ``capacity_search(x, y)``: grow a network wider, then deeper, while validation improves.

Where the runs happen: ``n_jobs`` local processes (joblib), or a cluster through
``client=`` (a Dask ``Client`` or scheduler address through joblib's Dask backend, or a Ray
address through Ray's joblib backend). Every run's seed derives from ``seed``, so a study
gives the same numbers serially, in processes and on a cluster.
"""

from glassnet.experiments._build import dense_network, run_seeds
from glassnet.experiments._parallel import run_tasks
from glassnet.experiments._results import Results, Run, Trial
from glassnet.experiments.capacity import architecture_name, capacity_search
from glassnet.experiments.comparison import compare, learning_rate_sweep
from glassnet.experiments.cross_validation import cross_validate, fold_indices

__all__ = [
    "Results",
    "Run",
    "Trial",
    "architecture_name",
    "capacity_search",
    "compare",
    "cross_validate",
    "dense_network",
    "fold_indices",
    "learning_rate_sweep",
    "run_seeds",
    "run_tasks",
]
