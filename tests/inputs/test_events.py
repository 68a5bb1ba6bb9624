import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.inputs.events import EventKind, parse_events

COLS = ["kind", "visit_id", "agent_id", "at", "lat", "lon", "window_start", "window_end"]


def frame(rows: list[list[str]]) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=COLS, dtype=str)
    f.index = pd.RangeIndex(2, 2 + len(f))
    return f


def parse(rows: list[list[str]]):
    return parse_events(frame(rows), "events.csv", visit_ids={"V1", "V2"}, agent_ids={"A1"})


def test_parses_every_kind():
    events = parse(
        [
            ["done", "V1", "", "10:00", "", "", "", ""],
            ["cancelled", "V2", "", "09:00", "", "", "", ""],
            ["new", "V9", "", "10:05", "30.6", "104.0", "13:00", "14:00"],
            ["agent_at", "", "A1", "10:10", "30.6", "104.1", "", ""],
            ["agent_off", "", "A1", "15:00", "", "", "", ""],
        ]
    )
    assert [e.kind for e in events] == [
        EventKind.DONE,
        EventKind.CANCELLED,
        EventKind.NEW,
        EventKind.AGENT_AT,
        EventKind.AGENT_OFF,
    ]
    assert events[0].at_s == 10 * 3600
    assert events[2].visit is not None
    assert events[2].visit.window is not None
    assert events[2].visit.window.start_s == 13 * 3600
    assert events[3].position is not None


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (["finished", "V1", "", "10:00", "", "", "", ""], "kind", "not an event kind"),
        (["done", "V1", "", "25:00", "", "", "", ""], "at", "not a time of day"),
        (["done", "V7", "", "10:00", "", "", "", ""], "visit_id", "not a visit in the plan"),
        (["done", "", "", "10:00", "", "", "", ""], "visit_id", "is empty"),
        (["agent_off", "", "A9", "10:00", "", "", "", ""], "agent_id", "not an agent"),
        (["agent_at", "", "A1", "10:00", "", "", "", ""], "lat", "needs lat and lon"),
        (["new", "V1", "", "10:00", "30.6", "104.0", "", ""], "visit_id", "already a visit"),
        (
            ["new", "V9", "", "10:00", "30.6", "104.0", "14:00", "13:00"],
            "window_end",
            "before it starts",
        ),
    ],
)
def test_bad_row_names_row_and_column(row, column, fragment):
    with pytest.raises(InputError, match=fragment) as err:
        parse([["done", "V2", "", "09:00", "", "", "", ""], row])
    assert [(i.source, i.row, i.column) for i in err.value.issues] == [("events.csv", 3, column)]


def test_missing_column():
    f = frame([["done", "V1", "", "10:00", "", "", "", ""]]).drop(columns=["at"])
    with pytest.raises(InputError, match="missing column 'at'"):
        parse_events(f, "events.csv", visit_ids={"V1"}, agent_ids=set())


def test_cli_rejects_bad_events_with_exit_2(tmp_path, capsys):
    from optimizer.outputs.export import write_plan
    from tests.helpers import synthetic_day

    day = synthetic_day(seed=1, n_visits=4, n_agents=1)
    write_plan(day, tmp_path / "day")
    events = tmp_path / "events.csv"
    events.write_text("kind,visit_id,agent_id,at\ndone,V0001,,10:00\nlunch,V0002,,11:00\n")
    code = main(
        ["replan", str(tmp_path / "day" / "plan.json"), "--events", str(events), "--now", "11:00"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "events.csv, row 3, column 'kind'" in err
