"""source_only: train on the labelled source, test on the target (no adaptation).

Loss: cross-entropy with label smoothing on source labels.
"""

from jaxser.methods.base import Method, baseline


def build(config, num_classes: int, num_target: int) -> Method:
    return baseline("source_only", config, num_classes)
