"""Plausible readings. A printout in °F typed into a °C field (270 for 132 °C) would pass
a 132 °C minimum, so temperatures outside the band a sterilizer kind can reach are
refused, and say so when they look like °F. `temperature_f` and `pressure_psi` are taken
instead of `temperature_c` / `pressure_kpa`: the cycle stores °C and kPa and keeps what
was entered."""

from __future__ import annotations

from typing import Any

from kernel.problems import InvalidInput
from sterilization.records.units import fahrenheit_to_celsius, psig_to_kpa

# The °C band each sterilizer kind can plausibly reach (steam and chemical vapour 100-150).
TEMPERATURE_BANDS_C: dict[str, tuple[float, float]] = {"dry_heat": (120.0, 220.0)}
DEFAULT_BAND_C = (100.0, 150.0)


def band_for(kind: str) -> tuple[float, float]:
    return TEMPERATURE_BANDS_C.get(kind, DEFAULT_BAND_C)


def _to_f(celsius: float) -> float:
    return celsius * 9 / 5 + 32


def _refuse_temperature(field: str, value: float, celsius: float, kind: str) -> InvalidInput:
    low, high = band_for(kind)
    words = kind.replace("_", " ")
    if field == "temperature_c" and _to_f(low) <= value <= _to_f(high):
        detail = (
            f"temperature_c {value:g} looks like °F ({value:g} °F is "
            f"{fahrenheit_to_celsius(value):.1f} °C): a {words} sterilizer runs at "
            f"{low:g}-{high:g} °C. Enter °F readings as temperature_f."
        )
        message = "looks like °F"
    elif field == "temperature_f":
        detail = (
            f"temperature_f {value:g} °F is {celsius:.1f} °C, outside the {low:g}-{high:g} °C "
            f"a {words} sterilizer runs at."
        )
        message = f"outside {_to_f(low):g}-{_to_f(high):g} °F"
    else:
        detail = (
            f"temperature_c {value:g} °C is outside the {low:g}-{high:g} °C a {words} "
            "sterilizer runs at."
        )
        message = f"outside {low:g}-{high:g} °C"
    return InvalidInput.for_field(field, detail, message=message)


def normalise_readings(data: dict[str, Any], *, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(`data` with °C / kPa readings, what was entered). One of `temperature_c` /
    `temperature_f` and of `pressure_kpa` / `pressure_psi`, never both."""
    data = dict(data)
    entered: dict[str, Any] = {}
    for metric, imperial in (("temperature_c", "temperature_f"), ("pressure_kpa", "pressure_psi")):
        if data.get(metric) is not None and data.get(imperial) is not None:
            raise InvalidInput.for_field(
                imperial,
                f"Give {metric} or {imperial}, not both.",
                message=f"not with {metric}",
            )
    if data.get("temperature_f") is not None:
        value = data.pop("temperature_f")
        entered["temperature_f"] = value
        data["temperature_c"] = round(fahrenheit_to_celsius(value), 2)
        field = "temperature_f"
    else:
        data.pop("temperature_f", None)
        value = data.get("temperature_c")
        if value is not None:
            entered["temperature_c"] = value
        field = "temperature_c"
    celsius = data.get("temperature_c")
    if celsius is not None:
        low, high = band_for(kind)
        if not low <= celsius <= high:
            raise _refuse_temperature(field, value, celsius, kind)
    if data.get("pressure_psi") is not None:
        psi = data.pop("pressure_psi")
        entered["pressure_psi"] = psi
        data["pressure_kpa"] = round(psig_to_kpa(psi), 1)
    else:
        data.pop("pressure_psi", None)
        if data.get("pressure_kpa") is not None:
            entered["pressure_kpa"] = data["pressure_kpa"]
    return data, entered
