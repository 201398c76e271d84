"""DAN (Long et al. 2015): multi-kernel MMD between source and target bottleneck features.

Loss: CE + mmd (Gaussian kernels, bandwidths spread by `loss.mmd_kernel_mul`
around the mean pairwise distance), its weight ramped up with the GRL schedule.
"""

from jaxser.methods.base import Method, baseline


def build(config, classes: tuple[str, ...], num_target: int) -> Method:
    return baseline("mmd", config, len(classes))
