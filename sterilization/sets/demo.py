"""Demo count sheets: the instruments and six templates a small clinic really wraps, and
a few reusable trays and cassettes for them (made through the same rule functions the
API uses)."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.orm import Session

from sterilization.sets import assets, counts, instruments, templates
from sterilization.sets.models import SetTemplate

MA = "ma"

# code, name, manufacturer, catalog number
INSTRUMENTS = [
    ("NH-MAYO-14", "Mayo-Hegar needle holder 14 cm", "Miltex", "8-34"),
    ("NH-WEBSTER", "Webster needle holder 12.5 cm", "Miltex", "8-2"),
    ("FC-ADSON", "Adson tissue forceps 1x2 teeth", "Miltex", "6-118"),
    ("FC-ADSON-SM", "Adson dressing forceps, serrated", "Miltex", "6-120"),
    ("SC-IRIS-11", "Iris scissors straight 11 cm", "Miltex", "5-304"),
    ("SC-SUTURE", "Littauer suture scissors", "Miltex", "5-2"),
    ("SC-MAYO-CVD", "Mayo scissors curved 14 cm", "Miltex", "5-112"),
    ("HM-KELLY", "Kelly hemostat curved", "Miltex", "7-38"),
    ("HM-MOSQ", "Mosquito hemostat curved", "Miltex", "7-4"),
    ("SH-BP3", "Scalpel handle #3", "Miltex", "4-7"),
    ("PR-PROBE", "Malleable probe", "Miltex", "19-160"),
    ("CU-CURETTE", "Curette, sharp", "Miltex", "40-420"),
    ("DM-MIRROR", "Mouth mirror #5 with handle", "Hu-Friedy", "MIR5"),
    ("DM-EXPL", "Explorer 23/Cowhorn", "Hu-Friedy", "EXD11/12"),
    ("DM-PROBE", "Periodontal probe UNC 15", "Hu-Friedy", "PCPUNC15"),
    ("DM-COTTON", "College cotton pliers", "Hu-Friedy", "DP2"),
    ("DX-ELEV-301", "Elevator #301", "Hu-Friedy", "301"),
    ("DX-ELEV-34", "Elevator 34S", "Hu-Friedy", "E34S"),
    ("DX-FCP-150", "Extraction forceps #150", "Hu-Friedy", "F150"),
    ("DX-FCP-151", "Extraction forceps #151", "Hu-Friedy", "F151"),
    ("DX-RONGEUR", "Rongeur, side cutting", "Hu-Friedy", "R1"),
    ("GY-SPEC-M", "Graves vaginal speculum, medium", "Miltex", "30-12"),
    ("GY-TENAC", "Single-tooth tenaculum", "Miltex", "30-3"),
    ("GY-SOUND", "Uterine sound, graduated", "Miltex", "30-70"),
    ("GY-SPONGE", "Foerster sponge forceps", "Miltex", "30-120"),
]

# code, name, packaging, shelf life days (None: the clinic's setting), [(instrument, qty)]
TEMPLATES = [
    ("SUTURE", "Suture kit", "wrap", 30,
     [("NH-WEBSTER", 1), ("FC-ADSON", 1), ("SC-IRIS-11", 1)]),
    ("I-AND-D", "I&D kit", "pouch", 180,
     [("SH-BP3", 1), ("HM-MOSQ", 2), ("PR-PROBE", 1), ("CU-CURETTE", 1), ("SC-IRIS-11", 1)]),
    ("DENT-EXAM", "Dental exam cassette", "cassette", 30,
     [("DM-MIRROR", 1), ("DM-EXPL", 1), ("DM-PROBE", 1), ("DM-COTTON", 1)]),
    ("DENT-EXTR", "Extraction kit", "cassette", 30,
     [("DX-ELEV-301", 1), ("DX-ELEV-34", 1), ("DX-FCP-150", 1), ("DX-FCP-151", 1),
      ("DX-RONGEUR", 1), ("DM-MIRROR", 1), ("HM-MOSQ", 1)]),
    ("IUD", "IUD insertion tray", "wrap", 30,
     [("GY-SPEC-M", 1), ("GY-TENAC", 1), ("GY-SOUND", 1), ("GY-SPONGE", 1),
      ("SC-MAYO-CVD", 1)]),
    ("LAC", "Laceration tray", "container", 90,
     [("NH-MAYO-14", 1), ("FC-ADSON", 2), ("SC-SUTURE", 1), ("SC-IRIS-11", 1),
      ("HM-KELLY", 1), ("HM-MOSQ", 2)]),
]  # fmt: skip

# Trays the clinic owns per template.
TRAYS = {"SUTURE": 3, "I-AND-D": 1, "DENT-EXAM": 4, "DENT-EXTR": 2, "IUD": 2, "LAC": 2}


def load_set_catalogue(session: Session, *, actor: str, now: dt.datetime) -> dict[str, list[str]]:
    """Instruments, the six count sheets (the suture kit revised once: version 2 added the
    suture scissors) and the trays; returns the tray codes per template."""
    for code, name, maker, number in INSTRUMENTS:
        instruments.create_instrument(
            session, code=code, name=name, manufacturer=maker, catalog_number=number, actor=actor
        )
    for code, name, packaging, days, items in TEMPLATES:
        templates.create_template(
            session, code=code, name=name, packaging=packaging, shelf_life_days=days,
            items=items, actor=actor, now=now,
        )  # fmt: skip
    code, name, packaging, days, items = TEMPLATES[0]
    templates.revise_template(
        session, code, name=name, packaging=packaging, shelf_life_days=days,
        items=[*items, ("SC-SUTURE", 1)], actor=actor, now=now + dt.timedelta(days=2),
    )  # fmt: skip
    trays: dict[str, list[str]] = {}
    for template, count in TRAYS.items():
        trays[template] = [
            assets.create_set(session, template=template, actor=actor, now=now).code
            for _ in range(count)
        ]
    return trays


SHORT_REASONS = [
    "Sent for sharpening; spare on order",
    "Tip bent, sent for repair",
    "Not found after the last procedure; incident report filed",
]


def wrap_free_trays(
    session: Session,
    trays: dict[str, list[str]],
    *,
    count: int,
    when: dt.datetime,
    rng: random.Random,
    actor: str = MA,
) -> list[str]:
    """Count and wrap up to `count` trays that are not in a live pack (about one in eight
    goes out short, accepted with a reason); returns the new pack codes."""
    candidates = assets.free_sets(session, [tray for codes in trays.values() for tray in codes])
    rng.shuffle(candidates)
    made: list[str] = []
    for tray in candidates[:count]:
        lines = list(_sheet_lines(session, tray).items())
        reason = None
        if rng.random() < 0.125:
            code, quantity = lines[-1]
            lines[-1] = (code, quantity - 1)
            reason = rng.choice(SHORT_REASONS)
        made += counts.assemble_counted_packs(
            session, set_code=tray, template_code=None, counted=lines,
            accept_short_reason=reason, quantity=1, implant=False, actor=actor, now=when,
        )  # fmt: skip
    return made


def _sheet_lines(session: Session, tray: str) -> dict[str, int]:
    template = session.get(SetTemplate, assets.get_set(session, tray).template_id)
    assert template is not None
    return templates.get_template_view(session, template.code).expected()
