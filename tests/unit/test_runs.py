"""A cell that calls boto3 itself still shows AWS's refusal as what happened and what to do."""

from IPython.core.interactiveshell import InteractiveShell

from helpers import runs


def test_a_client_error_in_a_cell_is_explained():
    shell = InteractiveShell.instance()
    runs.readable_errors()
    runs.readable_errors()  # twice is harmless
    shown = []
    shell._showtraceback = lambda etype, value, lines: shown.append((etype.__name__, lines))
    result = shell.run_cell(
        "from botocore.exceptions import ClientError\n"
        'raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, '
        '"StartContentModeration")\n'
    )
    assert not result.success, "the cell still fails: Run All stops there"
    ((name, lines),) = shown
    assert name == "KitError"
    assert "may not call StartContentModeration" in lines[0]
    assert "What to do:" in lines[1] and "notebook-role-policy.json" in lines[1]
    assert len(lines) == 2, "no stack trace"
