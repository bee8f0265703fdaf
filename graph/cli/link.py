"""The `kg link` and `kg enrich` commands (registered on the `kg` group in graph/cli/main.py).

Thin: options in, a report on stderr, exit codes per the project's convention (0 OK; 1 the data
does not conform: a review file with errors, links that no longer resolve; 2 runtime error: an
endpoint that kept failing). The work is in graph/linking/: client, candidates, scoring, review,
ours, health and enrich.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from graph.config import Settings
from graph.errors import DataError, PartialFailure, Problem, RemoteUnavailable
from graph.linking.client import SparqlClient
from graph.linking.ours import (
    LINKABLE_KINDS,
    existing_links,
    local_entities,
    read_data,
    reviewed_path,
    write_reviewed,
)
from graph.linking.profiles import PROFILES, Profile, get_profile
from graph.remote.http import RetryPolicy


def _client(settings: Settings, profile: Profile, endpoint: str | None, opts: dict) -> SparqlClient:
    url = endpoint or (settings.link_endpoint if profile.name == "wikidata" else profile.endpoint)
    return SparqlClient(
        url,
        user_agent=settings.user_agent,
        timeout=opts["timeout"] or settings.link_timeout,
        policy=RetryPolicy(retries=opts["retries"], backoff=opts["backoff"]),
        min_interval=opts["min_interval"],
    )


def _client_options(f):
    f = click.option("--endpoint", help="SPARQL endpoint URL (default: the profile's; for "
                     "wikidata KG_LINK_ENDPOINT).")(f)
    f = click.option("--timeout", type=float, help="Seconds per request (default "
                     "KG_LINK_TIMEOUT, 30).")(f)
    f = click.option("--retries", type=int, default=3, show_default=True,
                     help="Retries of a request that timed out or got 429/502/503/504.")(f)
    f = click.option("--backoff", type=float, default=2.0, show_default=True,
                     help="First back-off in seconds, doubled each retry, unless the "
                     "server sends Retry-After.")(f)
    f = click.option("--min-interval", type=float, default=1.0, show_default=True,
                     help="Rate limit: minimum seconds between two requests.")(f)
    f = click.option("--batch-size", type=int, default=20, show_default=True,
                     help="Entities per request (VALUES rows).")(f)
    f = click.option("--profile", "profile_name", type=click.Choice(sorted(PROFILES)),
                     default="wikidata", show_default=True, help="Target dataset.")(f)
    return f


@click.command("link")
@_client_options
@click.option("--out", type=click.Path(path_type=Path), help="Write a review file (.tsv).")
@click.option("--accept", "accept_file", type=click.Path(path_type=Path, exists=True),
              help="Turn the reviewed rows of this file into data/links/ triples.")
@click.option("--check", is_flag=True, help="Check every existing link still resolves.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(LINKABLE_KINDS),
              help="Only these kinds of thing (repeatable; default all).")
@click.option("--all", "include_linked", is_flag=True,
              help="Also entities that already have a link to this target.")
@click.pass_obj
def link(settings: Settings, profile_name, out, accept_file, check, kinds, include_linked,
         batch_size, **opts):
    """Find, accept or check links to an external dataset (Wikidata, DBpedia).

    \b
    kg link --out review.tsv           candidates for our entities without a link, scored
    kg link --accept review.tsv        reviewed rows -> data/links/<target>-reviewed-<date>.ttl
    kg link --check                    do our links still resolve (label and type plausible)?

    Nothing is written to data/ without --accept on a file a curator has reviewed.
    """
    if sum(bool(x) for x in (out, accept_file, check)) != 1:
        raise click.UsageError("give exactly one of --out FILE, --accept FILE or --check")
    if out and out.suffix.lower() not in (".tsv", ".txt"):
        raise click.UsageError("the review file is tab-separated: name it *.tsv")
    profile = get_profile(profile_name)
    if accept_file:
        _accept(settings, profile, accept_file)
        return
    client = _client(settings, profile, opts.pop("endpoint"), opts)
    if check:
        _check(settings, profile, client, batch_size)
    else:
        _propose(settings, profile, client, out, kinds or LINKABLE_KINDS, include_linked,
                 batch_size)


def _propose(settings, profile, client, out, kinds, include_linked, batch_size) -> None:
    from graph.linking import review
    from graph.linking.candidates import propose

    found = propose(settings, profile, client, kinds=kinds, include_linked=include_linked,
                    batch_size=batch_size)
    for _, reason in sorted(set(found.failed.values()), key=lambda f: f[1])[:1]:
        click.echo(f"warning: {len(found.failed)} entities not reconciled: {reason}", err=True)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    review.write(out, review.render(profile, client.endpoint, generated, found.ranked,
                                    found.failed))
    click.echo(
        f"{len(found.todo)} entities, {client.requests} request(s): {found.count('proposed')} "
        f"proposed, {found.count('near-miss')} near-miss(es), {len(found.failed)} failed "
        f"-> {out}", err=True,
    )
    if found.failed:
        raise PartialFailure(f"{len(found.failed)} entities could not be reconciled; "
                             f"they are listed with status 'error' in {out}")


def _accept(settings: Settings, profile: Profile, path: Path) -> None:
    from graph.linking import review

    store = read_data(settings)
    known = {e.iri for e in local_entities(store, settings.base_iri)}
    reviewed = review.read(path, profile, known)
    if not reviewed.accepted:
        click.echo("no row accepted (decision column empty): nothing written", err=True)
        return
    day = date.today()
    target_file = reviewed_path(settings, profile, day)
    existing = {lk.entity: lk for lk in existing_links(store, settings.base_iri, profile)
                if not lk.graph.endswith("/links/" + target_file.stem)}
    clashes = [Problem(f"<{a.entity}> is already linked to <{existing[a.entity].target}> in "
                       f"graph <{existing[a.entity].graph}>; change or remove that link first",
                       file=str(path)) for a in reviewed.accepted if a.entity in existing]
    if clashes:
        raise DataError(clashes)
    endpoint = reviewed.meta.get("endpoint") or profile.endpoint
    written, total = write_reviewed(
        settings, profile, reviewed.accepted, endpoint=endpoint, review_file=path.name, day=day,
    )
    click.echo(f"{len(reviewed.accepted)} link(s) accepted -> {written} ({total} in the file); "
               "their status for this dataset is now verified (derived from the linkset)", err=True)


def _check(settings: Settings, profile: Profile, client: SparqlClient, batch_size: int) -> None:
    from graph.linking.health import check

    verdicts = check(settings, profile, client, batch_size)
    click.echo("entity\tpredicate\ttarget\tstatus\tdetail")
    for v in verdicts:
        click.echo(f"{v.link.entity}\t{v.link.predicate}\t{v.link.target}\t{v.status}\t{v.detail}")
    bad = sum(v.status == "problem" for v in verdicts)
    unchecked = sum(v.status == "unchecked" for v in verdicts)
    click.echo(f"{len(verdicts)} link(s) checked with {client.requests} request(s): {bad} "
               f"problem(s), {unchecked} not checked", err=True)
    if unchecked:
        raise PartialFailure(f"{unchecked} link(s) could not be checked")
    if bad:
        sys.exit(1)


@click.command("enrich")
@_client_options
@click.option("--out", type=click.Path(path_type=Path),
              help="Output file (default data/enrichment/<target>.ttl).")
@click.option("--languages", default=None,
              help="Comma-separated label languages to keep (default: ours and a few more).")
@click.pass_obj
def enrich(settings: Settings, profile_name, out, languages, batch_size, **opts):
    """Import selected facts about linked entities into their own graph (per target).

    Labels in more languages, coordinates, population and inception, from the target named by
    --profile, into data/enrichment/<target>.ttl (graph {base}graph/enrichment/<target>),
    with when and from where they were retrieved. Re-running replaces the file atomically;
    if any request fails, the previous file stays as it was.
    """
    from graph.linking.enrich import DEFAULT_LANGUAGES
    from graph.linking.enrich import enrich as run_enrich

    profile = get_profile(profile_name)
    client = _client(settings, profile, opts.pop("endpoint"), opts)
    langs = tuple(x.strip() for x in languages.split(",")) if languages else DEFAULT_LANGUAGES
    try:
        report = run_enrich(settings, profile, client, out=out, languages=langs,
                            batch_size=batch_size)
    except RemoteUnavailable as err:
        raise PartialFailure(
            f"{err}; nothing written, the previous enrichment is unchanged"
        ) from None
    click.echo(f"{report.facts} fact(s) about {report.items} item(s) in {report.requests} "
               f"request(s) -> {report.path} (graph {report.graph})", err=True)
