"""The generic training core: the state, the optimizer, the pure train step,
checkpoints, logs, and the loop that runs a built experiment
(`jaxser.experiment.setup` builds one; nothing here builds a run)."""
