"""The ``cmhook`` command line: one subcommand per job a filter author runs."""

from __future__ import annotations

import argparse
import sys

from ntddk_py import abi_table


def _abi(args: argparse.Namespace) -> int:
    types = args.types or (list(abi_table.RECORDS) if args.all else abi_table.spec_types())
    try:
        table = abi_table.rows(types)
    except KeyError as error:
        print(f"cmhook abi: {error.args[0]}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(abi_table.render_json(table))
        return 0
    sys.stdout.write(abi_table.render_text(table))
    if not args.types:
        sys.stdout.write(abi_table.render_notify_classes())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmhook",
        description="Run Windows registry filters, built with gcc or clang, against an emulated registry.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    abi = commands.add_parser(
        "abi", help="print the Windows x64 layout of the specification's types",
        description="Print offset and size of every member of the registry-callback structs "
                    "(Windows x64 layout, as include/ntddk.h gives it to gcc, clang, cffi and ctypes).",
    )
    abi.add_argument("types", nargs="*", metavar="TYPE", help="only these structs (e.g. UNICODE_STRING)")
    abi.add_argument("--all", action="store_true", help="every struct and union of include/ntddk.h")
    abi.add_argument("--json", action="store_true", help="machine-readable rows")
    abi.set_defaults(run=_abi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
