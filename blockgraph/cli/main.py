"""The `blockgraph` command: argument parsing and printing over the modules that do the work.

    blockgraph run PAGE... [--feed ID=FILE.npy|ID=VALUE]... [--feeds FILE.npz] [--param NAME=VALUE]...
                           [--out FILE.npz] [--json]
    blockgraph check PAGE... [--json]
    blockgraph import PAGE.svg -o PAGE.yaml
    blockgraph diff A.npz B.npz [--atol X] [--rtol X] [--ulp N]
    blockgraph blocks [NAME] [--json]
    blockgraph schema [-o FILE]

Exit status: 0 all blocks ran, 1 an invalid page or a failed block, 2 a usage error, 130 Ctrl-C.
Heavy modules (numpy, pydantic, the block library) are imported only by the commands that need them;
this module imports only what Python has loaded at start-up, so that `entry` takes over Ctrl-C
within a few milliseconds of the process starting.
"""
from __future__ import annotations

import os
import signal
import sys


def _parser() -> argparse.ArgumentParser:
    import argparse

    from . import authoring
    ap = argparse.ArgumentParser(prog="blockgraph", description="Run TensorFlow-style block diagrams "
                                 "(YAML pages) on numpy, exact to TensorFlow.")
    ap.add_argument("--version", action="store_true", help="print the version and exit")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run pages and print every block's results")
    run.add_argument("pages", nargs="+", metavar="PAGE", help="YAML pages or enuSpace pages")
    run.add_argument("--out", metavar="FILE.npz", help="write every computed output (key BLOCK.PORT)")
    run.add_argument("--json", action="store_true", help="print results as JSON on stdout")
    run.add_argument("--show", action="append", default=[], metavar="ID[.PORT]",
                     help="print the full values of an output after the table (repeatable)")
    _run_options(run)
    run.add_argument("--check-saved", action="store_true",
                     help="enuSpace pages: compare every result with the one saved in the page "
                          "(exit 0 only if all match)")
    run.add_argument("--from-saved", action="store_true",
                     help="enuSpace pages: start every Variable from its saved value (result_ref)")

    imp = sub.add_parser("import", help="convert an enuSpace page (SVG or JSON) to a YAML page")
    imp.add_argument("page", metavar="PAGE")
    imp.add_argument("-o", "--output", required=True, metavar="FILE.yaml",
                     help="the YAML page to write (.dat arrays go to .npy files beside it)")
    imp.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    sweep = sub.add_parser("sweep", help="run one page over many feeds or attr settings")
    sweep.add_argument("page", metavar="PAGE")
    src = sweep.add_mutually_exclusive_group(required=True)
    src.add_argument("--feeds-dir", metavar="DIR", help="one run per .npz file of feeds in DIR")
    src.add_argument("--grid", action="append", metavar="BLOCK.ATTR=V1,V2,...",
                     help="one run per combination of these attr (BLOCK.ATTR) or parameter (NAME) "
                          "values (repeatable)")
    sweep.add_argument("--zip", action="store_true",
                       help="vary the --grid lists together (run i takes value i of each; equal "
                            "lengths) instead of their product")
    sweep.add_argument("--summarize", action="append", default=[], metavar="BLOCK.PORT[:STAT]",
                       help="add a column of this output to the index (its value when it has one "
                            "element, else STAT: mean (default), min, max, std, sum, norm); repeatable")
    _param_option(sweep)
    sweep.add_argument("--out", required=True, metavar="OUTDIR",
                       help="folder for one results .npz per run and index.json/index.csv")
    sweep.add_argument("--cycles", type=_positive, default=1, metavar="N",
                       help="cycles of each run of a page with Variables (each run is one task)")
    sweep.add_argument("--keep", action="append", default=[], metavar="PATTERN",
                       help="write only results whose BLOCK.PORT matches this glob (repeatable)")
    authoring.cache_option(sweep)
    _executor_options(sweep)
    _common(sweep)

    render = sub.add_parser("render", help="draw a page as a block diagram (SVG, PNG or HTML)")
    render.add_argument("page", metavar="PAGE")
    render.add_argument("-o", "--output", metavar="FILE", help=".svg, .png or .html (default PAGE.svg)")
    render.add_argument("--results", metavar="RESULTS.npz", help="annotate ports with these results")
    render.add_argument("--run", action="store_true", help="run the page first and annotate")
    _feed_options(render)
    _param_option(render)
    _common(render)

    show = sub.add_parser("show", help="print (and plot) results saved by run --out")
    show.add_argument("results", metavar="RESULTS.npz")
    show.add_argument("key", nargs="?", metavar="BLOCK[.PORT]")
    show.add_argument("--plot", metavar="FILE.png", help="save a histogram (and heatmap) as PNG; "
                      "without a key, every tensor in a grid")
    show.add_argument("--per-channel", action="store_true",
                      help="with --plot: the distribution of each channel (last axis)")
    show.add_argument("--page", metavar="PAGE.yaml",
                      help="the page that made the results: name each block's op, count FakeQuant "
                           "levels on the nudged grid, plot against the block's real input")
    show.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    check = sub.add_parser("check", help="validate pages without running them")
    check.add_argument("pages", nargs="+", metavar="PAGE")
    check.add_argument("--json", action="store_true", help="print the problems as JSON")
    _param_option(check)
    _common(check)

    diff = sub.add_parser("diff", help="compare two results files key by key")
    diff.add_argument("a", metavar="A.npz")
    diff.add_argument("b", metavar="B.npz", help="the reference (relative differences are to it)")
    diff.add_argument("--atol", type=_tolerance, default=0.0, metavar="X",
                      help="absolute tolerance: |a - b| <= atol + rtol * |b| counts as equal")
    diff.add_argument("--rtol", type=_tolerance, default=0.0, metavar="X", help="relative tolerance")
    diff.add_argument("--ulp", type=_tolerance, default=0, metavar="N",
                      help="elements at most N units in the last place apart count as equal")
    diff.add_argument("--json", action="store_true", help="print the comparison as JSON")
    diff.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    blocks = sub.add_parser("blocks", help="list the blocks, or show one")
    blocks.add_argument("name", nargs="?", metavar="NAME")
    blocks.add_argument("--json", action="store_true")
    blocks.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    schema = sub.add_parser("schema", help="print the JSON Schema of the page format")
    schema.add_argument("-o", "--output", metavar="FILE", help="write it to FILE instead")
    schema.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    authoring.add_commands(sub, _run_options, _common)
    return ap


