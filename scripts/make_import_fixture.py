"""Write the catalogue-import test fixtures: a realistic 500-row distributor export.

`python scripts/make_import_fixture.py` (re)writes, deterministically (seeded):

- tests/inventory/fixtures/distributor_items.csv: 500 medical-supply items from 6 suppliers, the way
  a distributor portal exports them: UTF-8 with a BOM, CRLF, `$1,234.50` money (quoted,
  with thousands separators), `Yes`/`No` booleans, blank optional cells;
- tests/inventory/fixtures/distributor_items_semicolon.csv: the same items as a European-locale
  spreadsheet saves them (semicolons, no BOM, `1.234,50` money, `TRUE`/`FALSE`);
- tests/inventory/fixtures/distributor_par_levels.csv: par levels for those items at 4 rooms, some
  reorder points blank (they default to half the par, rounded up).
"""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "inventory" / "fixtures"
SUPPLIERS = {
    "Medline Industries": ("MDL", 5),
    "Henry Schein Medical": ("HS", 4),
    "McKesson Medical-Surgical": ("MCK", 3),
    "Cardinal Health": ("CAH", 6),
    "Owens & Minor": ("OM", 7),
    "Steris Healthcare": ("STE", 10),
}
PRODUCTS = [
    # (base name, unit, pack sizes, cost range per unit, category, lot tracked)
    ("Nitrile exam gloves, powder-free", "box", (100, 200, 250), (0.03, 0.09), "Gloves", False),
    ("Latex surgical gloves, sterile", "pair", (50,), (0.40, 1.20), "Gloves", True),
    ("Gauze sponges 4x4 12-ply, sterile", "pack", (10, 25, 50), (0.08, 0.30), "Wound care", True),
    ("Non-adherent pads 3x4", "each", (100,), (0.10, 0.35), "Wound care", False),
    ("Adhesive bandages 1x3", "box", (100,), (0.02, 0.06), "Wound care", False),
    ("Hypodermic needles", "each", (100,), (0.05, 0.15), "Needles & syringes", True),
    ("Luer-lock syringes", "each", (100, 50), (0.10, 0.45), "Needles & syringes", True),
    ("Insulin syringes 0.5 mL", "each", (100,), (0.15, 0.30), "Needles & syringes", True),
    ("Alcohol prep pads, medium", "box", (200,), (0.01, 0.03), "Skin prep", False),
    ("Chlorhexidine swabsticks", "each", (50,), (0.40, 0.90), "Skin prep", True),
    ("Povidone-iodine prep pads", "box", (100,), (0.04, 0.09), "Skin prep", True),
    ("Sterilization pouches self-seal", "box", (200,), (0.05, 0.20), "Sterilization", False),
    ("Chemical indicator strips class 5", "strip", (250,), (0.20, 0.40), "Sterilization", True),
    ("Biological indicator vials", "each", (25, 50), (2.50, 6.00), "Sterilization", True),
    ("Bowie-Dick test packs", "pack", (30,), (3.50, 6.50), "Sterilization", True),
    ("Exam table paper, crepe 21in", "roll", (12,), (4.00, 9.00), "Exam room", False),
    ("Disposable tongue depressors", "each", (500,), (0.01, 0.03), "Exam room", False),
    ("Specimen containers 4 oz", "each", (100,), (0.20, 0.60), "Lab", False),
    ("Blood collection tubes EDTA", "each", (100,), (0.15, 0.40), "Lab", True),
    ("Suture nylon 4-0 with needle", "each", (12, 36), (2.00, 5.50), "Sutures", True),
    ("Suture absorbable 3-0", "each", (12, 36), (3.00, 8.00), "Sutures", True),
    ("Scalpel blades #15, sterile", "each", (100,), (0.15, 0.40), "Instruments", True),
    ("Digital thermometer probe covers", "box", (1000,), (0.01, 0.02), "Exam room", False),
    ("Surgical masks, ear loop", "box", (50,), (0.05, 0.20), "PPE", False),
    ("N95 respirators", "each", (20,), (0.60, 1.80), "PPE", True),
    ("Isolation gowns, level 2", "each", (10, 50), (0.70, 2.10), "PPE", False),
    (
        "Ultrasonic cleaner enzymatic detergent",
        "gallon",
        (4,),
        (28.00, 65.00),
        "Sterilization",
        True,
    ),
    ("Autoclave distilled water", "gallon", (6,), (1.50, 3.00), "Sterilization", False),
    ("Sharps containers 2 gallon", "each", (20,), (3.00, 7.50), "Waste", False),
    ("Pulse oximeter", "each", (1,), (450.00, 1850.00), "Equipment", False),
]
SIZES = ["XS", "S", "M", "L", "XL", "18G", "21G", "25G", "3 mL", "5 mL", "10 mL", "Std"]
ROOMS = ["EXAM1", "EXAM2", "PROC", "SUPPLY"]
HEADER = ["sku", "name", "unit", "pack_size", "supplier", "vendor_sku", "unit_cost", "gtin",
          "lead_time_days", "min_order_qty", "lot_tracked", "category"]  # fmt: skip


