"""Demo data: a small clinic's supplies with 30 days of history.

~165 consumables from 3 suppliers, 4 locations (supply room, two exam rooms, sterile
processing), par levels, lots with expiry dates (a few already expired or expiring soon),
and 30 days of ledger history: weekly deliveries, morning restock rounds and daily
consumption. The history is simulated in memory with the same FEFO rules as the ledger and
written with set-based INSERTs, so balances equal the ledger sums exactly (each row with
its running `on_hand_after` and its `used`). Items sold in packs have a "box" packaging
level (and gloves a "case" of 10 boxes) with their own GTINs, and each supplier has an
example order file layout (not the distributor's real specification).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from inventory.catalogue import default_reorder_point
from inventory.gs1 import with_check_digit
from inventory.models import (
    NO_LOT,
    Item,
    ItemPackaging,
    Location,
    StockLevel,
    StockLot,
    StockMovement,
    Supplier,
    SupplierOrderFormat,
)
from kernel import audit
from kernel.clock import Clock
from kernel.settings import get_settings
from kernel.sites.service import main_site_id

SUPPLIERS = [
    ("Henry Schein Medical", "HS-448812", "orders@henryschein.example", "800-772-4346", 2),
    ("McKesson Medical-Surgical", "MMS-20931", "cs@mckesson.example", "855-571-2100", 3),
    ("Medline Industries", "ML-77120", "custserv@medline.example", "800-633-5463", 5),
]
LOCATIONS = [
    ("SUPPLY", "Supply room"),
    ("EXAM1", "Exam room 1"),
    ("EXAM2", "Exam room 2"),
    ("STERILE", "Sterile processing"),
]
EXAM_ROOMS = ("EXAM1", "EXAM2")
# Example order file layouts, one per supplier (columns, quantity in, delimiter).
ORDER_LAYOUTS = [
    ([("Item Number", "vendor_sku"), ("Quantity", "quantity"), ("UOM", "order_unit"),
      ("Description", "name")], "packs", ","),
    ([("Customer Account", "account_number"), ("Item", "vendor_sku"), ("Qty", "quantity"),
      ("Unit", "order_unit"), ("Price", "pack_cost")], "packs", "\t"),
    ([("Medline Item #", "vendor_sku"), ("GTIN", "order_gtin"), ("Order Qty", "quantity"),
      ("Unit of Measure", "order_unit")], "packs", ";"),
]  # fmt: skip

# (category, supplier index, lot tracked, where used, [(sku, name, unit, pack, cost)])
# "where used": "exam" (both exam rooms), "sterile" (sterile processing), "supply" (room only)
CATALOGUE: list[tuple[str, int, bool, str, list[tuple[str, str, str, int, str]]]] = [
    (
        "gloves",
        0,
        False,
        "exam",
        [
            *[
                (f"GLV-NIT-{s}", f"Nitrile exam gloves, powder-free, {n}", "glove", 100, "0.0450")
                for s, n in [
                    ("XS", "x-small"),
                    ("S", "small"),
                    ("M", "medium"),
                    ("L", "large"),
                    ("XL", "x-large"),
                ]
            ],
            *[
                (f"GLV-VIN-{s}", f"Vinyl exam gloves, latex-free, {n}", "glove", 100, "0.0320")
                for s, n in [("S", "small"), ("M", "medium"), ("L", "large"), ("XL", "x-large")]
            ],
        ],
    ),
    (
        "gloves",
        0,
        True,
        "sterile",
        [
            (
                f"GLV-STR-{s.replace('.', '')}",
                f"Sterile surgical gloves, size {s}",
                "pair",
                50,
                "0.9800",
            )
            for s in ("6", "6.5", "7", "7.5", "8", "8.5")
        ],
    ),
    (
        "wound care",
        1,
        False,
        "exam",
        [
            ("GZ-2X2-NS", "Gauze sponges 2x2 in, 8-ply, non-sterile", "sponge", 200, "0.0120"),
            ("GZ-3X3-NS", "Gauze sponges 3x3 in, 8-ply, non-sterile", "sponge", 200, "0.0180"),
            ("GZ-4X4-NS", "Gauze sponges 4x4 in, 12-ply, non-sterile", "sponge", 200, "0.0250"),
            ("GZ-ROLL-2", "Gauze bandage roll 2 in", "roll", 12, "0.3500"),
            ("GZ-ROLL-3", "Gauze bandage roll 3 in", "roll", 12, "0.4200"),
            ("GZ-ROLL-4", "Gauze bandage roll 4 in", "roll", 12, "0.5100"),
            ("BND-ADH-34", "Adhesive bandages 3/4 x 3 in", "bandage", 100, "0.0310"),
            ("BND-ADH-1", "Adhesive bandages 1 x 3 in", "bandage", 100, "0.0380"),
            ("BND-SPOT", "Spot bandages 7/8 in", "bandage", 100, "0.0250"),
            ("BND-KNUCKLE", "Knuckle bandages, fabric", "bandage", 100, "0.0900"),
            ("BND-FINGERTIP", "Fingertip bandages, fabric", "bandage", 100, "0.0950"),
            ("TAPE-PAPER-1", "Paper surgical tape 1 in x 10 yd", "roll", 12, "0.6500"),
            ("TAPE-PAPER-2", "Paper surgical tape 2 in x 10 yd", "roll", 6, "1.1000"),
            ("TAPE-SILK-1", "Silk tape 1 in x 10 yd", "roll", 12, "0.9500"),
            ("ELB-2", "Elastic bandage 2 in, clip closure", "each", 10, "0.8500"),
            ("ELB-3", "Elastic bandage 3 in, clip closure", "each", 10, "0.9500"),
            ("ELB-4", "Elastic bandage 4 in, clip closure", "each", 10, "1.0500"),
            ("ELB-6", "Elastic bandage 6 in, clip closure", "each", 10, "1.3500"),
            ("COH-2", "Cohesive wrap 2 in", "roll", 36, "0.5500"),
            ("COH-4", "Cohesive wrap 4 in", "roll", 18, "0.8900"),
            ("TUB-GAUZE", "Tubular finger gauze with applicator", "roll", 1, "6.4000"),
        ],
    ),
    (
        "wound care",
        1,
        True,
        "exam",
        [
            ("GZ-2X2-S", "Gauze sponges 2x2 in, sterile 2-pack", "pack", 50, "0.0700"),
            ("GZ-4X4-S", "Gauze sponges 4x4 in, sterile 2-pack", "pack", 50, "0.1100"),
            ("ABD-5X9", "ABD pad 5x9 in, sterile", "pad", 25, "0.2400"),
            ("ABD-8X10", "ABD pad 8x10 in, sterile", "pad", 20, "0.3600"),
            ("NAP-2X3", "Non-adherent pad 2x3 in, sterile", "pad", 100, "0.0900"),
            ("NAP-3X4", "Non-adherent pad 3x4 in, sterile", "pad", 50, "0.1300"),
            ("STRIP-14X3", "Skin closure strips 1/4 x 3 in", "envelope", 50, "0.3200"),
            ("STRIP-12X4", "Skin closure strips 1/2 x 4 in", "envelope", 50, "0.4100"),
            ("SKIN-ADH", "Topical skin adhesive 0.5 mL", "ampule", 12, "18.5000"),
            ("FILM-2X3", "Transparent film dressing 2-3/8 x 2-3/4 in", "each", 100, "0.2900"),
            ("FILM-4X4", "Transparent film dressing 4 x 4-3/4 in", "each", 50, "0.5400"),
        ],
    ),
    (
        "injection",
        0,
        True,
        "exam",
        [
            (
                "SYR-1-TB",
                "Tuberculin syringe 1 mL with 27G 1/2 in needle",
                "syringe",
                100,
                "0.1600",
            ),
            ("SYR-3-LL", "Syringe 3 mL luer-lock", "syringe", 100, "0.1100"),
            ("SYR-5-LL", "Syringe 5 mL luer-lock", "syringe", 100, "0.1300"),
            ("SYR-10-LL", "Syringe 10 mL luer-lock", "syringe", 100, "0.1700"),
            ("SYR-20-LL", "Syringe 20 mL luer-lock", "syringe", 48, "0.3100"),
            ("SYR-INS-03", "Insulin syringe 0.3 mL 31G 5/16 in", "syringe", 100, "0.1900"),
            ("SYR-INS-05", "Insulin syringe 0.5 mL 31G 5/16 in", "syringe", 100, "0.1900"),
            ("SYR-INS-1", "Insulin syringe 1 mL 30G 1/2 in", "syringe", 100, "0.1900"),
            *[
                (f"NDL-{g}G-{code}", f"Hypodermic needle {g}G x {length}", "needle", 100, cost)
                for g, code, length, cost in [
                    ("18", "112", "1-1/2 in", "0.0600"),
                    ("21", "1", "1 in", "0.0550"),
                    ("22", "112", "1-1/2 in", "0.0550"),
                    ("23", "1", "1 in", "0.0550"),
                    ("25", "58", "5/8 in", "0.0550"),
                    ("25", "1", "1 in", "0.0550"),
                    ("27", "12", "1/2 in", "0.0600"),
                    ("30", "12", "1/2 in", "0.0700"),
                ]
            ],
            ("NDL-SAFE-23", "Safety needle 23G x 1 in", "needle", 50, "0.2800"),
            ("NDL-SAFE-25", "Safety needle 25G x 1 in", "needle", 50, "0.2800"),
            ("BFLY-21", "Butterfly blood collection set 21G", "set", 50, "0.9500"),
            ("BFLY-23", "Butterfly blood collection set 23G", "set", 50, "0.9500"),
            ("BFLY-25", "Butterfly blood collection set 25G", "set", 50, "0.9800"),
        ],
    ),
    (
        "skin prep",
        1,
        True,
        "exam",
        [
            ("PREP-ALC-M", "Alcohol prep pads, medium, sterile", "pad", 200, "0.0110"),
            ("PREP-ALC-L", "Alcohol prep pads, large, sterile", "pad", 200, "0.0190"),
            ("PREP-PVP", "Povidone-iodine swabsticks, 1s", "swabstick", 50, "0.1400"),
            ("PREP-CHG", "Chlorhexidine 2% swabsticks", "swabstick", 50, "0.5500"),
            ("PREP-BZK", "Benzalkonium chloride towelettes", "towelette", 100, "0.0350"),
        ],
    ),
    (
        "exam room",
        1,
        False,
        "exam",
        [
            ("PAPER-18-SM", "Exam table paper 18 in x 225 ft, smooth", "roll", 12, "5.2000"),
            ("PAPER-21-SM", "Exam table paper 21 in x 225 ft, smooth", "roll", 12, "5.9000"),
            ("PAPER-21-CR", "Exam table paper 21 in x 125 ft, crepe", "roll", 12, "7.1000"),
            ("PILLOW-CVR", "Pillowcases, tissue/poly", "each", 100, "0.2700"),
            ("GOWN-PT", "Patient exam gowns, tissue/poly/tissue", "gown", 50, "0.4600"),
            ("DRAPE-40X48", "Drape sheets 40 x 48 in", "sheet", 100, "0.2600"),
            ("DRAPE-40X72", "Drape sheets 40 x 72 in", "sheet", 50, "0.3900"),
            ("TONGUE-DEP", "Tongue depressors, non-sterile 6 in", "each", 500, "0.0140"),
            ("CTA-6-NS", "Cotton-tipped applicators 6 in, non-sterile", "each", 1000, "0.0060"),
            ("CTA-6-S", "Cotton-tipped applicators 6 in, sterile 2s", "pack", 100, "0.0400"),
            ("COTTON-BALL", "Cotton balls, medium", "each", 2000, "0.0040"),
            ("SPEC-OTO-25", "Otoscope specula 2.5 mm", "each", 850, "0.0300"),
            ("SPEC-OTO-4", "Otoscope specula 4 mm", "each", 850, "0.0300"),
            ("THERM-COVER", "Thermometer probe covers", "each", 1000, "0.0200"),
            ("ECG-ELEC", "ECG resting electrodes, tab", "electrode", 500, "0.0250"),
            ("ECG-PAPER", "ECG paper, thermal, Z-fold", "pack", 1, "14.5000"),
            ("US-GEL", "Ultrasound gel 250 mL", "bottle", 12, "1.8500"),
            ("LUBE-PKT", "Lubricating jelly 3 g packets", "packet", 144, "0.0700"),
            ("ICE-PACK", "Instant cold pack 6 x 9 in", "each", 24, "0.7200"),
            ("EMESIS-BAG", "Emesis bags, graduated", "bag", 50, "0.3300"),
            ("NEB-KIT", "Nebulizer kit with mouthpiece", "kit", 50, "1.1500"),
            ("CANNULA-AD", "Nasal cannula, adult", "each", 50, "0.5500"),
            ("O2-MASK-AD", "Oxygen mask, adult, with tubing", "each", 50, "1.0500"),
            (
                "WIPES-PURPLE",
                "Disinfectant wipes, quaternary/alcohol, canister",
                "canister",
                12,
                "9.8000",
            ),
            ("WIPES-BLEACH", "Disinfectant wipes, bleach, canister", "canister", 6, "11.2000"),
            ("HAND-SAN", "Hand sanitizer gel 16 oz", "bottle", 12, "4.1000"),
            ("SHARPS-1QT", "Sharps container 1 qt", "each", 100, "1.6000"),
            ("SHARPS-5QT", "Sharps container 5 qt, wall", "each", 20, "4.2000"),
            ("SHARPS-2GAL", "Sharps container 2 gal", "each", 20, "5.9000"),
            ("BIOHAZ-BAG", "Biohazard bags 24 x 24 in", "bag", 250, "0.1400"),
        ],
    ),
    (
        "laboratory",
        1,
        True,
        "exam",
        [
            ("CUP-4-S", "Specimen cup 4 oz, sterile", "cup", 100, "0.2400"),
            ("CUP-4-NS", "Specimen cup 4 oz, non-sterile", "cup", 500, "0.1300"),
            ("URINE-KIT", "Midstream urine collection kit", "kit", 100, "0.6800"),
            ("SWAB-CULT", "Culture swab, transport medium", "swab", 50, "0.9200"),
            ("TUBE-EDTA", "Blood tube 4 mL K2EDTA, lavender", "tube", 100, "0.1900"),
            ("TUBE-SST", "Blood tube 5 mL SST, gold", "tube", 100, "0.2300"),
            ("TUBE-CIT", "Blood tube 2.7 mL sodium citrate, light blue", "tube", 100, "0.2900"),
            ("TUBE-HEP", "Blood tube 4 mL lithium heparin, green", "tube", 100, "0.2400"),
            ("LANCET-21", "Safety lancets 21G", "lancet", 100, "0.0900"),
            ("LANCET-23", "Safety lancets 23G", "lancet", 100, "0.0900"),
            ("LANCET-28", "Safety lancets 28G", "lancet", 200, "0.0700"),
            ("GLU-STRIP", "Blood glucose test strips", "strip", 50, "0.3800"),
            ("URINE-10SG", "Urine reagent strips 10SG", "strip", 100, "0.1700"),
            ("HCG-CASS", "hCG pregnancy test cassettes", "test", 25, "0.6500"),
            ("STREP-A", "Rapid strep A test kit", "test", 25, "4.2000"),
            ("FLU-AB", "Rapid influenza A/B test", "test", 25, "9.5000"),
        ],
    ),
    (
        "procedure",
        2,
        True,
        "exam",
        [
            ("SUT-NYL-30", "Nylon suture 3-0, FS-1 needle", "each", 12, "2.9000"),
            ("SUT-NYL-40", "Nylon suture 4-0, FS-2 needle", "each", 12, "2.9000"),
            ("SUT-NYL-50", "Nylon suture 5-0, P-3 needle", "each", 12, "3.4000"),
            ("SUT-NYL-60", "Nylon suture 6-0, P-1 needle", "each", 12, "3.8000"),
            ("SUT-VIC-30", "Absorbable braided suture 3-0, SH needle", "each", 12, "5.6000"),
            ("SUT-VIC-40", "Absorbable braided suture 4-0, PS-2 needle", "each", 12, "5.6000"),
            ("KIT-SUT-REM", "Suture removal kit, sterile", "kit", 50, "1.4500"),
            ("TRAY-LAC", "Laceration tray, sterile", "tray", 20, "6.9000"),
            ("BLADE-10", "Scalpel blade #10, sterile", "blade", 100, "0.1400"),
            ("BLADE-11", "Scalpel blade #11, sterile", "blade", 100, "0.1400"),
            ("BLADE-15", "Scalpel blade #15, sterile", "blade", 100, "0.1400"),
            ("SCALPEL-11", "Disposable scalpel #11", "each", 10, "0.7500"),
            ("SCALPEL-15", "Disposable scalpel #15", "each", 10, "0.7500"),
        ],
    ),
    (
        "ppe",
        0,
        False,
        "exam",
        [
            ("MASK-PROC", "Procedure masks, ear loop, level 1", "mask", 50, "0.0700"),
            ("N95-REG", "N95 respirator, regular", "respirator", 20, "0.8500"),
            ("N95-SM", "N95 respirator, small", "respirator", 20, "0.8500"),
            ("SHIELD-FACE", "Face shield, full length", "each", 24, "0.9000"),
            ("GOWN-ISO", "Isolation gowns, level 2", "gown", 50, "0.6200"),
            ("SHOE-COVER", "Shoe covers, non-skid", "pair", 150, "0.0900"),
            ("CAP-BOUF", "Bouffant caps 21 in", "cap", 100, "0.0400"),
            ("GLASSES-SAFE", "Safety glasses, clear", "each", 12, "1.2000"),
        ],
    ),
    (
        "sterilization",
        2,
        False,
        "sterile",
        [
            *[
                (f"POUCH-{code}", f"Self-seal sterilization pouches {size} in", "pouch", 200, cost)
                for code, size, cost in [
                    ("225X4", "2-1/4 x 4", "0.0300"),
                    ("35X525", "3-1/2 x 5-1/4", "0.0400"),
                    ("35X10", "3-1/2 x 10", "0.0550"),
                    ("525X10", "5-1/4 x 10", "0.0700"),
                    ("75X13", "7-1/2 x 13", "0.1100"),
                    ("12X15", "12 x 15", "0.1900"),
                ]
            ],
            *[
                (
                    f"WRAP-{s}",
                    f"Sterilization wrap {s} x {s} in",
                    "sheet",
                    500 if s < 24 else 250,
                    cost,
                )
                for s, cost in [(15, "0.1100"), (20, "0.1800"), (24, "0.2500"), (30, "0.3900")]
            ],
            ("TAPE-AUTOCL", "Steam indicator tape 3/4 in", "roll", 12, "3.2000"),
            ("ENZ-DETERG", "Enzymatic instrument detergent 1 gal", "gallon", 4, "24.0000"),
            ("INST-LUBE", "Instrument lubricant 1 gal", "gallon", 4, "21.5000"),
            ("DIST-WATER", "Distilled water 1 gal", "gallon", 6, "1.4000"),
            ("BRUSH-INST", "Instrument cleaning brushes, assorted", "brush", 3, "2.8000"),
            ("BRUSH-LUMEN", "Lumen cleaning brushes 2 mm", "brush", 25, "0.9000"),
        ],
    ),
    (
        "sterilization",
        2,
        True,
        "sterile",
        [
            ("BI-STEAM", "Biological indicator vials, steam, 24 h readout", "vial", 25, "4.1000"),
            ("BI-RAPID", "Biological indicator vials, steam, rapid readout", "vial", 50, "7.9000"),
            ("CI-CL5", "Chemical integrator strips, class 5", "strip", 250, "0.2600"),
            ("CI-CL4", "Chemical indicator strips, class 4", "strip", 250, "0.1200"),
            ("BD-TEST", "Bowie-Dick test packs", "pack", 30, "4.6000"),
        ],
    ),
]


def gtin14(number: int, indicator: int = 0) -> str:
    """A valid GTIN-14 (GS1 example company prefix 0614141) for demo item `number`; the
    indicator digit tells its packaging levels apart (0 each, 1 box, 2 case)."""
    return with_check_digit(f"{indicator}0614141{number:05d}")


def _par_levels(
    rng: random.Random, unit: str, pack: int, where: str
) -> tuple[dict[str, int], float]:
    """Par per location, and the typical daily use in one room (units)."""
    if pack >= 500:
        daily = rng.uniform(8, 30)
    elif pack >= 100:
        daily = rng.uniform(3, 15)
    elif pack >= 25:
        daily = rng.uniform(0.8, 4)
    else:
        daily = rng.uniform(0.15, 1.2)
    room_par = max(2, math.ceil(daily * 4))
    pars: dict[str, int] = {}
    rooms = EXAM_ROOMS if where == "exam" else ("STERILE",)
    for room in rooms:
        pars[room] = room_par
    pars["SUPPLY"] = max(pack, math.ceil(daily * len(rooms) * 14 / pack) * pack)
    return pars, daily


class _Sim:
    """In-memory ledger used to write a consistent history: FEFO, never negative."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.lots: dict[tuple[int, str], dict[str, list[Any]]] = defaultdict(dict)
        self.movements: list[dict[str, Any]] = []
        self.ref = 0

    def on_hand(self, item: int, loc: str) -> int:
        return sum(q for q, _ in self.lots[(item, loc)].values())

    def usable(self, item: int, loc: str, day: dt.date) -> int:
        return sum(q for q, e in self.lots[(item, loc)].values() if e is None or e >= day)

    def _record(
        self,
        kind: str,
        item: int,
        loc: str,
        lot: str,
        exp: Any,
        qty: int,
        at: dt.datetime,
        actor: str,
        ref: str,
        reason: str | None = None,
        used: int = 0,
    ) -> None:
        self.movements.append({
            "kind": kind, "item_id": item, "location": loc, "lot": lot, "expires_on": exp,
            "quantity": qty, "at": at, "actor": actor, "reason": reason, "reference": ref,
            "recorded_at": at, "used": used, "on_hand_after": self.on_hand(item, loc),
        })  # fmt: skip

    def reference(self) -> str:
        self.ref += 1
        return f"demo-{self.ref:06d}"

    def put(
        self,
        kind: str,
        item: int,
        loc: str,
        lot: str,
        exp: dt.date | None,
        qty: int,
        at: dt.datetime,
        actor: str,
        ref: str,
        reason: str | None = None,
    ) -> None:
        entry = self.lots[(item, loc)].setdefault(lot, [0, exp])
        entry[0] += qty
        self._record(kind, item, loc, lot, entry[1], qty, at, actor, ref, reason)

    def take(
        self,
        kind: str,
        item: int,
        loc: str,
        qty: int,
        day: dt.date,
        at: dt.datetime,
        actor: str,
        ref: str,
    ) -> list[tuple[str, dt.date | None, int]]:
        taken = []
        order = sorted(
            ((lot, e) for lot, e in self.lots[(item, loc)].items() if e[0] > 0
             and (e[1] is None or e[1] >= day)),
            key=lambda kv: (kv[1][1] is None, kv[1][1] or dt.date.max),
        )  # fmt: skip
        for lot, entry in order:
            if qty == 0:
                break
            step = min(entry[0], qty)
            entry[0] -= step
            qty -= step
            used = step if kind in ("consume", "count") else 0  # usable lots only
            self._record(kind, item, loc, lot, entry[1], -step, at, actor, ref, used=used)
            taken.append((lot, entry[1], step))
        return taken


