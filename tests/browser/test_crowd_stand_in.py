"""The local crowd-html-elements stand-in answers with the shapes AWS documents.

The expected objects are the sample outputs of AWS's element reference (crowd-checkbox,
crowd-radio-group, crowd-input, crowd-text-area, crowd-classifier): the answer A2I records as
``answerContent`` is the one object of each documented ``[{...}]`` sample.
"""

from __future__ import annotations

import json

DOCUMENTED = """
<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <div><crowd-checkbox name="myformbit" value="Red"> Red </crowd-checkbox></div>
  <div><crowd-checkbox name="myformbit" value="Yellow"> Yellow </crowd-checkbox></div>
  <div><crowd-checkbox name="myformbit" value="Green"> Green </crowd-checkbox></div>
  <div><crowd-checkbox name="Stop" value="Red"> Red </crowd-checkbox></div>
  <div><crowd-checkbox name="Slow" value="Yellow"> Yellow </crowd-checkbox></div>
  <div><crowd-checkbox name="Go" value="Green"> Green </crowd-checkbox></div>
  <crowd-checkbox name="agree"> I agree </crowd-checkbox>
  <crowd-radio-group>
    <crowd-radio-button name="btn1" value="yes">Yes</crowd-radio-button>
    <crowd-radio-button name="btn2" value="no">No</crowd-radio-button>
  </crowd-radio-group>
  <crowd-input name="tag1" label="Word/phrase 1"></crowd-input>
  <crowd-input name="tag2" label="Word/phrase 2"></crowd-input>
  <crowd-input name="tag3" label="Word/phrase 3"></crowd-input>
  <crowd-text-area name="textInput1" rows="3"></crowd-text-area>
  <crowd-classifier name="category" categories="['Cat', 'Dog', 'Bird']" header="Which?">
  </crowd-classifier>
  <crowd-classifier-multi-select name="tags" categories='["a", "b", "c"]' header="All that apply">
  </crowd-classifier-multi-select>
  <input type="hidden" name="review" id="hidden">
</crowd-form>
<script>
  document.querySelector("crowd-form").onsubmit = function () {
    document.getElementById("hidden").value = JSON.stringify({ filled: "on submit" });
  };
</script>
"""

EXPECTED = {
    "myformbit": {"Red": True, "Yellow": False, "Green": False},
    "Stop": {"Red": True},
    "Slow": {"Yellow": False},
    "Go": {"Green": False},
    "agree": {"on": True},
    "btn1": {"yes": True},
    "btn2": {"no": False},
    "tag1": "blue",
    "tag2": "red",
    "textInput1": "This is the text; the text that\nmakes the crowd go wild.",
    "category": {"label": "Dog"},
    "tags": {"labels": ["a", "c"]},
    "review": json.dumps({"filled": "on submit"}, separators=(",", ":")),
}


def check(page, element, name=None, value=None):
    selector = f"{element}[name='{name}']" if name else element
    if value:
        selector += f"[value='{value}']"
    page.locator(selector).locator("input").first.check()


def test_answers_have_the_documented_shapes(page, preview_server):
    server = preview_server({}, template=DOCUMENTED)
    page.goto(server.url)
    page.wait_for_function("!!window.crowdStandIn")
    check(page, "crowd-checkbox", "myformbit", "Red")
    check(page, "crowd-checkbox", "Stop")
    check(page, "crowd-checkbox", "agree")
    check(page, "crowd-radio-button", "btn2")
    check(page, "crowd-radio-button", "btn1")  # choosing one clears the other
    page.locator("crowd-input[name='tag1'] input").fill("blue")
    page.locator("crowd-input[name='tag2'] input").fill("red")
    page.locator("crowd-text-area textarea").fill(EXPECTED["textInput1"])
    page.locator("crowd-classifier input[value='Dog']").check()
    page.locator("crowd-classifier-multi-select input[value='a']").check()
    page.locator("crowd-classifier-multi-select input[value='c']").check()
    assert page.locator("crowd-button[form-action='submit']").count() == 1  # added by the form
    with page.expect_response("**/answers"):
        page.click("crowd-button[form-action='submit']")
    assert server.answers == [EXPECTED]
    assert page.evaluate("window.crowdStandIn.lastAnswer") == EXPECTED


BLOCKING = """
<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <crowd-input name="why" label="Why?" required></crowd-input>
  <crowd-button form-action="submit" id="go">Send</crowd-button>
</crowd-form>
<script>
  window.blocked = 0;
  document.querySelector("crowd-form").addEventListener("submit", function (event) {
    if (!window.allow) { window.blocked += 1; event.preventDefault(); }
  });
</script>
"""


def test_a_cancelled_submit_or_a_missing_required_field_sends_nothing(page, preview_server):
    server = preview_server({}, template=BLOCKING)
    page.goto(server.url)
    page.wait_for_function("!!window.crowdStandIn")
    assert page.locator("crowd-button[form-action='submit']").count() == 1  # not duplicated
    page.click("#go")
    assert page.evaluate("window.blocked") == 1
    page.evaluate("window.allow = true")
    page.click("#go")
    assert "Fill in the required fields: Why?" in page.text_content("crowd-form")
    page.locator("crowd-input input").fill("because")
    with page.expect_response("**/answers"):
        page.click("#go")
    assert server.answers == [{"why": "because"}]
