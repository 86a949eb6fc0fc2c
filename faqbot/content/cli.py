"""`faqbot content …` commands (click only: the content package stays free of Flask)."""
from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import click

from .export import DEFAULT_EXPORT, PROJECT_ROOT, raw_line_counts, read_export

T = TypeVar("T")
DEFAULT_FAQ = PROJECT_ROOT / "data" / "faq.yaml"
DEFAULT_DROPPED = PROJECT_ROOT / "data" / "dropped.yaml"


def _progress(iterable: Iterable[T], label: str) -> Iterable[T]:
    """click.progressbar around a domain loop (on stderr, so stdout keeps only the figures)."""
    items = list(iterable)
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


# The contact form's reason ids, which `content check` validates entries' `contact_reason` against. faqbot.triage
# owns them; the app factory hands them in (`use_contact_reasons`), so this package never imports triage.
_contact_reasons: Callable[[], Iterable[str]] | None = None


def use_contact_reasons(provider: Callable[[], Iterable[str]] | None) -> None:
    global _contact_reasons
    _contact_reasons = provider


def contact_reason_ids() -> tuple[str, ...] | None:
    """The known reason ids, or None when no one handed them in (then only their form is checked)."""
    return tuple(_contact_reasons()) if _contact_reasons is not None else None


def _instance_dir() -> Path:
    return Path(os.environ.get("FAQBOT_INSTANCE_PATH") or PROJECT_ROOT / "instance")


@click.group("content", help="Contenu de la FAQ : import de l’export et contrôle.")
def content_group() -> None:
    pass


