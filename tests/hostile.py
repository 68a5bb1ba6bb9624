"""Hostile text shared by every test that feeds the program a careless or malicious record.

One list, iterated by the CLI tests (file names, exit codes), the page tests (nothing
executes in a real browser) and the CSV tests (no formula reaches a spreadsheet), so a
payload added here is tried everywhere at once.
"""

from __future__ import annotations

#: Ids and names that must never become paths outside --out.
TRAVERSAL = (
    "../../pwn",
    "..\\..\\pwn",
    "/tmp/fieldroute-abs",
    "a/b",
    "CON",
    ".hidden",
    "x" * 300,
    "长" * 90,
)

#: Markup and script that must be shown as text in every page.
MARKUP = (
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "<img src=x onerror=window.__pwned=1>",
    "${window.__pwned=1}",
    "`${window.__pwned=1}`",
    "'\"`</script><svg onload=window.__pwned=1>",
    "javascript:window.__pwned=1",
)

#: Cells a spreadsheet would run as formulas.
FORMULAS = (
    '=HYPERLINK("http://example.invalid","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
)

PAYLOADS = TRAVERSAL + MARKUP + FORMULAS
