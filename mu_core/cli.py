"""`mu-book`: list, run and build the book's chapters, and run the benchmarks."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from . import book, presets
from .errors import MuError, check_choice
from .persample import memory_budget


PRESET_HELP = f"{', '.join(presets.PRESETS)}, or a variant that `mu-book list` shows"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # clean up like Ctrl-C: finished work is kept
    try:
        return args.handler(args)
    except MuError as error:
        print(f"mu-book: error: {error}", file=sys.stderr)
        return 1 if isinstance(error, book.ChapterFailed) and not error.bad_input else 2
    except KeyboardInterrupt:
        print("mu-book: interrupted; finished chapters and cached models are kept.",
              file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`mu-book list | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mu-book", description=__doc__)
    parser.add_argument("--root", help="the repository (default: found from the cwd)")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser(
        "list", help="chapters from _toc.yml: titles, presets, and the published run's "
                     "preset and verdict counts")
    listing.set_defaults(handler=_list)

    run = commands.add_parser("run", help="execute chapters with a preset")
    run.add_argument("chapters", nargs="*", help="slug, number or name (default: all)")
    run.add_argument("--preset", default="cpu", help=PRESET_HELP)
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                     help="override a parameter (value read as YAML); repeatable")
    run.add_argument("--out", help="where executed notebooks go (default: book/notebooks; "
                                   "dry runs: dry-runs/)")
    run.add_argument("--dry-run", action="store_true",
                     help="the preset on synthetic data of its datasets' shapes with every "
                          "budget cut: proves it runs and estimates the real run's cost")
    run.set_defaults(handler=_run)

    claims = commands.add_parser(
        "claims", help="every executed chapter's claims and verdicts, from its results JSON")
    claims.add_argument("chapters", nargs="*", help="slug, number or name (default: all)")
    claims.add_argument("--out", help="where the executed chapters are (default: "
                                      "book/notebooks)")
    claims.set_defaults(handler=_claims)

    build = commands.add_parser("build", help="run every chapter, then build the HTML book")
    build.add_argument("--preset", default="cpu", help=PRESET_HELP)
    build.add_argument("--no-run", action="store_true",
                       help="build from the chapters already executed")
    build.add_argument("--mixed-presets", action="store_true",
                       help="build even when the executed chapters ran at different presets "
                            "(refused by default)")
    build.set_defaults(handler=_build)

    sweep = commands.add_parser(
        "sweep", help="run a chapter at every point of a parameter grid (resumable)")
    sweep.add_argument("chapter", help="slug, number or name")
    sweep.add_argument("--preset", default="cpu", help=PRESET_HELP)
    sweep.add_argument("-g", "--grid", action="append", default=[], metavar="KEY=V1,V2",
                       help="a parameter's values (each read as YAML); the points are the "
                            "Cartesian product of every -g; repeatable")
    sweep.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                       help="a value fixed for every point; repeatable")
    sweep.add_argument("--engine", default="local",
                       help="local (one point after another, the default) or ray")
    sweep.add_argument("--address", help="join the Ray cluster at this address (--engine "
                                         "ray; default: start a local Ray instance)")
    sweep.add_argument("--cpus-per-run", type=int, default=1, metavar="N",
                       help="CPU threads of each point, on every engine (default 1: a "
                            "point's numbers do not depend on where it ran)")
    sweep.add_argument("--gpus-per-run", type=float, default=None, metavar="N",
                       help="GPUs Ray reserves per point (default: 1 when the cluster has "
                            "GPUs, else 0; 0.5 puts two points on one GPU)")
    sweep.add_argument("--name", help="the sweep's folder sweeps/NAME (default: "
                                      "<chapter>-<preset>)")
    sweep.add_argument("--out", help="where the sweep's folder goes (default: sweeps/ in "
                                     "the project)")
    sweep.set_defaults(handler=_sweep)

    data = commands.add_parser("data", help="datasets for real runs")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    download = data_commands.add_parser(
        "download", help="fetch datasets into $MU_DATA_DIR ahead of a run (for Colab, and "
                         "for clusters whose GPU nodes are offline)")
    download.add_argument("names", nargs="+", help="dataset names, e.g. cifar10 svhn")
    download.set_defaults(handler=_download)

    colab = commands.add_parser(
        "sync-colab", help="rewrite every chapter's Colab install cell from _config.yml's "
                           "repository url and branch")
    colab.set_defaults(handler=_sync_colab)

    bench = commands.add_parser("bench", help="benchmarks: ratios measured side by side")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions")
    bench.add_argument("--calibrate", nargs="+", metavar="CHAPTER",
                       help="only the dry run's price beside the cold run, for these chapters "
                            "('all': every chapter) at --preset")
    bench.add_argument("--preset", default="cpu", help="the preset --calibrate runs (default cpu)")
    bench.set_defaults(handler=_bench)
    return parser


def _root(args) -> Path:
    return book.project_root(args.root)


def _list(args) -> int:
    root = _root(args)
    for chapter in book.chapters(root):
        print(f"{chapter.slug}  {chapter.title()}\n"
              f"    presets: {', '.join(chapter.presets(root)) or 'none'}; "
              f"{_published(book.output_dir(root), chapter.slug)}")
    return 0


def _published(out: Path, slug: str) -> str:
    """The published run of `slug` in a few words: its preset and verdict counts."""
    from . import verdicts
    from .claims import counts

    preset, claims = book.published_preset(out, slug), verdicts.gather(out, [slug])[slug]
    if preset is None or claims is None:
        return "published run: not run"
    verdicts = ", ".join(f"{n} {v}" for v, n in counts(claims).items()) if claims else \
        "no claims"
    return f"published run: {preset} preset, {verdicts}"


def _selected(root: Path, names: list[str]) -> list[book.ChapterSource]:
    return [book.find_chapter(root, n) for n in names] if names else book.chapters(root)


def _run(args) -> int:
    root = _root(args)
    memory_budget()  # a malformed $MU_MEMORY_BUDGET is refused before any chapter runs
    selected = _selected(root, args.chapters)
    for chapter in selected:  # every chapter's parameters are checked before any runs
        book.chapter_parameters(root, chapter, args.preset, args.param)
    return _run_all(root, selected, args.preset, args.param, args.out, dry_run=args.dry_run)


def _run_all(root, selected, preset, overrides, out, *, dry_run: bool = False) -> int:
    from .progress import Outcome, summary_table

    failures, outcomes = [], []
    for chapter in selected:
        kind = f"{preset}, dry run" if dry_run else preset
        print(f"running {chapter.slug} ({kind}) ...", flush=True)
        start = time.perf_counter()
        live = sys.stderr.isatty()  # a log gets a line per finished cell or loop instead
        try:
            results = book.run_chapter(root, chapter, preset, overrides,
                                       Path(out) if out else None, dry_run=dry_run,
                                       progress=live, log=not live)
            print(f"  done: {results}")
            if dry_run:
                print(f"  {book.dry_run_summary(results)}")
            outcome = ("finished", str(results))
        except book.ChapterFailed as error:
            print(f"mu-book: error: {error}", file=sys.stderr)
            failures.append((chapter.slug, error))
            outcome = ("refused" if error.bad_input else "failed", "none")
        outcomes.append(Outcome(chapter.slug, kind, time.perf_counter() - start, *outcome))
    print(summary_table(outcomes))
    mixed = None if dry_run or out else book.mixed_presets(
        book.output_dir(root), [c.slug for c in book.chapters(root)])
    if mixed:
        print(f"mu-book: note: the book now holds chapters of different presets ({mixed}); "
              "mu-book build refuses it unless given --mixed-presets.", file=sys.stderr)
    if len(failures) > 1:
        print(f"mu-book: {len(failures)} chapter(s) failed: "
              f"{', '.join(slug for slug, _ in failures)}", file=sys.stderr)
    if failures:
        return 2 if all(error.bad_input for _, error in failures) else 1
    return 0


def _claims(args) -> int:
    from . import verdicts

    root = _root(args)
    out = Path(args.out) if args.out else book.output_dir(root)
    found = verdicts.gather(out, [c.slug for c in _selected(root, args.chapters)])
    print(verdicts.terminal(found, width=max(60, shutil.get_terminal_size().columns - 22)))
    return 0 if any(claims is not None for claims in found.values()) else 1


def _build(args) -> int:
    root = _root(args)
    if not args.no_run:
        memory_budget()
        selected = book.chapters(root)
        for chapter in selected:
            book.chapter_parameters(root, chapter, args.preset)
        status = _run_all(root, selected, args.preset, [], None)
        if status:
            print("mu-book: the HTML book was not built; executed chapters are kept in "
                  f"{book.output_dir(root)}.", file=sys.stderr)
            return status
    unfinished = {c.slug: book.unfinished(book.output_dir(root), c.slug)
                  for c in book.chapters(root)}
    unfinished = {slug: why for slug, why in unfinished.items() if why}
    if unfinished:
        print("mu-book: error: the book is built from finished chapters only: "
              + "; ".join(f"{slug} {why}" for slug, why in unfinished.items())
              + "; run mu-book build without --no-run.", file=sys.stderr)
        return 2
    mixed = book.mixed_presets(book.output_dir(root), [c.slug for c in book.chapters(root)])
    if mixed and not args.mixed_presets:
        print(f"mu-book: error: the book's chapters ran at different presets: {mixed}; rerun "
              "them at one preset, or pass --mixed-presets to build it anyway.",
              file=sys.stderr)
        return 2
    index = book.build_html(root)
    print(f"book built: {index}")
    return 0


def _sweep(args) -> int:
    from . import sweep

    memory_budget()
    planned = sweep.plan(_root(args), args.chapter, args.preset, args.grid, args.param,
                         name=args.name, out=args.out, engine=args.engine,
                         address=args.address,
                         cpus=args.cpus_per_run, gpus=args.gpus_per_run)
    print(f"sweep {planned.folder}: {len(planned.points)} point(s) of {planned.chapter.slug} "
          f"({args.preset}) on the {args.engine} engine", flush=True)
    statuses = sweep.run(planned)
    print(sweep.summary(planned, statuses))
    return 0 if all(s in ("finished", "skipped") for s in statuses.values()) else 1


def _download(args) -> int:
    from . import data

    for name in args.names:  # every name is checked before anything is fetched
        check_choice("dataset", name, data.DATASETS)
    for name in args.names:
        loaded = data.load(name, download=True)
        print(f"{name}: {len(loaded.train)} training and {len(loaded.test)} test images in "
              f"{data.data_root()}")
    return 0


def _sync_colab(args) -> int:
    from . import colab

    root = _root(args)
    changed = colab.sync(root)
    url, branch = colab.repository(root)
    print(f"install cells from {url}@{branch}: " +
          (f"rewrote {', '.join(changed)}" if changed else "every chapter already matched"))
    return 0


def _bench(args) -> int:
    from . import bench

    root = _root(args)
    if args.calibrate:
        names = [c.slug for c in book.chapters(root)] if args.calibrate == ["all"] \
            else [book.find_chapter(root, name).slug for name in args.calibrate]
        bench.calibration_table(root, names, args.preset)
        return 0
    bench.main(quick=args.quick, root=root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