def gtin14(number: int) -> str:
    """A valid GTIN-14 under the GS1 example company prefix 0614141."""
    body = f"1061414{number:06d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def items(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    suppliers = list(SUPPLIERS)
    for n in range(500):
        name, unit, packs, (low, high), category, lot = PRODUCTS[n % len(PRODUCTS)]
        size = SIZES[(n // len(PRODUCTS)) % len(SIZES)]
        supplier = suppliers[n % len(suppliers)]
        prefix, _lead = SUPPLIERS[supplier]
        places = rng.choice((2, 2, 3, 4)) if high < 1 else 2
        cost = Decimal(str(round(rng.uniform(low, high), places)))
        rows.append(
            {
                "sku": f"{category[:3].upper().replace(' ', '')}-{n + 1:04d}",
                "name": f"{name}, {size}",
                "unit": unit,
                "pack_size": rng.choice(packs),
                "supplier": supplier,
                "vendor_sku": f"{prefix}{rng.randint(10000, 99999)}" if n % 7 else "",
                "unit_cost": cost,
                "gtin": gtin14(n + 1) if n % 5 else "",
                "lead_time_days": rng.choice((3, 5, 7, 10, 14)) if n % 3 else "",
                "min_order_qty": rng.choice((0, 0, 1, 2, 5)),
                "lot_tracked": lot,
                "category": category if n % 11 else "",
            }
        )
    return rows


def us_money(value: Decimal) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value}"


def eu_money(value: Decimal) -> str:
    text = f"{value:,}" if value >= 1 else str(value)
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def write(path: Path, rows: list[list[object]], *, delimiter: str, bom: bool) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(("\ufeff" if bom else "").encode() + buffer.getvalue().encode())


def main() -> None:
    rng = random.Random(20261128)
    catalogue = items(rng)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    us = [HEADER] + [
        [r[c] for c in HEADER[:6]] + [us_money(r["unit_cost"])]  # type: ignore[arg-type]
        + [r["gtin"], r["lead_time_days"], r["min_order_qty"],
           "Yes" if r["lot_tracked"] else "No", r["category"]]
        for r in catalogue
    ]  # fmt: skip
    write(FIXTURES / "distributor_items.csv", us, delimiter=",", bom=True)
    eu = [HEADER] + [
        [r[c] for c in HEADER[:6]] + [eu_money(r["unit_cost"])]  # type: ignore[arg-type]
        + [r["gtin"], r["lead_time_days"], r["min_order_qty"],
           "TRUE" if r["lot_tracked"] else "FALSE", r["category"]]
        for r in catalogue
    ]  # fmt: skip
    write(FIXTURES / "distributor_items_semicolon.csv", eu, delimiter=";", bom=False)
    par: list[list[object]] = [["sku", "location", "par_level", "reorder_point"]]
    for n, r in enumerate(catalogue):
        for room in rng.sample(ROOMS, k=1 + n % 3):
            level = rng.choice((2, 4, 5, 10, 12, 20, 30, 50))
            point = "" if n % 4 == 0 else rng.randint(0, level // 2)
            par.append([r["sku"], room, level, point])
    write(FIXTURES / "distributor_par_levels.csv", par, delimiter=",", bom=False)
    print(f"wrote {len(catalogue)} items and {len(par) - 1} par levels to {FIXTURES}")


if __name__ == "__main__":
    main()
