"""Machine facts recorded with every result."""

import os

from fmnist.system import cpu_model, machine_info


def test_machine_info_names_cpu_cores_and_versions():
    info = machine_info()
    assert info["cpu"] == cpu_model() and info["cpu"]
    assert info["cores"] == os.cpu_count() and info["gpus"] == 0
    assert info["tensorflow"].count(".") >= 2 and info["onednn"] == os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")
