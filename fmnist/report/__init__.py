"""What people read: README tables, the pull-request report and the CI gate. Imports `core`
and `evaluate`."""