def _run_options(p):
    """The options of a run, shared by run, watch and serve."""
    from . import authoring
    _feed_options(p)
    _param_option(p)
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failing block")
    p.add_argument("--keep", action="append", default=[], metavar="PATTERN",
                   help="keep only results whose BLOCK.PORT matches this glob (repeatable); "
                        "other intermediates are freed after their last consumer ran")
    authoring.cache_option(p)
    authoring.only_option(p)
    _cycle_options(p)
    _executor_options(p)
    _common(p)


def _feed_options(p):
    p.add_argument("--feed", action="append", default=[], metavar="ID=VALUE",
                   help="feed a placeholder: VALUE is a .npy file or a literal read as YAML like "
                        "the page ('x=[1, 2, 3]', 'x={value: [1, 2], dtype: int64}'); repeatable")
    p.add_argument("--feeds", metavar="FILE.npz", help="feed placeholders from an .npz (keys = ids)")
    p.add_argument("--cast-feeds", action="store_true",
                   help="convert a feed to its placeholder's dtype when no value changes "
                        "(refused, naming the first element that would change, otherwise)")


def _param_option(p):
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a page parameter (VALUE read as YAML like the page); repeatable")


def _tolerance(text: str) -> float:
    import argparse
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not x >= 0:
        raise argparse.ArgumentTypeError("must be a number >= 0")
    return x


def _cycle_options(p):
    p.add_argument("--cycles", type=_positive, default=1, metavar="N",
                   help="run N cycles: Variables keep their values between cycles (default 1)")
    p.add_argument("--trace", action="append", default=[], metavar="GLOB",
                   help="record the matching BLOCK.PORT outputs of every cycle (repeatable), saved "
                        "as trace:BLOCK.PORT with a leading cycle axis in --out or --trace-out")
    p.add_argument("--trace-out", metavar="FILE.npz", help="write the traces to this file")
    p.add_argument("--state", metavar="FILE.npz",
                   help="start from these Variable values (keys = Variable ids)")
    p.add_argument("--save-state", metavar="FILE.npz",
                   help="write the Variables' values after the last cycle (keys = Variable ids)")


def _positive(text: str) -> int:
    import argparse
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _executor_options(p):
    p.add_argument("--executor", choices=["sequential", "threads", "dask"], default="sequential",
                   help="how independent blocks run (default: sequential, the reference)")
    p.add_argument("--workers", type=int, metavar="N", help="threads or dask workers")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask: tcp://HOST:PORT of a running scheduler, or 'local' for a LocalCluster")


