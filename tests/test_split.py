"""The story splitter on our own synthetic pages: plain text and both markup variants."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newscrawl.page import parse_html, plain_text_blocks, text_blocks
from newscrawl.split import Split, split_blocks


@dataclass
class Story:
    title: str
    body: list[str]
    summary: list[str] = field(default_factory=list)
    glyph: bool = True
    caption: str | None = None
    updated: str = "Updated 12 min 40 sec ago"
    short_url: bool = True
    headline_times: int = 3  # how often the headline is printed

    @property
    def dateline(self) -> str | None:
        head = self.body[0].split(": ", 1)[0]
        return head if ": " in self.body[0] and len(head) < 30 else None


def plain_page(stories: list[Story]) -> str:
    """Page text in the shape of the real site's visible text."""
    lines: list[str] = []
    for story in stories:
        lines += [story.title, ""] if story.headline_times >= 2 else []
        if story.caption:
            lines += [story.caption, story.caption]
        if story.short_url:
            lines.append("Short Url")
        if story.headline_times == 1:
            lines.append(story.title)
        lines += [story.updated, "Follow", ""]
        lines += [story.title, ""] * max(0, story.headline_times - 1)
        glyph = "  • " if story.glyph else ""
        lines += [glyph + line for line in story.summary]
        lines += [""] if story.summary else []
        lines += story.body
        lines += ["", "\u00a0", "", ""]
    return "\n".join(lines)


def html_page(stories: list[Story], variant: str) -> str:
    """A page with the stories in containers, or as flat siblings."""
    e = html.escape
    parts = ["<html lang='en'><body><header><a href='/'>Daily Example</a></header><main>"]
    for n, story in enumerate(stories):
        inner = [f"<div class='title-top'><span>{e(story.title)}</span></div>"]
        if story.caption:
            inner.append(
                f"<figure><img src='/img/{n}.jpg'><figcaption>{e(story.caption)}</figcaption>"
                f"</figure><div class='caption-overlay'>{e(story.caption)}</div>"
            )
        if story.short_url:
            inner.append(f"<div class='short-url'><a href='/node/{100 + n}'>Short Url</a></div>")
        inner.append(f"<div class='entry-date'><time>{e(story.updated)}</time></div>")
        inner.append("<div class='follow'><a href='#'>Follow</a></div>")
        heading = "h1" if variant == "containers" or n == 0 else "h2"
        inner.append(f"<{heading} class='title'>{e(story.title)}</{heading}>")
        if story.summary and story.glyph:
            items = "".join(f"<li>• {e(s)}</li>" for s in story.summary)
            inner.append(f"<ul class='summary'>{items}</ul>")
        elif story.summary:
            items = "".join(f"<p>{e(s)}</p>" for s in story.summary)
            inner.append(f"<div class='summary'>{items}</div>")
        body = "".join(f"<p>{e(p)}</p>" for p in story.body)
        inner.append(f"<div class='entry-content'>{body}</div>")
        inner.append("<div class='related-links'><a href='/node/5'>More from the region</a></div>")
        if variant == "containers":
            parts.append(f"<article class='node'>{''.join(inner)}</article>")
        else:
            parts.append("<hr><div class='separator'>&nbsp;</div>" * (n > 0) + "".join(inner))
    parts.append("</main><footer><p>© Daily Example</p><a href='/about'>About us</a></footer>")
    return "".join(parts) + "</body></html>"


def split_as(stories: list[Story], form: str) -> Split:
    if form == "plain":
        return split_blocks(plain_text_blocks(plain_page(stories)))
    root = parse_html(html_page(stories, form))
    assert root is not None
    return split_blocks(text_blocks(root, "http://example.test/node/100/world"))


FORMS = ["plain", "containers", "flat"]

