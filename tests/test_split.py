"""The story splitter on our own synthetic pages: plain text and both markup variants."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newscrawl.page.walk import parse_html, plain_text_blocks, text_blocks
from newscrawl.stories.split import Split, split_blocks


@dataclass
class Story:
    title: str
    body: list[str]
    summary: list[str] = field(default_factory=list)
    glyph: bool = True
    caption: str | None = None
    caption_times: int = 2  # how often the caption is printed
    updated: str = "Updated 12 min 40 sec ago"
    short_url: bool = True
    headline_times: int = 3  # how often the headline is printed
    subheads: tuple[str, ...] = ()  # body lines printed as <h2> subheadings in markup

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
            lines += [story.caption] * story.caption_times
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
            overlay = f"<div class='caption-overlay'>{e(story.caption)}</div>"
            inner.append(
                f"<figure><img src='/img/{n}.jpg'><figcaption>{e(story.caption)}</figcaption>"
                f"</figure>{overlay * (story.caption_times - 1)}"
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
        body = "".join(
            f"<h2>{e(p)}</h2>" if p in story.subheads else f"<p>{e(p)}</p>" for p in story.body
        )
        inner.append(f"<div class='entry-content'>{body}</div>")
        inner.append("<div class='related-links'><a href='/node/5'>More from the region</a></div>")
        if variant == "containers":
            parts.append(f"<article class='node'>{''.join(inner)}</article>")
        else:
            parts.append("<hr><div class='separator'>&nbsp;</div>" * (n > 0) + "".join(inner))
    parts.append("</main><footer><p>© Daily Example</p><a href='/about'>About us</a></footer>")
    return "".join(parts) + "</body></html>"


# The fixtures print time lines in English and in French (as the French edition does).
LANGUAGES = ("en", "fr")


def split_as(stories: list[Story], form: str) -> Split:
    if form == "plain":
        return split_blocks(plain_text_blocks(plain_page(stories)), languages=LANGUAGES)
    root = parse_html(html_page(stories, form))
    assert root is not None
    return split_blocks(
        text_blocks(root, "http://example.test/node/100/world"), languages=LANGUAGES
    )


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
@pytest.mark.parametrize(
    "last",
    [
        "Subscribers fell by a tenth in May. Download speeds rose.",
        "Listen to the engines and you hear the difference. The new fleet lands in June.",
    ],
)
def test_a_last_paragraph_opening_with_a_call_word_is_story_text(form: str, last: str) -> None:
    # A call is told by its opening word only when the line is that one sentence.
    streaming = Story(
        title="Streaming prices rise again",
        body=["JEDDAH: Two services raised their prices on Sunday.", last],
    )
    check(split_as([streaming, LIBRARY], form), [streaming, LIBRARY], form)


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


@pytest.mark.parametrize("form", FORMS)
def test_headline_ending_in_a_period(form: str) -> None:
    # An abbreviation ends the headline: it still repeats across the header like any other.
    patrol = Story(
        title="Coast guards join a joint patrol led by the U.S.",
        caption="Patrol boats leave the harbor at dawn. (AFP)",
        body=["MANAMA: Five coast guards joined the patrol on Sunday.", "It starts next month."],
    )
    check(split_as([patrol, LIBRARY, patrol], form), [patrol, LIBRARY, patrol], form)


@pytest.mark.parametrize("form", FORMS)
def test_body_paragraph_opening_like_a_time_line_stays_in_the_body(form: str) -> None:
    survey = Story(
        title="Bird survey finds more species on the islands",
        body=[
            "FARASAN: Researchers counted more species than ever on the islands.",
            "Published in 2021, the first survey counted 180 species.",
            "Updated every spring, the list now runs to 230.",
        ],
    )
    check(split_as([survey, LIBRARY], form), [survey, LIBRARY], form)


@pytest.mark.parametrize("form", FORMS)
def test_time_lines_in_other_wordings(form: str) -> None:
    posted = Story(
        title="Ferry service adds a night crossing",
        updated="Posted 2 hours 10 min ago",
        body=["JAZAN: The ferry service added a night crossing.", "Tickets go on sale today."],
    )
    french = Story(
        title="Le festival du film ouvre ses portes",
        updated="Publié le Mercredi 14 juillet 2021",
        body=["DUBAÏ: Le festival a ouvert ses portes mercredi.", "Il dure dix jours."],
    )
    check(split_as([posted, french, LIBRARY], form), [posted, french, LIBRARY], form)


@pytest.mark.parametrize("form", FORMS)
def test_subheadings_stay_in_the_body(form: str) -> None:
    # The same subheading in two stories, and a story whose body holds its only heading.
    report = Story(
        title="Water authority publishes its yearly report",
        body=[
            "RIYADH: The water authority published its yearly report on Sunday.",
            "Background",
            "The authority was set up ten years ago to run the desalination plants.",
            "What comes next",
            "A second report will follow in the autumn.",
        ],
        subheads=("Background", "What comes next"),
    )
    rail = Story(
        title="Rail link to the coast opens to freight",
        updated="Updated 06 February 2025",
        body=[
            "JEDDAH: The rail link opened to freight trains on Monday.",
            "Background",
            "Work on the line began four years ago.",
        ],
        subheads=("Background",),
    )
    split = split_as([report, rail], form)
    check(split, [report, rail], form)
    assert split.mode == ("containers" if form == "containers" else "shape")
    check(split_as([report], form), [report], form)
    if form != "plain":  # a lone <h1> in a body is a subheading too
        markup = html_page([report, rail], form).replace("h2>Background</h2", "h1>Background</h1")
        root = parse_html(markup)
        assert root is not None
        check(split_blocks(text_blocks(root)), [report, rail], form)


def body_of(markup: str) -> list[str]:
    """The body the splitter finds on a one-story page: a header, then ``markup``."""
    page = (
        "<html><body><h1>Solar farm starts feeding the grid</h1>"
        f"<div class='entry-date'><time>Updated 2 hours ago</time></div>{markup}</body></html>"
    )
    root = parse_html(page)
    assert root is not None
    (story,) = split_blocks(text_blocks(root)).stories
    return story.body


def test_body_ends_where_the_story_text_ends() -> None:
    first, second, third = "TABUK: The farm started on Monday.", "It has 9 rows.", "More follow."
    # The first paragraph wrapped once more than the others: the body is still all three.
    nested = f"<div><p>{first}</p></div><p>{second}</p><p>{third}</p>"
    elsewhere = "<div class='more'><p>Elsewhere today</p></div>"
    body = body_of(f"<div class='entry-content'>{nested}</div>{elsewhere}")
    assert body == [first, second, third]
    # Adverts and pull quotes inside the body's own element stand between paragraphs.
    inside = f"<p>{first}</p><div class='advert'>Advertisement</div><p>{second}</p>"
    inside += f"<aside>A quote pulled out.</aside><p>{third}</p>"
    assert body_of(f"<div class='entry-content'>{inside}</div>") == [first, second, third]
    # Paragraphs beside the headline: a widget or page furniture ends them.
    beside = f"<p>{first}</p><p>{second}</p>"
    sign_up = "<p>Sign up for the morning briefing.</p>"
    assert body_of(f"{beside}<div class='share'>Share</div>{sign_up}") == [first, second]
    assert body_of(f"{beside}<footer>© Daily Example</footer>{sign_up}") == [first, second]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("short_url", [True, False])
def test_caption_printed_once_without_a_credit_is_no_headline(form: str, short_url: bool) -> None:
    market = Story(
        title="Date market opens for the season",
        caption="Traders sort dates at the market on Sunday.",
        caption_times=1,
        short_url=short_url,
        headline_times=2,
        body=["BURAIDAH: The date market opened for the season.", "Prices are steady."],
    )
    check(split_as([market, LIBRARY], form), [market, LIBRARY], form)


@pytest.mark.parametrize("form", FORMS)
def test_summary_line_opening_with_a_name_and_a_colon(form: str) -> None:
    bridge = Story(
        title="Coastal bridge to reopen after repairs",
        summary=["Mayor: the bridge reopens in May", "Traffic keeps to the old road until then"],
        glyph=False,
        body=[
            "Jeddah: The mayor said on Sunday that the coastal bridge would reopen in May.",
            "Traffic keeps to the old road until then, the city said.",
        ],
    )
    check(split_as([bridge, LIBRARY], form), [bridge, LIBRARY], form)


@pytest.mark.parametrize("form", FORMS)
def test_long_list_of_points_is_body_not_summary(form: str) -> None:
    # Unpunctuated lines that later paragraphs repeat: a summary, but only a few of them.
    points = [f"Point {n} of the plan" for n in range(1, 9)]
    plan = Story(
        title="Council adopts a plan in eight points",
        body=[*points, *(f"{point} was adopted on Monday." for point in points)],
    )
    check(split_as([plan, LIBRARY], form), [plan, LIBRARY], form)
    short = Story(title=plan.title, summary=points[:3], glyph=False, body=plan.body[8:])
    check(split_as([short, LIBRARY], form), [short, LIBRARY], form)


@pytest.mark.parametrize("form", FORMS)
def test_gallery_caption_printed_twice_in_the_body_is_kept_once(form: str) -> None:
    opening, caption = "ABHA: The festival opened on Friday.", "Dancers on the opening night. (SPA)"
    printed = Story(
        title="Mountain festival opens with a parade",
        body=[opening, caption, caption, "The festival runs for two weeks."],
    )
    expected = Story(
        title=printed.title, body=[opening, caption, "The festival runs for two weeks."]
    )
    check(split_as([printed, LIBRARY], form), [expected, LIBRARY], form)


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


# Harder pages: headlines ending in an abbreviation, paragraphs printed two to four times
# in a row, captions printed once without a credit, and stories appended more than once.
REPEATED_BODY = st.lists(st.tuples(SENTENCE, st.integers(1, 4)), min_size=1, max_size=6).map(
    lambda runs: [sentence for sentence, times in runs for _ in range(times)]
)
HARD_STORY = st.builds(
    Story,
    title=st.one_of(TITLE, TITLE.map(lambda title: title + " led by the U.S.")),
    body=REPEATED_BODY,
    summary=st.lists(SENTENCE.map(lambda s: s.rstrip(".")), max_size=3),
    glyph=st.booleans(),
    caption=st.one_of(
        st.none(),
        SENTENCE.map(lambda s: s + " (AFP)"),
        SENTENCE.map(lambda s: s[:-1] + " in the photo."),
    ),
    caption_times=st.integers(1, 2),
    updated=st.sampled_from(["Updated 31 sec ago", "Updated 06 February 2025"]),
    short_url=st.booleans(),
    headline_times=st.integers(2, 4),
)
HARD_PAGE = st.lists(HARD_STORY, min_size=1, max_size=4).flatmap(
    lambda stories: st.lists(
        st.sampled_from(stories), min_size=len(stories), max_size=len(stories) + 2
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stories=HARD_PAGE, form=st.sampled_from(FORMS))
def test_generated_hard_pages_keep_every_story(stories: list[Story], form: str) -> None:
    split = split_as(stories, form)
    assert [s.title for s in split.stories] == [s.title for s in stories], split.skipped
    assert [s.caption for s in split.stories] == [s.caption for s in stories]
    found = [p for story in split.stories for p in story.body + story.summary]
    for story in stories:
        for paragraph in story.body:
            assert paragraph in found, (paragraph, [s.title for s in split.stories])


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    split_blocks(plain_text_blocks(text))


def test_text_after_a_widgets_heading_under_the_headline_goes_to_the_first_story() -> None:
    # The splitter met a newsletter box's button ("SUBSCRIBE") as a headline, with the
    # story's time, byline and text under it, after the real headline and its dek.
    from newscrawl.stories.split import StoryParts, _append_or_fold

    text = [
        f"Paragraph {n} of the harbour story tells how the council voted, what the wall "
        "will cost and when the work begins, in a sentence long enough to read as text."
        for n in range(6)
    ]
    first = StoryParts(title="Harbour town votes to rebuild its flooded sea wall", body=["A dek."])
    result = Split(stories=[first])
    widget = StoryParts(
        title="SUBSCRIBE",
        body=text,
        dateline="HARBOUR TOWN",
        updated_raw="9 March 2026",
        authors=["Maria Santos"],
    )
    _append_or_fold(result, widget)
    assert result.stories == [first]
    assert (first.summary, first.body) == (["A dek."], text)
    assert (first.updated_raw, first.authors) == ("9 March 2026", ["Maria Santos"])
    assert first.dateline == "HARBOUR TOWN"  # the dateline its text opens with
    # A short heading with a short text after a full story is furniture, and dropped.
    full = StoryParts(title="Harbour town votes to rebuild its flooded sea wall", body=text)
    result = Split(stories=[full])
    _append_or_fold(result, StoryParts(title="Comments", body=["Log in to comment."]))
    assert result.stories == [full]
    assert full.body == text


def test_a_post_embedded_between_paragraphs_stays_in_the_body() -> None:
    # The main-content stage left out an embedded post (a quote and its credit) between
    # two paragraphs of the story's text.
    from newscrawl.records.page import Block

    def block(text: str, path: str, main: bool = True) -> Block:
        return Block(
            text=text,
            tag=path.rsplit(" ", 1)[-1].split("[")[0],
            path=tuple(path.split()),
            main=main,
        )

    text = [
        f"Paragraph {n} of the harbour story tells how the council voted, what the wall "
        "will cost and when the work begins, in a sentence long enough to read as text."
        for n in range(4)
    ]
    post = [
        "The wall is finally getting fixed, a good day for the harbour.",
        "— Harbour Council (@harbourcouncil) 9 March 2026",
    ]
    blocks = [
        block("Harbour town votes to rebuild its flooded sea wall", "main[0] article[0] h1[0]"),
        block("Updated 5 min ago", "main[0] article[0] time[1]"),
        *(block(t, f"main[0] article[0] div.body[2] p[{n}]") for n, t in enumerate(text[:2])),
        *(
            block(t, f"main[0] article[0] div.body[2] blockquote[2] p[{n}]", main=False)
            for n, t in enumerate(post)
        ),
        *(block(t, f"main[0] article[0] div.body[2] p[{n + 3}]") for n, t in enumerate(text[2:])),
    ]
    split = split_blocks(blocks, head_titles=["Harbour town votes to rebuild its flooded sea wall"])
    (story,) = split.stories
    assert story.body == [*text[:2], *post, *text[2:]]


def test_a_date_or_time_printed_alone_is_never_the_headline() -> None:
    # A header zone with no heading: the date printed alone above the headline and the
    # time printed alone below it are printed once each, as the headline is.
    from newscrawl.records.page import Block
    from newscrawl.stories.split import Kind, Line, _headline
    from newscrawl.text import normalize

    texts = ["Tue, 10 Mar 2026", "Harbour town votes to rebuild its flooded sea wall", "6:14 a.m."]
    lines = [
        Line(index=n, text=t, key=normalize(t), kind=Kind.TEXT, block=Block(text=t, tag="div"))
        for n, t in enumerate(texts)
    ]
    headline = _headline(lines, ("en",))
    assert headline is not None
    assert headline.text == texts[1]


def test_a_date_printed_alone_by_the_headline_outside_the_main_content_is_its_time() -> None:
    # The main-content stage left out the line under the headline holding the author,
    # the date and a comment link; the date is the story's time all the same.
    from newscrawl.records.page import Block

    text = [
        f"Paragraph {n} of the harbour story tells how the council voted, what the wall "
        "will cost and when the work begins, in a sentence long enough to read as text."
        for n in range(4)
    ]
    blocks = [
        Block(text="Harbour town votes to rebuild its flooded sea wall", tag="h1", path=("h1[0]",)),
        Block(text="editor — March 9, 2026 add comment", tag="div", path=("div[1]",), main=False),
        *(Block(text=t, tag="p", path=("div[2]", f"p[{n}]")) for n, t in enumerate(text)),
    ]
    split = split_blocks(
        blocks,
        head_titles=["Harbour town votes to rebuild its flooded sea wall"],
        languages=("en",),
    )
    (story,) = split.stories
    assert story.updated_raw == "March 9, 2026"
    assert story.body == text


def test_an_arabic_dateline_is_a_place_not_a_quote() -> None:
    from newscrawl.stories.split import DATELINE

    for text, dateline in [
        ("الرياض: أعلنت الوزارة خطة جديدة", "الرياض"),
        ("مكة المكرمة: بدأ الموسم", "مكة المكرمة"),
        ("قال وزير المالية: إن الميزانية متوازنة", None),
        ("قالت الوزيرة: سنبدأ غدا", None),
    ]:
        found = DATELINE.match(text)
        assert (found["dateline"] if found else None) == dateline, text
