"""Learning-rate schedules. Their own module so that `models` (loading) and `training`
(fitting) both reach them without importing each other.

Saved models record the schedule under the name `fmnist>VariantSchedule` inside their compile
settings; loading with compile=False (all this project does) never deserialises it.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="fmnist")
class VariantSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The learning rate, step by step, for every `schedule` a variant can name: constant, step,
    cosine or one_cycle, each but one_cycle optionally after a linear warm-up.

    one_cycle: 30 % of the steps ramp from peak/25 up to the peak, the rest anneal (cosine)
    down to peak/1e4 (Smith & Topin's super-convergence recipe): Keras's CosineDecay with warm-up.
    The other kinds' warm-up starts at peak/warmup_steps, not CosineDecay's 0, so they stay here.
    """

    def __init__(
        self,
        kind: str,
        peak: float,
        total_steps: int,
        warmup_steps: int = 0,
        step_every: int = 1,
        step_factor: float = 0.5,
    ):
        self.kind, self.peak, self.total_steps = kind, float(peak), int(total_steps)
        self.warmup_steps, self.step_every, self.step_factor = int(warmup_steps), int(step_every), float(step_factor)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        peak, total = self.peak, float(max(self.total_steps, 1))
        if self.kind == "one_cycle":
            up = max(round(0.3 * total), 1)
            return keras.optimizers.schedules.CosineDecay(
                peak / 25.0, decay_steps=max(int(total) - up, 1), alpha=1e-4, warmup_target=peak, warmup_steps=up
            )(step)
        warm = float(self.warmup_steps)
        after = tf.maximum(step - warm, 0.0)
        if self.kind == "cosine":
            progress = tf.clip_by_value(after / max(total - warm, 1.0), 0.0, 1.0)
            rate = peak * 0.5 * (1 + tf.cos(math.pi * progress))
        elif self.kind == "step":
            rate = peak * tf.pow(self.step_factor, tf.floor(after / float(self.step_every)))
        else:
            rate = tf.constant(peak)
        if self.warmup_steps:
            rate = tf.where(step < warm, peak * (step + 1) / warm, rate)
        return rate

    def get_config(self):
        return {
            "kind": self.kind,
            "peak": self.peak,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "step_every": self.step_every,
            "step_factor": self.step_factor,
        }
