"""The ``cmhook`` command line: one subcommand per job a filter author runs."""

from __future__ import annotations

import argparse
import errno
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from ntddk_py import abi_table, resources
from registry_core.profiles import PROFILES

from . import build, coverage, sanitizers, verifier
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


def _add_instrument_options(parser: argparse.ArgumentParser) -> None:
    """--sanitize and --coverage (toolchain: harness/sanitizers.py, harness/coverage.py)."""
    parser.add_argument("--sanitize", metavar="address,undefined", default=None,
                        help="build with AddressSanitizer and/or UndefinedBehaviorSanitizer: a report stops the "
                             "machine and names the driver, routine and notification")
    parser.add_argument("--coverage", action="store_true",
                        help="build with gcov coverage; cmhook run prints each driver's own line coverage")


def _add_verifier_option(parser: argparse.ArgumentParser) -> None:
    """--verifier (harness/verifier.py)."""
    parser.add_argument("--verifier", metavar="OPTION,...", default=None, type=_verifier_choice,
                        help="Driver Verifier's options: names, the sets standard (the default), all and none, "
                             "-NAME to take one away (standard,-special-pool,low-resources=10%%:7); the options: "
                             + verifier.summary())


def _verifier_choice(text: str) -> str:
    try:
        return str(verifier.parse(text))
    except verifier.VerifierChoiceError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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
                                     defines=args.defines, sanitize=args.sanitize, coverage=args.coverage)
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
        if not all(build.is_source_path(part) for part in parts):
            modules.append(spec)
            continue
        module = build.build_filter(*parts, cc=args.cc, include_dirs=args.include_dirs, defines=args.defines,
                                    extra=flags, on_warnings=lambda text: print(text, file=sys.stderr),
                                    sanitize=args.sanitize, coverage=args.coverage)
        modules.append(str(module))
    return modules


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    from .job import run_job

    flags = _compiler_flags("run", extra)
    if flags is None:
        return EXIT_USAGE
    if (flags or args.include_dirs or args.defines) and not any(build.is_source_path(part) for spec in args.drivers
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
    # --- toolchain: sanitizer runtimes in the process, their reports and the coverage summary ---
    try:
        log_folder = _sanitizer_process(drivers, isolated=not args.in_process)
    except sanitizers.SanitizerError as error:
        print(f"cmhook run: {error}", file=sys.stderr)
        return EXIT_FAILED
    counted = [(Path(module).stem, Path(module)) for module in drivers if coverage.folder_of(Path(module)).is_dir()]
    for _, module in counted:
        coverage.reset(module)
    status = run_job(drivers, args.script, args.registry, args.profile, args.trace, cc=args.cc, export=export,
                     isolated=not args.in_process, hang_seconds=args.hang_timeout, verifier=args.verifier)
    text = sanitizers.reports(log_folder)
    if text:
        print("cmhook run: a sanitizer stopped the machine (the abort() of the report above); its own report:\n"
              f"{text.rstrip()}", file=sys.stderr)
    if args.coverage or counted:
        try:
            sys.stdout.write(coverage.text(counted))
        except FileNotFoundError as error:
            print(f"cmhook run: --coverage: {error}", file=sys.stderr)
    return status


def _sanitizer_process(modules: list[str], isolated: bool) -> str | None:
    """Make this process one the drivers' sanitizer runtimes work in: for an ASan build, start it
    again with the runtime preloaded (harness/sanitizers.py says why); the runtimes' options in the
    environment. Returns the folder their reports go to (isolated runs: the parent prints them)."""
    paths = [Path(module) for module in modules if Path(module).is_file()]
    if not any("asan" in library or "ubsan" in library for path in paths
               for library in sanitizers.needed_libraries(path)):
        return None
    folder = os.environ.get(sanitizers.LOG_VARIABLE) or (tempfile.mkdtemp(prefix="cmhook-sanitizer-")
                                                         if isolated else None)
    environment = sanitizers.reexec_environment(paths, folder)
    if environment is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable, "-m", "harness", *_ARGV], environment)
    return folder


