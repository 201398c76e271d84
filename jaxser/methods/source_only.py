"""source_only: train on the labelled source, test on the target (no adaptation).

Loss: cross-entropy with label smoothing on source labels.
"""

from jaxser.methods.base import Method, baseline


def build(config, classes: tuple[str, ...], num_target: int) -> Method:
    return baseline("source_only", config, len(classes))