def _bytes(text: str) -> int:
    """`--max-bytes` values: 1000000, 2e9, 512M, 4G, 1GiB."""
    import argparse

    from ..core.budget import parse_size
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _common(p):
    p.add_argument("--allow-outside", action="store_true",
                   help="let Const files point outside the page's folder")
    p.add_argument("--max-bytes", type=_bytes, default=-1, metavar="SIZE",
                   help="most a block's outputs may need (default: half the physical memory)")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks of internal errors")


_interrupts = 0      # Ctrl-C presses seen by _interrupt


def _interrupt(signum, frame):
    """Ctrl-C: raise KeyboardInterrupt, and ask a running executor to stop at the next block
    (native code calling back into Python swallows the exception)."""
    global _interrupts
    _interrupts += 1
    _request_stop()
    raise KeyboardInterrupt


def _request_stop():
    """Ask a running executor to stop: `run.cancel` holds the Event (not imported yet: no run is
    going; half imported: Ctrl-C came in the middle of importing it, nothing runs yet either)."""
    stop = getattr(sys.modules.get("blockgraph.run.cancel"), "STOP", None)
    if stop is not None:
        stop.set()


def _unraisable(hook_args):
    """A KeyboardInterrupt swallowed by native code (e.g. numba's compiler calling back into
    Python) becomes a stop request at the next block, not a printed traceback."""
    if hook_args.exc_type is KeyboardInterrupt:
        _request_stop()
        return
    sys.__unraisablehook__(hook_args)


def _parse(argv):
    """The parsed arguments; an unknown option prints the usage of its subcommand (not the
    top-level one) and exits 2, as argparse does."""
    from .authoring import cache_flag_before_page
    ap = _parser()
    args, extra = ap.parse_known_args(cache_flag_before_page(sys.argv[1:] if argv is None
                                                             else list(argv)))
    if extra:
        sub = next((a for a in ap._actions if a.dest == "command"), None)
        parser = sub.choices.get(args.command) if sub is not None and args.command else None
        (parser or ap).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv=None) -> int:
    import threading
    args = _parse(argv)
    if args.version:
        from .. import __version__
        print(f"blockgraph {__version__}")
        return 0
    if not args.command:
        _parser().print_help()
        return 2
    main_thread = threading.current_thread() is threading.main_thread()
    seen = _interrupts
    previous = signal.getsignal(signal.SIGINT)
    previous_hook = sys.unraisablehook
    try:
        if main_thread:
            signal.signal(signal.SIGINT, _interrupt)
        sys.unraisablehook = _unraisable
        from . import commands
        return getattr(commands, {"import": "import_page"}.get(args.command, args.command))(args)
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # never a traceback unless asked
        if _interrupts > seen:      # Ctrl-C turned into another error (numpy's import does so)
            return _interrupted()
        usage = getattr(sys.modules.get("blockgraph.core.errors"), "UsageError", None)
        if usage is not None and isinstance(e, usage) and not getattr(args, "debug", False):
            print(f"blockgraph: error: {e}", file=sys.stderr)     # a bad --param, ...
            return 2
        if getattr(args, "debug", False):
            raise
        print(f"blockgraph: internal error: {type(e).__name__}: {e} (rerun with --debug for a "
              "traceback)", file=sys.stderr)
        return 1
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
        sys.unraisablehook = previous_hook
        stop = getattr(sys.modules.get("blockgraph.run.cancel"), "STOP", None)
        if stop is not None:
            stop.clear()


def _interrupted() -> int:
    """Say so and return 130 (a second Ctrl-C while saying it changes nothing)."""
    try:
        print("blockgraph: interrupted", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    return 130


def _exit_now(signum, frame):
    """Ctrl-C once the command has finished (flushing output, stopping threads): end at once."""
    os._exit(130)


def entry():
    """Console-script entry point: from its first line, Ctrl-C ends the process with status
    130 and one line, never a traceback (argument parsing and imports included). After Ctrl-C,
    blocks still computing in worker threads (a long numpy call cannot be interrupted) do not
    hold the exit: the process ends at once."""
    signal.signal(signal.SIGINT, _interrupt)
    try:
        code = main()
    except KeyboardInterrupt:       # between main's own handlers, or in its last lines
        code = _interrupted()
    signal.signal(signal.SIGINT, _exit_now)
    import threading
    if code == 130 and threading.active_count() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
