"""fmnist: a DVC pipeline that trains and compares Fashion-MNIST classifiers."""

import os

# oneDNN kernels are off by default on some x86 CPUs and the flag is read once, when
# TensorFlow is first imported. Every entry point (stages, CLI, tests) imports this
# package before TensorFlow, so this is the one place that can set it in time.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# TensorFlow's C++ start-up lines are hidden unless the user chose a log level (a level this
# package set, inherited by a child process, is not the user's choice).
if "TF_CPP_MIN_LOG_LEVEL" not in os.environ or os.environ.get("FMNIST_QUIET_TENSORFLOW") == "1":
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    os.environ["FMNIST_QUIET_TENSORFLOW"] = "1"
    from fmnist.core import quiet

    quiet.install()

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 28

__version__ = "0.1.0"
