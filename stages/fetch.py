"""DVC stage `fetch`: resolve data.source and write the two raw CSVs."""

import argparse
from pathlib import Path

from fmnist.config import load_params
from fmnist.errors import exit_on_error
from fmnist.sources import fetch


@exit_on_error
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", type=Path, required=True, help="output train CSV")
    parser.add_argument("--test", type=Path, required=True, help="output test CSV")
    args = parser.parse_args()
    params = load_params(args.params)
    origin = fetch(params.data.source, {"train": args.train, "test": args.test})
    print(f"fetch: wrote {args.train} and {args.test} from {origin}")


if __name__ == "__main__":
    main()
