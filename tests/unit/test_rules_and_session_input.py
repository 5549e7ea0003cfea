"""Rule files and session settings a person writes: refused with the fix, before any AWS call."""

import pytest

from helpers import session
from helpers.errors import ConfigurationError, InputError
from helpers.rules import RuleSet


@pytest.mark.parametrize(
    "text, said",
    [
        ('{"categories": {"Drinking": "80"}}', "write 80 without quotes"),
        ('{"categories": {"Drinking": NaN}}', "finite"),
        ('{"categories": {"Drinking": Infinity}}', "finite"),
        ('{"categories": {"Drinking": 80, "Drinking": 80}}', "gives 'Drinking' twice"),
        ('{"name": "a", "name": "b", "categories": {}}', "gives 'name' twice"),
        (
            '{"categories": {"Drinking": 80}, "exclusions": ["Smoking", "Smoking"]}',
            "more than once",
        ),
    ],
)
def test_rule_file_refused(tmp_path, text, said):
    path = tmp_path / "rules.json"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        RuleSet.load(path)
    assert said in str(err.value) and "rules.json" in str(err.value)


def test_rule_file_not_utf8_or_a_folder(tmp_path):
    path = tmp_path / "rules.json"
    path.write_bytes(b'{"name": "caf\xe9", "categories": {}}')
    with pytest.raises(InputError, match="not UTF-8"):
        RuleSet.load(path)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    with pytest.raises(InputError):
        RuleSet.load(folder)


def test_region_with_a_space_in_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1 ")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(ConfigurationError) as err:
        session.connect()
    assert "'eu-west-1 '" in err.value.what and "AWS_DEFAULT_REGION" in err.value.fix


@pytest.mark.parametrize("run_id", ["My Run", "ab", "x" * 17, "run_1"])
def test_run_id_refused(run_id):
    with pytest.raises(InputError, match="resource names"):
        session.connect(region="us-east-1", run_id=run_id)
