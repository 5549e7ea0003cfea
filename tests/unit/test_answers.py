"""The answer contract (vmk-review/1): builders, checks, JSON Schema and answers_frame."""

import json
import re

import jsonschema
import pytest

from helpers import answers, review, taxonomy
from helpers.errors import InputError
from helpers.offline import reviewer
from helpers.offline.settings import AutoReviewPolicy

INPUT_ITEMS = [
    {"id": "i-1", "label": "Drinking", "parent": "Alcohol Use", "category": "Alcohol"},
    {"id": "i-2", "label": "Weapons", "parent": "Violence", "category": "Violence"},
    {"id": "i-3", "label": "Smoking", "parent": "x", "category": "Drugs & Tobacco"},
]


def good_doc():
    return answers.review_document(
        [
            answers.answer_item("i-1", "violation", note="beer"),
            answers.answer_item("i-2", "wrong_category", category="Explosions and Blasts"),
            answers.answer_item("i-3", "unsure", escalate=True),
        ],
        notes="scene 6 again",
    )


def output_of(*docs, with_input=True):
    out = {
        "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/f",
        "humanLoopName": "vmk-loop-x",
        "humanAnswers": [
            {
                "acceptanceTime": "2026-11-24T10:00:00.000Z",
                "answerContent": answers.answer_content(doc) if isinstance(doc, dict) else doc,
                "submissionTime": "2026-11-24T10:01:30.500Z",
                "timeSpentInSeconds": 90.5,
                "workerId": f"w{n}",
                "workerMetadata": {"identityData": {}},
            }
            for n, doc in enumerate(docs, 1)
        ],
    }
    if with_input:
        out["inputContent"] = {"schema": answers.INPUT_SCHEMA, "items": INPUT_ITEMS}
    return out


def test_builders_write_every_field_in_order():
    item = answers.answer_item("i-9", "not_violation", category="Smoking")
    assert tuple(item) == answers.ITEM_FIELDS
    assert item["category"] is None  # only wrong_category carries one
    doc = good_doc()
    assert answers.validate_review(doc, INPUT_ITEMS) is doc
    content = answers.answer_content(doc)
    assert list(content) == [answers.ANSWER_FIELD]
    assert answers.parse_answer_content(content, INPUT_ITEMS) == doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema="vmk-review/0"), "schema is 'vmk-review/0'"),
        (lambda d: d.pop("items"), "`items` is missing"),
        (lambda d: d.update(notes=3), "`notes` is not a string"),
        (
            lambda d: d["items"][0].update(verdict="maybe"),
            "items[0] (id 'i-1') has verdict 'maybe'",
        ),
        (lambda d: d["items"][0].pop("id"), "items[0] has no `id`"),
        (lambda d: d["items"][1].update(category="Beer"), "'Beer' is not a label of the v7"),
        (lambda d: d["items"][1].update(category=None), "is `wrong_category` but"),
        (lambda d: d["items"][0].update(category="Alcohol"), "only `wrong_category` carries"),
        (lambda d: d["items"][2].update(escalate="yes"), "`escalate` 'yes'"),
        (lambda d: d["items"][2].update(note=None), "`note` that is not a string"),
        (lambda d: d["items"].__setitem__(2, "i-3"), "items[2] is str"),
    ],
)
def test_bad_documents_are_rejected_by_both_checks(change, message):
    doc = good_doc()
    change(doc)
    with pytest.raises(answers.AnswerError, match=re.escape(message)):
        answers.validate_review(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, answers.json_schema())


def test_good_documents_pass_both_checks():
    minimal = {"schema": answers.ANSWER_SCHEMA, "items": [{"id": "a", "verdict": "unsure"}]}
    extended = dict(good_doc(), reviewed_with="a future page")
    for doc in (good_doc(), minimal, extended):
        answers.validate_review(doc)
        jsonschema.validate(doc, answers.json_schema())


def test_answer_must_cover_exactly_the_input_items():
    doc = good_doc()
    twice = good_doc()
    twice["items"][2]["id"] = "i-1"
    with pytest.raises(answers.AnswerError, match=r"items\[2\] \(id 'i-1'\) repeats an id"):
        answers.validate_review(twice)
    with pytest.raises(answers.AnswerError, match=r"1 input item\(s\) have no verdict: i-4"):
        answers.validate_review(doc, [*INPUT_ITEMS, {"id": "i-4"}])
    with pytest.raises(answers.AnswerError, match=r"1 answered id\(s\) are not in the input: i-3"):
        answers.validate_review(doc, INPUT_ITEMS[:2])


