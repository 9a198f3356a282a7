"""The ``cmhook`` command line: one subcommand per job a filter author runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ntddk_py import abi_table

from . import build


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


def _build(args: argparse.Namespace, extra: list[str]) -> int:
    source = Path(args.source)
    output = Path(args.output) if args.output else source.with_suffix(".so")
    try:
        build.compile_filter(source, output, args.cc, extra)
    except build.BuildError as error:
        print(f"cmhook build: {error}", file=sys.stderr)
        return 1
    print(output)
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
    builder = commands.add_parser(
        "build", help="compile a filter into a module the harness loads",
        description="Compile a filter against include/ntddk.h with the flags that make it behave as on "
                    f"Windows ({' '.join(build.FILTER_FLAGS)}). Unknown options go to the compiler.")
    builder.add_argument("source", metavar="FILTER.c")
    builder.add_argument("-o", "--output", metavar="FILTER.so", help="default: the source's name with .so")
    builder.add_argument("--cc", choices=build.COMPILERS, default="gcc")
    builder.set_defaults(run=_build, takes_extra=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args, extra = build_parser().parse_known_args(argv)
    if extra and not getattr(args, "takes_extra", False):
        build_parser().error(f"unrecognized arguments: {' '.join(extra)}")
    return args.run(args, extra) if getattr(args, "takes_extra", False) else args.run(args)
