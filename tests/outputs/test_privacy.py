"""Privacy: tests derived from the policy table, the cross-agent leak test, permissions, logs."""

from __future__ import annotations

import dataclasses
import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.day import DayPlan
from optimizer.domain import Visit
from optimizer.outputs.export import (
    agents_frame,
    check_columns,
    visits_frame,
    write_calendars,
    write_notices,
    write_plan,
)
from optimizer.outputs.maps import save_maps
from optimizer.outputs.privacy import (
    AGENT_POLICY,
    VISIT_POLICY,
    Audience,
    Show,
    mask_phone,
    shorten_name,
    visit_view,
)
from tests.helpers import make_day

RENDERERS = [save_maps, write_calendars, write_notices]
#: Visit fields whose value is shown legitimately through another field: a pin is an
#: agent id, which every agent output names.
SHOWN_ELSEWHERE = {"pinned_agent"}


@pytest.fixture(scope="module")
def day() -> DayPlan:
    return make_day()


@pytest.fixture(scope="module")
def out(day: DayPlan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan") / "out"
    write_plan(day, folder, renderers=RENDERERS)
    return folder


def text_values(value: object) -> Iterator[str]:
    """Every searchable string inside a field's value (str, tuples, sets, extra pairs)."""
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, tuple | frozenset | list):
        for item in value:
            yield from text_values(item)


def outputs(out: Path, audience: Audience, day: DayPlan) -> dict[str, str]:
    """The text of every output of ``audience``, by name."""
    if audience is Audience.DISPATCHER:
        names = ["plan.json", "itineraries.csv", "unassigned.csv", "overview.html"]
    elif audience is Audience.AGENT:
        names = [f"agent-{r.agent_id}.{ext}" for r in day.plan.routes for ext in ("html", "ics")]
    else:
        names = [str(p.relative_to(out)) for p in (out / "notices").iterdir()]
    return {n: (out / n).read_text(encoding="utf-8-sig") for n in names}


def unfold(text: str) -> str:
    """Undo iCalendar line folding and escaping so values can be searched."""
    # read_text() turns CRLF into LF, so a folded line continues after "\n ".
    return text.replace("\r\n ", "").replace("\n ", "").replace("\\,", ",").replace("\\;", ";")


@pytest.mark.parametrize("audience", list(Audience))
def test_fields_outside_the_policy_never_appear(
    day: DayPlan, out: Path, audience: Audience
) -> None:
    """Derived from the table: every Visit field (and extra column) it does not list."""
    texts = {k: unfold(v) for k, v in outputs(out, audience, day).items()}
    allowed = VISIT_POLICY[audience]
    checked = 0
    for v in day.visits:
        for f in dataclasses.fields(Visit):
            if f.name in allowed or f.name in SHOWN_ELSEWHERE:
                continue
            values = (
                [val for _, val in v.extra]
                if f.name == "extra"
                else list(text_values(getattr(v, f.name)))
            )
            for value in values:
                checked += 1
                for name, text in texts.items():
                    assert value not in text, f"{f.name} of {v.visit_id} leaks into {name}"
    assert checked > 0


@pytest.mark.parametrize("audience", list(Audience))
def test_masked_fields_appear_only_masked(day: DayPlan, out: Path, audience: Audience) -> None:
    texts = outputs(out, audience, day)
    for v in day.visits:
        for f, show in VISIT_POLICY[audience].items():
            if show is Show.MASKED:
                whole = getattr(v, f)
                assert all(whole not in t for t in texts.values()), (
                    f"whole {f} in {audience} output"
                )
    for a in day.agents:
        for f, show in AGENT_POLICY[audience].items():
            if show is Show.MASKED:
                assert all(getattr(a, f) not in t for t in texts.values())
    assert all(a.phone not in t for a in day.agents for t in texts.values())


def test_agent_outputs_hold_nothing_of_other_routes(day: DayPlan, out: Path) -> None:
    by_agent = {r.agent_id: {s.visit_id for s in r.stops} for r in day.plan.routes}
    visits = {v.visit_id: v for v in day.visits}
    for agent_id, own in by_agent.items():
        others = [v for vid, v in visits.items() if vid not in own]
        assert others
        for ext in ("html", "ics"):
            text = unfold((out / f"agent-{agent_id}.{ext}").read_text(encoding="utf-8"))
            for v in others:
                for value in (v.visit_id, v.phone, v.address, v.name):
                    assert value not in text, f"{value} of {v.visit_id} in agent-{agent_id}.{ext}"
            for v in (visits[i] for i in own):  # and the agent's own are whole
                assert v.phone in text
                assert v.address in text