def test_parse_answer_content_explains_what_is_wrong():
    with pytest.raises(answers.AnswerError, match=r"no `review` field \(fields: note\)"):
        answers.parse_answer_content({"note": "x"})
    with pytest.raises(answers.AnswerError, match="not valid JSON"):
        answers.parse_answer_content({"review": "{not json"})
    with pytest.raises(answers.AnswerError, match="not an object"):
        answers.parse_answer_content(["review"])


def test_json_schema_labels_are_the_v7_taxonomy():
    schema = answers.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$defs"]["v7label"]["enum"] == list(taxonomy.NAMES)
    assert schema["$defs"]["item"]["properties"]["verdict"]["enum"] == list(answers.VERDICTS)
    assert answers.SCHEMA_DOC.exists()


@pytest.mark.parametrize("policy", ["confirm", "reject", "mixed"])
def test_auto_reviewer_answers_follow_the_schema(policy):
    loop_input = {"schema": answers.INPUT_SCHEMA, "items": INPUT_ITEMS}
    content = reviewer.answer_content(loop_input, AutoReviewPolicy(policy))
    doc = answers.parse_answer_content(content, INPUT_ITEMS)
    jsonschema.validate(doc, answers.json_schema())
    assert all(tuple(item) == answers.ITEM_FIELDS for item in doc["items"])


def test_answers_frame_has_one_row_per_worker_and_item():
    other = good_doc()
    other["items"][0]["bulk"] = True
    frame = review.answers_frame(output_of(good_doc(), other))
    assert list(frame.columns) == review.ANSWER_COLUMNS
    assert len(frame) == 6
    first = frame[frame.worker == "w1"].set_index("id")
    assert first.loc["i-1", "verdict"] == "violation" and first.loc["i-1", "note"] == "beer"
    assert first.loc["i-2", "corrected_category"] == "Explosions and Blasts"
    assert bool(first.loc["i-3", "escalate"]) and not bool(first.loc["i-1", "bulk"])
    assert bool(frame[(frame.worker == "w2") & (frame.id == "i-1")]["bulk"].iloc[0])
    assert first.loc["i-1", "seconds_spent"] == 90.5
    assert (first.loc["i-1", "submitted"] - first.loc["i-1", "accepted"]).total_seconds() == 90.5


def test_answers_frame_rejects_answers_off_schema_with_a_clear_error():
    doc = good_doc()
    doc["items"] = doc["items"][:2]
    with pytest.raises(InputError) as caught:
        review.answers_frame(output_of(good_doc(), doc))
    text = str(caught.value)
    assert "Answer 2 (worker `w2`) of human loop `vmk-loop-x`" in text
    assert "have no verdict: i-3" in text
    assert "templates/reviewer/ANSWER_SCHEMA.md" in text
    classifier = output_of(good_doc())
    classifier["humanAnswers"][0]["answerContent"] = {"category": {"label": "x"}}
    with pytest.raises(InputError, match="no `review` field"):
        review.answers_frame(classifier)
    # without the input, ids are not cross-checked
    assert len(review.answers_frame(output_of(doc, with_input=False))) == 2


def test_answers_frame_of_no_answers_is_empty_with_columns():
    frame = review.answers_frame({"humanLoopName": "x"})
    assert frame.empty and list(frame.columns) == review.ANSWER_COLUMNS


def test_answer_content_is_a_json_string_like_the_page_sends():
    content = answers.answer_content(good_doc())
    assert isinstance(content["review"], str)
    assert json.loads(content["review"]) == good_doc()


# --- version 2: ranges and added moments ------------------------------------------------------

INPUT_RANGES = {"i-1": (5400, 11900), "i-2": (20000, 20000), "i-3": (30000, 35000)}


def v2_doc():
    """What the page sends: every item with its range, one adjusted, one moment added."""
    items = good_doc()["items"]
    for item in items:
        start, end = INPUT_RANGES[item["id"]]
        item.update(start_ms=start, end_ms=end, adjusted=False)
    items[0].update(start_ms=6000, adjusted=True)
    added = [answers.added_item("added-1", "Gambling", 40000, 42000, note="cards")]
    return answers.review_document(items, notes="v2", added=added)


