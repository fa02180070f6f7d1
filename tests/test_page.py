from __future__ import annotations

import json
from urllib.parse import urljoin

from hypothesis import given
from hypothesis import strategies as st

from newscrawl.page.walk import (
    _absolute,
    build_page_record,
    head_metadata,
    is_article,
    page_language,
    parse_html,
    parse_page_html,
    plain_text_blocks,
    text_blocks,
)
from newscrawl.records.page import Block, PageRecord

PAGE = """<!DOCTYPE html><html lang="en"><head>
<title>Camel race draws record crowd | Example</title>
<link rel="canonical" href="/node/11/sport">
<link rel="shortlink" href="/node/11">
<meta property="og:title" content="Camel race draws record crowd">
<meta property="article:published_time" content="2025-03-01T08:00:00+00:00">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "x"}</script>
<script type="application/ld+json">{broken</script>
<style>p { color: red }</style>
</head><body>
<nav><a href="/sport">Sport</a></nav>
<article class="node node-article" data-nid="11">
  <h1 class="article-title">Camel race <b>draws</b> record crowd</h1>
  <figure><img src="/img/1.jpg" alt=""><figcaption>Riders at the start. (AFP)</figcaption></figure>
  <div class="short-url"><a href="/node/11">Short Url</a></div>
  <div class="entry-date"><time datetime="2025-03-01T08:00:00Z">Updated 5 min ago</time></div>
  <div class="entry-content">
    <p>TAIF: The race began <a href="/node/12/sport">at dawn</a>.</p>
    <p>Second&nbsp;paragraph<br>on two lines.</p>
    <p>&nbsp;</p>
    <div style="display: none">hidden text</div>
    <script>var tracking = 1;</script>
  </div>
</article>
</body></html>"""


def test_text_blocks_are_visible_text_in_document_order() -> None:
    root = parse_html(PAGE)
    assert root is not None
    blocks = text_blocks(root, "http://site.test/node/11/sport")
    texts = [b.text for b in blocks]
    assert texts == [
        "Sport",
        "Camel race draws record crowd",
        "",  # the image
        "Riders at the start. (AFP)",
        "Short Url",
        "Updated 5 min ago",
        "TAIF: The race began at dawn.",
        "Second paragraph on two lines.",
    ]
    by_text = {b.text: b for b in blocks}
    headline = by_text["Camel race draws record crowd"]
    assert headline.tag == "h1"
    assert headline.classes == ("article-title",)
    assert headline.path[0] == "article.node.node-article[1]"
    time = by_text["Updated 5 min ago"]
    assert time.tag == "time"
    assert time.attrs["datetime"] == "2025-03-01T08:00:00Z"
    # A block that is one link keeps its absolute href; a paragraph with a link does not.
    assert by_text["Short Url"].attrs["href"] == "http://site.test/node/11"
    assert "href" not in by_text["TAIF: The race began at dawn."].attrs
    image = next(b for b in blocks if b.tag == "img")
    assert image.attrs["src"] == "http://site.test/img/1.jpg"


def test_blocks_survive_a_record_round_trip() -> None:
    block = Block("Text", "p", ("a", "b"), ("div[0]", "p[1]"), {"href": "http://x/"})
    assert Block.from_record(block.to_record()) == block


def test_head_metadata_reads_meta_links_and_valid_jsonld() -> None:
    root = parse_html(PAGE)
    assert root is not None
    meta, links, jsonld = head_metadata(root, "http://site.test/node/11/sport")
    assert meta["og:title"] == "Camel race draws record crowd"
    assert meta["article:published_time"] == "2025-03-01T08:00:00+00:00"
    assert links == {
        "canonical": "http://site.test/node/11/sport",
        "shortlink": "http://site.test/node/11",
    }
    assert jsonld == [{"@type": "NewsArticle", "headline": "x"}]


def test_json_ld_with_text_after_its_value_is_read_all_the_same() -> None:
    root = parse_html(
        "<html><head><script type='application/ld+json'>"
        '{"@type": "NewsArticle", "datePublished": "2025-03-01T08:00:00+01:00"}\n}'
        "</script><script type='application/ld+json'>{broken</script></head><body></body></html>"
    )
    assert root is not None
    assert head_metadata(root)[2] == [
        {"@type": "NewsArticle", "datePublished": "2025-03-01T08:00:00+01:00"}
    ]


def test_build_page_record_fills_every_field() -> None:
    root = parse_html(PAGE)
    assert root is not None
    record = build_page_record(
        url="http://site.test/node/11/sport",
        status=200,
        root=root,
        fetched_at="2025-03-01T09:00:00.000+00:00",
        response_date="Sat, 01 Mar 2025 09:00:00 GMT",
        response_age=120,
        site="example",
    )
    assert record.canonical_url == "http://site.test/node/11/sport"
    assert record.language == "en"
    assert record.title == "Camel race draws record crowd | Example"
    assert record.response_age == 120
    assert len(record.blocks) == 8
    assert record.to_record()["blocks"][1]["tag"] == "h1"


def test_parse_html_rejects_empty_input() -> None:
    assert parse_html(b"") is None
    assert parse_html("   ") is None


def test_plain_text_blocks_keep_blank_lines_and_fold_no_break_spaces() -> None:
    blocks = plain_text_blocks("Headline\n\n\u00a0\n  Body  text \n")
    assert [b.text for b in blocks] == ["Headline", "", "", "Body text"]
    assert all(b.tag == "" for b in blocks)


def test_a_widget_class_after_several_layout_classes_is_kept() -> None:
    root = parse_html(
        "<html><body><div class='block col-12 clearfix pane pane-block share-links'>"
        "<a href='#'>Share</a></div></body></html>"
    )
    assert root is not None
    (block,) = text_blocks(root)
    assert "share-links" in block.classes
    assert block.path[-1].endswith(".share-links[0]")


