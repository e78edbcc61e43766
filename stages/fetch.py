"""DVC stage `fetch`: resolve data.source (and data.folder) and write the two raw CSVs."""

from fmnist.core.config import load_params
from fmnist.core.errors import exit_on_error
from fmnist.core.stage_args import finish, parse_stage_args
from fmnist.data.sources import fetch


@exit_on_error
def main() -> None:
    args = parse_stage_args(__doc__, train="output train CSV", test="output test CSV")
    params = load_params(args.params)
    origin = fetch(params.data.source, params.data.folder, {"train": args.train, "test": args.test})
    print(f"fetch: wrote {args.train} and {args.test} from {origin}")


if __name__ == "__main__":
    main()
    finish()
