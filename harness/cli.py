"""The ``cmhook`` command line: one subcommand per job a filter author runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ntddk_py import abi_table

from . import build

ROOT = Path(__file__).resolve().parents[1]
DEMO_FILTER = ROOT / "examples" / "filters" / "run_blocker.c"
DEMO_SCRIPT = ROOT / "examples" / "scenarios" / "persistence.script"


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


def _run(args: argparse.Namespace) -> int:
    from .job import Job

    return Job(args.drivers, args.script, args.registry, args.profile, args.trace, cc=args.cc).run().exit_code


def _demo(args: argparse.Namespace) -> int:
    from .job import Job

    print(f"cmhook demo: {DEMO_FILTER.relative_to(ROOT)} against {DEMO_SCRIPT.relative_to(ROOT)} "
          "on the embedded default registry\n")
    return Job([str(DEMO_FILTER)], str(DEMO_SCRIPT), cc=args.cc).run().exit_code


def _export(args: argparse.Namespace) -> int:
    from registry_core import regfile
    from registry_core.registry import Registry

    registry = Registry()
    try:
        for path in args.registry:
            failures = regfile.apply(registry, regfile.load(path))
            if failures:
                raise regfile.RegFileError(f"{path}: {failures[0][0]} failed")
        data = regfile.export(registry, args.key, regfile.HEADER_4 if args.regedit4 else regfile.HEADER_5)
    except regfile.RegFileError as error:
        print(f"cmhook export: {error}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
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

    runner = commands.add_parser(
        "run", help="run drivers against the emulated registry, driven by a registry script",
        description="Load each DRIVER (a .c is built on the fly, a .so is loaded as is), run the script's "
                    "operations as user-mode callers, unload the drivers in reverse order and check what they "
                    "left behind. Prints DbgPrint output, every operation with each callback's status, and a "
                    "summary. Exit status 0 only if every driver loaded and unloaded cleanly, every expect "
                    "held and the verifier found nothing.")
    runner.add_argument("drivers", nargs="+", metavar="DRIVER")
    runner.add_argument("--script", metavar="FILE", help="registry script (see harness/script.py for the format)")
    runner.add_argument("--registry", action="append", default=[], metavar="FILE.reg",
                        help="initial registry contents, applied before any driver is loaded (repeatable)")
    runner.add_argument("--profile", choices=["2003", "xp"], default="2003")
    runner.add_argument("--trace", metavar="FILE.jsonl", help="write the trace here as JSON lines, not to the screen")
    runner.add_argument("--cc", choices=build.COMPILERS, default="gcc", help="compiler for .c drivers")
    runner.set_defaults(run=_run)

    demo = commands.add_parser("demo", help="a shipped filter blocks a persistence attempt (the main job's demo)")
    demo.add_argument("--cc", choices=build.COMPILERS, default="gcc")
    demo.set_defaults(run=_demo)

    exporter = commands.add_parser("export", help="write a subtree of the registry as a .reg file",
                                   description="Export KEY (HKLM\\..., HKEY_USERS\\... or \\REGISTRY\\...) "
                                               "of the embedded default registry, plus any --registry files.")
    exporter.add_argument("key", metavar="KEY")
    exporter.add_argument("-o", "--output", metavar="FILE.reg")
    exporter.add_argument("--registry", action="append", default=[], metavar="FILE.reg")
    exporter.add_argument("--regedit4", action="store_true", help="REGEDIT4 (ANSI) instead of version 5.00")
    exporter.set_defaults(run=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args, extra = build_parser().parse_known_args(argv)
    if extra and not getattr(args, "takes_extra", False):
        build_parser().error(f"unrecognized arguments: {' '.join(extra)}")
    return args.run(args, extra) if getattr(args, "takes_extra", False) else args.run(args)