def load_demo_data(session: Session, *, actor: str) -> None:
    """Add the inventory demo data to a freshly migrated database."""
    rng = random.Random(20261128)
    clock = Clock.from_settings(get_settings())
    today = clock.today()

    suppliers = [
        Supplier(name=n, account_number=a, email=e, phone=p, lead_time_days=lt)
        for n, a, e, p, lt in SUPPLIERS
    ]
    main = main_site_id(session)
    locations = [Location(code=c, name=n, site_id=main) for c, n in LOCATIONS]
    session.add_all([*suppliers, *locations])
    session.flush()
    loc_id = {loc.code: loc.id or 0 for loc in locations}

    items: list[Item] = []
    plans: list[tuple[Item, dict[str, int], float]] = []
    for category, supplier_index, lot_tracked, where, rows in CATALOGUE:
        for sku, name, unit, pack, cost in rows:
            item = Item(
                sku=sku, name=name, unit=unit, pack_size=pack,
                supplier_id=suppliers[supplier_index].id or 0,
                vendor_sku=f"{SUPPLIERS[supplier_index][1][:2]}-{len(items) + 1000}",
                unit_cost=Decimal(cost), gtin=gtin14(len(items) + 1),
                min_order_qty=pack if pack > 1 else 0, lot_tracked=lot_tracked,
                category=category,
            )  # fmt: skip
            items.append(item)
            pars, daily = _par_levels(rng, unit, pack, where)
            plans.append((item, pars, daily))
    session.add_all(items)
    session.flush()
    levels = []
    for number, item in enumerate(items, start=1):
        if item.pack_size > 1:
            levels.append(ItemPackaging(item_id=item.id or 0, gtin=gtin14(number, 1),
                                        units=item.pack_size, name="box"))  # fmt: skip
        if item.category == "gloves":
            levels.append(ItemPackaging(item_id=item.id or 0, gtin=gtin14(number, 2),
                                        units=item.pack_size * 10, name="case"))  # fmt: skip
    session.add_all(levels)
    session.add_all(
        SupplierOrderFormat(
            supplier_id=supplier.id or 0, updated_by=actor, quantity_in=quantity_in,
            delimiter=delimiter, header_row=True,
            columns_json=json.dumps([[header, field] for header, field in columns]),
        )
        for supplier, (columns, quantity_in, delimiter) in zip(
            suppliers, ORDER_LAYOUTS, strict=True
        )
    )  # fmt: skip

    sim = _Sim(today)
    start = today - dt.timedelta(days=30)
    lot_counter = iter(range(10_000, 99_999))

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return clock.zone.instant(day, dt.time(hour, minute))

    def new_lot(item: Item, day: dt.date) -> tuple[str, dt.date | None]:
        if not item.lot_tracked:
            return NO_LOT, None
        shelf = rng.choice([75, 180, 365, 540, 730])
        return f"{item.sku.split('-')[0][:3]}{next(lot_counter)}", day + dt.timedelta(days=shelf)

    def receive_to_par(item: Item, pars: dict[str, int], day: dt.date, initial: bool) -> None:
        par = pars["SUPPLY"]
        have = sim.on_hand(item.id or 0, "SUPPLY")
        if not initial and have > default_reorder_point(par):
            return
        need = par - have + (sum(v for k, v in pars.items() if k != "SUPPLY") if initial else 0)
        packs = max(1, math.ceil(need / item.pack_size))
        ref = sim.reference()
        lot, exp = new_lot(item, day)
        sim.put("receive", item.id or 0, "SUPPLY", lot, exp, packs * item.pack_size,
                at(day, 10, rng.randint(0, 59)), "purchasing", ref)  # fmt: skip

    # Day 0: opening stock.
    for item, pars, _daily in plans:
        receive_to_par(item, pars, start, initial=True)

    for offset in range(31):
        day = start + dt.timedelta(days=offset)
        weekday = day.weekday() < 5
        if day.weekday() == 1 and offset > 0:  # Tuesday deliveries
            for item, pars, _ in plans:
                receive_to_par(item, pars, day, initial=False)
        if not weekday:
            continue
        # Morning restock round from the supply room.
        ref = sim.reference()
        for item, pars, _ in plans:
            for room, par in pars.items():
                if room == "SUPPLY":
                    continue
                have = sim.on_hand(item.id or 0, room)
                if have > default_reorder_point(par):
                    continue
                qty = min(par - have, sim.usable(item.id or 0, "SUPPLY", day))
                if qty <= 0:
                    continue
                when = at(day, 7, 30)
                for lot, exp, step in sim.take("transfer", item.id or 0, "SUPPLY", qty, day,
                                               when, "ma", ref):  # fmt: skip
                    sim.put("transfer", item.id or 0, room, lot, exp, step, when, "ma", ref)
        if offset == 30:
            continue  # today: only the morning round so far
        # Clinic day: consumption in the rooms.
        for item, pars, daily in plans:
            for room in pars:
                if room == "SUPPLY":
                    continue
                qty = int(rng.gauss(daily, daily / 3) + 0.5)
                qty = min(max(qty, 0), sim.usable(item.id or 0, room, day))
                if qty > 0:
                    sim.take("consume", item.id or 0, room, qty, day,
                             at(day, rng.randint(8, 16), rng.randint(0, 59)), "ma",
                             sim.reference())  # fmt: skip

    # Today's count of the supply room found boxes of old lots on the back shelf: some
    # expired, some expiring within the month (they show on the expiring list).
    for index, (item, pars, _daily) in enumerate(plans):
        if item.lot_tracked and index % 7 == 0:
            exp = today + dt.timedelta(days=rng.choice([-6, -1, 5, 12, 20, 27]))
            sim.put("count", item.id or 0, "SUPPLY", f"OLD{next(lot_counter)}", exp,
                    max(2, pars["SUPPLY"] // 8), at(today, 12), "ma", sim.reference(),
                    "found on the back shelf during the count")  # fmt: skip

    # A count that found one unit missing in an exam room.
    sample = plans[2][0]
    room_have = sim.on_hand(sample.id or 0, "EXAM1")
    if room_have > 0:
        sim.take("count", sample.id or 0, "EXAM1", 1, today, at(today, 7, 45), "ma",
                 sim.reference())  # fmt: skip

    movement_rows = [
        {**{k: v for k, v in m.items() if k != "location"}, "location_id": loc_id[m["location"]]}
        for m in sim.movements
    ]
    session.execute(insert(StockMovement), movement_rows)
    lot_rows, level_rows = [], {}
    for (item_id, loc), lots in sim.lots.items():
        for lot, (qty, exp) in lots.items():
            lot_rows.append({"item_id": item_id, "location_id": loc_id[loc], "lot": lot,
                             "expires_on": exp, "quantity": qty})  # fmt: skip
        level_rows[(item_id, loc)] = {
            "item_id": item_id, "location_id": loc_id[loc], "on_hand": sim.on_hand(item_id, loc),
            "par_level": None, "reorder_point": None,
        }  # fmt: skip
    for item, pars, _ in plans:
        for loc, par in pars.items():
            row = level_rows.setdefault((item.id or 0, loc), {
                "item_id": item.id, "location_id": loc_id[loc], "on_hand": 0,
            })  # fmt: skip
            row["par_level"] = par
            row["reorder_point"] = default_reorder_point(par)
    session.execute(insert(StockLot), lot_rows)
    session.execute(insert(StockLevel), list(level_rows.values()))
    audit.record(
        session,
        actor=actor,
        action="inventory.demo_load",
        entity="inventory",
        entity_id="demo",
        after={
            "suppliers": len(suppliers),
            "locations": len(locations),
            "items": len(items),
            "movements": len(movement_rows),
            "lots": len(lot_rows),
            "packaging_levels": len(levels),
            "order_formats": len(suppliers),
        },
    )