CAMELS = Story(
    title="Camel breeders gather for the winter fair in the northern desert",
    caption="Breeders walk their camels to the show ring on Tuesday. (AFP)",
    summary=[
        "Organizers expect more than 40,000 visitors over ten days",
        "The fair added a category for young breeders this year",
    ],
    body=[
        "HAIL: Camel breeders from across the region gathered on Tuesday for the winter fair.",
        "Organizers expect more than 40,000 visitors over ten days, they said in a statement.",
        "The fair added a category for young breeders this year.",
        "Prizes will be handed out on the last evening.",
    ],
)
PORT = Story(
    title="Port authority opens a second container terminal",
    updated="Updated 3 hours 5 min ago",
    short_url=False,
    summary=["The terminal doubles the port's capacity", "Work started two years ago"],
    glyph=False,
    body=[
        "DAMMAM: The port authority opened a second container terminal on Monday.",
        "The terminal doubles the port's capacity, officials said.",
        "Work started two years ago and cost more than planned.",
    ],
)
LIBRARY = Story(
    title="City library extends its opening hours",
    updated="Updated 05 March 2025",
    body=[
        "The city library will stay open until midnight during the exam season.",
        "Students asked for the change in a petition last month.",
    ],
)
FOUR = [CAMELS, PORT, LIBRARY, CAMELS]


def check(split: Split, expected: list[Story], form: str) -> None:
    assert [s.title for s in split.stories] == [s.title for s in expected], split.skipped
    for got, want in zip(split.stories, expected, strict=True):
        assert got.body == want.body
        assert got.summary == want.summary
        assert got.dateline == want.dateline
        assert got.caption == want.caption
        assert got.updated_raw == want.updated
        if form != "plain" and want.caption:
            assert got.image_url is not None


@pytest.mark.parametrize("form", FORMS)
def test_splits_stories_with_and_without_summary_caption_dateline(form: str) -> None:
    check(split_as([CAMELS, PORT, LIBRARY], form), [CAMELS, PORT, LIBRARY], form)


@pytest.mark.parametrize("form", FORMS)
def test_page_with_a_single_story(form: str) -> None:
    check(split_as([PORT], form), [PORT], form)


@pytest.mark.parametrize("form", FORMS)
def test_one_paragraph_story(form: str) -> None:
    brief = Story(title="Flights resume after the storm", body=["RIYADH: Flights resumed."])
    check(split_as([brief, LIBRARY], form), [brief, LIBRARY], form)


@pytest.mark.parametrize("form", FORMS)
def test_two_appended_stories_with_the_same_headline(form: str) -> None:
    other = Story(
        title=LIBRARY.title,
        updated="Updated 04 March 2025",
        body=["JEDDAH: A second library will follow next year.", "It opens in the spring."],
    )
    check(split_as([CAMELS, LIBRARY, other], form), [CAMELS, LIBRARY, other], form)


@pytest.mark.parametrize("form", FORMS)
def test_body_paragraph_quoting_the_headline_stays(form: str) -> None:
    quoting = Story(
        title="Museum reopens its doors",
        body=[
            "TAIF: The museum reopened on Sunday after a year of repairs.",
            "“Museum reopens its doors” read the banner over the entrance.",
            "Museum reopens its doors",
        ][:2],
    )
    check(split_as([quoting, PORT], form), [quoting, PORT], form)


@pytest.mark.parametrize("form", FORMS)
def test_paragraph_repeating_a_summary_bullet_stays_in_the_body(form: str) -> None:
    repeat = Story(
        title="Ministry announces new school calendar",
        summary=["Schools open a week earlier"],
        body=[
            "RIYADH: The ministry announced a new school calendar on Wednesday.",
            "Schools open a week earlier",
            "Parents welcomed the change.",
        ],
    )
    check(split_as([repeat, LIBRARY], form), [repeat, LIBRARY], form)


@pytest.mark.parametrize("form", ["plain", "containers"])
def test_headline_printed_only_once(form: str) -> None:
    once = Story(
        title="Desalination plant reaches full output",
        headline_times=1,
        body=["JUBAIL: The plant reached full output on Thursday.", "It supplies three cities."],
    )
    check(split_as([once, LIBRARY], form), [once, LIBRARY], form)


