"""The `kg publish` command: the CLI face of graph/remote/publish.py."""

from __future__ import annotations

from pathlib import Path

import click

from graph.config import Settings


@click.command()
@click.option("--to", "target", required=True,
              help="Graph Store Protocol URL, e.g. http://host:8890/sparql-graph-crud-auth.")
@click.option("--sparql", "sparql_url",
              help="The server's query endpoint, for verification (default: KG_BACKEND_URL).")
@click.option("--state", "state_path", type=click.Path(path_type=Path),
              help="Resume file (default: publish-state.json next to the store).")
@click.option("--batch", type=int, help="Triples per request (default: KG_PUBLISH_BATCH_TRIPLES).")
@click.option("--dry-run", is_flag=True, help="Print the plan; send nothing.")
@click.pass_obj
def publish(settings: Settings, target, sparql_url, state_path, batch, dry_run):
    """Publish every named graph of the built store to a SPARQL 1.1 Graph Store, then verify.

    One PUT per graph, so a re-run replaces and never duplicates; large graphs go as a PUT and
    POSTs of --batch triples. Credentials come from KG_PUBLISH_USER / KG_PUBLISH_PASSWORD. A
    re-run after an interruption skips the graphs already sent at this dataset version. The
    verification compares each graph's triple count and checksum with the server's and exits 1
    on any difference.
    """
    from graph.remote.publish import GraphStore, default_state_path
    from graph.remote.publish import publish as run_publish
    from graph.remote.store import RemoteStore
    from graph.store import dataset_version, open_store

    if batch is not None:
        settings = settings.replace(publish_batch_triples=batch)
    sparql_url = sparql_url or settings.backend_url
    if not sparql_url and not dry_run:
        raise click.UsageError("give --sparql URL (or KG_BACKEND_URL) so the upload is verified")
    store = open_store(settings)
    version = dataset_version(settings)
    gsp = GraphStore(target, settings.publish_user, settings.publish_password,
                     user_agent=settings.user_agent)
    remote = None
    if sparql_url:
        remote = RemoteStore(sparql_url, base_iri=settings.base_iri, timeout=300.0,
                             user_agent=settings.user_agent, graphs=[])
    state = state_path or default_state_path(settings)

    def step(message: str) -> None:
        click.echo(f"publish: {message}", err=True)

    report = run_publish(settings, store, version, gsp, remote, state, dry_run=dry_run,
                         on_step=step)
    if dry_run:
        click.echo("graph\ttriples\trequests\taction")
        for p in report.graphs:
            click.echo(f"{p.iri}\t{p.triples}\t{p.chunks}\t{'skip (done)' if p.done else 'send'}")
        return
    total = sum(p.triples for p in report.graphs)
    click.echo(
        f"published version {version}: {len(report.sent)} of {len(report.graphs)} graphs sent "
        f"in {report.requests} requests ({total} triples); "
        f"{len(report.deleted)} stale graph(s) deleted; verified",
        err=True,
    )
