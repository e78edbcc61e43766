"""Foundations every layer uses: typed config, the error hierarchy, atomic I/O, CPU facts,
figure drawing and the quiet TensorFlow start-up. Imports nothing else of the package."""