def test_deeply_nested_markup_is_flattened_so_no_text_is_lost() -> None:
    paragraphs = "".join(f"<p>Paragraph {n} of the story.</p>" for n in range(3))
    page = f"<html><body>{'<div>' * 3000}<span><b>{paragraphs}</body></html>"
    root, repairs = parse_page_html(page.encode())
    assert repairs == ["deep_nesting"]
    assert root is not None
    assert [b.text for b in text_blocks(root)] == [f"Paragraph {n} of the story." for n in range(3)]
    # Ordinary nesting is left as it is.
    assert parse_page_html(f"<html><body>{'<div>' * 50}{paragraphs}</body></html>")[1] == []


@given(
    base=st.sampled_from(
        [
            "https://news.example/world/story-1.html?ref=home#top",
            "http://news.example",
            "https://news.example:8443/a/b/",
            "https://user@news.example/p",
            "ftp://news.example/p",
            "HTTPS://News.Example/p",
            "https://news.example?q",
            "",
        ]
    ),
    href=st.text(st.one_of(st.sampled_from("/.?#;&=ab [] :%\t"), st.characters()), max_size=20).map(
        lambda t: "/" + t
    ),
)
def test_links_on_the_sites_own_paths_are_made_absolute_as_urljoin_makes_them(
    base: str, href: str
) -> None:
    try:
        expected: str | None = urljoin(base, href)
    except ValueError:
        expected = None
    assert _absolute.__wrapped__(base, href) == expected


def test_a_long_block_is_main_content_when_its_middle_or_end_is() -> None:
    from newscrawl.page.walk import MainContent

    text = " ".join(f"sentence number {n} of the story text." for n in range(12))
    main = MainContent(lines=frozenset({text}), joined=text)
    assert main.holds("A subtitle the main content left out. " + text)  # its middle and end
    assert main.holds(text + " A credit line after it.")  # its opening
    assert not main.holds(" ".join(["Something else entirely,"] * 6))
    assert main.holds("")  # images and empty blocks stay main


def test_a_data_tables_row_is_one_block_and_a_layout_tables_cells_are_not() -> None:
    page = """<html><body>
    <table><tr><th>Pos.</th><th>Driver</th><th>Points</th></tr>
    <tr><td>1</td><td><a href="/drivers/ana">Ana <b>Lima</b></a></td><td>5040</td></tr>
    <tr><td>2</td><td style="display:none">hidden</td><td>Rui Costa</td><td>4987</td></tr>
    <tr><td colspan="3">Updated weekly</td></tr></table>
    <table><tr><td><p>Menu</p></td><td><p>First paragraph.</p><p>Second one.</p></td>
    <td>Loose text</td></tr>
    <tr><td>Home<br>Sport</td><td>A layout cell of its own</td></tr></table>
    </body></html>"""
    root = parse_html(page)
    assert root is not None
    blocks = text_blocks(root, "http://site.test/results")
    assert [(b.tag, b.text) for b in blocks] == [
        ("tr", "Pos. Driver Points"),
        ("tr", "1 Ana Lima 5040"),
        ("tr", "2 Rui Costa 4987"),
        ("td", "Updated weekly"),
        ("p", "Menu"),
        ("p", "First paragraph."),
        ("p", "Second one."),
        ("td", "Loose text"),
        ("td", "Home Sport"),  # a line break: a layout row, its cells blocks of their own
        ("td", "A layout cell of its own"),
    ]
    assert "href" not in blocks[1].attrs  # a row holding a link is no link of its own


def test_a_pages_language_is_its_lang_else_the_first_code_its_head_declares() -> None:
    def language(html: str) -> str | None:
        root = parse_html(html)
        assert root is not None
        meta, _, jsonld = head_metadata(root)
        return page_language(root, meta, jsonld)

    assert (
        language("<html lang='pt-BR'><head><meta name='language' content='fr'></head>") == "pt-BR"
    )
    assert language("<html xml:lang='de'><body><p>x</p></body></html>") == "de"
    # A language's name is no code; Content-Language and og:locale are.
    assert (
        language(
            "<html><head><meta name='language' content='Dutch'>"
            "<meta http-equiv='Content-Language' content='nl'></head></html>"
        )
        == "nl"
    )
    assert (
        language("<html><head><meta property='og:locale' content='it_IT'></head></html>") == "it_IT"
    )
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "inLanguage": "es"}</script>'
    assert language(f"<html><head>{ld}</head><body><p>x</p></body></html>") == "es"
    assert language("<html><body><p>x</p></body></html>") is None


def test_a_page_is_an_article_unless_its_head_says_otherwise() -> None:
    def record(head: str) -> PageRecord:
        root = parse_html(f"<html><head>{head}</head><body><p>Text.</p></body></html>")
        assert root is not None
        return build_page_record(
            url="http://site.test/a-b", status=200, root=root, fetched_at="2025-03-01T00:00:00Z",
            response_date=None, response_age=None, site="test",
        )  # fmt: skip

    def ld(kind: object) -> str:
        return f"<script type='application/ld+json'>{json.dumps({'@type': kind})}</script>"

    assert is_article(record(""))  # a head that names nothing leaves the URL's word
    assert is_article(record("<meta property='og:type' content='article'>"))
    assert not is_article(record("<meta property='og:type' content='website'>"))
    website_with_article = "<meta property='og:type' content='website'>" + ld("NewsArticle")
    assert is_article(record(website_with_article))
    # Scraped JSON-LD may hold anything in @type.
    assert is_article(
        record("<meta property='og:type' content='website'>" + ld([{"x": 1}, "Article"]))
    )
    assert not is_article(record("<meta property='og:type' content='website'>" + ld([{"x": 1}])))
