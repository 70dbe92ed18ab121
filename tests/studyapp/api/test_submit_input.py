"""plain_submission only ever accepts what SubmitIn accepts, with the same result."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from studyapp.api.serializers import SubmitIn
from studyapp.api.submit_input import plain_submission

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from([" padded ", "\x00", "\ud800", "", "  "]),
)
values = st.one_of(
    scalars, st.lists(scalars, max_size=2), st.dictionaries(st.text(max_size=3), scalars, max_size=3)
)
keys = st.sampled_from(
    ["steps", "step_comments", "ratings", "trajectory_rating", "comment", "time_on_task", "other"]
)
bodies = st.one_of(st.dictionaries(keys, values, max_size=6), values)


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_accepted_bodies_validate_the_same_as_the_serializer(body):
    plain = plain_submission(body)
    if plain is None:
        return
    serializer = SubmitIn(data=body)
    assert serializer.is_valid(), serializer.errors
    assert plain == dict(serializer.validated_data)


def test_well_formed_body_is_taken_as_is():
    body = {"steps": {"0": 1, "1": -1}, "step_comments": {"1": " off by one "}, "time_on_task": 5}
    assert plain_submission(body) == {
        "steps": {"0": 1, "1": -1},
        "step_comments": {"1": "off by one"},
        "comment": "",
        "time_on_task": 5.0,
    }


def test_anything_unusual_is_left_to_the_serializer():
    for body in (
        {"steps": {"0": True}},
        {"steps": {"0": "1"}},
        {"comment": "a\x00b"},
        {"time_on_task": -1},
        {"time_on_task": math.inf},
        {"time_on_task": 10**400},
        {"trajectory_rating": 2.0},
        {"unknown": 1},
        ["steps"],
    ):
        assert plain_submission(body) is None, body
