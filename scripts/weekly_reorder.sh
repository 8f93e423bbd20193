#!/bin/sh
# Weekly reorder CSV for purchasing: writes reorder-YYYY-MM-DD.csv into REORDER_DIR.
#
# Example crontab (Mondays 06:00, clinic time; the server's cron runs in its own zone):
#   0 6 * * 1  cd /opt/steristock && DATABASE_URL=... REORDER_DIR=/srv/reorder scripts/weekly_reorder.sh
#
# Environment: DATABASE_URL (and STERISTOCK_TIMEZONE) as for `steristock serve`;
# REORDER_DIR (default ./data/reorder); STERISTOCK_BIN (default .venv/bin/steristock);
# optional SUPPLIER_ID to export one supplier only, and ORDER_FILES, a space-separated
# list of supplier ids whose order file (their own layout, `--format supplier`) is
# written beside the CSV as order-<id>-YYYY-MM-DD.csv.
set -eu

cd "$(dirname "$0")/.."
REORDER_DIR="${REORDER_DIR:-./data/reorder}"
STERISTOCK_BIN="${STERISTOCK_BIN:-.venv/bin/steristock}"
TZ_NAME="${STERISTOCK_TIMEZONE:-UTC}"
STAMP="$(TZ="$TZ_NAME" date +%Y-%m-%d)"

mkdir -p "$REORDER_DIR"
if [ -n "${SUPPLIER_ID:-}" ]; then
    OUT="$REORDER_DIR/reorder-$STAMP-supplier-$SUPPLIER_ID.csv"
    "$STERISTOCK_BIN" reorder export --out "$OUT" --supplier "$SUPPLIER_ID"
else
    OUT="$REORDER_DIR/reorder-$STAMP.csv"
    "$STERISTOCK_BIN" reorder export --out "$OUT"
fi
echo "$OUT"
for ID in ${ORDER_FILES:-}; do
    ORDER="$REORDER_DIR/order-$ID-$STAMP.csv"
    "$STERISTOCK_BIN" reorder export --out "$ORDER" --supplier "$ID" --format supplier
    echo "$ORDER"
done