def _fuzz(args: argparse.Namespace, extra: list[str]) -> int:
    """cmhook fuzz: scenarios until one misbehaves, the reproducer written, its command printed."""
    import tempfile

    from . import fuzz

    flags = _compiler_flags("fuzz", extra)
    if flags is None:
        return EXIT_USAGE
    problem = _cannot_write(f"{args.output}.script")
    if problem:
        print(f"cmhook fuzz: -o {args.output}: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        drivers = _driver_modules(args, flags)
    except build.BuildError as error:
        print(f"cmhook fuzz: {error}", file=sys.stderr)
        return EXIT_FAILED
    operations = tuple(args.operations.split(",")) if args.operations else tuple(fuzz.OPERATIONS)
    unknown = [name for name in operations if name not in fuzz.OPERATIONS]
    if unknown:
        print(f"cmhook fuzz: error: --operations: unknown {', '.join(unknown)}; the operations are "
              f"{','.join(fuzz.OPERATIONS)}", file=sys.stderr)
        return EXIT_USAGE
    roots = tuple(args.key) or fuzz.DEFAULT_KEYS
    images = tuple(args.image) or fuzz.DEFAULT_IMAGES
    with tempfile.TemporaryDirectory(prefix="cmhook-fuzz-") as workdir:
        fuzzer = fuzz.Fuzzer(drivers, Path(workdir), args.profile, args.cc, args.hang_timeout, args.verifier)
        try:
            fuzzer.warm_up()
        except Exception as error:  # noqa: BLE001 - the same failure, reported by the first scenario's machine
            print(f"cmhook fuzz: starting a kernel failed: {error}", file=sys.stderr)
            return EXIT_FAILED
        seconds = args.time if args.time is not None else (float("inf") if args.examples else 60.0)
        result = fuzz.fuzz(fuzzer, seconds=seconds, examples=args.examples, base_seed=args.seed,
                           roots=roots, images=images, operations=operations)
    if result.verdict is None:
        print(f"cmhook fuzz: {result.examples} scenarios, nothing found (seed {args.seed})")
        return EXIT_OK
    reg, script_file = fuzz.write_reproducer(result, Path(args.output))
    verdict = result.verdict
    print(f"cmhook fuzz: after {result.examples} scenarios (seed {args.seed}): {verdict.headline()}")
    print(f"\n{verdict.text.rstrip()}\n", file=sys.stderr)
    shown = " ".join(args.drivers)
    print(f"reproducer: {reg} and {script_file}, run with:\n"
          f"  cmhook run --profile {args.profile} --registry {reg} --script {script_file} {shown}")
    return {"bugcheck": EXIT_CRASHED, "ended": EXIT_CRASHED, "hang": EXIT_HUNG}.get(verdict.kind, EXIT_FAILED)


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
    if not args.coverage:
        return run_job([str(DEMO_FILTER)], str(DEMO_SCRIPT), cc=args.cc)
    # --- toolchain: the demo filter's own line coverage for the demo scenario ---
    module = build.build_filter(DEMO_FILTER, cc=args.cc, coverage=True,
                                on_warnings=lambda text: print(text, file=sys.stderr))
    coverage.reset(module)
    status = run_job([str(module)], str(DEMO_SCRIPT), cc=args.cc)
    sys.stdout.write(coverage.text([(module.stem, module)]))
    return status


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
    _add_instrument_options(builder)
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
    _add_instrument_options(runner)
    _add_verifier_option(runner)
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

    fuzzer = commands.add_parser(
        "fuzz", help="explore drivers with generated registries and operations until one misbehaves",
        description="Run generated scenarios (an initial registry under the --key roots and a script of "
                    "operations from user-mode processes, with hostile names, lengths and information classes) "
                    "against the DRIVERs, each in its own watched machine, until one ends as `cmhook run` would "
                    "not end with status 0 (a verifier finding, a bugcheck, a hang, a load or unload failure), "
                    "or the time or the examples run out. The failing scenario is shrunk (hypothesis) and written "
                    "as OUTPUT.reg and OUTPUT.script, which `cmhook run --registry OUTPUT.reg --script "
                    "OUTPUT.script DRIVER...` runs again. Same seed, same scenarios.")
    fuzzer.add_argument("drivers", nargs="+", metavar="DRIVER", help="as for cmhook run")
    _add_compiler_options(fuzzer)
    fuzzer.add_argument("--key", action="append", default=[], metavar="KEY",
                        help="a key under which the registry is generated and explored (repeatable; default "
                             "HKEY_LOCAL_MACHINE\\SOFTWARE\\Fuzz), written as in .reg files")
    fuzzer.add_argument("--image", action="append", default=[], metavar="IMAGE",
                        help="a process image the operations come from (repeatable; default: four images)")
    fuzzer.add_argument("--operations", metavar="NAME,...",
                        help="only these script commands (default all: create,open,set,query,querykey,enumkeys,"
                             "enumvalues,deletevalue,deletekey,rename,flush,advance; `as` switches always come)")
    fuzzer.add_argument("--seed", type=int, default=0, help="the search's seed (default 0)")
    fuzzer.add_argument("--time", type=_seconds, metavar="SECONDS",
                        help="stop after this long with nothing found (default 60, or no limit with --examples)")
    fuzzer.add_argument("--examples", type=int, metavar="N", help="stop after N scenarios with nothing found")
    fuzzer.add_argument("-o", "--output", default="cmhook-fuzz", metavar="OUTPUT",
                        help="where the reproducer goes: OUTPUT.reg and OUTPUT.script (default cmhook-fuzz)")
    fuzzer.add_argument("--profile", choices=list(PROFILES), default="2003")
    fuzzer.add_argument("--cc", choices=build.COMPILERS, default="gcc", help="compiler for .c drivers")
    fuzzer.add_argument("--hang-timeout", type=_seconds, default=5.0, metavar="SECONDS",
                        help="as for cmhook run (default 5)")
    _add_verifier_option(fuzzer)
    fuzzer.epilog, fuzzer.formatter_class = EXIT_STATUSES, _Formatter
    fuzzer.set_defaults(run=_fuzz, takes_extra=True, sanitize=None, coverage=False)  # not yet under fuzz

    demo = commands.add_parser("demo", help="a shipped filter blocks a persistence attempt (the main job's demo)")
    demo.add_argument("--cc", choices=build.COMPILERS, default="gcc")
    demo.add_argument("--coverage", action="store_true", help="also print the filter's line coverage for the demo")
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


_ARGV: list[str] = []  # this command's arguments, for starting it again (an ASan run's preload)


def main(argv: list[str] | None = None) -> int:
    _ARGV[:] = list(sys.argv[1:] if argv is None else argv)
    args, extra = build_parser().parse_known_args(argv)
    if extra and not getattr(args, "takes_extra", False):
        build_parser().error(f"unrecognized arguments: {' '.join(extra)}")
    return args.run(args, extra) if getattr(args, "takes_extra", False) else args.run(args)
