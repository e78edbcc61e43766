"""Thin DVC stage entry points: parse paths from dvc.yaml, load params, call the package."""