def test_each_notice_carries_only_its_own_borrower(day: DayPlan, out: Path) -> None:
    for path in (out / "notices").iterdir():
        text = path.read_text(encoding="utf-8")
        own = path.stem
        for v in day.visits:
            assert v.name not in text  # not even their own: previews are read on shared phones
            assert v.address not in text
            if v.visit_id != own:
                assert v.visit_id not in text
                assert v.phone not in text


def test_agent_outputs_keep_phones_whole_and_id_numbers_out(day: DayPlan, out: Path) -> None:
    view = visit_view(day.visits[0], Audience.AGENT)
    assert view["phone"] == day.visits[0].phone
    assert "extra" not in view
    html = (out / "agent-A1.html").read_text(encoding="utf-8")
    assert "tel:13900000101" in html
    assert "510100198001010101" not in html
    assert "98765101.55" not in html


def test_masking_rules() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "861****5678"
    assert mask_phone("12345") == "***45"
    assert mask_phone("") == ""
    assert shorten_name("王小明") == "王**"
    assert shorten_name(" Alice Smith ") == "A**"
    assert shorten_name("") == ""


def test_dispatcher_view_masks(day: DayPlan) -> None:
    view = visit_view(day.visits[0], Audience.DISPATCHER)
    assert view["phone"] == "139****0101"
    assert view["name"] == "姓**"


def test_a_table_column_outside_the_policy_is_refused() -> None:
    check_columns(Audience.DISPATCHER, ["visit_id", "lat", "seq"], derived=frozenset({"seq"}))
    with pytest.raises(ValueError, match=r"\['id_number'\] are not allowed for the dispatcher"):
        check_columns(Audience.DISPATCHER, ["visit_id", "id_number"], derived=frozenset())
    with pytest.raises(ValueError, match="not allowed for the borrower"):
        check_columns(Audience.BORROWER, ["address"], derived=frozenset())


def modes(folder: Path) -> set[tuple[str, int]]:
    return {
        ("d" if p.is_dir() else "f", stat.S_IMODE(p.stat().st_mode))
        for p in [folder, *folder.rglob("*")]
    }


def test_outputs_owner_only_by_default(out: Path) -> None:
    assert modes(out) == {("d", 0o700), ("f", 0o600)}


def test_share_opens_outputs_but_not_inputs(day: DayPlan, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    write_plan(day, folder, renderers=RENDERERS, share=True)
    assert modes(folder / "inputs") == {("d", 0o700), ("f", 0o600)}
    rest = {
        ("d" if p.is_dir() else "f", stat.S_IMODE(p.stat().st_mode))
        for p in [folder, *folder.rglob("*")]
        if "inputs" not in p.parts
    }
    assert rest == {("d", 0o755), ("f", 0o644)}


def test_cli_logs_and_output_carry_no_personal_data(
    day: DayPlan,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    visits = tmp_path / "visits.csv"
    agents = tmp_path / "agents.csv"
    visits_frame(day.visits).to_csv(visits, index=False)
    agents_frame(day.agents).to_csv(agents, index=False)
    with caplog.at_level(logging.DEBUG):
        code = main(
            [
                "plan",
                str(visits),
                str(agents),
                "--date",
                "2026-12-01",
                "--time-limit",
                "1",
                "--out",
                str(tmp_path / "out"),
                "-v",
                "--lang",
                "en",
            ]
        )
    assert code == 0
    captured = capsys.readouterr()
    said = caplog.text + captured.out + captured.err
    for v in day.visits:
        for value in (v.name, v.phone, v.address):
            assert value not in said
    for a in day.agents:
        assert a.name not in said
        assert a.phone not in said
    assert "warning: notices name no dispatch desk number" in captured.err
    notice = (tmp_path / "out" / "notices" / "V101.txt").read_text(encoding="utf-8")
    assert notice.startswith("Hello")


def test_cli_share_flag(day: DayPlan, tmp_path: Path) -> None:
    visits = tmp_path / "visits.csv"
    agents = tmp_path / "agents.csv"
    visits_frame(day.visits).to_csv(visits, index=False)
    agents_frame(day.agents).to_csv(agents, index=False)
    code = main(
        [
            "plan",
            str(visits),
            str(agents),
            "--date",
            "2026-12-01",
            "--time-limit",
            "1",
            "--out",
            str(tmp_path / "out"),
            "-q",
            "--share",
        ]
    )
    assert code == 0
    assert stat.S_IMODE((tmp_path / "out" / "agent-A1.html").stat().st_mode) == 0o644
