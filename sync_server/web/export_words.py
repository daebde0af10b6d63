"""What every export sheet says the same way: places by their names (their codes last, for BI
tools), yes and no, why a figure is hidden, units in headers and number formats, local times,
and the data dictionary's own headers. French msgids, translated with the page's `gettext`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sync_server.indicators.formulas import Figure
from sync_server.web import labels, tables
from sync_server.web.labels import N_
from sync_server.web.tables import Column

Gettext = Callable[[str], str]

# XLSX number formats showing a figure's unit; the value stays in that unit (87.5 for 87,5 %).
UNIT_FORMATS = {
    "%": '0.0" %"',
    "pts": '+0.0" pts";-0.0" pts";0.0" pts"',
    "min": '0.0" min"',
    "/10": '0.0"/10"',
    "count": "0",
}
DICTIONARY_HEADERS = [N_("Feuille"), N_("Colonne"), N_("Signification"), N_("Unité"),
                      N_("Calcul, ce que N compte")]  # fmt: skip


def shown(value: float | None, unit: str) -> tables.Shown:
    """A figure rounded to 2 decimals, with the number format of its unit."""
    rounded = None if value is None else round(value, 2)
    return tables.Shown(rounded, UNIT_FORMATS.get(unit, "0.0"))


def with_unit(name: str, unit: str, gettext: Gettext) -> str:
    """A header with its unit: "Attente moyenne (min)"."""
    return f"{gettext(name)} ({gettext(labels.UNIT_NAMES[unit])})"


def yes_no(value: object, gettext: Gettext) -> str:
    return gettext("oui") if value else gettext("non")


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A stored UTC moment as the town's clocks read it, without a zone (a spreadsheet's date
    cell has none)."""
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)


def hidden_reason(figure: Figure, min_n: int, gettext: Gettext) -> str:
    """Why a figure is hidden, worded as on the pages; "" when shown."""
    if not figure.hidden:
        return ""
    if figure.reason == "no_data":
        return gettext("Aucune donnée sur la période.")
    if figure.reason == "more_answers_than_visitors":
        return gettext("Masqué : plus de réponses que de visiteurs enregistrés par les agents "
                       "(N = %(n)s) ; ils n'enregistrent pas tous les passages, le taux "
                       "dépasserait 100 %%.") % {"n": figure.n}  # fmt: skip
    if figure.n_counts in ("served_waits", "known_outcomes", "visits"):
        text = gettext("Masqué : moins de %(min)s passages mesurés (N = %(n)s).")
    elif figure.n_counts == "decided_entries":
        text = gettext("Masqué : moins de %(min)s commentaires arrivés à échéance (N = %(n)s).")
    else:
        text = gettext("Masqué : moins de %(min)s réponses (N = %(n)s).")
    return text % {"min": min_n, "n": figure.n}


def place_columns(gettext: Gettext) -> list[Column]:
    """Site and service by their names."""
    return [
        Column(gettext("Site"), gettext("Nom du site (lieu d'accueil)")),
        Column(gettext("Service"), gettext("Nom du service")),
    ]


def code_columns(gettext: Gettext) -> list[Column]:
    """The site's and service's codes, last: what a BI tool joins on."""
    return [
        Column(gettext("Code du site"), gettext("Identifiant stable du site, pour les outils BI")),
        Column(
            gettext("Code du service"), gettext("Identifiant stable du service, pour les outils BI")
        ),
    ]


def place_names(
    site: str, service: str, sites: Mapping[str, str], services: Mapping[str, str]
) -> list[str]:
    """A desk's site and service names (the code when the town no longer names it)."""
    return [sites.get(site, site), services.get(service, service)]


def dictionary(sheets: list[tables.Sheet], gettext: Gettext) -> tables.Sheet:
    return tables.dictionary(
        gettext("Dictionnaire"), [gettext(h) for h in DICTIONARY_HEADERS], sheets
    )
