"""Conversions to SteriStock's units: °C and kPa gauge (vacuum negative)."""

from __future__ import annotations

KPA_PER_PSI = 6.895
KPA_PER_INHG = 3.38639
ATMOSPHERE_BAR = 1.013


def fahrenheit_to_celsius(value: float) -> float:
    return (value - 32) * 5 / 9


def psig_to_kpa(value: float) -> float:
    return value * KPA_PER_PSI


def inhg_vacuum_to_kpa(value: float) -> float:
    """A vacuum gauge's inches of mercury below atmosphere, as (negative) gauge kPa."""
    return -value * KPA_PER_INHG


def absolute_bar_to_kpa(value: float) -> float:
    return (value - ATMOSPHERE_BAR) * 100
