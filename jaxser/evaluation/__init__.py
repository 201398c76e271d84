"""Evaluation, below training (it never imports `jaxser.training`): predictions
over a split (predict.py), metrics (metrics.py), evaluators by name
(evaluators.py), results.json and the figures (results.py, plots.py)."""