@content_group.command("import")
@click.option("--export", "export_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_EXPORT, show_default=True, help="Export brut de la FAQ.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Rapport Markdown (défaut : instance/content-import.md).")
@click.option("--faq", "faq_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_FAQ, show_default=True, help="FAQ dont les extraits partagés sont reconnus dans le rapport (si elle existe).")
def import_command(export_path: Path, report_path: Path | None, faq_path: Path) -> None:
    """Analyse l’export : doublons, quasi-doublons, blocs de réponse, pieds de page ; écrit un rapport."""
    from .curation import analyse_export, render_report

    export = read_export(export_path)
    report = analyse_export(export, progress=_progress)
    snippets = _known_snippets(faq_path)
    report_path = report_path or _instance_dir() / "content-import.md"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(render_report(report, snippets), encoding="utf-8")
    s = report.summary()
    click.echo(f"Export {export.name} : {s['lines']} lignes, {s['distinct_lines']} lignes distinctes "
               f"({s['lines_repeated_exactly']} répétées à l’identique).")
    click.echo(f"Quasi-doublons : {s['near_duplicate_groups']} groupes ({s['lines_in_near_duplicate_groups']} lignes).")
    click.echo(f"Blocs de réponse : {s['blocks']} ({s['repeated_blocks']} répétés, {s['blocks_with_variants']} avec variantes, "
               f"{s['similar_block_pairs']} paires quasi identiques).")
    click.echo(f"Pieds de page répétés : {s['footers']} ; listes annoncées absentes : {s['lost_lists']}.")
    click.echo(f"Rapport : {report_path}")


def _known_snippets(faq_path: Path) -> dict[str, str]:
    import yaml

    try:
        data = yaml.safe_load(faq_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}  # the report is useful without snippet names, e.g. before the FAQ exists
    return {s["id"]: s["text"] for s in data.get("snippets") or [] if isinstance(s, dict) and "id" in s and "text" in s}


@content_group.command("check")
@click.option("--faq", "faq_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_FAQ, show_default=True)
@click.option("--export", "export_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_EXPORT, show_default=True)
@click.option("--dropped", "dropped_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DROPPED, show_default=True, help="Lignes écartées : liste de {text, reason}.")
@click.option("--strict", is_flag=True, help="Ne compte pas une ancienne variante d’une ligne reprise comme couverte.")
@click.option("--min-carried", type=float, default=97.0, show_default=True, help="Part minimale (%) des lignes distinctes de l’export portées par la FAQ.")
def check_command(faq_path: Path, export_path: Path, dropped_path: Path, strict: bool, min_carried: float) -> None:
    """Valide la FAQ (schéma, ids, doublons, motifs, extraits, sources, listes perdues, couverture)."""
    from .check import check_faq

    export = read_export(export_path)
    result = check_faq(
        faq_path,
        export,
        dropped_path,
        contact_reasons=contact_reason_ids(),
        raw_line_counts={**raw_line_counts(export_path.parent), export.name: export.raw_line_count},
        via_variants=not strict,
        min_carried_percent=min_carried,
    )
    f = result.figures
    click.echo(f"Export : {f['lines']} lignes, {f['distinct_lines']} lignes distinctes.")
    if "entries" in f:
        click.echo(f"FAQ : {f['entries']} entrées ({f['hidden_entries']} masquées), {f['incomplete_entries']} marquées incomplete.")
        click.echo(f"Lignes distinctes de l’export portées par la FAQ : {f['carried_percent']} %.")
        click.echo(
            f"Couverture : {f['coverage_percent']} % des lignes distinctes — {f['answer_lines']} dans les réponses, "
            f"{f['variant_lines']} par leur version plus complète, {f['snippet_lines']} par les extraits partagés, "
            f"{f['dropped_lines']} écartées ({f['dropped']} dans dropped.yaml), {f['uncovered_lines']} non couvertes."
        )
    if result.ok:
        click.echo("OK : aucune anomalie.")
        return
    for violation in result.violations:
        click.echo(str(violation), err=True)
    raise click.ClickException(f"{len(result.violations)} anomalie(s).")


@content_group.command("sources")
@click.option("--faq", "faq_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_FAQ, show_default=True)
@click.option("--export", "export_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_EXPORT, show_default=True)
@click.option("--write", is_flag=True, help="Réécrit les valeurs `sources:` de l’export dans le fichier (le reste est conservé à l’octet près).")
@click.argument("entry_ids", nargs=-1)
def sources_command(faq_path: Path, export_path: Path, write: bool, entry_ids: tuple[str, ...]) -> None:
    """Lignes de l’export que porte chaque réponse, comparées aux `sources` déclarées."""
    from .sources import compute_sources, rewrite_sources

    export = read_export(export_path)
    computed = compute_sources(faq_path, export, only=set(entry_ids) or None)
    differing = 0
    for entry_id, (declared, found) in computed.items():
        if declared != found:
            differing += 1
            click.echo(f"{entry_id}\n  déclarées : {', '.join(declared) or '—'}\n  calculées : {', '.join(found) or '—'}")
    click.echo(f"{len(computed)} entrées, {differing} dont les sources de l’export diffèrent du calcul.")
    if write and differing:
        changed = rewrite_sources(faq_path, {k: v[1] for k, v in computed.items()}, export.name)
        click.echo(f"{changed} valeurs `sources:` réécrites dans {faq_path}.")


@content_group.command("format")
@click.option("--faq", "faq_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_FAQ, show_default=True)
@click.option("--typography", is_flag=True, help="Corrige aussi apostrophes (’), guillemets (« ») et casse des étiquettes.")
def format_command(faq_path: Path, typography: bool) -> None:
    """Réécrit la FAQ dans sa mise en page canonique (entrées groupées par catégorie, champs dans l’ordre)."""
    import yaml

    from .writer import WriterError, normalise_entry, write_faq

    try:
        data = yaml.safe_load(faq_path.read_text(encoding="utf-8"))
        if typography:
            data["entries"] = [normalise_entry(e) for e in data.get("entries") or []]
        changed = write_faq(faq_path, data)
    except (yaml.YAMLError, WriterError) as error:
        raise click.ClickException(f"{faq_path} non réécrit : {error}") from error
    click.echo(f"{faq_path} : {'réécrit' if changed else 'déjà en forme canonique'}.")


def _database_url() -> str:
    # The app's default (faqbot/config.py): the instance folder's SQLite unless DATABASE_URL says otherwise.
    return os.environ.get("DATABASE_URL") or f"sqlite:///{_instance_dir() / 'faqbot.sqlite3'}"


@content_group.command("export")
@click.option("--faq", "faq_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_FAQ, show_default=True)
@click.option("--export", "export_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_EXPORT, show_default=True)
@click.option("--dropped", "dropped_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DROPPED, show_default=True)
@click.option("--database-url", default=None, help="Base des propositions (défaut : DATABASE_URL, sinon la base SQLite de l’instance).")
@click.option("--min-carried", type=float, default=97.0, show_default=True)
def export_command(faq_path: Path, export_path: Path, dropped_path: Path, database_url: str | None, min_carried: float) -> None:
    """Écrit les propositions acceptées dans la FAQ (mise en page stable), puis la valide comme `content check`."""
    from ..db import Database, utcnow
    from .check import check_faq
    from .overlay import export_accepted

    before = faq_path.read_text(encoding="utf-8")
    database = Database(database_url or _database_url())
    try:
        with database.transaction() as session:
            exported = export_accepted(session, faq_path, actor=None, now=utcnow(), operator=getpass.getuser())
            if not exported:
                click.echo("Aucune proposition acceptée à exporter.")
                return
            export = read_export(export_path)
            result = check_faq(
                faq_path, export, dropped_path, contact_reasons=contact_reason_ids(),
                raw_line_counts={**raw_line_counts(export_path.parent), export.name: export.raw_line_count},
                min_carried_percent=min_carried,
            )
            if not result.ok:
                faq_path.write_text(before, encoding="utf-8")  # the file is left as it was; nothing is marked exported
                for violation in result.violations:
                    click.echo(str(violation), err=True)
                raise click.ClickException(f"Export annulé : {len(result.violations)} anomalie(s) dans la FAQ obtenue.")
    finally:
        database.engine.dispose()
    click.echo(f"{len(exported)} proposition(s) écrite(s) dans {faq_path} ; `content check` : OK.")
    for change in exported:
        click.echo(f"  - {change.kind} {change.entry_id}")
