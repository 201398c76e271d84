"""The benchmark tool's profile reader: HLO instructions named in a trace are
described by their shape and, for a fused convolution, its operands' shapes."""

import bench_step
import jax
import jax.numpy as jnp
import numpy as np


def _conv(x, w):
    return jax.lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


def test_op_table_describes_every_convolution_of_a_compiled_gradient():
    x, w = jnp.ones((2, 8, 4, 3)), jnp.ones((3, 3, 3, 5))
    grad = jax.jit(jax.grad(lambda x, w: jnp.sum(jax.nn.relu(_conv(x, w))), argnums=(0, 1)))
    text = grad.lower(x, w).compile().as_text()
    table = bench_step._op_table(text)
    convs = [v for v in table.values() if "convolution(" in v]
    # forward, input gradient, weight gradient: three convolutions, fused or not
    assert len(convs) >= 3
    assert any(v.startswith("f32[2,8,4,3] = convolution(") for v in convs)  # d/dx
    assert any(v.startswith("f32[3,3,3,5] = convolution(") for v in convs)  # d/dw
    for v in convs:
        assert "?" not in v and v.count("f32[") == 3  # output + both operands resolved


def test_op_table_reads_a_fusion_and_its_parameters():
    text = """HloModule m

%fused_conv (param_0: f32[1,4,4,2], param_1: f32[3,3,2,6]) -> f32[1,4,4,6] {
  %param_0 = f32[1,4,4,2]{3,2,1,0} parameter(0)
  %param_1 = f32[3,3,2,6]{3,2,1,0} parameter(1)
  ROOT %convolution.1 = f32[1,4,4,6]{3,2,1,0} convolution(%param_0, %param_1), window={size=3x3}
}

ENTRY %main (p0: f32[1,4,4,2], p1: f32[3,3,2,6]) -> f32[1,4,4,6] {
  %p0 = f32[1,4,4,2]{3,2,1,0} parameter(0)
  %p1 = f32[3,3,2,6]{3,2,1,0} parameter(1)
  %add = f32[1,4,4,2]{3,2,1,0} add(%p0, %p0)
  ROOT %my_fusion.3 = f32[1,4,4,6]{3,2,1,0} fusion(%add, %p1), kind=kCustom, calls=%fused_conv
}
"""
    table = bench_step._op_table(text)
    assert table["my_fusion.3"] == "f32[1,4,4,6] = convolution(f32[1,4,4,2], f32[3,3,2,6])"
    assert table["add"] == "f32[1,4,4,2]"
    assert np.all([k in table for k in ("p0", "p1", "param_0", "convolution.1")])


def test_profile_kinds_group_convolutions_and_strip_instance_numbers():
    conv = "f32[64,3,3,64] = convolution(f32[64,37,8,64], f32[37,8,64,64])"
    assert bench_step._kind("ynn_fusion.9", conv) == "convolution"
    assert bench_step._kind("dot.2", "f32[4,5] = dot(f32[4,3], f32[3,5])") == "dot"
    assert bench_step._kind("wrapped_iota.3", "s32[64,150,32,16]") == "wrapped_iota"
    assert bench_step._kind("ynn_fusion.81", "f32[64,75,16,16]") == "ynn_fusion"