def test_repeated_body_paragraphs_do_not_start_a_story() -> None:
    echo = Story(
        title="Choir sings at the opening",
        body=[
            "ABHA: A choir sang at the opening of the festival.",
            "The crowd asked for more.",
            "The crowd asked for more.",
            "The crowd asked for more.",
        ],
    )
    for form in FORMS:
        check(split_as([echo, LIBRARY], form), [echo, LIBRARY], form)


@pytest.mark.parametrize("form", FORMS)
def test_same_story_twice_on_one_page_is_split_twice(form: str) -> None:
    check(split_as(FOUR, form), FOUR, form)


def test_boilerplate_never_reaches_the_story() -> None:
    for form in FORMS:
        for story in split_as([CAMELS, PORT], form).stories:
            texts = [story.title, *story.summary, *story.body]
            assert not {"Short Url", "Follow", "More from the region", "About us"} & set(texts)
            assert "© Daily Example" not in story.body
            assert story.title not in story.body
            assert story.caption not in story.body


def test_dateline_forms() -> None:
    for opening, dateline in [
        ("PORT SUDAN: Talks resumed.", "PORT SUDAN"),
        ("Stockholm: Talks resumed.", "Stockholm"),
        ("ATHÈNES: Les pourparlers ont repris.", "ATHÈNES"),
        ("AL-ULA: Talks resumed.", "AL-ULA"),
        ("Talks resumed in the capital: officials said so.", None),
        ("He said: talks resumed.", None),
    ]:
        story = Story(title="Talks resume in the capital", body=[opening, "More follows."])
        assert split_as([story], "plain").stories[0].dateline == dateline


def test_empty_and_blank_pages_give_no_story() -> None:
    assert split_blocks([]).stories == []
    assert split_blocks(plain_text_blocks("\n\n\u00a0\n")).stories == []


# Property-based: generated pages never make the splitter raise or lose a paragraph.

# Headlines and sentences draw on different words, as on a real page a summary line
# never reads exactly like another story's headline.
WORDS = st.sampled_from(
    [
        "the", "council", "port", "desert", "festival", "minister", "water", "new", "plan",
        "city", "said", "on", "Monday", "officials", "fair", "talks", "road", "school",
        "prices", "rose", "trade", "project",
    ]
)  # fmt: skip
HEADLINE_WORDS = st.sampled_from(
    [
        "Kingdom", "Launches", "Opens", "Record", "Crowd", "Talks", "Stall", "Ports", "Rail",
        "Link", "Storm", "Hits", "Coast", "Summit", "Ends", "Deal", "Signed", "Prices", "Ease",
    ]
)  # fmt: skip
SENTENCE = st.lists(WORDS, min_size=4, max_size=16).map(lambda w: " ".join(w).capitalize() + ".")
TITLE = st.lists(HEADLINE_WORDS, min_size=3, max_size=9).map(" ".join)
STORY = st.builds(
    Story,
    title=TITLE,
    body=st.lists(SENTENCE, min_size=1, max_size=6),
    summary=st.lists(SENTENCE.map(lambda s: s.rstrip(".")), max_size=3),
    glyph=st.booleans(),
    caption=st.one_of(st.none(), SENTENCE.map(lambda s: s + " (AFP)")),
    updated=st.sampled_from(
        ["Updated 31 sec ago", "Updated 2 hours 5 min ago", "Updated 06 February 2025"]
    ),
    short_url=st.booleans(),
    headline_times=st.integers(2, 4),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stories=st.lists(STORY, min_size=1, max_size=5), form=st.sampled_from(FORMS))
def test_generated_pages_keep_every_body_paragraph(stories: list[Story], form: str) -> None:
    split = split_as(stories, form)
    found = [p for story in split.stories for p in story.body + story.summary]
    for story in stories:
        for paragraph in story.body:
            assert paragraph in found, (paragraph, [s.title for s in split.stories])


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    split_blocks(plain_text_blocks(text))
