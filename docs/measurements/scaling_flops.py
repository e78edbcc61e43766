"""FLOPs of a training run for each variant and for the champion_long preset (README "Scaling out").

Run: python docs/measurements/scaling_flops.py > docs/measurements/scaling_flops.txt
Counts come from fmnist.tools.flops (analytic Conv2D/Dense FLOPs, training = 3 x forward).
"""

import fmnist  # noqa: F401  sets the TensorFlow environment first
from fmnist.core.config import load_params
from fmnist.tools.flops import training_flops
from fmnist.train.models import build_model

TRAIN_IMAGES = 54_000  # the training split after the 10 % validation split

params = load_params("params.yaml")
print(f"{'model':<16}{'train GFLOP/image':>18}{'epochs':>8}{'run PFLOP':>11}")
for name, variant in {**params.variants, **params.presets}.items():
    per_image = training_flops(build_model(variant.architecture, variant.model, name=name))
    total = per_image * TRAIN_IMAGES * variant.epochs
    print(f"{name:<16}{per_image / 1e9:>18.3f}{variant.epochs:>8}{total / 1e15:>11.2f}")
