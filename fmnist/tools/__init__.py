"""Commands around the pipeline: the `fmnist` CLI, predict, sweeps, seeds, presets and the
benchmark. May import every layer below; nothing imports it."""