def v1_doc():
    doc = good_doc()
    doc["schema"] = answers.ANSWER_SCHEMA_V1
    doc.pop("added")
    return doc


def test_both_versions_pass_both_checks():
    assert answers.ANSWER_SCHEMAS == ("vmk-review/1", "vmk-review/2")
    for doc in (v1_doc(), v2_doc(), good_doc()):
        assert answers.validate_review(doc, INPUT_ITEMS) is doc
        jsonschema.validate(doc, answers.json_schema())
    added = v2_doc()["added"][0]
    assert tuple(added) == answers.ADDED_FIELDS and added["category"] == "Gambling"
    item = answers.answer_item("i-1", "violation", start_ms=1, end_ms=2, adjusted=True)
    assert tuple(item) == answers.ITEM_FIELDS + answers.RANGE_FIELDS


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["items"][0].update(start_ms=-1), "expected whole milliseconds"),
        (lambda d: d["items"][0].update(start_ms="6000"), "expected whole milliseconds"),
        (lambda d: d["items"][0].pop("end_ms"), "needs both `start_ms` and `end_ms`"),
        (lambda d: d["items"][0].update(adjusted="yes"), "`adjusted` 'yes'"),
        (lambda d: d.update(added={}), "`added` is not a list"),
        (lambda d: d["added"][0].update(label="Cards"), "label 'Cards', not a label of the v7"),
        (lambda d: d["added"][0].pop("start_ms"), "needs both `start_ms` and `end_ms`"),
        (lambda d: d["added"][0].pop("id"), "added[0] has no `id`"),
        (lambda d: d["added"][0].update(note=1), "`note` that is not a string"),
        (lambda d: d["added"][0].update(escalate=1), "`escalate` 1"),
    ],
)
def test_bad_v2_documents_are_rejected_by_both_checks(change, message):
    doc = v2_doc()
    change(doc)
    with pytest.raises(answers.AnswerError, match=re.escape(message)):
        answers.validate_review(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, answers.json_schema())


def test_v2_rules_beyond_json_schema():
    backwards = v2_doc()
    backwards["items"][0].update(start_ms=9000, end_ms=8000)
    with pytest.raises(answers.AnswerError, match=r"ends \(8000 ms\) before it starts"):
        answers.validate_review(backwards)
    clash = v2_doc()
    clash["added"][0]["id"] = "i-2"
    with pytest.raises(answers.AnswerError, match=r"added\[0\] \(id 'i-2'\) repeats an id"):
        answers.validate_review(clash)
    # added moments are not input items: the input check still passes
    assert answers.validate_review(v2_doc(), INPUT_ITEMS)


def test_changes_frame_lists_adjusted_and_added_items():
    output = output_of(v2_doc(), v1_doc())
    output["inputContent"]["items"] = [
        dict(item, start_ms=INPUT_RANGES[item["id"]][0], end_ms=INPUT_RANGES[item["id"]][1])
        for item in INPUT_ITEMS
    ]
    changes = answers.changes_frame(output)
    assert list(changes.columns) == list(answers.CHANGE_COLUMNS)
    assert changes["input_start_ms"].isna().tolist() == [False, True]
    records = changes.astype(object).where(changes.notna(), None).to_dict("records")
    assert records == [
        {
            "worker": "w1",
            "change": "adjusted",
            "id": "i-1",
            "label": "Drinking",
            "category": "Alcohol",
            "start_ms": 6000,
            "end_ms": 11900,
            "input_start_ms": 5400,
            "input_end_ms": 11900,
            "note": "beer",
            "escalate": False,
        },
        {
            "worker": "w1",
            "change": "added",
            "id": "added-1",
            "label": "Gambling",
            "category": "Gambling",
            "start_ms": 40000,
            "end_ms": 42000,
            "input_start_ms": None,
            "input_end_ms": None,
            "note": "cards",
            "escalate": False,
        },
    ]
    # the verdict table reads both versions the same way
    frame = review.answers_frame(output)
    assert len(frame) == 6 and set(frame.worker) == {"w1", "w2"}
    assert answers.changes_frame({"humanLoopName": "x"}).empty
