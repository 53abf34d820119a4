"""The GPU benchmark's code path, on the CPU (its numbers are only meaningful on CUDA)."""

import pytest
import torch

from mu_core import bench


def test_the_training_variants_run_and_are_measured_against_fp32_on_the_cpu():
    found = bench.gpu_training_throughput("cpu", batch=4, steps=1, warmup=1,
                                          variants=("fp32_eager", "bf16_channels_last"))
    assert set(found) == {"fp32_eager", "bf16_channels_last"}
    assert found["fp32_eager"]["ratio_to_fp32"] == 1.0
    assert all(r["images_per_s"] > 0 for r in found.values())


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_the_gpu_benchmark_is_skipped_without_cuda():
    assert bench.gpu_training_throughput() is None
