"""GCN notices (JSON) of a scan, in the schema of IceCube's single-neutrino track alerts.

Schema ``gcn/notices/icecube/single_neutrino_alerts.schema.json`` of the nasa-gcn/gcn-schema
repository, which ``$ref``s ``../neutrino/Alert.schema.json`` and the core schemas. Validation
(:func:`validate_notice`) resolves those references from a local copy of the repository through a
``referencing.Registry`` (never over the network); it needs the optional ``astro`` extra (jsonschema).

The localisation is the best fit and a single radius for the 90 % region, circularised from the RA/Dec
errors as GCN does it (:meth:`~.localization.CredibleExtent.circularized_radius_deg`).

References
----------
.. [1] nasa-gcn/gcn-schema, ``gcn/notices/icecube/single_neutrino_alerts.schema.json`` and
   ``gcn/notices/core/*.schema.json`` (https://github.com/nasa-gcn/gcn-schema).
.. [2] IceCube Collaboration, "IceCat-1", ApJS 269, 25 (2023), arXiv:2304.01174 (alert streams).
"""

from __future__ import annotations

import json
from pathlib import Path

from astropy.time import Time

from skymap_scanner.postprocess.localization import LocalizationSummary

SCHEMA = "gcn/notices/icecube/single_neutrino_alerts.schema.json"
SCHEMA_ID = f"https://gcn.nasa.gov/schema/main/{SCHEMA}"
#: alert stream -> (pipeline, topology)
STREAMS = {"gold": ("Gold Track Alert", "Track"), "bronze": ("Bronze Track Alert", "Track"),
           "cascade": ("Cascade Alert", "Shower")}


def iso_utc(mjd: float) -> str:
    """ISO 8601 UTC time of an MJD (UTC), microseconds, with a ``Z``."""
    return Time(mjd, format="mjd", scale="utc", precision=6).isot + "Z"


def gcn_notice(summary: LocalizationSummary, alert_stream: str | None = None, nu_energy_tev: float | None = None,
               record_number: int = 1, alert_type: str = "update", alert_datetime: Time | None = None,
               event_name: str | None = None, healpix_url: str | None = None) -> dict[str, object]:
    """The notice of a scan. ``alert_stream`` ("gold", "bronze", "cascade") sets ``pipeline`` and
    ``alert_topology`` (a track without it); ``nu_energy`` [TeV] appears only when given; real events
    are ``alert_tense`` "current", simulated ones "test"; ``alert_datetime`` defaults to now."""
    region = summary.regions["90%"]
    pipeline, topology = STREAMS[alert_stream.lower()] if alert_stream else (None, "Track")
    notice: dict[str, object] = {
        "$schema": SCHEMA_ID,
        "mission": "IceCube",
        "instrument": "IC86",
        "messenger": "Neutrino",
        "record_number": record_number,
        "id": [summary.event_id_string],
        "alert_datetime": (alert_datetime or Time.now()).utc.isot + "Z",
        "alert_type": alert_type,
        "alert_tense": "current" if summary.is_real_event else "test",
        "alert_topology": topology,
        "number_of_events": 1,
        "trigger_time": iso_utc(summary.mjd),
        "ra": round(summary.ra_deg, 4),
        "dec": round(summary.dec_deg, 4),
        "ra_dec_error": round(region.circularized_radius_deg(summary.dec_deg), 4),
        "containment_probability": region.containment,
        "systematic_included": summary.systematic_included,
    }
    optional = {"pipeline": pipeline, "event_name": [event_name] if event_name else None,
                "healpix_url": healpix_url, "nu_energy": nu_energy_tev}
    notice.update({k: v for k, v in optional.items() if v is not None})
    return notice


def validate_notice(notice: dict[str, object], schema_root: str | Path) -> None:
    """Validate against the schema in ``schema_root`` (a copy of nasa-gcn/gcn-schema: the folder that
    holds ``gcn/``), every ``$ref`` resolved from its files; raises ``jsonschema.ValidationError``."""
    import jsonschema
    from referencing import Registry, Resource

    root = Path(schema_root)
    resources = []
    for path in sorted((root / "gcn").rglob("*.schema.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    schema = registry.contents(SCHEMA_ID)
    jsonschema.Draft202012Validator(schema, registry=registry).validate(notice)
