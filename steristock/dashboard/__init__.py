"""The dashboard `/` and its usage chart fragment: what needs attention, from both domains."""
