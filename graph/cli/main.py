"""`kg`: the command group, `kg build` and `kg validate`; the other commands live beside it.

Data goes to stdout; progress and logs go to stderr. Exit codes follow pySHACL's documented
convention: 0 OK, 1 the data does not conform (syntax, shapes, integrity), 2 usage or runtime error.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click

from graph.config import Settings
from graph.errors import DataError, KGError


class KGGroup(click.Group):
    """A click group that turns our domain errors into messages on stderr and exit codes."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DataError as err:
            for problem in err.problems:
                click.echo(f"error: {problem}", err=True)
            click.echo(f"kg: {len(err.problems)} problem(s); nothing was changed", err=True)
            ctx.exit(err.exit_code)
        except KGError as err:
            click.echo(f"kg: {err}", err=True)
            ctx.exit(err.exit_code)


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def _progress(label: str):
    """A rich spinner on stderr when it is a terminal; nothing otherwise."""
    if not _stderr_is_tty():
        return nullcontext(lambda _step: None)
    from rich.console import Console

    console = Console(stderr=True)
    status = console.status(label)

    class _Steps:
        def __enter__(self):
            status.__enter__()
            return lambda step: status.update(f"{label}: {step}")

        def __exit__(self, *exc):
            return status.__exit__(*exc)

    return _Steps()


@click.group(cls=KGGroup)
@click.option("--base-iri", help="Base IRI of the dataset (default: KG_BASE_IRI or w3id.org).")
@click.option("--store", "store_path", type=click.Path(path_type=Path), help="Store symlink path.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Instance data folder.")
@click.option("--ontology-dir", type=click.Path(path_type=Path), help="Ontology folder.")
@click.version_option(package_name="khojaly-kg")
@click.pass_context
def main(ctx, base_iri, store_path, data_dir, ontology_dir):
    """The Khojaly knowledge graph: build, validate, query, export and serve it."""
    overrides = {
        "base_iri": base_iri,
        "store_path": store_path,
        "data_dir": data_dir,
        "texts_dir": data_dir / "texts" if data_dir else None,
        "ontology_dir": ontology_dir,
    }
    if ctx.obj is None:
        ctx.obj = Settings.from_env(**overrides)
    elif isinstance(ctx.obj, Settings):  # tests pass settings; options still win
        ctx.obj = ctx.obj.replace(**{k: v for k, v in overrides.items() if v is not None})


@main.command()
@click.option("--dumps", "dumps", metavar="FORMATS",
              help="Dumps to write now, e.g. nq,ttl (KG_DUMP_FORMATS; default all six); "
              "the others are made on first request.")
@click.pass_obj
def build(settings: Settings, dumps):
    """Parse, load a NEW store, validate it, and swap it in atomically; print a summary.

    On any problem the previous store keeps serving and nothing is changed.
    """
    from graph.build.pipeline import build as run_build

    if dumps is not None:
        settings = settings.replace(dump_formats=tuple(dumps.replace(",", " ").split()))
    with _progress("building") as step:
        report = run_build(settings, on_step=step)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"built version {report.version}: {report.triples} triples in {len(report.graphs)} "
        f"named graphs, the VoID graph included -> {settings.store_path}",
        err=True,
    )


@main.command()
@click.pass_obj
def validate(settings: Settings):
    """Parse and validate (SHACL + integrity checks), leaving the built store alone. Exit 0/1/2.

    Inputs above KG_PYSHACL_MAX_TRIPLES data triples are checked in a temporary on-disk store,
    as `kg build` checks them.
    """
    from graph.build.pipeline import check_inputs

    with _progress("validating") as step:
        parsed, report = check_inputs(settings, on_step=step)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not report.conforms:
        raise DataError(report.problems)
    click.echo(f"conforms: {len(parsed.files)} files, no problems", err=True)


# ---------------------------------------------------------------------------------------------
# The other command groups, one module each, registered here.
# ---------------------------------------------------------------------------------------------
from graph.cli.link import enrich, link  # noqa: E402 - linking
from graph.cli.publish import publish  # noqa: E402 - publishing to a SPARQL server
from graph.cli.query import export, query, stats  # noqa: E402 - reading the store
from graph.cli.serve import serve, settings_command  # noqa: E402 - serving

for command in (query, export, stats, serve, settings_command, link, enrich, publish):
    main.add_command(command)
