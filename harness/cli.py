"""The ``cmhook`` command line: one subcommand per job a filter author runs."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from importlib import metadata
from pathlib import Path

from ntddk_py import abi_table, resources
from registry_core.profiles import PROFILES

from . import build
from .isolation import HANG_SECONDS

ROOT = resources.examples_directory().parent
DEMO_FILTER = ROOT / "examples" / "filters" / "run_blocker.c"
DEMO_SCRIPT = ROOT / "examples" / "scenarios" / "persistence.script"


# Exit statuses, the same for every subcommand (README, "The command line").
EXIT_OK = 0  # everything held
EXIT_FAILED = 1  # an expectation, the verifier, a driver, a build or an input file failed; stderr says why
EXIT_USAGE = 2  # the command line itself is wrong (argparse's status)
EXIT_CRASHED = 3  # the machine crashed (a bugcheck on Windows) or ended early (a driver called exit)
EXIT_HUNG = 4  # a driver routine did not return within --hang-timeout: the watchdog stopped the machine
EXIT_STATUSES = f"""exit status:
  {EXIT_OK}  everything held: drivers loaded and unloaded cleanly, every expect held, no verifier finding
  {EXIT_FAILED}  something failed: an expectation, the verifier, a driver, a build or an input; stderr says why
  {EXIT_USAGE}  usage error: the command line is wrong
  {EXIT_CRASHED}  a driver crashed the machine (a bugcheck on Windows: stderr has the bugcheck report), or
     ended it early (exit() or exit_group() in driver code, whatever its status)
  {EXIT_HUNG}  a driver hung: a callback, DriverEntry or DriverUnload did not return within
     --hang-timeout seconds (stderr has the thread's stack)"""


def _seconds(text: str) -> float:
    """A positive number of seconds, for argparse."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def version() -> str:
    """cmhook's version: the installed distribution's, else harness.__version__ (a bare checkout)."""
    try:
        return metadata.version("cmhook")
    except metadata.PackageNotFoundError:
        import harness

        return getattr(harness, "__version__", "unknown")


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


def _add_compiler_options(parser: argparse.ArgumentParser) -> None:
    """-I and -D as the compiler spells them (-Iinc, -I inc, -DNAME=1); other single-dash options go to it."""
    parser.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                        help="also search DIR for #include files (a source's own folder is always searched)")
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]",
                        help="define a macro for every source")


def _compiler_flags(command: str, extra: list[str]) -> list[str] | None:
    """The pass-through flags; None (after saying why) if one is a mistyped long option of ours."""
    unknown = [flag for flag in extra if flag.startswith("--") and not flag.startswith("--param")]
    if unknown:
        print(f"cmhook {command}: error: unrecognized arguments: {' '.join(unknown)} "
              "(compiler options start with a single dash)", file=sys.stderr)
        return None
    return extra


def _build(args: argparse.Namespace, extra: list[str]) -> int:
    flags = _compiler_flags("build", extra)
    if flags is None:
        return EXIT_USAGE
    sources = [Path(source) for source in args.sources]
    output = Path(args.output) if args.output else sources[0].with_suffix(".so")
    try:
        built = build.compile_filter(sources, output, args.cc, flags, include_dirs=args.include_dirs,
                                     defines=args.defines)
    except build.BuildError as error:
        print(f"cmhook build: {error}", file=sys.stderr)
        return EXIT_FAILED
    if built.warnings:
        sys.stderr.write(built.warnings)  # a build that succeeded can still say what is wrong
    print(output)
    return EXIT_OK


def _driver_modules(args: argparse.Namespace, flags: list[str]) -> list[str]:
    """Each DRIVER as the module the job loads: a .so as is; a .c, or several joined by +, built (cached)
    where the sources live, its warnings on stderr. The module's stem is the first source's: the driver's name."""
    modules = []
    for spec in args.drivers:
        parts = spec.split("+") if "+" in spec and not Path(spec).exists() else [spec]
        if not all(part.endswith(".c") for part in parts):
            modules.append(spec)
            continue
        module = build.build_filter(*parts, cc=args.cc, include_dirs=args.include_dirs, defines=args.defines,
                                    extra=flags, on_warnings=lambda text: print(text, file=sys.stderr))
        modules.append(str(module))
    return modules


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    from .job import run_job

    flags = _compiler_flags("run", extra)
    if flags is None:
        return EXIT_USAGE
    if (flags or args.include_dirs or args.defines) and not any(part.endswith(".c") for spec in args.drivers
                                                                 for part in spec.split("+")):
        print("cmhook run: error: compiler options given, but no DRIVER is a C source", file=sys.stderr)
        return EXIT_USAGE
    if (args.export is None) != (args.export_file is None):
        print("cmhook run: error: --export KEY and -o FILE.reg go together", file=sys.stderr)
        return EXIT_USAGE
    for option, target in (("--trace", args.trace), ("-o", args.export_file)):
        problem = _cannot_write(target)
        if problem:  # said before anything is built or run, not after the whole run
            print(f"cmhook run: {option} {target}: {problem}", file=sys.stderr)
            return EXIT_FAILED
    try:
        drivers = _driver_modules(args, flags)
    except build.BuildError as error:
        print(f"cmhook run: {error}", file=sys.stderr)
        return EXIT_FAILED
    # --export: also after a failed run, the registry as it stands is what tells why.
    export = (args.export, args.export_file, args.regedit4) if args.export is not None else None
    return run_job(drivers, args.script, args.registry, args.profile, args.trace, cc=args.cc, export=export,
                   isolated=not args.in_process, hang_seconds=args.hang_timeout)


def _cannot_write(target: str | None) -> str | None:
    """Why a file cannot be written at target (its folder is missing, it is a folder), or None."""
    if target is None:
        return None
    path = Path(target)
    if path.is_dir():
        return os.strerror(errno.EISDIR)
    if not path.parent.is_dir():
        return os.strerror(errno.ENOENT if not path.parent.exists() else errno.ENOTDIR)
    return None


def _demo(args: argparse.Namespace) -> int:
    from .job import run_job

    print(f"cmhook demo: {DEMO_FILTER.relative_to(ROOT)} against {DEMO_SCRIPT.relative_to(ROOT)} "
          "on the embedded default registry\n")
    return run_job([str(DEMO_FILTER)], str(DEMO_SCRIPT), cc=args.cc)


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
        try:
            Path(args.output).write_bytes(data)
        except OSError as error:
            print(f"cmhook export: -o {args.output}: {error.strerror}", file=sys.stderr)
            return 1
    else:
        sys.stdout.buffer.write(data)
    return 0


class _Formatter(argparse.HelpFormatter):
    """argparse's help, but the exit-status epilog is printed as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text is EXIT_STATUSES:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmhook",
        description="Run Windows registry filters, built with gcc or clang, against an emulated registry.",
        epilog=EXIT_STATUSES, formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
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
                    f"Windows ({' '.join(build.FILTER_FLAGS)}). Several sources make one module; each is "
                    "compiled where it lives, so its local #includes resolve. Unknown single-dash options go to "
                    "the compiler (-O0, -Werror, -include config.h). Warnings go to stderr.")
    builder.add_argument("sources", nargs="+", metavar="FILTER.c")
    builder.add_argument("-o", "--output", metavar="FILTER.so", help="default: the first source's name with .so")
    _add_compiler_options(builder)
    builder.add_argument("--cc", choices=build.COMPILERS, default="gcc")
    builder.set_defaults(run=_build, takes_extra=True)

    runner = commands.add_parser(
        "run", help="run drivers against the emulated registry, driven by a registry script",
        description="Load each DRIVER (a .so as is; a .c, or several joined by + as in main.c+util.c, built "
                    "on the fly where the sources live, with -I, -D and unknown single-dash options given to "
                    "the compiler; its warnings on stderr), run the script's "
                    "operations as user-mode callers, unload the drivers in reverse order and check what they "
                    "left behind. Prints DbgPrint output, every operation with each callback's status, and a "
                    "summary. Exit status 0 only if every driver loaded and unloaded cleanly, every expect "
                    "held and the verifier found nothing.")
    runner.add_argument("drivers", nargs="+", metavar="DRIVER",
                        help="FILTER.so, FILTER.c or MAIN.c+OTHER.c...: one driver, named after its first file")
    _add_compiler_options(runner)
    runner.add_argument("--script", metavar="FILE", help="registry script (see harness/script.py for the format)")
    runner.add_argument("--registry", action="append", default=[], metavar="FILE.reg",
                        help="initial registry contents, applied before any driver is loaded (repeatable)")
    runner.add_argument("--profile", choices=list(PROFILES), default="2003")
    runner.add_argument("--trace", metavar="FILE.jsonl", help="write the trace here as JSON lines, not to the screen")
    runner.add_argument("--cc", choices=build.COMPILERS, default="gcc", help="compiler for .c drivers")
    runner.add_argument("--export", metavar="KEY",
                        help="after the script and the drivers' unload, write KEY's subtree (HKLM\\..., "
                             "\\REGISTRY\\...) to the -o file as a .reg file")
    runner.add_argument("-o", "--export-file", metavar="FILE.reg", help="where --export writes")
    runner.add_argument("--regedit4", action="store_true", help="--export as REGEDIT4 (ANSI), not version 5.00")
    runner.add_argument("--hang-timeout", type=_seconds, default=HANG_SECONDS, metavar="SECONDS",
                        help=f"how long a callback, DriverEntry or DriverUnload may run before the watchdog "
                             f"reports a hang and stops the machine (default {HANG_SECONDS:g})")
    runner.add_argument("--in-process", action="store_true",
                        help="run the machine in this process, not in a watched child: for a debugger (gdb "
                             "--args python -m cmhook run --in-process ...); a crash then kills cmhook itself "
                             "and nothing watches for hangs")
    runner.epilog, runner.formatter_class = EXIT_STATUSES, _Formatter
    runner.set_defaults(run=_run, takes_extra=True)

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
