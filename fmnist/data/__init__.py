"""Reading Fashion-MNIST: the CSV and IDX formats, the sources (folder, Debian package,
download) and the validation split. Imports only `core`."""
