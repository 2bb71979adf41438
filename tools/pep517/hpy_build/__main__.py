"""The `hpy-build` command (also `python -m hpy_build`).

    hpy-build new <directory> [--name MODULE] [--native]

creates a new hpy-rs project (hpy_build/new.py).
"""
import argparse
import sys

from . import new


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hpy-build", description="hpy-rs projects: Python extension modules in safe Rust")
    commands = parser.add_subparsers(dest="command", metavar="command")
    create = commands.add_parser(
        "new", help="create a project: Cargo.toml, src/lib.rs, pyproject.toml, tests/, .gitignore",
        description="Create a new hpy-rs project in DIRECTORY (missing or empty), named after it.")
    create.add_argument("directory")
    create.add_argument("--name", metavar="MODULE", help="the Python module's name (default: the directory's name, '-' as '_')")
    create.add_argument("--native", action="store_true",
                        help="build for CPython's own C API (one wheel per CPython version, no hpy runtime) "
                             "instead of HPy's universal ABI")
    args = parser.parse_args(argv)
    if args.command != "new":
        parser.print_help()
        return 2
    try:
        written = new.create(args.directory, module=args.name, abi="native" if args.native else "universal")
    except new.ProjectError as e:
        print("hpy-build new: error: %s" % e, file=sys.stderr)
        return 1
    print("created %s:" % args.directory)
    for path in written:
        print("    " + path)
    print("next: cd %s && pip install -e . pytest && pytest" % args.directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
